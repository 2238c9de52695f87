"""The verdict of a distributed run, as a table or one JSON object.

Three comparisons carry the verdict, each through :func:`tensor_parity` and :func:`bound_for`, the
two places that decide what "close" means:

* ``manual_vs_ddp``: the hand-written all-reduce against DDP: the averaged gradients of the first
  step (per element, within :func:`manual_vs_autograd.bounds.mlp_grad_bounds` of the whole batch at
  the start), the batch loss at every step and every parameter at every recorded step (the run
  tolerance of :mod:`manual_vs_autograd.tolerance`, relative to the tensor's largest value: no
  per-element model covers a whole run; the two are bitwise equal in practice, which is reported);
  and whether they were bitwise equal at every step.
* ``manual_vs_full_batch`` and ``ddp_vs_full_batch``: at each checked step, the averaged gradients
  and the batch loss against one process's gradients and loss on the *whole* batch *at the same
  parameters*, each element within its bound from :func:`~manual_vs_autograd.bounds.mlp_grad_bounds`
  at those parameters on that batch (computed by rank 0 at the checked steps). This is the claim of
  data parallelism itself, step by step; the two differ only in the order of the sums, which the
  bound's ``γ_n Σ|a||b|`` covers for any order (the extra ``· 1/W`` and shard weight are one or two
  roundings of ``|g|``, far inside ``S ≥ N|g|``).

And one measurement without a verdict, ``single_process_drift``: a single process trained on the
whole batch from the same start, and how far its parameters wander from the distributed run's. The
reordered sums start it at the last bit, and a training run can amplify that without limit (the
default run passes a chaotic stretch near step 150 that grows 1e-16 to order 1 before both runs
settle into the same minimum), so this is a property of the dynamics, not a parity failure.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor

from ..devices import dtype_name
from ..parity import ParamParity, compare_tensors
from ..tolerance import tolerance_for
from .shards import shard_sizes
from .spec import Plan

__all__ = ["PAIRS", "DistributedResult", "PairReport", "bound_for", "build_result", "format_report", "tensor_parity"]

PAIRS = ("manual_vs_ddp", "manual_vs_full_batch", "ddp_vs_full_batch")
"""The comparisons that carry the verdict; in each, the second named is the reference (it sets the scale)."""


def tensor_parity(name: str, a: Tensor, reference: Tensor, bound: Tensor | None = None) -> ParamParity:
    """How far ``a`` is from ``reference`` (same shape and dtype); with ``bound`` (per element) its verdict."""
    return compare_tensors(name, a, reference, bound)


def bound_for(dtype: torch.dtype, what: str = "trajectory") -> float:
    """The run tolerance on :attr:`ParamParity.scaled_diff` (``trajectory``; ``grad``: the old per-tensor one, reported only)."""
    tolerance = tolerance_for(dtype)
    return tolerance.grad if what == "grad" else tolerance.trajectory


@dataclass(frozen=True)
class PairReport:
    """One pair of runs, compared."""

    a: str
    b: str
    gradients: tuple[ParamParity, ...]  # averaged gradients (manual_vs_ddp: of the first step)
    loss: ParamParity  # the batch loss (manual_vs_ddp: at every step; else at every checked step)
    params: tuple[ParamParity, ...]  # manual_vs_ddp: every parameter at every recorded step; else none
    bitwise: bool  # gradients, losses and every recorded parameter bitwise equal
    within: bool  # every row within its bound

    def to_json(self) -> dict[str, Any]:
        def row(p):
            return {k: (list(v) if k == "shape" else v) for k, v in asdict(p).items()}

        return {
            "bitwise": self.bitwise,
            "within_bound": self.within,
            "max_grad_diff": max(p.max_abs_diff for p in self.gradients),
            "max_grad_ratio": max(p.max_ratio for p in self.gradients),  # |diff|/bound per element: <= 1 passes
            "max_loss_diff": self.loss.max_abs_diff,
            "max_param_diff": max((p.max_abs_diff for p in self.params), default=None),
            "max_param_ulp": max((p.max_ulp for p in self.params), default=None),
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
    pairs: dict[str, PairReport]  # the PAIRS
    checked_steps: int  # steps at which the averaged gradients were checked against the whole batch's
    drift: dict[str, Any]  # single_process_drift: measured, no verdict
    manual_ddp_bitwise_every_step: bool  # parameters compared at every step, not only the recorded ones
    first_difference: int | None  # the first step where manual and DDP parameters differ
    replicas_agree: bool  # every process ended with the same parameters, on both sides
    final_loss: dict[str, float]
    device: str
    trajectory_bound: float  # the run tolerance for manual vs DDP along the run

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
            "dtype": dtype_name(p.dtype),
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
            "bound": {
                "grad": "per element: c*u*S at the same parameters on the whole batch (manual_vs_autograd.bounds)",
                "trajectory": self.trajectory_bound,
            },
            "manual_ddp_bitwise_every_step": self.manual_ddp_bitwise_every_step,
            "first_difference": self.first_difference,
            "replicas_agree": self.replicas_agree,
            "final_loss": self.final_loss,
            "checked_steps": self.checked_steps,
            "pairs": {name: pair.to_json() for name, pair in self.pairs.items()},
            "single_process_drift": self.drift,
        }


def _rows(
    a: dict[str, Tensor], b: dict[str, Tensor], row: slice = slice(None), bounds: dict[str, Tensor] | None = None
) -> tuple[ParamParity, ...]:
    return tuple(tensor_parity(k, a[k][row], b[k][row], None if bounds is None else bounds[k][row]) for k in b)


def _pair(a: str, b: str, gradients, loss, params, dtype: torch.dtype) -> PairReport:
    """Gradients (and, at the same parameters, the loss) per element within their bounds; a run's loss and parameters within the run tolerance."""
    run_bound = bound_for(dtype, "trajectory")
    loss_ok = loss.ok(run_bound) if params else loss.within  # with parameters: the loss along the run
    within = all(r.within for r in gradients) and loss_ok and all(r.ok(run_bound) for r in params)
    bitwise = all(r.exact for r in (*gradients, loss, *params))
    return PairReport(a, b, gradients, loss, params, bitwise=bitwise, within=within)


def _drift(raw: dict) -> dict[str, Any]:
    """How far the single process on the whole batch wanders from the distributed (manual) run."""
    ref, single = raw["params"]["manual"], raw["params"]["single"]
    per_row = torch.stack([(single[k] - ref[k]).abs().flatten(1).max(dim=1).values for k in ref]).max(dim=0).values
    worst = int(per_row.argmax())
    losses = raw["losses"]
    return {
        "max_param_diff": float(per_row[worst]),
        "at_step": int(raw["param_steps"][worst]),
        "final_param_diff": float(per_row[-1]),
        "max_loss_diff": float((losses["single"] - losses["manual"]).abs().max()) if raw["steps"] else 0.0,
        "final_loss": float(losses["single"][-1]) if raw["steps"] else None,
    }


def build_result(p: Plan, raw: dict) -> DistributedResult:
    """Compare the runs in rank 0's raw record."""
    dtype, grads, losses = p.dtype, raw["grads"], raw["losses"]
    at_checks = raw["check_steps"] - 1  # rows of the every-step losses at the checked steps
    pairs = {
        "manual_vs_ddp": _pair(
            "manual",
            "ddp",
            _rows(grads["manual"], grads["ddp"], slice(0, 1), grads["bound_at_manual"]),
            tensor_parity("loss", losses["manual"].to(dtype), losses["ddp"].to(dtype)),
            _rows(raw["params"]["manual"], raw["params"]["ddp"]),
            dtype,
        ),
    }
    for side in ("manual", "ddp"):
        full = f"full_at_{side}"
        pairs[f"{side}_vs_full_batch"] = _pair(
            side,
            "full_batch",
            _rows(grads[side], grads[full], bounds=grads[f"bound_at_{side}"]),
            tensor_parity(
                "loss",
                losses[side][at_checks].to(dtype),
                raw["check_losses"][full].to(dtype),
                raw["check_losses"][f"bound_at_{side}"],
            ),
            (),
            dtype,
        )
    return DistributedResult(
        plan=p,
        steps=raw["steps"],
        stopped=raw["stopped"],
        uneven_steps=raw["uneven_steps"],
        recorded_every=raw["every"],
        pairs=pairs,
        checked_steps=len(raw["check_steps"]),
        drift=_drift(raw),
        manual_ddp_bitwise_every_step=raw["bitwise"],
        first_difference=raw["first_difference"],
        replicas_agree=raw["replicas_agree"],
        final_loss={side: float(v[-1]) for side, v in losses.items()},
        device=raw["device"],
        trajectory_bound=bound_for(dtype, "trajectory"),
    )


def format_report(result: DistributedResult) -> str:
    """The human-readable table."""
    p, spec = result.plan, result.plan.spec
    batch = "full batch" if spec.batch_size is None else f"batch {spec.batch_size}"
    shards = "/".join(map(str, shard_sizes(spec.batch_size or p.n_train, p.world_size)))
    lines = [
        f"network {p.config.describe()} | {dtype_name(p.dtype)} | {p.world_size} processes, "
        f"{p.backend} on {result.device} | {spec.epochs} epochs, lr {p.lr:g}, {batch} (shards {shards}), "
        f"{p.n_train} training samples | init {p.init}, seed {spec.seed}",
        f"{result.steps} steps, {result.uneven_steps} of them on uneven shards (weighted n_r·W/B); gradients checked "
        f"against the whole batch at {result.checked_steps} steps, parameters recorded every {result.recorded_every}",
        "",
        f"  {'comparison':<22} {'grad |diff|':>11} {'loss |diff|':>11} {'param |diff|':>12}  bitwise  verdict",
    ]
    for name, pair in result.pairs.items():
        j = pair.to_json()
        param = "-" if j["max_param_diff"] is None else f"{j['max_param_diff']:.3g}"
        lines.append(
            f"  {name:<22} {j['max_grad_diff']:>11.3g} {j['max_loss_diff']:>11.3g} {param:>12}  "
            f"{'yes' if pair.bitwise else 'no':<7}  {'within' if pair.within else 'OUTSIDE'}"
        )
    every = (
        "yes" if result.manual_ddp_bitwise_every_step else f"no (first difference at step {result.first_difference})"
    )
    d = result.drift
    worst_ratio = max(max(p.max_ratio for p in (*pair.gradients, pair.loss)) for pair in result.pairs.values())
    lines += [
        f"  bounds: gradients and losses at the same parameters per element (|diff|/bound up to {worst_ratio:.3g}); "
        f"manual vs DDP along the run {result.trajectory_bound:.3g} x max(|reference|, 1)",
        f"  manual vs DDP bitwise at every step: {every}",
        f"  replicas agree (every process ends with the same parameters): {'yes' if result.replicas_agree else 'NO'}",
        f"  single process on the whole batch, trained alongside (no verdict: reordered sums, amplified by training): "
        f"parameters up to {d['max_param_diff']:.3g} apart (step {d['at_step']}), {d['final_param_diff']:.3g} at the end",
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
