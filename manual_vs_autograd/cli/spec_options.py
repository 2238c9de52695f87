"""The run that ``mva compare``'s options describe, read the same way for its ``--nproc`` run."""

from __future__ import annotations

import argparse
from typing import Any, TypeVar

from ..compare import CompareSpec

__all__ = ["spec_from_args"]

SpecT = TypeVar("SpecT", bound=CompareSpec)

SAME_NAMES = (
    "hidden",
    "activation",
    "loss",
    "epochs",
    "lr",
    "batch_size",
    "dtype",
    "device",
    "seed",
    "init",
    "centers",
)
"""The shared options whose names are the spec's field names (``--samples`` and ``--features`` are not)."""


def spec_from_args(args: argparse.Namespace, spec_type: type[SpecT], **settings: Any) -> SpecT:
    """The ``spec_type`` (:class:`~manual_vs_autograd.compare.CompareSpec` or
    :class:`~manual_vs_autograd.distributed.DistributedSpec`) of the run options that ``mva compare`` and
    ``python -m manual_vs_autograd.distributed`` share, read by their option names.

    ``settings`` are the fields only ``mva compare`` has options for (``norm``, ``optimizer``).
    """
    same_names = {name: getattr(args, name) for name in SAME_NAMES}
    return spec_type(**same_names, n_samples=args.samples, n_features=args.features, **settings)
