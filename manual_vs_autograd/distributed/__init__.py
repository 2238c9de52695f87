"""Data parallelism by hand beside ``DistributedDataParallel``, on ``torch.distributed``.

:func:`run_distributed` starts N processes on this machine; each trains the hand-written network
(one ``all_reduce`` per gradient, :func:`~.worker.manual_allreduce_step`) and the autograd twin
inside DDP on its shard of every batch, and rank 0 compares both with the single-process run on the
whole batch. Under ``torchrun`` the same processes start from ``python -m manual_vs_autograd.distributed``.
"""

from .launcher import DEFAULT_TIMEOUT_S, DistributedFailure, run_distributed
from .report import DistributedResult, PairReport, format_report
from .shards import check_shardable, shard, shard_sizes, shard_weight
from .spec import DistributedSpec, Plan, plan
from .worker import RendezvousError, ddp_step, manual_allreduce_step

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "DistributedFailure",
    "DistributedResult",
    "DistributedSpec",
    "PairReport",
    "Plan",
    "RendezvousError",
    "check_shardable",
    "ddp_step",
    "format_report",
    "manual_allreduce_step",
    "plan",
    "run_distributed",
    "shard",
    "shard_sizes",
    "shard_weight",
]
