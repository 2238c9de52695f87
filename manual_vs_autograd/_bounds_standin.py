"""STAND-IN for ``bounds.layer_grad_bounds`` of the verdict branch, same signature and model: delete at merge.

:mod:`.layer_check` imports ``layer_grad_bounds`` from here until ``bounds.py`` is merged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

__all__ = ["layer_grad_bounds"]


def layer_grad_bounds(
    reference_fn: Callable[..., Tensor],
    inputs: Sequence[Tensor],
    dout: Tensor,
    *,
    dtype: torch.dtype | None = None,
    needs_grad: Sequence[bool] | None = None,
    samples: int = 8,
    seed: int = 0,
) -> tuple[Tensor | None, ...]:
    """STAND-IN for ``bounds.layer_grad_bounds`` (the verdict issue's branch), same signature and model; replace at merge.

    A correct backward in precision ``u`` is the exact backward of inputs and ``dout`` perturbed
    relatively by at most ``n·u`` (``n`` the longest sum it forms: the largest dimension of any input
    or of ``dout``). ``R``, the float64 reference gradient's largest change per unit relative
    perturbation over ``samples`` random sign patterns, turns that into ``bound = 4·u·(n·R + |g|)``
    (2 for two sides, 2 because random signs see about half of the absolute response).
    """
    floats = [t.is_floating_point() for t in inputs]
    wanted = list(floats if needs_grad is None else needs_grad)
    u = torch.finfo(dtype or next(t.dtype for t, f in zip(inputs, floats) if f)).eps / 2
    base = [t.detach().to(torch.float64) if f else t for t, f in zip(inputs, floats)]
    d64 = dout.detach().to(torch.float64)

    def grads(xs: list[Tensor], d: Tensor) -> list[Tensor]:
        with torch.enable_grad():
            leaves = [t.clone().requires_grad_(True) if w else t for t, w in zip(xs, wanted)]
            targets = [t for t, w in zip(leaves, wanted) if w]
            got = torch.autograd.grad(reference_fn(*leaves), targets, d, allow_unused=True)
        return [torch.zeros_like(t) if g is None else g for t, g in zip(targets, got)]

    g0 = grads(base, d64)
    n = max([*d64.shape, *(s for t in base for s in t.shape), 1])
    generator = torch.Generator().manual_seed(seed)
    probe = 1e-6  # relative size of the perturbation; the response is divided by it

    def signs(t: Tensor) -> Tensor:
        return (torch.randint(0, 2, t.shape, generator=generator) * 2 - 1).to(torch.float64).to(t.device)

    R = [torch.zeros_like(g) for g in g0]
    for _ in range(samples):
        xs = [t * (1 + probe * signs(t)) if f else t for t, f in zip(base, floats)]
        moved = grads(xs, d64 * (1 + probe * signs(d64)))
        R = [torch.maximum(r, (p - g).abs() / probe) for r, p, g in zip(R, moved, g0)]
    it = iter(4 * u * (n * r + g.abs()) for r, g in zip(R, g0))
    return tuple(next(it) if w else None for w in wanted)
