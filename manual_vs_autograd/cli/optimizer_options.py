"""``--optimizer`` and its settings, for any subcommand that trains: ``mva compare --optimizer adam --betas 0.9,0.99``.

Text that is not a number fails in argparse (``mva: error: argument --eps: ...``); numbers that do not
fit the rule fail in :class:`~manual_vs_autograd.optim.OptimizerSpec` (``mva: error: beta2 must be ...``).
Both are one line and exit status 2.
"""

from __future__ import annotations

import argparse
import math
from argparse import ArgumentTypeError

from ..optim import OPTIMIZERS, OptimizerSpec, default_lr

__all__ = ["add_optimizer_arguments", "optimizer_from_args"]


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _betas(text: str) -> tuple[float, float]:
    parts = text.split(",")
    if len(parts) != 2:
        raise ArgumentTypeError(f"expected two numbers B1,B2 such as 0.9,0.999, got {text!r}")
    b1, b2 = (_number(part.strip()) for part in parts)
    return b1, b2


def add_optimizer_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--optimizer``, ``--momentum``, ``--dampening``, ``--weight-decay``, ``--betas``, ``--eps``,
    ``--amsgrad``, ``--alpha``, ``--centered`` (the learning rate stays the subcommand's ``--lr``)."""
    group = parser.add_argument_group("optimizer (the manual rule and torch.optim run the same settings)")
    group.add_argument(
        "--optimizer",
        default="sgd",
        help=f"update rule: {', '.join(OPTIMIZERS)} (default: sgd); momentum and nesterov are torch.optim.SGD",
    )
    group.add_argument("--momentum", type=_number, default=None, metavar="M",
                       help="momentum μ in [0, 1) (default: 0.9 for momentum and nesterov, else 0)")  # fmt: skip
    group.add_argument("--dampening", type=_number, default=0.0, metavar="D",
                       help="SGD dampening τ in [0, 1]; the first step is never dampened (default: 0)")  # fmt: skip
    group.add_argument("--weight-decay", type=_number, default=None, metavar="WD",
                       help="weight decay λ ≥ 0: added to the gradient, decoupled for adamw (default: 0, adamw 0.01)")  # fmt: skip
    group.add_argument("--betas", type=_betas, default=None, metavar="B1,B2",
                       help="adam/adamw moment decay rates, each in [0, 1) (default: 0.9,0.999)")  # fmt: skip
    group.add_argument("--eps", type=_number, default=None, metavar="E",
                       help="ε added to √v in adam, adamw, rmsprop (default: 1e-8)")  # fmt: skip
    group.add_argument("--amsgrad", action="store_true", help="adam/adamw: divide by the running maximum of v")
    group.add_argument("--alpha", type=_number, default=0.99, metavar="A",
                       help="rmsprop's smoothing constant in [0, 1) (default: 0.99)")  # fmt: skip
    group.add_argument("--centered", action="store_true", help="rmsprop: divide by the gradient's variance estimate")


def optimizer_from_args(args: argparse.Namespace, *, sgd_lr: float) -> OptimizerSpec:
    """The :class:`OptimizerSpec` the arguments describe; raises ``InputError`` (one line) for bad settings.

    Args:
        sgd_lr: the subcommand's default learning rate for SGD; without ``--lr`` each rule's default
            is :func:`manual_vs_autograd.optim.default_lr` of it.
    """
    lr = getattr(args, "lr", None)
    return OptimizerSpec(
        name=args.optimizer,
        lr=default_lr(args.optimizer, sgd_lr, args.momentum) if lr is None else lr,
        momentum=args.momentum,
        dampening=args.dampening,
        weight_decay=args.weight_decay,
        betas=(0.9, 0.999) if args.betas is None else args.betas,
        eps=args.eps,
        amsgrad=args.amsgrad,
        alpha=args.alpha,
        centered=args.centered,
    )
