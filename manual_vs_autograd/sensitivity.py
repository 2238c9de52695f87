"""How much a training run amplifies rounding: an autograd run from a start one ULP away.

Beside the two compared sides, a third network (an autograd twin) starts from every parameter moved
by one ULP (``nextafter`` towards +inf) and trains on the same batches. Its distance from the
autograd side, ``d_t = max |p_perturbed - p_autograd|`` over every parameter, measures the run's own
sensitivity: a run that does not amplify keeps ``d_t`` near one ULP; a chaotic one grows it by a
factor ``G`` per step. The **horizon** is the first step where ``d_t`` passes the trajectory bound
``D_t`` of :class:`.streaming.TrajectoryParity`: from there on, two correct implementations that are
not bitwise equal are expected to part.

``G`` is the geometric mean growth per step over the ``window`` steps up to the horizon (or over
the whole run when there is none). To bound the cost on long runs the perturbed run stops
:data:`AFTER_HORIZON` steps after the horizon, or after :data:`MAX_STEPS` steps, or when it has used
the first 10% of the run's steps (by default, :mod:`.check_schedule`), whichever comes first; the report says how many
steps it covered and why it stopped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from .config import MLPConfig
from .flat import FlatParams
from .streaming import finite_or_none
from .twin import TwinMLP

__all__ = ["AFTER_HORIZON", "MAX_STEPS", "Sensitivity"]

MAX_STEPS = 20_000
AFTER_HORIZON = 300
WINDOW = 25


@dataclass
class Sensitivity:
    """The perturbed run and its distance from the autograd side, step by step."""

    twin: TwinMLP
    optimizer: torch.optim.Optimizer
    flat: FlatParams  # the perturbed twin's parameters, in the autograd side's layout
    distance: list[float] = field(default_factory=list)  # d_t, t = 0, 1, ...
    bound: list[float] = field(default_factory=list)  # D_t of the tensor where d_t/D_t is largest
    horizon: int | None = None
    stopped_at: int | None = None
    reason: str | None = None

    @classmethod
    def start(
        cls,
        config: MLPConfig,
        params: dict[str, Tensor],
        lr: float,
        make_optimizer: Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer] | None = None,
    ) -> Sensitivity:
        """The perturbed run, trained by ``make_optimizer(parameters)`` (default ``torch.optim.SGD`` at ``lr``)."""
        nudged = {n: torch.nextafter(p, torch.full_like(p, math.inf)) for n, p in params.items()}
        twin = TwinMLP(config, nudged)
        flat = FlatParams.adopt(twin.named_math_parameters())
        optimizer = make_optimizer(twin.parameters()) if make_optimizer else torch.optim.SGD(twin.parameters(), lr=lr)
        sens = cls(twin, optimizer, flat)
        sens.distance.append(max(float((nudged[n] - p).abs().max().item()) for n, p in params.items()))
        sens.bound.append(0.0)
        return sens

    @property
    def active(self) -> bool:
        return self.stopped_at is None

    def step(self, step: int, xb: Tensor, yb: Tensor, autograd: FlatParams, allowed: dict[str, float]) -> None:
        """One optimizer step of the perturbed run; compare with the autograd side's parameters after ``step``."""
        try:
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.twin.loss(xb, yb)
            loss.backward()
            self.optimizer.step()
        except Exception as err:  # noqa: BLE001  the perturbed run blew up: it has parted for good
            self._stop(step, f"the perturbed run raised {type(err).__name__} at step {step}")
            return
        names = list(autograd.shapes)
        dists = self.flat.max_abs_diff(autograd)
        worst_ratio, d, D = -1.0, 0.0, 0.0
        for name, dist in zip(names, dists):
            if math.isnan(dist):
                dist = math.inf
            ratio = dist / allowed[name] if allowed[name] > 0 else (math.inf if dist > 0 else 0.0)
            if ratio > worst_ratio:
                worst_ratio, D = ratio, allowed[name]
            d = max(d, dist)
        self.distance.append(d)
        self.bound.append(D)
        if self.horizon is None and worst_ratio > 1:
            self.horizon = step
        if self.horizon is not None and step >= self.horizon + AFTER_HORIZON:
            self._stop(step, f"stopped {AFTER_HORIZON} steps after the horizon")
        elif step >= MAX_STEPS:
            self._stop(step, f"stopped after {MAX_STEPS} steps (cap on long runs)")

    def out_of_time(self, step: int, follow: float) -> None:
        """Stop after ``step``: the run's check schedule lets the perturbed run follow its first ``follow`` of the steps."""
        steps = f"{step} step{'' if step == 1 else 's'}"
        self._stop(step, f"stopped after {steps}: it follows the first {100 * follow:.3g}% of the run's steps")

    def _stop(self, step: int, reason: str) -> None:
        self.stopped_at, self.reason = step, reason
        self.twin = None  # type: ignore[assignment]  # free the third network
        self.optimizer = None  # type: ignore[assignment]
        self.flat = None  # type: ignore[assignment]

    def growth(self) -> tuple[float | None, int, int]:
        """``(G, first, last)``: mean growth factor per step over the steps ``first..last``."""
        d = self.distance
        last = self.horizon if self.horizon is not None else len(d) - 1
        first = max(0, last - WINDOW)
        while first < last and not (d[first] > 0 and math.isfinite(d[first])):
            first += 1
        if last <= first or not (math.isfinite(d[last]) and d[last] > 0):
            return None, first, last
        return (d[last] / d[first]) ** (1.0 / (last - first)), first, last

    def to_json(self) -> dict[str, Any]:
        G, first, last = self.growth()
        covered = len(self.distance) - 1
        if covered < 2:  # one step shows no growth: say so rather than report a horizon-free run
            G = None
        return {
            "growth_per_step": finite_or_none(G),
            "growth_window": [first, last],
            "horizon_step": self.horizon,
            "horizon_reason": None
            if self.horizon is not None
            else (
                f"a 1-ULP perturbation stayed within the trajectory bound for all {covered} steps followed"
                if covered >= 2
                else f"not measured: the perturbed run followed {covered} step{'' if covered == 1 else 's'}"
            ),
            "start_distance": finite_or_none(self.distance[0]),
            "final_distance": finite_or_none(self.distance[-1]),
            "steps_followed": covered,
            "note": self.reason,
        }
