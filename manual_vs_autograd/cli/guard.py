"""Ctrl-C and SIGTERM in the command line: interrupt the work once, then let the saving finish.

The first SIGINT (Ctrl-C) or SIGTERM raises an exception where the program is — inside the training
loop that stops the run after the last step both sides completed, and the trainer keeps its record.
SIGTERM raises :class:`Terminated`, a ``KeyboardInterrupt``, so it is handled in exactly the same way
(the exit status says which: 130 for SIGINT, 143 for SIGTERM). From then on — and also from the
moment training finishes, so that a Ctrl-C just after the last epoch cannot lose the run — further
signals are *deferred*: noted, answered with a line on stderr, and acted on once the record is saved.

In the ``mva`` process itself (:func:`hold_until_exit`, called by the console script), a signal that has
stopped the work is the last one acted on: from then on SIGINT and SIGTERM are ignored until the process
exits, instead of Python's handlers coming back — a second Ctrl-C during the interpreter's shutdown would
otherwise print a traceback, or end the process by the signal instead of with its exit status. A program
that calls ``main`` and lives on (the tests) does not call it, and gets its handlers back.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from .stdout import say_now

__all__ = ["SignalGuard", "Terminated", "hold_until_exit", "ignore_further_signals"]

_HOLD = {"until_exit": False}  # set once, by the console script, for its own process
STILL_FINISHING = "mva: still finishing: saving what was computed first; please wait"


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that whatever keeps its work on Ctrl-C keeps it on SIGTERM too."""


def hold_until_exit() -> None:
    """In this process, once a signal has stopped the work, ignore SIGINT and SIGTERM until it exits."""
    _HOLD["until_exit"] = True


def ignore_further_signals() -> bool:
    """Ignore SIGINT and SIGTERM from now on, if :func:`hold_until_exit` was called (main thread only)."""
    if not _HOLD["until_exit"] or threading.current_thread() is not threading.main_thread():
        return False
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    return True


class SignalGuard:
    """A context manager that installs the handlers (main thread only) and restores the old ones."""

    def __init__(self) -> None:
        self.received: int | None = None  # the first signal, if any
        self.deferring = False
        self._old: dict[int, Any] = {}

    def __enter__(self) -> SignalGuard:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                if signal.getsignal(signum) is not signal.SIG_IGN:  # ignored by the parent: stays ignored
                    self._old[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if not (self._old and self.received is not None and ignore_further_signals()):
            for signum, handler in self._old.items():
                signal.signal(signum, handler)
        self._old.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum
        if self.deferring:
            say_now(STILL_FINISHING)  # one write(2): the program may be in the middle of a line
            return
        self.deferring = True
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()

    @property
    def name(self) -> str:
        return "terminated (SIGTERM)" if self.received == signal.SIGTERM else "interrupted"

    @property
    def exit_status(self) -> int | None:
        """128 + the signal's number (130 for SIGINT, 143 for SIGTERM), or None if none came."""
        return None if self.received is None else 128 + int(self.received)
