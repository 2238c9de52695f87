"""The autograd twin: the same network as an ``nn.Module``, trained by ``loss.backward()``.

Line for line it mirrors :mod:`manual_vs_autograd.manual`'s forward, but with torch's own
``nn.Linear``, ``nn.LayerNorm``, activations and losses (the tables below, by the same names as the
manual side's); the backward pass is autograd's. Its parameters are
``linears[l-1].weight`` and ``linears[l-1].bias``, which :meth:`TwinMLP.named_math_parameters`
names ``W{l}`` and ``b{l}``, the manual side's names, in the same layout: they copy both ways
without transposes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor, nn

if TYPE_CHECKING:
    from .config import MLPConfig

__all__ = ["TORCH_ACTIVATIONS", "TORCH_LOSSES", "TwinMLP"]


def _identity(a: Tensor) -> Tensor:
    return a


TORCH_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "identity": _identity,
}
"""The twin's activation for each name of :data:`manual_vs_autograd.layers.ACTIVATIONS`."""

TORCH_LOSSES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "mse": F.mse_loss,
    "bce": F.binary_cross_entropy,
    "ce": F.cross_entropy,
}
"""The twin's loss for each name of :data:`manual_vs_autograd.losses.LOSSES`."""


class TwinMLP(nn.Module):
    """``nn.Linear`` layers (each followed by ``nn.LayerNorm`` in hidden layers with ``norm="layer"``) and torch activations."""

    def __init__(self, config: MLPConfig, params: dict[str, Tensor]):
        """Build the twin with a copy of ``params`` (``W1, b1, ...``), on their device and dtype."""
        super().__init__()
        self.config = config
        first = params["W1"]
        self.linears = nn.ModuleList(
            nn.Linear(fan_in, fan_out, dtype=first.dtype, device=first.device)
            for fan_in, fan_out in zip(config.sizes[:-1], config.sizes[1:])
        )
        self.norms = nn.ModuleList(
            nn.LayerNorm(fan_out, elementwise_affine=False) if config.normalises(layer) else nn.Identity()
            for layer, fan_out in enumerate(config.sizes[1:], start=1)
        )
        self.load_math_parameters(params)

    def forward(self, x: Tensor) -> Tensor:
        """``y_hat`` (N, sizes[-1]) from x (N, sizes[0])."""
        h = x
        for layer, (linear, norm) in enumerate(zip(self.linears, self.norms), start=1):
            a = norm(linear(h))  # (N, sizes[l])
            h = TORCH_ACTIVATIONS[self.config.layer_activation(layer)](a)  # (N, sizes[l])
        return h

    def loss(self, x: Tensor, y: Tensor) -> Tensor:
        """The batch loss: ``F.mse_loss``, ``F.binary_cross_entropy`` or ``F.cross_entropy``."""
        return TORCH_LOSSES[self.config.loss](self(x), y)

    def named_math_parameters(self) -> dict[str, nn.Parameter]:
        """``{"W1": linears[0].weight, "b1": linears[0].bias, ...}`` (the live parameters)."""
        named: dict[str, nn.Parameter] = {}
        for layer, linear in enumerate(self.linears, start=1):
            weight, bias = linear.weight, linear.bias
            # ModuleList types its items as Module; each is an nn.Linear built with bias=True.
            assert isinstance(weight, nn.Parameter) and isinstance(bias, nn.Parameter), "nn.Linear with a bias"
            named[f"W{layer}"] = weight
            named[f"b{layer}"] = bias
        return named

    @torch.no_grad()
    def load_math_parameters(self, params: dict[str, Tensor]) -> None:
        """Copy ``W1, b1, ...`` into the module's parameters."""
        for name, p in self.named_math_parameters().items():
            p.copy_(params[name])

    @torch.no_grad()
    def math_parameters(self) -> dict[str, Tensor]:
        """Detached copies of ``W1, b1, ...``."""
        return {name: p.detach().clone() for name, p in self.named_math_parameters().items()}

    def math_gradients(self) -> dict[str, Tensor]:
        """``{"dW1": W1.grad, ...}`` after ``loss.backward()``, copied."""
        grads: dict[str, Tensor] = {}
        for name, p in self.named_math_parameters().items():
            assert p.grad is not None, f"{name} has no gradient: call loss.backward() first"
            grads[f"d{name}"] = p.grad.detach().clone()
        return grads
