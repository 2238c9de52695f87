"""The parity check that finds the original notebook's bugs: its applied updates against autograd's gradients."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from ..config import MLPConfig
from ..tolerance import tolerance_for
from ..twin import TwinMLP
from .multiclass import NAMES, applied_gradients, cross_entropy
from .names import from_matrices, to_matrices

__all__ = ["MULTICLASS_CONFIG", "NamedGradientCheck", "check_multiclass"]

MULTICLASS_CONFIG = MLPConfig((2, 2, 4), "sigmoid", "ce")


@dataclass(frozen=True)
class NamedGradientCheck:
    """Per lecture name: the applied gradient, autograd's, and whether they agree."""

    applied: dict[str, float]
    autograd: dict[str, float]
    loss_applied_side: float  # the checked network's own loss at these parameters
    loss_autograd: float
    tolerance: float  # absolute: GRAD_EPS_MULTIPLE·eps·max(max|autograd gradient|, 1)

    @property
    def flagged(self) -> tuple[str, ...]:
        """Names whose applied update is not autograd's gradient, in the notebook's order."""
        return tuple(n for n in NAMES if abs(self.applied[n] - self.autograd[n]) > self.tolerance)


def check_multiclass(params: dict[str, float], x: Tensor, labels: Tensor, *, original: bool) -> NamedGradientCheck:
    """Compare the 2-2-4 network's per-parameter update direction with autograd's gradient of the
    correct network (``nn.Linear`` + ``F.cross_entropy``) at the same parameters and data."""
    twin = TwinMLP(MULTICLASS_CONFIG, to_matrices(params, MULTICLASS_CONFIG, x.dtype))
    loss = twin.loss(x, labels)
    loss.backward()
    auto = from_matrices(twin.math_gradients(), MULTICLASS_CONFIG, prefix="d")
    scale = max(1.0, *(abs(v) for v in auto.values()))
    return NamedGradientCheck(
        applied=applied_gradients(params, x, labels, original=original),
        autograd=auto,
        loss_applied_side=cross_entropy(params, x, labels, original=original),
        loss_autograd=loss.item(),
        tolerance=tolerance_for(x.dtype).grad * scale,
    )
