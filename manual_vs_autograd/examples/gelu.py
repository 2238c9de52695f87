"""GELU in its tanh form (``F.gelu(a, approximate="tanh")``), as a forward/backward pair.

    u = k·(a + c·a³),  t = tanh(u),  h = ½·a·(1 + t),   k = √(2/π), c = 0.044715

For ``a`` below about -3, ``t`` is close to -1 and ``1 + t`` keeps only a few of its digits, so two
algebraically equal orders of the backward's terms differ by far more than a few roundings of the
result; the backward below groups its terms as torch's own kernel does, so that both sides cancel alike.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["GeluCache", "gelu_backward", "gelu_forward", "gelu_reference"]

K = math.sqrt(2) * (2 / math.sqrt(math.pi)) * 0.5  # √(2/π), as torch's kernel forms it
C = 0.044715


class GeluCache(NamedTuple):
    """What GELU's backward needs."""

    a: Tensor  # (...) the input
    t: Tensor  # (...) tanh(k·(a + c·a³))


def gelu_forward(a: Tensor) -> tuple[Tensor, GeluCache]:
    """``h = ½·a·(1 + tanh(k·(a + c·a³)))``, element-wise."""
    t = torch.tanh(K * (a + C * (a * a * a)))  # (...)
    h = 0.5 * a * (1 + t)  # (...)
    return h, GeluCache(a=a, t=t)


def gelu_backward(dh: Tensor, cache: GeluCache) -> Tensor:
    """``∂L/∂a = ∂L/∂h · (½(1 + t) + ½·a·(1 - t²)·k(1 + 3c·a²))``: product rule, then the chain through tanh."""
    a, t = cache.a, cache.t
    direct = 0.5 * (1 + t)  # (...)  ∂h/∂a with t held fixed: ½(1 + t)
    through_t = 0.5 * a * (1 - t * t) * (K * (1 + 3 * C * (a * a)))  # ∂h/∂t = ½a, ∂t/∂u = 1 - t², ∂u/∂a = k(1 + 3c·a²)
    return dh * (direct + through_t)  # (...)


def gelu_reference(a: Tensor) -> Tensor:
    """torch's GELU, tanh form: the reference for :func:`gelu_forward`."""
    return F.gelu(a, approximate="tanh")
