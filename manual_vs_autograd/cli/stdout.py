"""Writing the report to stdout when the reader may have gone (``mva compare | head -1``)."""

from __future__ import annotations

import os
import sys

__all__ = ["emit"]


def emit(text: str) -> bool:
    """Print ``text`` and flush; ``False`` if the reader closed the pipe.

    On a broken pipe, stdout is pointed at ``/dev/null`` as the Python documentation advises
    (https://docs.python.org/3/library/signal.html#note-on-sigpipe), so that the interpreter's final
    flush cannot raise again; the caller carries on (saving the record) and keeps its exit status.
    """
    try:
        print(text)
        sys.stdout.flush()
        return True
    except BrokenPipeError:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):  # no file descriptor behind stdout (e.g. captured in tests)
            pass
        return False
