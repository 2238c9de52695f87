"""``mva``: subcommands, shared error handling and exit statuses.

Exit status: 0 success (and parity, for ``compare``); 1 the check ran but parity failed (or the run
stopped early); 2 bad input (one line on stderr, no traceback); 3 the run finished but its record or
pictures could not be written; 130 interrupted (Ctrl-C); 143 terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import InputError, one_line
from . import bench, compare, lecture, plot
from .guard import Terminated

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
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as done:  # --help and --version print, then ask to exit: return instead
            return done.code if isinstance(done.code, int) else 0
        return SUBCOMMANDS[args.command].run(args)
    except InputError as err:
        print(f"mva: error: {one_line(err)}", file=sys.stderr)
        return 2
    except Terminated:
        print("mva: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("mva: interrupted", file=sys.stderr)
        return 130
