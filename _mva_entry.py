"""The ``mva`` console script's entry point, kept outside the package on purpose.

Importing :mod:`manual_vs_autograd` imports torch, which takes a second or more; a Ctrl-C (or
SIGTERM) in that time would otherwise end in a traceback from deep inside the import. This module
imports nothing heavy, so it can catch the interrupt around the import and answer as ``mva`` does
for any interrupt: one line and the usual exit status.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence


class _Terminated(KeyboardInterrupt):
    """SIGTERM during start-up, handled like Ctrl-C."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    """Import the command line, then run it; an interrupt during the import is one line."""
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        from manual_vs_autograd.cli.main import main as run
    except KeyboardInterrupt as interrupt:
        terminated = isinstance(interrupt, _Terminated)
        print(f"mva: {'terminated' if terminated else 'interrupted'} while starting", file=sys.stderr)
        return 143 if terminated else 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    return run(argv)


if __name__ == "__main__":
    raise SystemExit(main())
