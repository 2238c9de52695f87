"""The hand-written network: a multi-layer perceptron composed from the layer and loss pairs.

Forward keeps every layer's cache; backward walks the layers from the output to the input, each
step turning ``∂L/∂h_l`` into ``∂L/∂a_l`` (activation backward, then layer normalisation's where
the network has it) and ``∂L/∂a_l`` into ``∂L/∂W_l, ∂L/∂b_l, ∂L/∂h_{l-1}`` (linear backward). The
upstream gradient ``∂L/∂a_l`` is computed once and shared by every weight below it: that reuse is
what makes backprop cheap.

No autograd anywhere: parameters are plain tensors with ``requires_grad=False``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import Tensor

from .config import MLPConfig
from .layers import ACTIVATIONS, LinearCache, linear_backward, linear_forward
from .losses import LOSSES
from .norm import LayerNormCache, layer_norm_backward, layer_norm_forward

__all__ = [
    "MLPCache",
    "labels_from_output",
    "layer_outputs",
    "loss_and_grads",
    "mlp_backward",
    "mlp_forward",
    "predict",
    "sgd_step",
]


class MLPCache(NamedTuple):
    """Every layer's caches from :func:`mlp_forward`, one list per kind, layer 1 first."""

    linear: list[LinearCache]
    norm: list[LayerNormCache | None]  # None for a layer without normalisation
    activation: list[Any]  # the activations' caches (ActivationCache for the built-in ones)


def mlp_forward(params: dict[str, Tensor], x: Tensor, config: MLPConfig) -> tuple[Tensor, MLPCache]:
    """``h_0 = x``; ``a_l = h_{l-1} W_lᵀ + b_l``; ``h_l = act_l(norm(a_l))``; ``y_hat = h_L``.

    ``norm`` is layer normalisation in the hidden layers when ``config.norm == "layer"``, else nothing.

    Args:
        params: ``W1, b1, ...`` with the shapes of ``config.param_shapes()``.
        x: (N, sizes[0]) inputs.

    Returns:
        y_hat: (N, sizes[-1]) and the caches for :func:`mlp_backward`.
    """
    cache = MLPCache(linear=[], norm=[], activation=[])
    return _forward_into(cache, params, x, config), cache


def layer_outputs(params: dict[str, Tensor], x: Tensor, config: MLPConfig) -> list[Tensor]:
    """``[h_1, …, h_L]``: what every layer computes for the inputs ``x`` (N, sizes[0]); ``h_l`` is
    (N, sizes[l]) and ``h_L = y_hat``.

    Nothing new is computed: the forward pass keeps each ``h_{l-1}`` as the input of linear layer
    ``l``, because ``∂L/∂W_l = (∂L/∂a_l)ᵀ h_{l-1}`` needs it.
    """
    y_hat, cache = mlp_forward(params, x, config)
    return [linear.x for linear in cache.linear[1:]] + [y_hat]  # h_1 … h_{L-1}, then h_L


def _forward_into(cache: MLPCache, params: dict[str, Tensor], x: Tensor, config: MLPConfig) -> Tensor:
    """:func:`mlp_forward`, appending every layer's caches to ``cache``; returns y_hat (N, sizes[-1])."""
    h = x  # (N, sizes[0])
    for layer in range(1, config.n_layers + 1):
        a, linear = linear_forward(h, params[f"W{layer}"], params[f"b{layer}"])  # (N, sizes[l])
        norm = None
        if config.normalises(layer):
            a, norm = layer_norm_forward(a)  # (N, sizes[l])
        h, activation = ACTIVATIONS[config.layer_activation(layer)].forward(a)  # (N, sizes[l])
        cache.linear.append(linear)
        cache.norm.append(norm)
        cache.activation.append(activation)
    return h


def mlp_backward(dy_hat: Tensor, cache: MLPCache, config: MLPConfig) -> dict[str, Tensor]:
    """From ``∂L/∂y_hat`` (N, sizes[-1]) to ``{"dW1": ..., "db1": ..., ...}``, each of its parameter's shape.

    Layer by layer, from the output backwards::

        ∂L/∂a_l      = act_l'(a_l) ⊙ ∂L/∂h_l      (then back through the normalisation, if any)
        ∂L/∂W_l      = (∂L/∂a_l)ᵀ h_{l-1}
        ∂L/∂b_l      = Σ_n ∂L/∂a_l
        ∂L/∂h_{l-1}  = (∂L/∂a_l) W_l

    ``cache`` is left as it was, so it may be used again.
    """
    own = MLPCache(linear=list(cache.linear), norm=list(cache.norm), activation=list(cache.activation))
    return _backward(dy_hat, own, config)


def _backward(grad: Tensor, cache: MLPCache, config: MLPConfig) -> dict[str, Tensor]:
    """:func:`mlp_backward` from ``grad = ∂L/∂y_hat``, on caches that it owns and uses up.

    One gradient flows down the layers, each step replacing it by the next (``∂L/∂h_l``, then
    ``∂L/∂a_l``, then ``∂L/∂h_{l-1}``), and each saved tensor is taken off its list by the step that
    needs it: both are released as soon as that step is done, as autograd releases them.
    """
    grads: dict[str, Tensor] = {}
    for layer in range(config.n_layers, 0, -1):
        activation = ACTIVATIONS[config.layer_activation(layer)]
        grad = activation.backward(grad, cache.activation.pop())  # (N, sizes[l])  ∂L/∂h_l → ∂L/∂a_l
        norm = cache.norm.pop()
        if norm is not None:
            grad = layer_norm_backward(grad, norm)  # (N, sizes[l])  back through the normalisation
        below = _linear_backward_into(grads, layer, grad, cache.linear.pop())  # ∂L/∂a_l → ∂L/∂h_{l-1}
        if below is None:  # layer 1: nothing flows on into the data, and the loop is done
            break
        grad = below
    return {f"d{name}": grads[f"d{name}"] for name in config.param_shapes()}  # dW1, db1, dW2, ... in order


def _linear_backward_into(grads: dict[str, Tensor], layer: int, da: Tensor, cache: LinearCache) -> Tensor | None:
    """Store ``∂L/∂W_l`` and ``∂L/∂b_l`` in ``grads``; return ``∂L/∂h_{l-1}`` (None below layer 1: the data)."""
    linear = linear_backward(da, cache, need_dx=layer > 1)
    grads[f"dW{layer}"], grads[f"db{layer}"] = linear.dW, linear.db
    return linear.dx  # (N, sizes[l-1])


def loss_and_grads(
    params: dict[str, Tensor], x: Tensor, y: Tensor, config: MLPConfig
) -> tuple[Tensor, dict[str, Tensor]]:
    """The batch loss and every gradient ``{"dW1": ..., "db1": ...}``: one forward, one backward.

    Args:
        x: (N, sizes[0]) inputs.
        y: targets: (N, 1) floats for MSE and BCE, (N,) int64 class labels for cross-entropy.
    """
    loss = LOSSES[config.loss]
    cache = MLPCache(linear=[], norm=[], activation=[])  # made here, for this backward to use up
    L, loss_cache = loss.forward(_forward_into(cache, params, x, config), y)  # () from y_hat (N, K)
    return L, _backward(loss.backward(1.0, loss_cache), cache, config)  # from ∂L/∂y_hat, dout = ∂L/∂L = 1


def sgd_step(params: dict[str, Tensor], grads: dict[str, Tensor], lr: float) -> None:
    """Plain gradient descent, in place: ``p ← p - lr · ∂L/∂p`` (what ``torch.optim.SGD`` does)."""
    for name, p in params.items():
        p.add_(grads[f"d{name}"], alpha=-lr)  # in place, one fused kernel per parameter


def predict(params: dict[str, Tensor], x: Tensor, config: MLPConfig) -> Tensor:
    """Class labels (N,) int64 of the manual network's outputs; see :func:`labels_from_output`."""
    y_hat, _ = mlp_forward(params, x, config)
    return labels_from_output(y_hat)


def labels_from_output(y_hat: Tensor) -> Tensor:
    """``y_hat > 0.5`` for one sigmoid output (N, 1), ``argmax`` over the logits (N, K) otherwise."""
    if y_hat.shape[1] == 1:
        return (y_hat[:, 0] > 0.5).to(torch.int64)
    return y_hat.argmax(dim=1)
