"""Ctrl-C and SIGTERM held back for a moment, so that an interrupt never lands between two related writes."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

__all__ = ["HeldSignals"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class HeldSignals:
    """While entered, SIGINT and SIGTERM go through this object: inside :meth:`hold` they are noted, and
    handed on when it ends; outside it they go at once to the handlers that were there before.

    The handlers are installed once (``with HeldSignals() as held:``) and :meth:`hold` only sets a flag,
    so holding costs nothing at each step of a long run. Python runs signal handlers in the main thread
    only, so elsewhere this does nothing (and nothing is needed).
    """

    def __init__(self) -> None:
        self._old: dict[int, Any] = {}
        self._pending: list[int] = []
        self._holding = False

    def __enter__(self) -> HeldSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in _SIGNALS:
                if signal.getsignal(signum) not in (None, signal.SIG_IGN):  # None: set outside Python; ignored stays so
                    self._old[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._old.items():
            signal.signal(signum, handler)
        self._old.clear()
        self._release()

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Signals that arrive inside are handed on when it ends (each once, in the order they came)."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
            self._release()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._holding:
            self._pending.append(signum)
        else:
            self._hand_on(signum, frame)

    def _hand_on(self, signum: int, frame: FrameType | None) -> None:
        old = self._old.get(signum, signal.SIG_DFL)
        if callable(old):
            old(signum, frame)  # e.g. Python's default SIGINT handler: KeyboardInterrupt, here
        elif old != signal.SIG_IGN:  # the default action (terminate): with the old handler back in place
            signal.signal(signum, old)
            self._old.pop(signum, None)
            signal.raise_signal(signum)

    def _release(self) -> None:
        pending, self._pending = self._pending, []
        for signum in dict.fromkeys(pending):
            if signum in self._old:
                self._hand_on(signum, None)
            else:  # after __exit__: the old handlers are back
                signal.raise_signal(signum)
