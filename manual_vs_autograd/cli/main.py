"""``mva``: subcommands, shared error handling and exit statuses.

Exit status: 0 success (and parity, for ``compare``); 1 the check ran but parity failed;
2 bad input (one line on stderr, no traceback); 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from .. import __version__
from ..errors import InputError
from . import bench, compare, lecture, plot

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
    for name, module in SUBCOMMANDS.items():
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mva`` with ``argv`` (default ``sys.argv[1:]``) and return the exit status."""
    try:
        args = build_parser().parse_args(argv)
        return SUBCOMMANDS[args.command].run(args)
    except InputError as err:
        print(f"mva: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mva: interrupted", file=sys.stderr)
        return 130
