"""``mva plot RUN``: draw the pictures of a saved run record, without training again."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..errors import InputError, one_line
from ..outputs import check_output_dir
from ..plots import KINDS, skipped, write_pictures
from ..record import load_record
from .options import picture_progress, say_skipped
from .stdout import say

__all__ = ["add_parser", "run"]

OPTIMIZER_PATHS = "optimizer-paths"


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "plot",
        help="draw the pictures of a run saved with 'mva compare --save'",
        description="Draw pictures of a saved run record (no training). Kinds: all, " + ", ".join(KINDS) + ".",
    )
    p.add_argument("run", metavar="RUN", nargs="?", help="a run record written by 'mva compare --save RUN' "
                   f"(not needed for --kind {OPTIMIZER_PATHS} alone)")  # fmt: skip
    p.add_argument(
        "--kind", action="append", default=None, metavar="KIND",
        help=f"picture kind (repeatable; default: all); {OPTIMIZER_PATHS}: SGD, momentum and Adam on the lecture "
        "network's loss, manual and torch.optim (trains the lecture run itself, no record needed)",
    )  # fmt: skip
    p.add_argument("--out", default="plots", metavar="DIR", help="folder to write into (default: plots)")
    p.add_argument("--quiet", action="store_true", help="do not name each picture as it is drawn")
    return p


def run(args: argparse.Namespace) -> int:
    kinds = [k for k in args.kind or ["all"] if k != OPTIMIZER_PATHS]
    if kinds and args.run is None:
        raise InputError(f"no run record given; expected 'mva plot RUN' (only --kind {OPTIMIZER_PATHS} needs none)")
    out = check_output_dir(args.out, "--out")
    if kinds:  # write_pictures checks every kind asked for by name before it draws any
        record = load_record(args.run)
        try:
            for path in write_pictures(record, out, kinds, progress=picture_progress(args.quiet)):
                say(f"wrote {path}")
            if "all" in kinds:
                say_skipped(skipped(record))
        except OSError as err:  # the folder went away, a full disk: one line, as for any output
            say(one_line(f"mva: error: could not write the pictures into {str(out)!r}: {err}", 300))
            return 3
    if len(kinds) < len(args.kind or ["all"]):  # last: nothing the record refuses is drawn before it
        _optimizer_paths(out, args.quiet)
    return 0


def _optimizer_paths(out: str | os.PathLike, quiet: bool) -> None:
    """The optimizer-paths picture (:func:`~manual_vs_autograd.plots.optimizer_paths.lecture_optimizer_paths`)."""
    from ..plots.common import save_figure
    from ..plots.optimizer_paths import lecture_optimizer_paths

    progress = picture_progress(quiet)
    if progress is not None:
        progress(OPTIMIZER_PATHS)
    path = save_figure(lecture_optimizer_paths(), Path(out) / "optimizer_paths.png")
    say(f"wrote {path}")
