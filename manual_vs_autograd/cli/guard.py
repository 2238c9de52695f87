"""Ctrl-C and SIGTERM in the command line: interrupt the work once, then let the saving finish.

The first SIGINT (Ctrl-C) or SIGTERM raises an exception where the program is — inside the training
loop that stops the run after the last step both sides completed, and the trainer keeps its record.
SIGTERM raises :class:`Terminated`, a ``KeyboardInterrupt``, so it is handled in exactly the same way
(the exit status says which: 130 for SIGINT, 143 for SIGTERM). From then on — and also from the
moment training finishes, so that a Ctrl-C just after the last epoch cannot lose the run — further
signals are *deferred*: noted, answered with a line on stderr, and acted on once the record is saved.
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import Any

__all__ = ["SignalGuard", "Terminated"]


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that whatever keeps its work on Ctrl-C keeps it on SIGTERM too."""


class SignalGuard:
    """A context manager that installs the handlers (main thread only) and restores the old ones."""

    def __init__(self) -> None:
        self.received: int | None = None  # the first signal, if any
        self.deferring = False
        self._old: dict[int, Any] = {}

    def __enter__(self) -> SignalGuard:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._old[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._old.items():
            signal.signal(signum, handler)
        self._old.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum
        if self.deferring:
            print("mva: still finishing: saving what was computed first; please wait", file=sys.stderr, flush=True)
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
