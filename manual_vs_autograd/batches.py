"""Each step's batch: the whole training set, or seeded shuffled mini-batches that every side sees alike."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor

__all__ = ["batches"]


def batches(n: int, batch_size: int | None, epochs: int, seed: int, device: torch.device) -> Iterator[Tensor]:
    """Index tensors of each step's batch: all of ``0..n-1`` per epoch, or a seeded shuffle cut in slices.

    The last slice of an epoch may be smaller than ``batch_size``.
    """
    if batch_size is None or batch_size >= n:
        everything = torch.arange(n, device=device)
        for _ in range(epochs):
            yield everything
        return
    generator = torch.Generator().manual_seed(seed)  # on the CPU, so every device sees one order
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator).to(device)
        yield from order.split(batch_size)
