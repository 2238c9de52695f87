"""Your own activations and losses inside the network: register a hand-written pair with its torch twin.

A registered name is accepted wherever a built-in one is: :class:`~manual_vs_autograd.MLPConfig`,
:func:`~manual_vs_autograd.run_compare`, :func:`~manual_vs_autograd.train_side_by_side`. The manual
side looks the pair up in :data:`.layers.ACTIVATIONS` (or :data:`.losses.LOSSES`), the twin its torch
function in :data:`.twin.TORCH_ACTIVATIONS` (or :data:`.twin.TORCH_LOSSES`); registering fills both::

    register_activation("softplus", softplus_forward, softplus_backward, torch.nn.functional.softplus)
    config = MLPConfig((2, 16, 1), "softplus", "mse")

Check the pair first with :func:`~manual_vs_autograd.assert_layer_matches`: the network's parity check
then tells you the whole network agrees, not which layer is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import Tensor

from .errors import InputError
from .layers import ACTIVATIONS, Activation
from .losses import LOSSES, Loss
from .twin import TORCH_ACTIVATIONS, TORCH_LOSSES

__all__ = ["register_activation", "register_loss"]


def _check_new(kind: str, name: str, table: dict[str, Any], replace: bool) -> None:
    if not isinstance(name, str) or not name.isidentifier():
        raise InputError(f"{kind} name {name!r} must be a non-empty identifier such as 'softplus'")
    if name in table and not replace:
        raise InputError(f"{kind} {name!r} is already registered; pass replace=True to replace it")


def register_activation(
    name: str,
    forward: Callable[[Tensor], tuple[Tensor, Any]],
    backward: Callable[[Tensor, Any], Tensor],
    torch_fn: Callable[[Tensor], Tensor],
    *,
    replace: bool = False,
) -> None:
    """Make ``name`` an activation of both sides.

    Args:
        forward: ``a -> (h, cache)``, element-wise, plain tensor ops (the manual side).
        backward: ``(dh, cache) -> da``, ``da = ∂L/∂a`` of a's shape.
        torch_fn: ``a -> h`` in torch ops, differentiated by autograd (the twin).
        replace: allow replacing an activation registered before (a built-in one too).
    """
    _check_new("activation", name, ACTIVATIONS, replace)
    ACTIVATIONS[name] = Activation(forward, backward)
    TORCH_ACTIVATIONS[name] = torch_fn


def register_loss(
    name: str,
    forward: Callable[[Tensor, Tensor], tuple[Tensor, Any]],
    backward: Callable[[Any, Any], Tensor],
    torch_fn: Callable[[Tensor, Tensor], Tensor],
    *,
    output_activation: str = "identity",
    replace: bool = False,
) -> None:
    """Make ``name`` a loss of both sides.

    Args:
        forward: ``(y_hat, y) -> (L, cache)``, the batch loss as a 0-d tensor.
        backward: ``(dout, cache) -> dy_hat``, ``dout = ∂L_total/∂L`` (1 for the network).
        torch_fn: ``(y_hat, y) -> L`` in torch ops (the twin).
        output_activation: the registered activation of the output layer, in front of the loss.
        replace: allow replacing a loss registered before.
    """
    _check_new("loss", name, LOSSES, replace)
    if output_activation not in ACTIVATIONS:
        raise InputError(f"unknown output activation {output_activation!r}; expected one of: {', '.join(ACTIVATIONS)}")
    LOSSES[name] = Loss(forward, backward, output_activation)
    TORCH_LOSSES[name] = torch_fn
