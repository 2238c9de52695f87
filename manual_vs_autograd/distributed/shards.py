"""Cutting each step's batch into one shard per process, and what each shard's gradient weighs.

Every process sees the same sequence of batches (the single-process trainer's
:func:`~manual_vs_autograd.trainer.batches`, from the same seed) and takes its own contiguous slice
of each batch: process ``r`` of ``W`` gets ``index.tensor_split(W)[r]``. The slices are disjoint and
together are the batch, so the ``W`` processes do exactly the single process's work between them.
``--batch-size`` is therefore the *global* batch; each process runs about ``B / W`` samples.

When ``W`` does not divide ``B`` the shards differ by one sample, and the mean loss of a shard is no
longer ``1/W`` of the batch's: see :func:`shard_weight`.
"""

from __future__ import annotations

from torch import Tensor

from ..errors import InputError

__all__ = ["batch_sizes", "check_shardable", "shard", "shard_sizes", "shard_weight"]


def shard(index: Tensor, world_size: int, rank: int) -> Tensor:
    """Process ``rank``'s contiguous slice of the batch ``index`` (B,); sizes differ by at most one."""
    return index.tensor_split(world_size)[rank]


def shard_sizes(batch: int, world_size: int) -> tuple[int, ...]:
    """``n_r`` for each rank: ``B // W`` each, plus one for the first ``B % W`` ranks (as ``tensor_split``)."""
    return tuple(batch // world_size + (1 if r < batch % world_size else 0) for r in range(world_size))


def shard_weight(n_rank: int, batch: int, world_size: int) -> float:
    """The factor ``w_r = n_r · W / B`` that makes DDP's average of shard means the batch mean.

    With a mean loss, shard ``r``'s gradient is ``g_r = (1/n_r) Σ_{i∈r} ∇ℓ_i``; DDP averages
    ``(1/W) Σ_r g_r``. The batch gradient is ``(1/B) Σ_i ∇ℓ_i = (1/W) Σ_r (n_r W / B) g_r``: the two agree
    exactly when every ``n_r = B / W`` (``w_r = 1``), and otherwise only once each shard's gradient is
    scaled by ``w_r``. 1.0 exactly when the shards are even.
    """
    if n_rank * world_size == batch:
        return 1.0
    return n_rank * world_size / batch


def batch_sizes(n_samples: int, batch_size: int | None) -> tuple[int, ...]:
    """The distinct batch sizes of one epoch: ``(n,)`` for full batch, else ``B`` and the last, shorter one."""
    if batch_size is None or batch_size >= n_samples:
        return (n_samples,)
    last = n_samples - (-(-n_samples // batch_size) - 1) * batch_size
    return (batch_size,) if last == batch_size else (batch_size, last)


def check_shardable(n_samples: int, batch_size: int | None, world_size: int) -> None:
    """Refuse a batch that leaves some process without a sample (its mean loss would be 0/0)."""
    smallest = min(batch_sizes(n_samples, batch_size))
    if smallest < world_size:
        raise InputError(
            f"a batch of {smallest} samples cannot give each of the {world_size} processes at least one; "
            f"expected every batch (batch size {batch_size}, {n_samples} training samples) to hold >= {world_size}"
        )
