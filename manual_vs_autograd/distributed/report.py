"""The verdict of a distributed run: three runs compared pairwise, as a table or one JSON object.

The runs: ``manual`` (hand-written step, one all-reduce per gradient), ``ddp`` (the twin inside
``DistributedDataParallel``), and ``single`` (the hand-written network in one process on the whole
batch). Each pair is compared on the averaged gradients of the first step and on the loss and every
parameter along the run (every parameter at each recorded step, see ``recorded_every``), through
:func:`tensor_parity` and :func:`bound_for`, the two places that decide what "close" means.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor

from ..parity import ParamParity, compare_tensors
from ..tolerance import tolerance_for
from .shards import shard_sizes
from .spec import Plan

__all__ = ["PAIRS", "DistributedResult", "PairReport", "bound_for", "build_result", "format_report", "tensor_parity"]

PAIRS = (("manual", "ddp"), ("manual", "single"), ("ddp", "single"))
"""Which runs are compared; the second of each pair is the reference (its magnitudes set the scale)."""


def tensor_parity(name: str, a: Tensor, reference: Tensor) -> ParamParity:
    """How far ``a`` is from ``reference`` (same shape and dtype): the one comparison every row uses."""
    return compare_tensors(name, a, reference)


def bound_for(dtype: torch.dtype, what: str) -> float:
    """The bound on :attr:`ParamParity.scaled_diff`: ``grad`` for one step's gradients, ``trajectory`` for a run."""
    tolerance = tolerance_for(dtype)
    return tolerance.grad if what == "grad" else tolerance.trajectory


@dataclass(frozen=True)
class PairReport:
    """One pair of runs, compared."""

    a: str
    b: str
    gradients: tuple[ParamParity, ...]  # averaged gradients of the first step
    loss: ParamParity  # the batch loss at every step
    params: tuple[ParamParity, ...]  # every parameter at every recorded step
    bitwise: bool  # gradients, losses and every recorded parameter bitwise equal
    within: bool  # every row within its bound

    def to_json(self) -> dict[str, Any]:
        row = lambda p: {k: (list(v) if k == "shape" else v) for k, v in asdict(p).items()}  # noqa: E731
        return {
            "bitwise": self.bitwise,
            "within_bound": self.within,
            "max_grad_diff": max(p.max_abs_diff for p in self.gradients),
            "max_loss_diff": self.loss.max_abs_diff,
            "max_param_diff": max(p.max_abs_diff for p in self.params),
            "max_param_ulp": max(p.max_ulp for p in self.params),
            "gradients": [row(p) for p in self.gradients],
            "loss": row(self.loss),
            "parameters": [row(p) for p in self.params],
        }


@dataclass(frozen=True)
class DistributedResult:
    """What a distributed run found."""

    plan: Plan
    steps: int
    stopped: str | None
    uneven_steps: int  # steps whose batch the processes could not split evenly (weighted, see shards.py)
    recorded_every: int
    pairs: dict[str, PairReport]  # "manual_vs_ddp", "manual_vs_single", "ddp_vs_single"
    manual_ddp_bitwise_every_step: bool  # parameters compared at every step, not only the recorded ones
    first_difference: int | None  # the first step where manual and DDP parameters differ
    replicas_agree: bool  # every process ended with the same parameters, on both sides
    final_loss: dict[str, float]
    device: str
    grad_bound: float
    trajectory_bound: float

    @property
    def parity(self) -> bool:
        return all(pair.within for pair in self.pairs.values()) and self.replicas_agree and self.stopped is None

    def to_json(self) -> dict[str, Any]:
        p, spec = self.plan, self.plan.spec
        return {
            "parity": self.parity,
            "nproc": p.world_size,
            "backend": p.backend,
            "device": self.device,
            "network": p.config.describe(),
            "sizes": list(p.config.sizes),
            "dtype": str(p.dtype).removeprefix("torch."),
            "epochs": spec.epochs,
            "lr": p.lr,
            "batch_size": spec.batch_size,
            "shard_sizes": list(shard_sizes(spec.batch_size or p.n_train, p.world_size)),
            "uneven_steps": self.uneven_steps,
            "seed": spec.seed,
            "init": p.init,
            "steps": self.steps,
            "stopped": self.stopped,
            "recorded_every": self.recorded_every,
            "bound": {"grad": self.grad_bound, "trajectory": self.trajectory_bound},
            "manual_ddp_bitwise_every_step": self.manual_ddp_bitwise_every_step,
            "first_difference": self.first_difference,
            "replicas_agree": self.replicas_agree,
            "final_loss": self.final_loss,
            "pairs": {name: pair.to_json() for name, pair in self.pairs.items()},
        }


def _pair(a: str, b: str, raw: dict, dtype: torch.dtype) -> PairReport:
    ga, gb = raw["first_grads"][a], raw["first_grads"][b]
    gradients = tuple(tensor_parity(k, ga[k], gb[k]) for k in gb)
    loss = tensor_parity("loss", raw["losses"][a].to(dtype), raw["losses"][b].to(dtype))
    params = tuple(tensor_parity(k, raw["params"][a][k], raw["params"][b][k]) for k in raw["params"][b])
    grad_bound, traj_bound = bound_for(dtype, "grad"), bound_for(dtype, "trajectory")
    return PairReport(
        a,
        b,
        gradients,
        loss,
        params,
        bitwise=all(r.exact for r in (*gradients, loss, *params)),
        within=all(r.ok(grad_bound) for r in gradients) and all(r.ok(traj_bound) for r in (loss, *params)),
    )


def build_result(p: Plan, raw: dict) -> DistributedResult:
    """Compare the three runs in rank 0's raw record."""
    pairs = {f"{a}_vs_{b}": _pair(a, b, raw, p.dtype) for a, b in PAIRS}
    return DistributedResult(
        plan=p,
        steps=raw["steps"],
        stopped=raw["stopped"],
        uneven_steps=raw["uneven_steps"],
        recorded_every=raw["every"],
        pairs=pairs,
        manual_ddp_bitwise_every_step=raw["bitwise"],
        first_difference=raw["first_difference"],
        replicas_agree=raw["replicas_agree"],
        final_loss={side: float(v[-1]) for side, v in raw["losses"].items()},
        device=raw["device"],
        grad_bound=bound_for(p.dtype, "grad"),
        trajectory_bound=bound_for(p.dtype, "trajectory"),
    )


def format_report(result: DistributedResult) -> str:
    """The human-readable table."""
    p, spec = result.plan, result.plan.spec
    batch = "full batch" if spec.batch_size is None else f"batch {spec.batch_size}"
    shards = "/".join(map(str, shard_sizes(spec.batch_size or p.n_train, p.world_size)))
    lines = [
        f"network {p.config.describe()} | {str(p.dtype).removeprefix('torch.')} | {p.world_size} processes, "
        f"{p.backend} on {result.device} | {spec.epochs} epochs, lr {p.lr:g}, {batch} (shards {shards}), "
        f"{p.n_train} training samples | init {p.init}, seed {spec.seed}",
        f"{result.steps} steps, {result.uneven_steps} of them on uneven shards (weighted n_r·W/B); "
        f"parameters recorded every {result.recorded_every} step(s)",
        "",
        f"  {'pair':<18} {'grad |diff|':>11} {'loss |diff|':>11} {'param |diff|':>12} {'max ULP':>8}  bitwise  verdict",
    ]
    for name, pair in result.pairs.items():
        j = pair.to_json()
        lines.append(
            f"  {name:<18} {j['max_grad_diff']:>11.3g} {j['max_loss_diff']:>11.3g} {j['max_param_diff']:>12.3g} "
            f"{j['max_param_ulp']:>8d}  {'yes' if pair.bitwise else 'no':<7}  {'within' if pair.within else 'OUTSIDE'}"
        )
    every = "yes" if result.manual_ddp_bitwise_every_step else f"no (first difference at step {result.first_difference})"
    lines += [
        f"  bounds: gradients {result.grad_bound:.3g}, run {result.trajectory_bound:.3g} x max(|reference|, 1)",
        f"  manual vs DDP bitwise at every step: {every}",
        f"  replicas agree (every process ends with the same parameters): {'yes' if result.replicas_agree else 'NO'}",
    ]
    if result.stopped:
        lines.append(f"  stopped early: {result.stopped}")
    fl = result.final_loss
    lines += [
        "",
        f"final loss: manual {fl['manual']:.10g}   DDP {fl['ddp']:.10g}   single process {fl['single']:.10g}",
        "",
        f"parity: {'yes' if result.parity else 'no'}",
    ]
    return "\n".join(lines)
