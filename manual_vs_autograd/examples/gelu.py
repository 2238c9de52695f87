"""GELU in its tanh form (``F.gelu(a, approximate="tanh")``), as a forward/backward pair.

    u = k·(a + c·a³),  t = tanh(u),  h = ½·a·(1 + t),   k = √(2/π), c = 0.044715
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["GeluCache", "gelu_backward", "gelu_forward", "gelu_reference"]

K = math.sqrt(2 / math.pi)
C = 0.044715


class GeluCache(NamedTuple):
    """What GELU's backward needs."""

    a: Tensor  # (...) the input
    t: Tensor  # (...) tanh(k·(a + c·a³))


def gelu_forward(a: Tensor) -> tuple[Tensor, GeluCache]:
    """``h = ½·a·(1 + tanh(k·(a + c·a³)))``, element-wise."""
    t = torch.tanh(K * (a + C * a**3))  # (...)
    h = 0.5 * a * (1 + t)  # (...)
    return h, GeluCache(a=a, t=t)


def gelu_backward(dh: Tensor, cache: GeluCache) -> Tensor:
    """``∂L/∂a = ∂L/∂h · (½(1 + t) + ½·a·(1 - t²)·k(1 + 3c·a²))``: product rule, then the chain through tanh."""
    a, t = cache.a, cache.t
    dt = 0.5 * a * dh  # (...)  ∂h/∂t = ½a
    du = dt * (1 - t * t)  # (...)  ∂t/∂u = 1 - tanh²(u)
    return dh * 0.5 * (1 + t) + du * K * (1 + 3 * C * a * a)  # ∂h/∂a (direct) = ½(1 + t); ∂u/∂a = k(1 + 3c·a²)


def gelu_reference(a: Tensor) -> Tensor:
    """torch's GELU, tanh form: the reference for :func:`gelu_forward`."""
    return F.gelu(a, approximate="tanh")
