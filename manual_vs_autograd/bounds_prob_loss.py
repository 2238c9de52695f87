"""The losses' part of :mod:`.bounds_prob`: error samples of the loss and of ``∂L/∂ŷ``, op by op.

Each elementary operation adds one rounding (``exp`` and ``log`` two) of its result's size, and carries
the errors it receives through its exact derivative; a scale computed once (``2/M``, ``-1/N``) adds one
error shared by every element, signed like the value it scales. The loss value's own final sum (its
mean over the batch) is bounded in the worst case, as a gradient's is (:func:`_mean_worst`). See
:mod:`.bounds_prob` for the model.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from torch import Tensor

if TYPE_CHECKING:
    from .bounds_prob import _Noise

__all__ = ["loss_errors"]


def _mean_worst(u: float, terms: Tensor) -> Tensor:
    """The own rounding of ``terms.mean()`` in the worst case, any order: its additions (the ramp of
    :func:`.bounds_prob._ramp`) and the division, ``u·(Σ_m B_m / M + |mean|)``."""
    from .bounds_prob import _ramp  # that module imports this one

    flat = terms.reshape(-1, 1)
    return u * (_ramp(flat).sum() / flat.shape[0] + flat.mean().abs())


def loss_errors(
    loss: str, y_hat: Tensor, E_y: Tensor, y: Tensor, u: float, noise: _Noise, C: float
) -> tuple[Tensor, Tensor, Tensor, Tensor, bool]:
    """``E(L)`` (K,) without its final mean, that mean's own rounding in the worst case (0-d), ``∂L/∂ŷ``
    (N, O) and its ``E`` (K, N, O), and whether first order holds.

    ``noise`` draws the roundings; ``C`` (:func:`.bounds_prob.prob_constant`) is how many ``σ̂`` an
    error may reach: BCE is first order only while its output is farther than that from 0 and 1.
    """
    M, n = y_hat.numel(), y_hat.shape[0]
    if loss == "mse":
        d = y_hat - y
        E_d = E_y + noise.rows(u * d.abs())
        dy = d * (2.0 / M)
        E_dy = E_d * (2.0 / M) + noise.rows(u * dy.abs()) + noise.shared(u * dy)  # × d, and 2/M rounded once
        squares = d * d
        E_L = (2 * d * E_d).mean(dim=(1, 2)) + noise.shared(u * squares.mean())  # the squares' roundings
        return E_L, _mean_worst(u, squares), dy, E_dy, True
    if loss == "bce":
        p = y_hat
        num, q = p - y, 1 - p
        E_num = E_y + noise.rows(u * num.abs())
        E_q = -E_y + noise.rows(u * q.abs())  # 1 - p: its error is p's, carried exactly
        den = q * p
        E_den = q * E_y + p * E_q + noise.rows(u * den)
        r = num / den
        E_r = E_num / den - num * E_den / (den * den) + noise.rows(u * r.abs())
        dy = r / M
        E_dy = E_r / M + noise.rows(u * dy.abs()) + noise.shared(u * dy)
        log_p, log_q = torch.log(p), torch.log(q)
        E_lp = E_y / p + noise.rows(2 * u * log_p.abs())
        E_lq = E_q / q + noise.rows(2 * u * log_q.abs())
        size = (y * log_p).abs() + ((1 - y) * log_q).abs()
        E_t = y * E_lp + (1 - y) * E_lq + noise.rows(math.sqrt(3) * u * size)
        E_L = -E_t.mean(dim=(1, 2))
        s_p = E_y.square().mean(0).sqrt()  # σ̂ of the output
        sound = bool((p > C * s_p).all() and (q > C * s_p).all() and (den > 1e-12).all())
        return E_L, _mean_worst(u, y * log_p + (1 - y) * log_q), dy, E_dy, sound
    # softmax cross-entropy, through log_softmax as the manual side and autograd compute it
    m, arg = y_hat.max(dim=1, keepdim=True)
    z = y_hat - m
    E_z = E_y - E_y.gather(2, arg.expand(noise.K, -1, -1)) + noise.rows(u * z.abs())
    e = torch.exp(z)
    E_e = e * E_z + noise.rows(2 * u * e)
    s = e.sum(dim=1, keepdim=True)
    E_s = E_e.sum(dim=2, keepdim=True) + noise.rows(u * math.sqrt(z.shape[1] - 1) * s)  # K - 1 additions
    lse = torch.log(s)
    E_lse = E_s / s + noise.rows(2 * u * lse.abs())
    log_p = z - lse
    E_lp = E_z - E_lse + noise.rows(u * log_p.abs())
    p = torch.exp(log_p)
    E_p = p * E_lp + noise.rows(2 * u * p)
    onehot = torch.zeros_like(p).scatter_(1, y.view(-1, 1), 1.0)
    dy = (p - onehot) / n
    # p·(1/N) rounded, + the label's -1/N (rounded once, shared); the plain (p - onehot)/N has the same two
    E_dy = E_p / n + noise.rows(math.sqrt(2) * u * (p / n + dy.abs())) + noise.shared(u * dy)
    picked = log_p.gather(1, y.view(-1, 1))
    E_picked = E_lp.gather(2, y.view(1, -1, 1).expand(noise.K, -1, -1))
    E_L = -E_picked.sum(dim=(1, 2)) / n
    return E_L, _mean_worst(u, picked), dy, E_dy, True
