"""Losses as forward/backward pairs, written in plain tensor ops (no autograd).

``L, cache = <loss>_forward(y_hat, y)`` returns the scalar loss averaged over the batch;
``dy_hat = <loss>_backward(dout, cache)`` returns ∂L_total/∂y_hat with y_hat's shape, where
``dout = ∂L_total/∂L`` (1 when the loss is the network's objective), like every other pair. Each
loss names the output activation it expects in front of it: sigmoid for MSE and BCE, none for
softmax cross-entropy, whose softmax lives inside the loss.

Shapes: ``N`` samples, ``K`` outputs (``K = 1`` for MSE and BCE on binary labels, ``K`` classes for
cross-entropy). As in :mod:`.layers`, where algebraically equal forms round differently the line
uses the form of PyTorch's backward kernel (and its BCE floor constant).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import torch
from torch import Tensor

__all__ = [
    "LOSSES",
    "Loss",
    "LossCache",
    "SoftmaxCECache",
    "bce_backward",
    "bce_forward",
    "mse_backward",
    "mse_forward",
    "softmax_ce_backward",
    "softmax_ce_forward",
]

BCE_EPSILON = 9.999999960041972e-13
"""Floor on ``y_hat(1 - y_hat)`` in BCE's backward: torch's constant, ``1e-12`` rounded to float32."""


class LossCache(NamedTuple):
    """What MSE's and BCE's backward need from their forward."""

    y_hat: Tensor  # (N, K) the network's outputs (probabilities)
    y: Tensor  # (N, K) float targets


class SoftmaxCECache(NamedTuple):
    """What softmax cross-entropy's backward needs from its forward."""

    p: Tensor  # (N, K) softmax probabilities of the logits
    labels: Tensor  # (N,) int64 class labels


def mse_forward(y_hat: Tensor, y: Tensor) -> tuple[Tensor, LossCache]:
    """Mean squared error ``L = (1/M) Σ (y_hat - y)²`` over all ``M = N·K`` entries.

    Args:
        y_hat: (N, K) predictions.
        y: (N, K) float targets.
    """
    L = (y_hat - y).square().mean()  # ()
    return L, LossCache(y_hat=y_hat, y=y)


def mse_backward(dout: Tensor | float, cache: LossCache) -> Tensor:
    """``∂L/∂y_hat = 2 (y_hat - y) / M``, times ``dout``."""
    y_hat, y = cache.y_hat, cache.y
    m = y_hat.numel()
    return 2.0 / m * (y_hat - y) * dout  # (N, K)  ∂L/∂y_hat = 2(y_hat - y)/M


def bce_forward(y_hat: Tensor, y: Tensor) -> tuple[Tensor, LossCache]:
    """Binary cross-entropy ``L = -(1/M) Σ [y log y_hat + (1 - y) log(1 - y_hat)]``.

    ``y_hat`` is a probability (the output of a sigmoid). As in torch, each log is clamped at -100
    so that a saturated output gives a large finite loss rather than infinity.

    Args:
        y_hat: (N, K) probabilities in [0, 1].
        y: (N, K) float targets in [0, 1].
    """
    log_p = torch.clamp_min(torch.log(y_hat), -100)  # (N, K)
    log_1mp = torch.clamp_min(torch.log(1 - y_hat), -100)  # (N, K)
    L = -(y * log_p + (1 - y) * log_1mp).mean()  # ()
    return L, LossCache(y_hat=y_hat, y=y)


def bce_backward(dout: Tensor | float, cache: LossCache) -> Tensor:
    """``∂L/∂y_hat = (y_hat - y) / (y_hat(1 - y_hat)) / M``, times ``dout``.

    Followed by the sigmoid's ``∂y_hat/∂a = y_hat(1 - y_hat)``, the two factors cancel and
    ``∂L/∂a = (y_hat - y)/M``: the reason BCE and sigmoid belong together. The denominator is
    floored at :data:`BCE_EPSILON`, as in torch, so that a saturated output gives a finite gradient.
    """
    y_hat, y = cache.y_hat, cache.y
    m = y_hat.numel()
    local = torch.clamp_min((1 - y_hat) * y_hat, BCE_EPSILON)  # (N, K) y_hat(1 - y_hat), floored
    return dout * (y_hat - y) / local / m  # (N, K)  ∂L/∂y_hat = (y_hat - y)/(y_hat(1 - y_hat))/M


def softmax_ce_forward(logits: Tensor, labels: Tensor) -> tuple[Tensor, SoftmaxCECache]:
    """Softmax cross-entropy ``L = -(1/N) Σ_n log softmax(a_n)[y_n]``.

    Args:
        logits: (N, K) pre-activations of the output layer.
        labels: (N,) class indices in ``[0, K)`` (int64).

    The softmax is taken in log space (``log_softmax``), which subtracts the row's maximum and so
    never overflows.
    """
    log_p = torch.log_softmax(logits, dim=1)  # (N, K)
    L = -log_p.gather(1, labels[:, None]).sum() / logits.shape[0]  # ()
    return L, SoftmaxCECache(p=log_p.exp(), labels=labels)


def softmax_ce_backward(dout: Tensor | float, cache: SoftmaxCECache) -> Tensor:
    """``∂L/∂a = (softmax(a) - one_hot(y)) / N``, times ``dout``: predicted minus true probabilities.

    Through ``log_p = log_softmax(a)``, whose local derivative is ``∂log_p_j/∂a_k = [j = k] - p_k``::

        ∂L/∂log_p_j = -[j = y]/N                  (one entry per row)
        ∂L/∂a_k     = Σ_j ∂L/∂log_p_j ([j = k] - p_k) = ∂L/∂log_p_k - p_k · ∂L/∂log_p_y

    so no one-hot matrix is needed: ``-p·∂L/∂log_p_y`` everywhere, plus ``∂L/∂log_p_y`` at the label.
    """
    p, labels = cache.p, cache.labels
    n = p.shape[0]
    dlog_p_y = -dout / n  # ∂L/∂log_p at each row's label (0 elsewhere)
    da = p * -dlog_p_y  # (N, K)  -p_k · ∂L/∂log_p_y       (∂log_p_y/∂a_k = -p_k)
    rows = torch.arange(n, device=p.device)
    da[rows, labels] += dlog_p_y  # + ∂L/∂log_p_y at k = y          (∂log_p_y/∂a_y = 1 - p_y)
    return da


class Loss(NamedTuple):
    """A loss's forward/backward pair and the output activation it expects in front of it."""

    forward: Callable[[Tensor, Tensor], tuple[Tensor, Any]]  # (y_hat, y) -> (L, cache)
    backward: Callable[[Any, Any], Tensor]  # (dout, cache) -> dy_hat
    output_activation: str


LOSSES: dict[str, Loss] = {
    "mse": Loss(mse_forward, mse_backward, "sigmoid"),
    "bce": Loss(bce_forward, bce_backward, "sigmoid"),
    "ce": Loss(softmax_ce_forward, softmax_ce_backward, "identity"),
}
"""Losses by name; :func:`manual_vs_autograd.register_loss` adds more."""
