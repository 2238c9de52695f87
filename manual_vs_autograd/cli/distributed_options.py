"""``--nproc N``: run the side-by-side comparison data-parallel over N processes.

For ``mva compare``: :func:`add_arguments` adds ``--nproc`` and ``--rdzv-timeout`` to its parser, and
``compare.run`` hands over to :func:`run` when ``args.nproc > 1``. :func:`run` reads the compare
options by their ``mva compare`` names (``hidden, activation, loss, epochs, lr, batch_size, dtype,
device, seed, init, samples, centers, features, json``) and returns the exit status: 0 parity,
1 no parity, 2 a process died or the rendezvous did not form (one line on stderr).

Standalone, ``python -m manual_vs_autograd.distributed [options]`` (:func:`main`) takes the same
options; started by ``torchrun`` (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` in the environment) it is
one process of the run, meets the others through ``env://``, and rank 0 alone prints the result.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from ..distributed.launcher import DEFAULT_TIMEOUT_S, GRACE_S, STARTUP_S, DistributedFailure, run_distributed
from ..distributed.report import build_result, format_report
from ..distributed.spec import DistributedSpec, plan
from ..distributed.worker import RendezvousError, run_rank
from ..errors import InputError
from ..jsonsafe import dumps
from .options import int_list, positive_float, positive_int
from .spec_options import spec_from_args
from .stdout import emit, say

__all__ = ["add_arguments", "main", "run"]

TORCHRUN_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--nproc`` and ``--rdzv-timeout``, for ``mva compare``'s parser."""
    parser.add_argument(
        "--nproc",
        type=positive_int,
        default=1,
        metavar="N",
        help="train data-parallel over N processes on this machine (gloo on CPU, nccl with one GPU each) and "
        "compare the hand-written all-reduce with DistributedDataParallel and with one process (default: 1)",
    )
    parser.add_argument(
        "--rdzv-timeout",
        type=positive_float,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help=f"with --nproc: seconds the processes wait for each other to meet and in each collective; a run whose "
        f"processes do not meet ends after at most {STARTUP_S:g} + S + {2 * GRACE_S:g} s, one that loses a process "
        f"within {2 * GRACE_S:g} s of the loss, both with exit status 2 (default: {DEFAULT_TIMEOUT_S:g})",
    )


def _refuse_unsupported(args: argparse.Namespace) -> None:
    if getattr(args, "check_every", None) is not None:  # the distributed run checks every step
        raise InputError(
            f"--check-every is not supported with --nproc {args.nproc} (it checks every step); expected no --check-every"
        )
    for option in ("save", "plots"):
        if getattr(args, option, None):
            raise InputError(
                f"--{option} is not supported with --nproc {args.nproc}; expected a run without --{option}"
            )
    # mva compare's options that the distributed run does not take (plain SGD, no normalisation)
    if (
        getattr(args, "optimizer", "sgd") != "sgd"
        or getattr(args, "weight_decay", None)
        or getattr(args, "momentum", None)
    ):
        raise InputError(
            f"--nproc {args.nproc} trains with plain SGD; expected --optimizer sgd without momentum or weight decay"
        )
    if getattr(args, "norm", "none") != "none":
        raise InputError(f"--norm {args.norm} is not supported with --nproc {args.nproc}; expected --norm none")


def run(args: argparse.Namespace) -> int:
    """Run ``mva compare`` over ``args.nproc`` processes; print the table or JSON; return the exit status."""
    _refuse_unsupported(args)
    spec = spec_from_args(args, DistributedSpec)
    try:
        result = run_distributed(spec, args.nproc, timeout_s=args.rdzv_timeout)
    except DistributedFailure as err:
        say(f"mva: error: {err}")
        return 2
    emit(dumps(result.to_json(), indent=2) if args.json else format_report(result))
    if result.stopped:
        say(f"mva: the run stopped early: {result.stopped}")
    return 0 if result.parity else 1


def _torchrun_rank(args: argparse.Namespace) -> int:
    """One process started by torchrun: meet the others through ``env://``; rank 0 prints the result."""
    rank, world, local = (int(os.environ[name]) for name in TORCHRUN_VARS)
    p = plan(spec_from_args(args, DistributedSpec), world)
    raw = run_rank(rank, local, p, "env://", args.rdzv_timeout, None)
    if raw is None:  # every rank but 0
        return 0
    result = build_result(p, raw)
    emit(dumps(result.to_json(), indent=2) if args.json else format_report(result))
    return 0 if result.parity else 1


def build_parser() -> argparse.ArgumentParser:
    """The standalone parser: ``mva compare``'s run options plus ``--nproc`` and ``--rdzv-timeout``."""
    from .main import _Parser  # here, not above: main imports the subcommands, compare among them

    p = _Parser(
        prog="python -m manual_vs_autograd.distributed",
        description="Train the hand-written network (one all-reduce per gradient) and its twin inside "
        "DistributedDataParallel over N processes; compare them with each other and with one process on the "
        "whole batch. Exit status 0 on parity, 1 without, 2 on bad input or a failed run.",
    )
    p.add_argument("--hidden", type=int_list, default=(2,), metavar="W[,W...]", help="hidden widths (default: 2)")
    p.add_argument("--activation", default="sigmoid", help="sigmoid, tanh or relu (default: sigmoid)")
    p.add_argument("--loss", default="mse", help="mse, bce or ce (default: mse)")
    p.add_argument("--epochs", type=positive_int, default=2000, help="passes over the training set (default: 2000)")
    p.add_argument("--lr", type=positive_float, default=None, help="learning rate (default: 2.5; 0.1 for ce)")
    p.add_argument("--batch-size", type=positive_int, default=None, help="global mini-batch size (default: full batch)")
    p.add_argument("--dtype", default="float64", help="float32 or float64 (default: float64)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto = one GPU per process if enough)")
    p.add_argument("--seed", type=int, default=0, help="seed of the data, initial weights and batch order (default: 0)")
    p.add_argument("--init", default=None, help="lecture or scaled (default: lecture for 2-2-1 and 2-2-4, else scaled)")
    p.add_argument("--samples", type=positive_int, default=1000, help="blob points in all (default: 1000)")
    p.add_argument("--centers", type=positive_int, default=4, help="blob centres (default: 4)")
    p.add_argument("--features", type=positive_int, default=2, help="input features (default: 2)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    add_arguments(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m manual_vs_autograd.distributed``: launch ``--nproc`` local processes, or be one under torchrun."""
    try:
        args = build_parser().parse_args(argv)
        if all(name in os.environ for name in TORCHRUN_VARS):
            return _torchrun_rank(args)
        return run(args)
    except (InputError, RendezvousError) as err:
        say(f"mva: error: {err}")
        return 2
    except KeyboardInterrupt:
        say("mva: interrupted")
        return 130
