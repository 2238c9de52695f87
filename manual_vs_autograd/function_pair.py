"""A ``torch.autograd.Function`` of your own as a pair for :func:`~manual_vs_autograd.check_layer`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

__all__ = ["autograd_function_pair"]


class _PlainContext:
    """Stands in for ``ctx`` when a Function's ``forward`` runs as plain torch ops (the reference)."""

    def save_for_backward(self, *tensors: Tensor) -> None:
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        pass

    def set_materialize_grads(self, value: bool) -> None:
        pass


def autograd_function_pair(
    function: type[torch.autograd.Function],
) -> tuple[Callable[..., tuple[Tensor, Any]], Callable[..., tuple[Tensor | None, ...]], Callable[..., Tensor]]:
    """``(forward, backward, reference)`` for :func:`check_layer` from a ``torch.autograd.Function``.

    ``forward`` runs ``function.apply`` (your forward), ``backward`` asks autograd for the input
    gradients, which calls your ``backward``; ``reference`` runs ``function.forward`` as plain torch
    ops, so autograd differentiates your forward itself. Positional tensor inputs only.
    """

    def forward(*inputs: Tensor) -> tuple[Tensor, Any]:
        with torch.enable_grad():
            leaves = [t.detach().requires_grad_(t.is_floating_point()) for t in inputs]
            out = function.apply(*leaves)
        return out.detach(), (out, leaves)

    def backward(dout: Tensor, cache: Any) -> tuple[Tensor | None, ...]:
        out, leaves = cache
        wanted = [t for t in leaves if t.requires_grad]
        return torch.autograd.grad(out, wanted, dout, retain_graph=True, allow_unused=True)

    def reference(*inputs: Tensor) -> Tensor:
        return function.forward(_PlainContext(), *inputs)

    backward.__name__ = f"{function.__name__}.backward"
    reference.__name__ = f"{function.__name__}.forward"
    return forward, backward, reference
