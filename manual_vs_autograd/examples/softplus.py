"""Softplus, ``h = log(1 + exp(a))``: a smooth ReLU whose derivative is the sigmoid."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

__all__ = ["SoftplusCache", "softplus_backward", "softplus_forward"]


class SoftplusCache(NamedTuple):
    """What softplus's backward needs: its input."""

    a: Tensor  # (...) the pre-activation


def softplus_forward(a: Tensor) -> tuple[Tensor, SoftplusCache]:
    """``h = log(1 + exp(a))``, element-wise, written as ``max(a, 0) + log(1 + exp(-|a|))`` so it never overflows."""
    h = torch.clamp_min(a, 0) + torch.log1p(torch.exp(-a.abs()))  # (...)
    return h, SoftplusCache(a=a)


def softplus_backward(dh: Tensor, cache: SoftplusCache) -> Tensor:
    """``∂L/∂a = ∂L/∂h · σ(a)``."""
    return dh * torch.sigmoid(cache.a)  # (...)  ∂h/∂a = exp(a)/(1 + exp(a)) = σ(a)
