"""The hand-written network: a multi-layer perceptron composed from the layer and loss pairs.

Forward keeps every layer's cache; backward walks the layers from the output to the input, each
step turning ``∂L/∂h_l`` into ``∂L/∂a_l`` (activation backward) and ``∂L/∂a_l`` into
``∂L/∂W_l, ∂L/∂b_l, ∂L/∂h_{l-1}`` (linear backward). The upstream gradient ``∂L/∂a_l`` is computed
once and shared by every weight below it: that reuse is what makes backprop cheap.

No autograd anywhere: parameters are plain tensors with ``requires_grad=False``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from .config import MLPConfig
from .layers import ACTIVATIONS, ActivationCache, LinearCache, linear_backward, linear_forward
from .losses import LOSSES

__all__ = ["MLPCache", "labels_from_output", "loss_and_grads", "mlp_backward", "mlp_forward", "predict", "sgd_step"]


class MLPCache(NamedTuple):
    """Every layer's caches from :func:`mlp_forward`, layer 1 first.

    :func:`mlp_backward` empties the lists as it goes, so that each layer's saved tensors are freed
    as soon as its backward step is done (as autograd frees the tensors a node saved). Run the
    forward pass again to backpropagate a second time.
    """

    linear: list[LinearCache]
    activation: list[ActivationCache]


def mlp_forward(params: dict[str, Tensor], x: Tensor, config: MLPConfig) -> tuple[Tensor, MLPCache]:
    """``h_0 = x``; ``a_l = h_{l-1} W_lᵀ + b_l``; ``h_l = act_l(a_l)``; ``y_hat = h_L``.

    Args:
        params: ``W1, b1, ...`` with the shapes of ``config.param_shapes()``.
        x: (N, sizes[0]) inputs.

    Returns:
        y_hat: (N, sizes[-1]) and the caches for :func:`mlp_backward`.
    """
    h = x  # (N, sizes[0])
    linear_caches, activation_caches = [], []
    for layer in range(1, config.n_layers + 1):
        a, lin_cache = linear_forward(h, params[f"W{layer}"], params[f"b{layer}"])  # (N, sizes[l])
        h, act_cache = ACTIVATIONS[config.layer_activation(layer)].forward(a)  # (N, sizes[l])
        linear_caches.append(lin_cache)
        activation_caches.append(act_cache)
    return h, MLPCache(linear_caches, activation_caches)


def mlp_backward(dy_hat: Tensor, cache: MLPCache, config: MLPConfig) -> dict[str, Tensor]:
    """From ``∂L/∂y_hat`` (N, sizes[-1]) to ``{"dW1": ..., "db1": ..., ...}``, each of its parameter's shape.

    Layer by layer, from the output backwards::

        ∂L/∂a_l      = act_l'(a_l) ⊙ ∂L/∂h_l
        ∂L/∂W_l      = (∂L/∂a_l)ᵀ h_{l-1}
        ∂L/∂b_l      = Σ_n ∂L/∂a_l
        ∂L/∂h_{l-1}  = (∂L/∂a_l) W_l
    """
    return _mlp_backward([dy_hat], cache, config)


def _mlp_backward(holder: list[Tensor], cache: MLPCache, config: MLPConfig) -> dict[str, Tensor]:
    """:func:`mlp_backward`, taking ∂L/∂y_hat out of a one-item list so that no caller keeps it alive."""
    grads: dict[str, Tensor] = {}
    dh = holder.pop()  # (N, sizes[L])
    for layer in range(config.n_layers, 0, -1):
        activation = ACTIVATIONS[config.layer_activation(layer)]
        da = activation.backward(dh, cache.activation.pop())  # (N, sizes[l]); h_l is released
        del dh  # ∂L/∂h is used up: let its memory go now, as autograd's engine does
        lin = linear_backward(da, cache.linear.pop(), need_dx=layer > 1)  # no ∂L/∂x for the data
        del da
        grads[f"dW{layer}"], grads[f"db{layer}"] = lin.dW, lin.db
        dh = lin.dx  # (N, sizes[l-1]), the upstream gradient for the layer below (None below layer 1)
        del lin
    return {f"d{name}": grads[f"d{name}"] for name in config.param_shapes()}  # dW1, db1, dW2, ... in order


def loss_and_grads(
    params: dict[str, Tensor], x: Tensor, y: Tensor, config: MLPConfig
) -> tuple[Tensor, dict[str, Tensor]]:
    """The batch loss and every gradient ``{"dW1": ..., "db1": ...}``: one forward, one backward.

    Args:
        x: (N, sizes[0]) inputs.
        y: targets: (N, 1) floats for MSE and BCE, (N,) int64 class labels for cross-entropy.
    """
    loss = LOSSES[config.loss]
    y_hat, cache = mlp_forward(params, x, config)  # (N, K)
    L, loss_cache = loss.forward(y_hat, y)  # ()
    del y_hat  # the caches hold what backward needs
    # ∂L/∂y_hat (N, K) and the loss cache are handed on in lists that the callee empties, so no
    # frame here keeps them alive: each is freed as soon as it is used up, as autograd frees them.
    pending = [loss_cache]
    del loss_cache
    return L, _mlp_backward([loss.backward(pending.pop())], cache, config)


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
