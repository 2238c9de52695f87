"""Running summaries of a side-by-side run: memory O(parameters), whatever the number of steps.

* :class:`StepParity` — *step parity*: at each checked step, both sides' gradients (and loss) computed
  from the **same** parameters agree element by element within the bounds of :mod:`.bounds`. While
  the two free runs are still bitwise equal this is the comparison of their own gradients, and when
  those are bitwise equal too it needs no bound at all. Once the runs have parted, the manual
  gradient is recomputed at autograd's parameters (teacher forcing).
* :class:`TrajectoryParity` — *trajectory parity*: the free-running parameters agree within the
  rounding the steps may accumulate without amplification, ``D_t = Σ_{s≤t} (2u·max|p_s| + lr·max bound_s)``
  per tensor (each step adds each side's rounding of the update and the allowed gradient difference).
  ``bound_s`` is the last bound computed, and ``max|p_s|`` the last taken with it (parameters move by
  ``lr·g`` a step; the bounds are refreshed at the checked steps), so that a step's summaries cost one
  difference of the two sides' parameter buffers (:mod:`.flat`), or one comparison while they are bitwise equal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from .flat import FlatParams
from .parity import ParamParity, compare_tensors

__all__ = ["StepParity", "TrajectoryParity", "finite_or_none"]


def finite_or_none(value: float | None) -> float | None:
    """``None`` for NaN and infinities, so that JSON stays strict."""
    return None if value is None or not math.isfinite(value) else value


def _json_fields(obj: object, keys: dict[str, str]) -> dict[str, Any]:
    """``{key: obj.<attribute>}`` for each ``key: attribute`` of ``keys``, floats through :func:`finite_or_none`."""
    values = {key: getattr(obj, attribute) for key, attribute in keys.items()}
    return {key: finite_or_none(v) if isinstance(v, float) else v for key, v in values.items()}


@dataclass
class StepParity:
    """Worst per-element ratio ``|Δ|/bound`` per tensor over the checked steps, and the first bad step."""

    checked: int = 0  # steps whose gradients were compared
    bitwise: int = 0  # ... of which bitwise equal (no bound needed)
    sharp: int = 0  # ... of the others, compared with the sharp (probabilistic) bound, not the worst case alone
    worst: dict[str, ParamParity] = field(default_factory=dict)
    worst_step: dict[str, int] = field(default_factory=dict)
    first_bad_step: int | None = None
    first_bad: tuple[str, ...] = ()  # tensors outside their bounds at that step
    first_bad_rows: tuple[ParamParity, ...] = ()

    @property
    def holds(self) -> bool:
        return self.first_bad_step is None

    @property
    def bounded(self) -> int:
        """Checked steps whose gradients differed, so that their bounds were computed and compared."""
        return self.checked - self.bitwise

    def bitwise_step(self) -> None:
        self.checked += 1
        self.bitwise += 1

    def bounded_step(
        self,
        step: int,
        manual: dict[str, Tensor],
        reference: dict[str, Tensor],
        bounds: dict[str, Tensor],
        *,
        count: bool = True,
    ) -> dict[str, float]:
        """Compare one step's gradients (and ``loss``); returns each tensor's largest bound (for :class:`TrajectoryParity`).

        ``count=False`` adds tensors to a step already counted (the optimizer's update, after its gradients).
        """
        self.checked += count
        bad_rows = []
        for name in reference:
            # the cheap ratio first; the full row (worst element, ULPs) only for a new worst or a bad tensor
            diff = (manual[name].double() - reference[name].double()).abs()
            ratio = torch.where(diff == 0, torch.zeros_like(diff), diff / bounds[name]).nan_to_num(math.inf, math.inf)
            r = float(ratio.max().item()) if ratio.numel() else 0.0
            if r == 0.0 and name not in self.worst:  # bitwise equal: ``worst`` lists the tensors that differed
                continue
            if name in self.worst and r <= self.worst[name].max_ratio and r <= 1.0:
                continue
            row = compare_tensors(name, manual[name], reference[name], bounds[name])
            if name not in self.worst or row.max_ratio > self.worst[name].max_ratio or math.isnan(row.max_ratio):
                self.worst[name], self.worst_step[name] = row, step
            if not row.within:
                bad_rows.append(row)
        bad = tuple(bad_rows)
        if bad and self.first_bad_step is None:
            self.first_bad_step, self.first_bad, self.first_bad_rows = (
                step,
                tuple(r.name for r in bad),
                bad,
            )
        return {name: float(b.max().item()) if b.numel() else 0.0 for name, b in bounds.items()}

    def to_json(self) -> dict[str, Any]:
        head = {
            "holds": "holds",
            "checked_steps": "checked",
            "bitwise_steps": "bitwise",
            "bounded_steps": "bounded",
            "sharp_steps": "sharp",
            "first_bad_step": "first_bad_step",
        }
        return {
            **_json_fields(self, head),
            "first_bad": list(self.first_bad),
            "worst": [
                {
                    "name": name,
                    "step": self.worst_step[name],
                    "ratio": finite_or_none(row.max_ratio),
                    "index": list(row.worst_index),
                    "manual": finite_or_none(row.worst_manual),
                    "reference": finite_or_none(row.worst_reference),
                    "bound": finite_or_none(row.worst_bound),
                    "ulp": row.worst_ulp,
                }
                for name, row in self.worst.items()
            ],
        }


@dataclass
class TrajectoryParity:
    """Per tensor: the largest free-run difference, the accumulated bound ``D_t``, the first step beyond it."""

    u: float
    lr: float
    exact: bool = True  # bitwise equal at every step so far
    max_diff: dict[str, float] = field(default_factory=dict)
    allowed: dict[str, float] = field(default_factory=dict)  # D_t
    last_bound: dict[str, float] = field(default_factory=dict)
    first_outside_step: int | None = None
    first_outside: str | None = None
    max_loss_diff: float = 0.0
    scale: dict[str, float] = field(default_factory=dict)  # max|p| per tensor, as D_t last took it

    @property
    def holds(self) -> bool:
        return self.first_outside_step is None

    def step(
        self,
        step: int,
        manual: FlatParams,
        autograd: FlatParams,
        loss_diff: float,
        bounds: dict[str, float] | None,
    ) -> None:
        """Add step ``step``: both sides' parameters after it (one buffer each, the same layout), the
        difference of their losses, and the bounds' maxima if they were computed at this step."""
        if bounds:
            self.last_bound.update(bounds)
        self.max_loss_diff = max(self.max_loss_diff, loss_diff) if not math.isnan(loss_diff) else math.nan
        names = list(manual.shapes)
        if bounds or not self.scale:  # D_t's scales: refreshed with its bounds
            self.scale = dict(zip(names, autograd.max_abs()))
        on_cpu = autograd.buffer.device.type == "cpu"  # on CUDA the comparison would synchronise
        if self.exact and on_cpu and torch.equal(manual.buffer, autograd.buffer):
            diffs = [0.0] * len(names)  # bitwise equal still: nothing to measure
        else:
            diffs = manual.max_abs_diff(autograd)
        for name, diff in zip(names, diffs):
            allowed = (
                self.allowed.get(name, 0.0)
                + 2 * self.u * self.scale[name]
                + self.lr * self.last_bound.get(f"d{name}", 0.0)
            )
            self.allowed[name] = allowed
            if diff != 0.0:  # NaN included
                self.exact = False
            self.max_diff[name] = max(self.max_diff.get(name, 0.0), diff) if not math.isnan(diff) else math.nan
            if (math.isnan(diff) or diff > allowed) and self.first_outside_step is None:
                self.first_outside_step, self.first_outside = step, name

    @property
    def max_param_diff(self) -> float:
        return max(self.max_diff.values(), default=0.0)

    def to_json(self) -> dict[str, Any]:
        head = ("holds", "exact", "first_outside_step", "first_outside", "max_param_diff", "max_loss_diff")
        return {
            **_json_fields(self, {name: name for name in head}),
            "parameters": [
                {
                    "name": n,
                    "max_diff": finite_or_none(d),
                    "allowed_at_end": finite_or_none(self.allowed.get(n)),
                }
                for n, d in self.max_diff.items()
            ],
        }
