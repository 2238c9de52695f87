"""``mva compare``: train the manual network and its autograd twin side by side and report parity."""

from __future__ import annotations

import argparse

from ..check_schedule import CHECK_SHARE, SENSITIVITY_FOLLOW, CheckSchedule
from ..compare import CompareSpec, default_lr, run_compare
from ..config import INIT_SCHEMES
from ..devices import DTYPES
from ..errors import InputError, one_line
from ..jsonsafe import dumps
from ..outputs import check_output_dir, check_output_file
from ..plots import skipped, write_pictures
from ..record import record_from_result, save_record
from ..recorder import DEFAULT_BUDGET_BYTES, RecordPolicy
from ..report import format_report
from . import distributed_options
from .guard import SignalGuard
from .optimizer_options import add_optimizer_arguments, optimizer_from_args
from .options import int_list, picture_progress, positive_float, positive_int, say_skipped, seed
from .progress import step_progress
from .spec_options import spec_from_args
from .stdout import emit, say

__all__ = ["add_parser", "format_report", "run"]  # format_report lives in manual_vs_autograd.report


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "compare",
        help="train both sides side by side and report gradient and trajectory parity",
        description=(
            "Train the hand-written network and its autograd twin from identical parameters on identical "
            "batches of the blob data; print a per-parameter parity table, the final losses, the accuracies "
            "and a last line 'parity: yes' or 'parity: no'. Default: the lecture's 2-2-1 sigmoid network "
            "with MSE, 2000 epochs, lr 2.5 (the notebook's lr 5: the notebook drops MSE's factor 2), full batch, float64. Exit status 0 on parity, 1 without, 2 on bad input."
        ),
    )
    p.add_argument("--hidden", type=int_list, default=(2,), metavar="W[,W...]", help="hidden widths (default: 2)")
    p.add_argument(
        "--activation", default="sigmoid", help="hidden activation: sigmoid, tanh or relu (default: sigmoid)"
    )
    p.add_argument(
        "--loss",
        default="mse",
        help="mse or bce (binary labels, one sigmoid output) or ce (4-class softmax) (default: mse)",
    )
    p.add_argument(
        "--norm",
        default="none",
        help="none or layer: layer normalisation before each hidden activation (default: none)",
    )
    p.add_argument("--epochs", type=positive_int, default=2000, help="passes over the training set (default: 2000)")
    p.add_argument(
        "--lr",
        type=positive_float,
        default=None,
        help="learning rate (default: 2.5, the notebook's 5 without its dropped factor 2; 0.1 for ce)",
    )
    p.add_argument("--batch-size", type=positive_int, default=None, help="mini-batch size (default: full batch)")
    p.add_argument("--dtype", default="float64", help=f"{' or '.join(DTYPES)} (default: float64)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default: auto = cuda when present)")
    p.add_argument(
        "--seed", type=seed, default=0, help="seed of the data, initial weights and batch order (default: 0)"
    )
    p.add_argument(
        "--init",
        default=None,
        help=f"initial weights: {' or '.join(INIT_SCHEMES)} (default: lecture for 2-2-1 and 2-2-4, else scaled)",
    )
    p.add_argument("--samples", type=positive_int, default=1000, help="blob points in all (default: 1000)")
    p.add_argument("--centers", type=positive_int, default=4, help="blob centres (default: 4)")
    p.add_argument("--features", type=positive_int, default=2, help="input features (default: 2)")
    p.add_argument(
        "--save", metavar="RUN", help="save the run record (safetensors: losses, parameters, data, settings)"
    )
    p.add_argument("--plots", metavar="DIR", help="write the standard pictures of the run into DIR")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument(
        "--record",
        type=_record_what,
        default="all",
        metavar="WHAT",
        help="what --save and --plots keep: all (every parameter), loss, none, or names like W1,b2 (default: all)",
    )
    p.add_argument(
        "--record-every",
        type=positive_int,
        default=None,
        metavar="K",
        help=f"keep every K-th step (default: every step if the record fits {DEFAULT_BUDGET_BYTES // 2**20} MiB, else thinned to fit)",
    )
    p.add_argument(
        "--check-every",
        type=positive_int,
        default=None,
        metavar="K",
        help=(
            "bound-check every K-th step (and the last) and follow the 1-ULP-perturbed run to its end; 1: every "
            f"step (default: step 1, then as many steps as {CHECK_SHARE:.0%}% of the run's time allows, and the "
            f"perturbed run for the first {SENSITIVITY_FOLLOW:.0%}% of the steps)"  # %% is argparse's '%'
        ),
    )
    add_optimizer_arguments(p)
    distributed_options.add_arguments(p)
    return p


def _record_what(text: str):
    try:
        return RecordPolicy.parse(text)
    except InputError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def policy_from_args(args: argparse.Namespace) -> RecordPolicy:
    return RecordPolicy(every=args.record_every, what=args.record)


def _shown(path: object) -> str:
    """A path as one line can show it: as typed, or quoted with escapes when it holds a newline or the like."""
    text = str(path)
    return text if text.isprintable() else repr(text)


def check_from_args(args: argparse.Namespace) -> CheckSchedule:
    return CheckSchedule(every=args.check_every)


def _progress(args: argparse.Namespace, guard: SignalGuard):
    """The progress printer, which also defers signals once the last epoch is done (nothing may lose the run)."""
    printer = step_progress("mva compare", args.quiet)

    def progress(done: int, total: int) -> None:
        if printer is not None:
            printer(done, total)
        if done >= total:
            guard.deferring = True

    return progress


def run(args: argparse.Namespace) -> int:
    """Check the outputs, train, print, save (whatever happens once training started), draw.

    Exit status: 0 parity; 1 no parity or the run stopped early; 2 bad input (before any work);
    3 the record or the pictures could not be written; 130/143 interrupted by SIGINT/SIGTERM (the
    record, with the steps completed, is saved first).
    """
    if args.nproc > 1:
        return distributed_options.run(args)
    spec = spec_from_args(
        args, CompareSpec, norm=args.norm, optimizer=optimizer_from_args(args, sgd_lr=default_lr(args.loss))
    )
    save = None if args.save is None else check_output_file(args.save, "--save")
    plots = None if args.plots is None else check_output_dir(args.plots, "--plots")
    shown = _shown(save) if save is not None else ""  # the record's path, fit for one line
    with SignalGuard() as guard:
        result = run_compare(
            spec, progress=_progress(args, guard), record=policy_from_args(args), check=check_from_args(args)
        )
        guard.deferring = True  # from here until the record is saved, signals wait
        stopped = result.trajectories.stopped
        emit(dumps(result.to_json(), indent=2) if args.json else format_report(result))
        record = record_from_result(result) if (save or plots) else None  # None exactly when both are None
        if record is not None and save is not None:
            say(f"saving the run record to {shown} ...")
            try:
                save_record(record, save)
            except (OSError, InputError) as err:
                say(one_line(f"mva: error: could not save the run record to {shown}: {err}", 300))
                return 3
            kept = f" with the {result.trajectories.steps} steps recorded" if (stopped or guard.received) else ""
            say(f"run record saved to {shown}{kept}")
        status = guard.exit_status  # None unless a signal was received
        if status is not None:
            say(f"mva: {guard.name}; " + (stopped or "after training had finished"))
            if plots:
                say("mva: pictures skipped; draw them from the record with 'mva plot'")
            return status
        if stopped:
            say(f"mva: the run stopped early: {stopped}")
            if plots:
                say("mva: pictures skipped: the run did not finish; draw what was recorded with 'mva plot'")
            return 130 if stopped.startswith("interrupted") else 1
        guard.deferring = False  # drawing may be interrupted: the record is safe
        if record is not None and plots is not None:
            try:
                for path in write_pictures(record, plots, progress=picture_progress(args.quiet)):
                    say(f"wrote {path}")
                say_skipped(skipped(record))
            except KeyboardInterrupt:
                say(
                    f"mva: {guard.name} while drawing the pictures"
                    + (f"; the record is saved in {shown}" if save else "")
                )
                return guard.exit_status or 130
            except Exception as err:  # a picture that fails must not cost the run: say so in one line
                kept = f"; the record is saved in {shown}" if save else "; rerun with --save to keep the record"
                say(f"mva: error: drawing the pictures failed ({type(err).__name__}: {one_line(err, 120)}){kept}")
                return 3
    return 0 if result.parity else 1
