"""The third witness: central finite differences, in float64.

``numerical_backward`` has the signature of a backward pass: given a forward function, its inputs
and ``dout = ∂L/∂out``, it estimates ``∂L/∂input`` for each input as

    ∂L/∂x_i ≈ Σ (f(x + h·e_i) - f(x - h·e_i)) ⊙ dout / (2h)

whose error is O(h²) from truncation plus O(eps/h) from rounding; h = 1e-6 balances the two for
float64 (error around 1e-10 relative to the function's scale).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

__all__ = ["numerical_backward"]


def numerical_backward(
    forward: Callable[..., Tensor], inputs: Sequence[Tensor], dout: Tensor | float = 1.0, h: float = 1e-6
) -> tuple[Tensor | None, ...]:
    """Estimate ``∂L/∂input`` for every floating-point input of ``forward``, given ``dout``.

    ``forward(*inputs)`` returns a tensor ``out``; ``L`` is taken as ``Σ out ⊙ dout``. The estimate is
    made on float64 copies of the inputs (and of ``dout``): the caller's tensors are never touched,
    whatever their dtype, layout (non-contiguous views are fine) or ``requires_grad``. Returns one
    float64 tensor of the input's shape per floating-point input, ``None`` for the others (integer
    inputs such as class labels take no gradient); ``forward`` is called without autograd.
    """
    copies = [x.detach().to(torch.float64, copy=True).contiguous() if x.is_floating_point() else x for x in inputs]
    d64 = dout.detach().to(torch.float64) if isinstance(dout, Tensor) else dout
    grads: list[Tensor | None] = []
    with torch.no_grad():
        for x in copies:
            if not x.is_floating_point():
                grads.append(None)
                continue
            grad = torch.zeros_like(x)
            flat, gflat = x.view(-1), grad.view(-1)
            for i in range(flat.numel()):
                old = flat[i].item()
                flat[i] = old + h
                plus = (forward(*copies) * d64).sum()
                flat[i] = old - h
                minus = (forward(*copies) * d64).sum()
                flat[i] = old
                gflat[i] = (plus - minus) / (2 * h)
            grads.append(grad)
    return tuple(grads)
