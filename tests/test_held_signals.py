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


def test_mva_leaves_a_signal_its_parent_ignored_ignored(tmp_path):
    # `mva compare ... &` in a script inherits SIGINT ignored; a SIGTERM set to ignored likewise stays so
    import os
    import subprocess
    import sys
    import time

    def ignore_sigterm() -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)

    env = dict(os.environ, MPLBACKEND="Agg")
    command = [sys.executable, "-m", "manual_vs_autograd", "compare", "--epochs", "100000"]
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env, preexec_fn=ignore_sigterm) as p:
        assert p.stderr is not None
        for line in p.stderr:  # the first progress line: training has started
            if "step" in line:
                break
        p.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        still_running = p.poll() is None
        p.send_signal(signal.SIGINT)
        rest = p.stderr.read()
        assert still_running and p.wait(timeout=120) == 130
    assert "interrupted" in rest and "terminated" not in rest and "Traceback" not in rest
