"""``mva``: subcommands, shared error handling and exit statuses.

Exit status: 0 success (and parity, for ``compare``); 1 the check ran but parity failed (or the run
stopped early); 2 bad input (one line on stderr, no traceback); 3 the run finished but its record or
pictures could not be written; 130 interrupted (Ctrl-C); 143 terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from .. import __version__
from ..errors import InputError, one_line
from . import bench, compare, lecture, plot
from .guard import Terminated, ignore_further_signals
from .stdout import flush, say

__all__ = ["build_parser", "main"]

SUBCOMMANDS = {"compare": compare, "lecture": lecture, "plot": plot, "bench": bench}


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one line and exit with status 2 through :class:`InputError`."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mva",
        description="Hand-written backprop beside its autograd twin: gradient and trajectory parity.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")
    for _name, module in SUBCOMMANDS.items():
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mva`` with ``argv`` (default ``sys.argv[1:]``) and return the exit status."""
    try:
        return _run(argv)
    finally:
        flush()  # what is left in the buffers, now and guarded: not in the interpreter's last flush


def _run(argv: Sequence[str] | None) -> int:
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as done:  # --help and --version print, then ask to exit: return instead
            return done.code if isinstance(done.code, int) else 0
        return SUBCOMMANDS[args.command].run(args)
    except InputError as err:
        say(f"mva: error: {one_line(err)}")
        return 2
    except KeyboardInterrupt as interrupt:  # SIGTERM (Terminated) or Ctrl-C, outside a command's own handling
        ignore_further_signals()  # the console script's process: the next signal must not interrupt this answer
        terminated = isinstance(interrupt, Terminated)
        say("mva: terminated" if terminated else "mva: interrupted")
        return 143 if terminated else 130
