"""``mva plot RUN``: draw the pictures of a saved run record, without training again."""

from __future__ import annotations

import argparse
import sys

from ..outputs import check_output_dir
from ..plots import KINDS, write_pictures
from ..record import load_record
from .options import picture_progress

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "plot",
        help="draw the pictures of a run saved with 'mva compare --save'",
        description="Draw pictures of a saved run record (no training). Kinds: all, " + ", ".join(KINDS) + ".",
    )
    p.add_argument("run", metavar="RUN", help="a run record written by 'mva compare --save RUN'")
    p.add_argument(
        "--kind", action="append", default=None, metavar="KIND",
        help="picture kind (repeatable; default: all)",
    )  # fmt: skip
    p.add_argument("--out", default="plots", metavar="DIR", help="folder to write into (default: plots)")
    p.add_argument("--quiet", action="store_true", help="do not name each picture as it is drawn")
    return p


def run(args: argparse.Namespace) -> int:
    out = check_output_dir(args.out, "--out")
    record = load_record(args.run)
    for path in write_pictures(record, out, args.kind or ["all"], progress=picture_progress(args.quiet)):
        print(f"wrote {path}", file=sys.stderr)
    return 0
