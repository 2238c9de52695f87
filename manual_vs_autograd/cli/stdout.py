"""Every line the command writes, to stdout or stderr, when the reader may have gone (``mva compare 2>&1 | head -1``).

On a broken pipe the stream is pointed at ``/dev/null`` as the Python documentation advises
(https://docs.python.org/3/library/signal.html#note-on-sigpipe), so that neither a later line nor the
interpreter's final flush can raise again; the command carries on (saving the record) and keeps its
exit status. This module imports only the standard library (the console script loads it before torch).
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

__all__ = ["emit", "flush", "say", "say_now"]


def _to_devnull(stream: TextIO) -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no file descriptor behind the stream (e.g. captured in tests)
        pass


def _write(stream: TextIO, text: str) -> bool:
    try:
        stream.write(text)
        stream.flush()
        return True
    except BrokenPipeError:
        _to_devnull(stream)
        return False


def emit(text: str) -> bool:
    """Print ``text`` (and a newline) on stdout and flush; ``False`` if the reader closed the pipe."""
    return _write(sys.stdout, text + "\n")


def say(text: str, end: str = "\n") -> bool:
    """Write ``text`` and ``end`` on stderr and flush; ``False`` if the reader closed the pipe."""
    return _write(sys.stderr, text + end)


def say_now(text: str) -> None:
    """``text`` and a newline on stderr from a signal handler: one ``write(2)`` on the file descriptor, so that
    it cannot collide with a line the program was writing when the signal came (a re-entrant buffered write
    raises ``RuntimeError``). Falls back to :func:`say` where stderr has no descriptor (captured in tests)."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        say(text)
        return
    try:
        os.write(fd, (text + "\n").encode(errors="replace"))
    except OSError:  # a reader that has gone: nothing to tell
        pass


def flush() -> None:
    """Flush stdout and stderr now, so that the interpreter's last flush finds nothing that can fail."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            _to_devnull(stream)
        except (OSError, ValueError):
            pass
