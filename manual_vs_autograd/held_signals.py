"""Ctrl-C and SIGTERM held back for a moment, so that an interrupt never lands between two related writes."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

__all__ = ["HeldSignals"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class HeldSignals:
    """While active, SIGINT and SIGTERM are noted instead of handled; on exit they go to the handlers that were there.

    Python runs signal handlers in the main thread only, so elsewhere this does nothing (and nothing is needed).
    """

    def __init__(self) -> None:
        self._old: dict[int, Any] = {}
        self._pending: list[int] = []

    def __enter__(self) -> HeldSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in _SIGNALS:
                if signal.getsignal(signum) is not None:  # None: a handler set outside Python, left alone
                    self._old[signum] = signal.signal(signum, self._note)
        return self

    def _note(self, signum: int, frame: FrameType | None) -> None:
        self._pending.append(signum)

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._old.items():
            signal.signal(signum, handler)
        self._old.clear()
        pending, self._pending = self._pending, []
        for signum in dict.fromkeys(pending):  # each signal once, in the order they came
            signal.raise_signal(signum)
