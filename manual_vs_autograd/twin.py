"""The autograd twin: the same network as an ``nn.Module``, trained by ``loss.backward()``.

Line for line it mirrors :mod:`manual_vs_autograd.manual`'s forward, but with torch's own
``nn.Linear``, activations and losses; the backward pass is autograd's. Its parameters are
``linears[l-1].weight`` and ``linears[l-1].bias``, which :meth:`TwinMLP.named_math_parameters`
names ``W{l}`` and ``b{l}``, the manual side's names, in the same layout: they copy both ways
without transposes.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .config import MLPConfig
from .layers import ACTIVATIONS
from .losses import LOSSES

__all__ = ["TwinMLP"]


class TwinMLP(nn.Module):
    """``nn.Linear`` layers with torch activations; loss from ``torch.nn.functional``."""

    def __init__(self, config: MLPConfig, params: dict[str, Tensor]):
        """Build the twin with a copy of ``params`` (``W1, b1, ...``), on their device and dtype."""
        super().__init__()
        self.config = config
        first = params["W1"]
        self.linears = nn.ModuleList(
            nn.Linear(fan_in, fan_out, dtype=first.dtype, device=first.device)
            for fan_in, fan_out in zip(config.sizes[:-1], config.sizes[1:])
        )
        self.load_math_parameters(params)

    def forward(self, x: Tensor) -> Tensor:
        """``y_hat`` (N, sizes[-1]) from x (N, sizes[0])."""
        h = x
        for layer, linear in enumerate(self.linears, start=1):
            a = linear(h)  # (N, sizes[l])
            h = ACTIVATIONS[self.config.layer_activation(layer)].torch_fn(a)  # (N, sizes[l])
        return h

    def loss(self, x: Tensor, y: Tensor) -> Tensor:
        """The batch loss: ``F.mse_loss``, ``F.binary_cross_entropy`` or ``F.cross_entropy``."""
        return LOSSES[self.config.loss].torch_fn(self(x), y)

    def named_math_parameters(self) -> dict[str, nn.Parameter]:
        """``{"W1": linears[0].weight, "b1": linears[0].bias, ...}`` (the live parameters)."""
        named: dict[str, nn.Parameter] = {}
        for layer, linear in enumerate(self.linears, start=1):
            named[f"W{layer}"] = linear.weight
            named[f"b{layer}"] = linear.bias
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
        return {f"d{name}": p.grad.detach().clone() for name, p in self.named_math_parameters().items()}
