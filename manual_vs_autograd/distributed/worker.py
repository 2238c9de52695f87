"""One process of a data-parallel run: the manual all-reduce step beside DistributedDataParallel.

Every process holds a full copy of both networks and runs, for each step's batch, on its own shard:

* **manual**: :func:`~manual_vs_autograd.manual.loss_and_grads` on the shard, then per gradient
  ``g ← g · (1/W)`` and ``all_reduce(g, SUM)`` (:func:`manual_allreduce_step`), then
  :func:`~manual_vs_autograd.manual.sgd_step`;
* **DDP**: the :class:`~manual_vs_autograd.twin.TwinMLP` inside ``DistributedDataParallel``,
  ``loss.backward()`` (during which DDP's reducer averages the gradients over the processes), then
  ``torch.optim.SGD.step()``.

The order ``· (1/W)`` first, then the sum, is DDP's own: with no communication hook registered, the
C++ reducer (``torch/csrc/distributed/c10d/reducer.cpp``) copies each gradient into its bucket as
``at::mul_out(bucket_view, grad, wrapped_scalar_tensor(1. / div_factor_))`` and only then
all-reduces the bucket with SUM (``div_factor_`` is the world size). It multiplies by the rounded
reciprocal, not divides: for ``W = 2`` both are exact; for ``W = 3`` the manual side must multiply
too to match it bit for bit. (The Python ``allreduce_hook`` in ``ddp_comm_hooks/default_hooks.py``
instead ``div_``-ides before the sum; it is not the default.)

Rank 0 alone also computes, at the checked steps, one process's gradients on the whole batch at each
side's current parameters (the check of the all-reduce), trains a single process on the whole batch
alongside (to measure how far it drifts), and keeps the record; it alone writes the result.
"""

from __future__ import annotations

import math
import os
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from ..atomic import atomic_path
from ..batches import batches
from ..bounds import mlp_grad_bounds
from ..config import MLPConfig
from ..manual import loss_and_grads, sgd_step
from ..twin import TwinMLP
from .shards import shard, shard_weight
from .spec import Plan, build_problem

__all__ = ["LossModule", "RendezvousError", "ddp_step", "manual_allreduce_step", "run_rank"]

RECORD_BUDGET_BYTES = 64 * 2**20
"""Rank 0 keeps the parameters of all three runs every K-th step, K the smallest that fits this."""

RESULT_FILE = "result.rank0.pt"
"""What rank 0 writes into the run folder; no other rank writes a result."""


class RendezvousError(RuntimeError):
    """The processes did not all join the process group in time."""


def manual_allreduce_step(
    params: dict[str, Tensor], x: Tensor, y: Tensor, config: MLPConfig, lr: float, world_size: int, weight: float
) -> tuple[Tensor, dict[str, Tensor]]:
    """One data-parallel step by hand: shard gradients, averaged over the processes, then SGD.

    ``g_r = ∂L_r/∂θ`` on this shard; ``g = Σ_r (w_r g_r) · (1/W)``, the same in every process; ``θ ← θ - lr g``.

    Args:
        x, y: this process's shard of the batch.
        weight: ``w_r`` of :func:`~.shards.shard_weight`: 1.0 for even shards.

    Returns:
        the shard's mean loss and the averaged gradients.
    """
    L, grads = loss_and_grads(params, x, y, config)  # L = L_r, the mean over this shard
    for g in grads.values():
        if weight != 1.0:
            g.mul_(weight)  # uneven shards: w_r g_r, so that the average below is the batch mean
        g.mul_(1.0 / world_size)  # DDP's reducer: g · (1/W) while copying into its bucket
        dist.all_reduce(g, op=dist.ReduceOp.SUM)  # Σ over the processes: every process gets the same g
    sgd_step(params, grads, lr)
    return L, grads


class LossModule(nn.Module):
    """The twin with its loss as ``forward``: DDP's forward, which arms the reducer, then yields the loss."""

    def __init__(self, twin: TwinMLP):
        super().__init__()
        self.twin = twin

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return self.twin.loss(x, y)


def ddp_step(
    model: DistributedDataParallel, optimizer: torch.optim.Optimizer, x: Tensor, y: Tensor, weight: float
) -> Tensor:
    """One step of the DDP twin on this process's shard; returns the shard's mean loss."""
    optimizer.zero_grad(set_to_none=True)
    L = model(x, y)  # L_r
    (L if weight == 1.0 else L * weight).backward()  # the reducer all-reduces p.grad · (1/W) in buckets
    optimizer.step()
    return L.detach()


class _Record:
    """Rank 0's record. Every step: the batch loss of the manual, DDP and single-process runs. Every
    ``every``-th step: their parameters, and the averaged gradients of both sides beside the
    whole-batch gradient at the same parameters (the check of the all-reduce itself)."""

    def __init__(self, params: dict[str, Tensor], steps: int):
        numel = sum(p.numel() for p in params.values())
        per_row = 9 * numel * next(iter(params.values())).element_size()  # 3 runs' parameters, 4 gradients, 2 bounds
        self.every = max(1, math.ceil((steps + 1) * per_row / RECORD_BUDGET_BYTES))
        self.losses: dict[str, list[float]] = {side: [] for side in ("manual", "ddp", "single")}
        self.param_steps: list[int] = []
        self.params: dict[str, dict[str, list[Tensor]]] = {
            s: {k: [] for k in params} for s in ("manual", "ddp", "single")
        }
        self.check_steps: list[int] = []
        # the whole batch's loss and gradients at each side's parameters, and their per-element bounds there
        self.check_losses: dict[str, list[float]] = {k: [] for k in ("full_at_manual", "full_at_ddp", "bound_at_manual", "bound_at_ddp")}  # fmt: skip
        sides = ("manual", "ddp", "full_at_manual", "full_at_ddp", "bound_at_manual", "bound_at_ddp")
        self.grads: dict[str, dict[str, list[Tensor]]] = {s: {f"d{k}": [] for k in params} for s in sides}
        self.bitwise = True  # manual and DDP parameters equal at every step
        self.first_difference: int | None = None

    def checks(self, step: int, last: bool) -> bool:
        """Whether to check the gradients at ``step`` (the first, every ``every``-th after it, the last)."""
        return (step - 1) % self.every == 0 or last

    def params_at(self, step: int, last: bool, values: dict[str, dict[str, Tensor]]) -> None:
        if self.bitwise and not all(torch.equal(values["manual"][k], values["ddp"][k]) for k in values["manual"]):
            self.bitwise, self.first_difference = False, step
        if step % self.every == 0 or last:
            self.param_steps.append(step)
            for side, named in values.items():
                for name, t in named.items():
                    self.params[side][name].append(t.detach().to("cpu", copy=True))

    def grads_at(self, step: int, values: dict[str, dict[str, Tensor]]) -> None:
        self.check_steps.append(step)
        for side, named in values.items():
            for name, g in named.items():
                self.grads[side][name].append(g.detach().to("cpu", copy=True))

    def raw(self) -> dict:
        def as_tensor(v):
            return torch.tensor(v, dtype=torch.float64)

        def stack(d):
            return {s: {k: torch.stack(v) for k, v in named.items()} for s, named in d.items()}

        return {
            "every": self.every,
            "losses": {side: as_tensor(v) for side, v in self.losses.items()},
            "param_steps": torch.tensor(self.param_steps, dtype=torch.int64),
            "params": stack(self.params),
            "check_steps": torch.tensor(self.check_steps, dtype=torch.int64),
            "check_losses": {side: as_tensor(v) for side, v in self.check_losses.items()},
            "grads": stack(self.grads),
            "bitwise": self.bitwise,
            "first_difference": self.first_difference,
        }


def _ddp_params(model: DistributedDataParallel) -> dict[str, Tensor]:
    return {k: t.detach() for k, t in model.module.twin.named_math_parameters().items()}


def _full_batch(params: dict[str, Tensor], x: Tensor, y: Tensor, config: MLPConfig) -> tuple[float, dict[str, Tensor]]:
    L, grads = loss_and_grads(params, x, y, config)
    return L.item(), grads


def run_rank(
    rank: int, local_rank: int, p: Plan, init_method: str, timeout_s: float, run_dir: Path | None
) -> dict | None:
    """Join the process group, train both sides on this rank's shards, and (rank 0) return the raw record.

    ``init_method``: ``file://...``, ``tcp://127.0.0.1:PORT`` or ``env://`` (torchrun). The group's
    timeout, ``timeout_s``, bounds both the rendezvous and every collective. With ``run_dir``, each
    rank touches ``ready.<rank>`` there once the group has formed, and rank 0 writes the result.
    """
    W = p.world_size
    device = torch.device("cuda", local_rank) if p.device_type == "cuda" else torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
        torch.backends.cuda.matmul.allow_tf32 = False
    try:
        dist.init_process_group(
            p.backend, init_method=init_method, rank=rank, world_size=W, timeout=timedelta(seconds=timeout_s)
        )
    except Exception as err:  # a store or connect timeout, in whatever class this torch raises it
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise RendezvousError(
            f"rank {rank}: the {W} processes did not rendezvous within {timeout_s:g} s ({first})"
        ) from None
    try:
        problem = build_problem(p, device)
        twin = TwinMLP(p.config, problem.params)
        model = DistributedDataParallel(LossModule(twin), device_ids=[local_rank] if device.type == "cuda" else None)
        optimizer = torch.optim.SGD(model.parameters(), lr=p.lr)
        if run_dir is not None:
            (run_dir / f"ready.{rank}").touch()
        raw = _train(rank, p, problem.x, problem.y, problem.params, model, optimizer, device)
        if rank == 0 and run_dir is not None:
            with atomic_path(run_dir / RESULT_FILE) as tmp:
                torch.save(raw, tmp)
        return raw
    finally:
        dist.destroy_process_group()


def _train(rank, p: Plan, x, y, start, model, optimizer, device) -> dict | None:
    W, config, spec = p.world_size, p.config, p.spec
    manual = {name: t.clone() for name, t in start.items()}
    single = {name: t.clone() for name, t in start.items()} if rank == 0 else {}  # one process, whole batch
    steps_per_epoch = 1 if spec.batch_size is None or spec.batch_size >= p.n_train else -(-p.n_train // spec.batch_size)
    total = spec.epochs * steps_per_epoch
    record = _Record(manual, total) if rank == 0 else None
    if record is not None:
        record.params_at(0, False, {"manual": manual, "ddp": _ddp_params(model), "single": single})
    steps, uneven, stopped = 0, 0, None
    for step, index in enumerate(batches(p.n_train, spec.batch_size, spec.epochs, spec.seed, device), start=1):
        B = index.shape[0]
        mine = shard(index, W, rank)  # this process's slice of the batch
        n_r = mine.shape[0]
        weight = shard_weight(n_r, B, W)
        uneven += B % W != 0
        check = record is not None and record.checks(step, step == total)
        if check:  # the whole batch's gradient at each side's parameters, before the step changes them
            full_manual = _full_batch(manual, x[index], y[index], config)
            ddp_now = _ddp_params(model)
            same = all(torch.equal(manual[k], ddp_now[k]) for k in manual)
            full_ddp = full_manual if same else _full_batch(ddp_now, x[index], y[index], config)
            bound_manual = mlp_grad_bounds(config, manual, x[index], y[index])
            bound_ddp = bound_manual if same else mlp_grad_bounds(config, ddp_now, x[index], y[index])
        xs, ys = x[mine], y[mine]
        L_manual, grads = manual_allreduce_step(manual, xs, ys, config, p.lr, W, weight)
        L_ddp = ddp_step(model, optimizer, xs, ys, weight)
        # the batch loss, Σ_r (n_r/B) L_r, for the record; it is also every process's signal to stop on NaN
        losses = torch.stack([L_manual, L_ddp]).to(torch.float64) * (n_r / B)
        dist.all_reduce(losses, op=dist.ReduceOp.SUM)
        steps = step
        if record is not None:
            L_single, grads_single = loss_and_grads(single, x[index], y[index], config)
            sgd_step(single, grads_single, p.lr)
            for side, value in zip(("manual", "ddp", "single"), (*losses.tolist(), L_single.item())):
                record.losses[side].append(value)
            if check:
                ddp_grads = {f"d{k}": t.grad for k, t in model.module.twin.named_math_parameters().items()}
                record.check_losses["full_at_manual"].append(full_manual[0])
                record.check_losses["full_at_ddp"].append(full_ddp[0])
                grad_bounds = {}
                for side, bounds in (("manual", bound_manual), ("ddp", bound_ddp)):
                    record.check_losses[f"bound_at_{side}"].append(float(bounds["loss"]))
                    grad_bounds[f"bound_at_{side}"] = {k: b for k, b in bounds.items() if k != "loss"}
                record.grads_at(
                    step,
                    {"manual": grads, "ddp": ddp_grads, "full_at_manual": full_manual[1], "full_at_ddp": full_ddp[1],
                     **grad_bounds},
                )  # fmt: skip
            record.params_at(step, step == total, {"manual": manual, "ddp": _ddp_params(model), "single": single})
        if not bool(torch.isfinite(losses).all()):
            stopped = f"the batch loss became {losses.tolist()} (manual, DDP) at step {step}"
            break
    agree = _replicas_agree(manual, _ddp_params(model), W)
    if record is None:
        return None
    if stopped is not None and record.param_steps[-1] != steps:  # keep the last state
        record.params_at(steps, True, {"manual": manual, "ddp": _ddp_params(model), "single": single})
    return {
        **record.raw(),
        "steps": steps,
        "stopped": stopped,
        "uneven_steps": uneven,
        "replicas_agree": agree,
        "device": str(device),
        "threads": torch.get_num_threads(),
    }


def _replicas_agree(manual: dict[str, Tensor], ddp: dict[str, Tensor], world_size: int) -> bool:
    """Whether every process ended with bitwise the same parameters, on each side (one all-gather)."""
    flat = torch.cat([t.detach().reshape(-1) for t in (*manual.values(), *ddp.values())])
    gathered = [torch.empty_like(flat) for _ in range(world_size)]
    dist.all_gather(gathered, flat)
    return all(torch.equal(g, gathered[0]) for g in gathered)


def spawned(index: int, p: Plan, init_method: str, timeout_s: float, run_dir: str) -> None:
    """The target of :func:`torch.multiprocessing.start_processes`: process ``index`` is rank ``index``."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)  # W processes share the machine's cores, as torchrun's default
    run_rank(index, index, p, init_method, timeout_s, Path(run_dir))
