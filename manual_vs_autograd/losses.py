"""Losses as forward/backward pairs, written in plain tensor ops (no autograd).

``L, cache = <loss>_forward(y_hat, y)`` returns the scalar loss averaged over the batch;
``dy_hat = <loss>_backward(cache)`` returns ∂L/∂y_hat with y_hat's shape. Each loss names the
output activation it expects in front of it (sigmoid for MSE and BCE, none for softmax
cross-entropy, whose softmax lives inside the loss) and the ``torch.nn.functional`` loss that the
autograd twin uses.

Shapes: ``N`` samples, ``K`` outputs (``K = 1`` for MSE and BCE on binary labels, ``K`` classes for
cross-entropy).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "LOSSES",
    "LossCache",
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
    """What a loss's backward needs from its forward."""

    y_hat: Tensor  # (N, K) network outputs: probabilities (MSE, BCE) or softmax probabilities (CE)
    y: Tensor  # (N, K) float targets (MSE, BCE) or (N,) class labels (CE)


def mse_forward(y_hat: Tensor, y: Tensor) -> tuple[Tensor, LossCache]:
    """Mean squared error ``L = (1/(N·K)) Σ (y_hat - y)²``.

    Args:
        y_hat: (N, K) predictions.
        y: (N, K) float targets.
    """
    L = (y_hat - y).square_().mean()  # ()
    return L, LossCache(y_hat, y)


def mse_backward(cache: LossCache) -> Tensor:
    """``∂L/∂y_hat = 2 (y_hat - y) / (N·K)``."""
    y_hat, y = cache
    return (y_hat - y).mul_(2.0 / y_hat.numel())  # (N, K)  ∂(y_hat - y)²/∂y_hat = 2(y_hat - y)


def bce_forward(y_hat: Tensor, y: Tensor) -> tuple[Tensor, LossCache]:
    """Binary cross-entropy ``L = -(1/N) Σ [y log y_hat + (1 - y) log(1 - y_hat)]``.

    ``y_hat`` is a probability (the output of a sigmoid). As in torch, each log is clamped at -100
    so that a saturated output gives a large finite loss rather than infinity.

    Args:
        y_hat: (N, K) probabilities in [0, 1].
        y: (N, K) float targets in [0, 1].
    """
    log_p = torch.clamp_min(torch.log(y_hat), -100)  # (N, K)
    log_1mp = torch.clamp_min(torch.log(1 - y_hat), -100)  # (N, K)
    L = -(y * log_p + (1 - y) * log_1mp).mean()  # ()
    return L, LossCache(y_hat, y)


def bce_backward(cache: LossCache) -> Tensor:
    """``∂L/∂y_hat = (y_hat - y) / (y_hat(1 - y_hat)) / N``.

    Followed by the sigmoid's ``∂y_hat/∂a = y_hat(1 - y_hat)``, the two factors cancel and
    ``∂L/∂a = (y_hat - y)/N``: the reason BCE and sigmoid belong together.
    """
    y_hat, y = cache
    local = torch.clamp_min((1 - y_hat) * y_hat, BCE_EPSILON)  # (N, K) floor as in torch
    return (y_hat - y) / local / y_hat.numel()  # (N, K)


def softmax_ce_forward(logits: Tensor, labels: Tensor) -> tuple[Tensor, LossCache]:
    """Softmax cross-entropy ``L = -(1/N) Σ_n log softmax(a_n)[y_n]``.

    Args:
        logits: (N, K) pre-activations of the output layer.
        labels: (N,) class indices in ``[0, K)`` (int64).

    The softmax is taken in log space (``log_softmax``), which subtracts the row's maximum and so
    never overflows. The cache keeps the probabilities ``p`` (N, K) and the labels (N,).
    """
    log_p = torch.log_softmax(logits, dim=1)  # (N, K)
    L = -log_p.gather(1, labels[:, None]).sum() / logits.shape[0]  # ()
    return L, LossCache(log_p.exp(), labels)


def softmax_ce_backward(cache: LossCache) -> Tensor:
    """``∂L/∂a = (softmax(a) - one_hot(y)) / N``: predicted minus true probabilities.

    Through ``log_p = log_softmax(a)``, in the order autograd evaluates it::

        ∂L/∂log_p_k = -[k = y]/N                  (so Σ_k ∂L/∂log_p_k = -1/N in every row)
        ∂L/∂a_k     = ∂L/∂log_p_k - p_k · Σ_j ∂L/∂log_p_j = p_k/N - [k = y]/N

    computed as ``p·(1/N)``, then ``1/N`` taken off at each row's label (no one-hot matrix).
    """
    p, labels = cache
    n = p.shape[0]
    da = p * (1.0 / n)  # (N, K)  -p_k·Σ_j ∂L/∂log_p_j, with Σ_j ∂L/∂log_p_j = -1/N
    rows = torch.arange(n, device=p.device)
    da[rows, labels] -= 1.0 / n  # + ∂L/∂log_p_y = -1/N at the label
    return da


class Loss(NamedTuple):
    """A loss's forward/backward pair, its output activation, and the twin's torch loss."""

    forward: Callable[[Tensor, Tensor], tuple[Tensor, LossCache]]
    backward: Callable[[LossCache], Tensor]
    output_activation: str
    torch_fn: Callable[[Tensor, Tensor], Tensor]


LOSSES: dict[str, Loss] = {
    "mse": Loss(mse_forward, mse_backward, "sigmoid", F.mse_loss),
    "bce": Loss(bce_forward, bce_backward, "sigmoid", F.binary_cross_entropy),
    "ce": Loss(softmax_ce_forward, softmax_ce_backward, "identity", F.cross_entropy),
}
"""Losses by name."""
