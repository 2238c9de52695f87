"""The third witness: central finite differences, in float64.

``numerical_backward`` has the signature of a backward pass: given a forward function, its inputs
and ``dout = ∂L/∂out``, it estimates ``∂L/∂input`` for each input as

    ∂L/∂x_i ≈ Σ (f(x + h·e_i) - f(x - h·e_i)) ⊙ dout / (2h)

whose error is O(h²) from truncation plus O(eps/h) from rounding; h = 1e-6 balances the two for
float64 (error around 1e-10 relative to the function's scale).
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import Tensor

__all__ = ["numerical_backward"]


def numerical_backward(
    forward: Callable[..., Tensor], inputs: Sequence[Tensor], dout: Tensor | float = 1.0, h: float = 1e-6
) -> tuple[Tensor, ...]:
    """Estimate ``∂L/∂input`` for every input of ``forward`` given ``dout``; float64 inputs only.

    ``forward(*inputs)`` returns a tensor ``out``; ``L`` is taken as ``Σ out ⊙ dout``. Inputs are
    perturbed in place, one element at a time, and restored.
    """
    grads = []
    for x in inputs:
        if x.dtype != torch.float64:
            raise TypeError(f"finite differences need float64 inputs, got {x.dtype}")
        grad = torch.zeros_like(x)
        flat, gflat = x.view(-1), grad.view(-1)
        for i in range(flat.numel()):
            old = flat[i].item()
            flat[i] = old + h
            plus = (forward(*inputs) * dout).sum()
            flat[i] = old - h
            minus = (forward(*inputs) * dout).sum()
            flat[i] = old
            gflat[i] = (plus - minus) / (2 * h)
        grads.append(grad)
    return tuple(grads)
