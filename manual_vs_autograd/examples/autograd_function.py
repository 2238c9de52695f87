"""A ``torch.autograd.Function`` with a hand-written backward, checked against its own forward.

Wrap it with :func:`~manual_vs_autograd.autograd_function_pair`; the reference is the Function's own
``forward`` run as plain torch ops, which autograd differentiates::

    forward, backward, reference = autograd_function_pair(SoftplusFunction)
    assert_layer_matches(forward, backward, reference, x)
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

__all__ = ["SoftplusFunction"]


class SoftplusFunction(torch.autograd.Function):
    """``h = log(1 + exp(a))`` with the backward written by hand."""

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        ctx.save_for_backward(a)
        return torch.clamp_min(a, 0) + torch.log1p(torch.exp(-a.abs()))

    @staticmethod
    def backward(ctx: Any, dh: Tensor) -> Tensor:
        (a,) = ctx.saved_tensors
        return dh * torch.sigmoid(a)  # ∂h/∂a = σ(a)
