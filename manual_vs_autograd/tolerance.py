"""How close "the same" has to be, chosen from the dtype.

The manual side runs the same kernels as autograd wherever it can, but not everywhere: the
losses' backward formulas are written differently (``(softmax - one_hot)/N`` against autograd's
``grad - exp(log_softmax)·Σgrad``), and reductions may add in another order. Each such difference is
a rounding error of a few ``eps`` relative to the size of the numbers involved. The tolerances
below are therefore **relative to the largest magnitude in the tensor** (so a gradient entry that
is a cancelling sum near zero is not held to an impossible relative bound), and a multiple of the
dtype's machine epsilon:

* ``GRAD_EPS_MULTIPLE`` = 1000: a sum over N ≤ 1000 samples can gather up to N roundings in the
  worst case (``N·eps``); in practice it stays far below.
* ``TRAJECTORY_EPS_MULTIPLE`` = 1e5 (float64) over a whole training run: each step adds a few
  ULPs and gradient descent can amplify a difference by its Lipschitz factor per step. Measured
  differences on the reference runs are reported beside this bound, see the README.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["Tolerance", "tolerance_for"]

GRAD_EPS_MULTIPLE = 1000.0
TRAJECTORY_EPS_MULTIPLE = 1e5


@dataclass(frozen=True)
class Tolerance:
    """Bounds on ``max|manual - autograd| / max(max|autograd|, 1)``, per dtype."""

    dtype: torch.dtype
    grad: float  # one forward/backward, gradients and loss
    trajectory: float  # loss and every parameter at every step of a training run


def tolerance_for(dtype: torch.dtype) -> Tolerance:
    """The tolerance for comparisons in ``dtype`` (float32 or float64)."""
    eps = torch.finfo(dtype).eps  # float64: 2.2e-16, float32: 1.2e-7
    return Tolerance(dtype, grad=GRAD_EPS_MULTIPLE * eps, trajectory=TRAJECTORY_EPS_MULTIPLE * eps)
