"""The run that ``mva compare``'s options describe, read the same way for its ``--nproc`` run."""

from __future__ import annotations

import argparse
from typing import Any, TypeVar

from ..compare import CompareSpec

__all__ = ["spec_from_args"]

SpecT = TypeVar("SpecT", bound=CompareSpec)


def spec_from_args(args: argparse.Namespace, spec_type: type[SpecT], **settings: Any) -> SpecT:
    """The ``spec_type`` (:class:`~manual_vs_autograd.compare.CompareSpec` or
    :class:`~manual_vs_autograd.distributed.DistributedSpec`) of the run options that ``mva compare`` and
    ``python -m manual_vs_autograd.distributed`` share, read by their option names.

    ``settings`` are the fields only ``mva compare`` has options for (``norm``, ``optimizer``).
    """
    return spec_type(
        hidden=args.hidden,
        activation=args.activation,
        loss=args.loss,
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        dtype=args.dtype,
        device=args.device,
        seed=args.seed,
        init=args.init,
        n_samples=args.samples,
        centers=args.centers,
        n_features=args.features,
        **settings,
    )
