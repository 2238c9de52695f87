"""Ctrl-C and SIGTERM held while a step's writes are made, handed on at once otherwise."""

from __future__ import annotations

import signal

import pytest

from manual_vs_autograd.held_signals import HeldSignals


def test_a_signal_inside_hold_waits_for_its_end_and_outside_it_acts_at_once():
    before = signal.getsignal(signal.SIGINT)
    done = []
    with HeldSignals() as held:
        with pytest.raises(KeyboardInterrupt):
            with held.hold():
                signal.raise_signal(signal.SIGINT)
                signal.raise_signal(signal.SIGINT)  # twice: handed on once
                done.append("after the signal, inside")
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
            done.append("never: outside hold the interrupt is immediate")
    assert done == ["after the signal, inside"]
    assert signal.getsignal(signal.SIGINT) is before  # the previous handler is back


def test_sigterm_goes_to_the_handler_that_was_there_in_order():
    seen = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        with HeldSignals() as held:
            with held.hold():
                signal.raise_signal(signal.SIGTERM)
                assert seen == []  # held
            assert seen == [signal.SIGTERM]
            signal.raise_signal(signal.SIGTERM)
            assert seen == [signal.SIGTERM] * 2  # at once
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_an_ignored_signal_stays_ignored():
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        with HeldSignals() as held:
            with held.hold():
                signal.raise_signal(signal.SIGTERM)
            signal.raise_signal(signal.SIGTERM)
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, previous)
