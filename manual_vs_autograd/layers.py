"""Layers as forward/backward pairs, written in plain tensor ops (no autograd).

Every layer is a pair, in the style of CS231n's ``layers.py``::

    out, cache = <layer>_forward(inputs...)
    grads      = <layer>_backward(dout, cache)     # grads in the order of forward's inputs

``dout`` is ∂L/∂out, the gradient of the loss with respect to the layer's output, and each
returned gradient has the shape of the input it belongs to. Each backward line is the chain rule,
``upstream · local derivative``, with the local derivative in a comment, so the file reads as a
derivation.

Shapes: ``N`` samples in the batch, ``I`` input features, ``O`` output features.

Where two algebraically equal forms round differently, the line uses the form PyTorch's own
backward kernel evaluates (``addmm`` for the linear map, ``dh·(1 - h)·h`` for the sigmoid, ``1 - h²``
as one fused multiply-add for tanh), so that the two sides agree bitwise wherever the kernels allow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import torch
from torch import Tensor

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "ActivationCache",
    "LinearCache",
    "LinearGrads",
    "identity_backward",
    "identity_forward",
    "linear_backward",
    "linear_forward",
    "relu_backward",
    "relu_forward",
    "sigmoid_backward",
    "sigmoid_forward",
    "tanh_backward",
    "tanh_forward",
]


class LinearCache(NamedTuple):
    """What the linear layer's backward needs from its forward."""

    x: Tensor  # (N, I) the layer's input
    W: Tensor  # (O, I) the weights, in nn.Linear's layout


class LinearGrads(NamedTuple):
    """Gradients of the loss with respect to the linear layer's inputs."""

    dx: Tensor | None  # (N, I) ∂L/∂x; None when not asked for (the network's input)
    dW: Tensor  # (O, I) ∂L/∂W
    db: Tensor  # (O,)   ∂L/∂b


def linear_forward(x: Tensor, W: Tensor, b: Tensor) -> tuple[Tensor, LinearCache]:
    """Pre-activation ``a = x Wᵀ + b``, i.e. ``a[n, o] = Σ_i W[o, i]·x[n, i] + b[o]``.

    Args:
        x: (N, I) inputs, one row per sample.
        W: (O, I) weights (row ``o`` feeds output neuron ``o``, as in ``nn.Linear``).
        b: (O,) biases.

    Returns:
        a: (N, O) pre-activations, and the cache for :func:`linear_backward`.
    """
    a = torch.addmm(b, x, W.t())  # (N, O)  b + x Wᵀ
    return a, LinearCache(x=x, W=W)


def linear_backward(da: Tensor, cache: LinearCache, need_dx: bool = True) -> LinearGrads:
    """Gradients of ``a = x Wᵀ + b`` given ``da = ∂L/∂a`` of shape (N, O).

    ``∂L/∂x = da·W``, ``∂L/∂W = daᵀ·x``, ``∂L/∂b = Σ_n da[n]``: each sample's contribution is
    summed, because every sample's pre-activation depends on the same W and b. ``need_dx=False``
    skips ``∂L/∂x`` (a whole matrix product) where nothing needs it: below the first layer there is
    only the data. Autograd skips it too, since the data does not require a gradient.
    """
    dx = da.mm(cache.W) if need_dx else None  # (N, I)  ∂a[n,o]/∂x[n,i] = W[o,i]
    dW = da.t().mm(cache.x)  # (O, I)  ∂a[n,o]/∂W[o,i] = x[n,i]
    db = da.sum(0)  # (O,)  ∂a[n,o]/∂b[o] = 1
    return LinearGrads(dx=dx, dW=dW, db=db)


class ActivationCache(NamedTuple):
    """What an element-wise activation's backward needs: its own output."""

    h: Tensor | None  # (N, O) the activation's output; None where backward needs nothing


def sigmoid_forward(a: Tensor) -> tuple[Tensor, ActivationCache]:
    """``h = σ(a) = 1 / (1 + exp(-a))``, element-wise; a and h are (N, O)."""
    h = torch.sigmoid(a)  # (N, O)
    return h, ActivationCache(h=h)


def sigmoid_backward(dh: Tensor, cache: ActivationCache) -> Tensor:
    """``∂L/∂a = ∂L/∂h · σ(a)(1 - σ(a))``, written with the output ``h = σ(a)``."""
    h = cache.h
    assert h is not None, "sigmoid_forward always stores its output"
    return dh * (1 - h) * h  # (N, O)  ∂h/∂a = h(1 - h)


def tanh_forward(a: Tensor) -> tuple[Tensor, ActivationCache]:
    """``h = tanh(a)``, element-wise; a and h are (N, O)."""
    h = torch.tanh(a)  # (N, O)
    return h, ActivationCache(h=h)


def tanh_backward(dh: Tensor, cache: ActivationCache) -> Tensor:
    """``∂L/∂a = ∂L/∂h · (1 - tanh(a)²)``, written with the output ``h = tanh(a)``."""
    h = cache.h
    assert h is not None, "tanh_forward always stores its output"
    return dh * torch.addcmul(h.new_ones(()), h, h, value=-1)  # (N, O)  ∂h/∂a = 1 - h²


def relu_forward(a: Tensor) -> tuple[Tensor, ActivationCache]:
    """``h = max(a, 0)``, element-wise; a and h are (N, O)."""
    h = torch.relu(a)  # (N, O)
    return h, ActivationCache(h=h)


def relu_backward(dh: Tensor, cache: ActivationCache) -> Tensor:
    """``∂L/∂a = ∂L/∂h`` where ``a > 0``, else 0 (the kink at 0 takes derivative 0, as in torch)."""
    h = cache.h
    assert h is not None, "relu_forward always stores its output"
    return dh * (h > 0)  # (N, O)  ∂h/∂a = 1 if a > 0 else 0 (and a > 0 exactly where h > 0)


def identity_forward(a: Tensor) -> tuple[Tensor, ActivationCache]:
    """``h = a``: the output layer of a softmax classifier passes its logits straight to the loss."""
    return a, ActivationCache(h=None)  # backward needs nothing from the forward


def identity_backward(dh: Tensor, cache: ActivationCache) -> Tensor:
    """``∂L/∂a = ∂L/∂h``."""
    return dh  # ∂h/∂a = 1


class Activation(NamedTuple):
    """An element-wise activation's forward/backward pair."""

    forward: Callable[[Tensor], tuple[Tensor, Any]]  # a -> (h, cache)
    backward: Callable[[Tensor, Any], Tensor]  # (dh, cache) -> da


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation(sigmoid_forward, sigmoid_backward),
    "tanh": Activation(tanh_forward, tanh_backward),
    "relu": Activation(relu_forward, relu_backward),
    "identity": Activation(identity_forward, identity_backward),
}
"""Activations by name; :func:`manual_vs_autograd.register_activation` adds more. Hidden layers may use any but ``identity``."""
