"""The lecture's scalar names (``w1..w12``, ``b1..b6``) and the matrices they sit in.

Weights are numbered row by row through the layers (``W1 = [[w1, w2], [w3, w4]]``,
``W2 = [[w5, w6], ...]``), biases through the layers (``b1 = [b1, b2]``, ``b2 = [b3, ...]``), which is
how the notebook numbers them. With ``nn.Linear``'s ``(out, in)`` layout nothing is transposed.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..config import MLPConfig

__all__ = ["from_matrices", "lecture_names", "to_matrices"]


def lecture_names(config: MLPConfig) -> dict[str, tuple[str, tuple[int, ...]]]:
    """``{"w1": ("W1", (0, 0)), ..., "b1": ("b1", (0,)), ...}`` in the notebook's order."""
    names: dict[str, tuple[str, tuple[int, ...]]] = {}
    shapes = config.param_shapes()
    w = b = 0
    for layer in range(1, config.n_layers + 1):
        rows, cols = shapes[f"W{layer}"]
        for i in range(rows):
            for j in range(cols):
                w += 1
                names[f"w{w}"] = (f"W{layer}", (i, j))
    for layer in range(1, config.n_layers + 1):
        for i in range(shapes[f"b{layer}"][0]):
            b += 1
            names[f"b{b}"] = (f"b{layer}", (i,))
    return names


def to_matrices(named: dict[str, float], config: MLPConfig, dtype: torch.dtype = torch.float64) -> dict[str, Tensor]:
    """Scalars by lecture name -> ``{"W1": ..., "b1": ...}``."""
    params = {name: torch.zeros(shape, dtype=dtype) for name, shape in config.param_shapes().items()}
    for scalar, (matrix, index) in lecture_names(config).items():
        params[matrix][index] = named[scalar]
    return params


def from_matrices(params: dict[str, Tensor], config: MLPConfig, prefix: str = "") -> dict[str, float]:
    """``{"W1": ..., ...}`` (or ``{"dW1": ...}`` with ``prefix="d"``) -> scalars by lecture name."""
    return {scalar: params[prefix + matrix][index].item() for scalar, (matrix, index) in lecture_names(config).items()}
