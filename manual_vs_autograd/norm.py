"""Layer normalisation as a forward/backward pair, written in plain tensor ops (no autograd).

Each sample's features are shifted to mean 0 and scaled to variance 1 (``nn.LayerNorm`` without
its learnable scale and shift, ``elementwise_affine=False``): over the last dimension, of size ``O``,

    μ = mean(a),  d = a - μ,  v = mean(d²),  r = (v + ε)^(-1/2),  z = d·r

Unlike an activation it is not element-wise: every output depends on every input of its row,
through μ and v, so its backward sums over the row. Any leading shape works; the MLP uses (N, O).
"""

from __future__ import annotations

from typing import NamedTuple

from torch import Tensor

__all__ = ["EPS", "LayerNormCache", "layer_norm_backward", "layer_norm_forward"]

EPS = 1e-5
"""``ε`` under the square root: ``nn.LayerNorm``'s default."""


class LayerNormCache(NamedTuple):
    """What layer normalisation's backward needs from its forward."""

    d: Tensor  # (..., O) the inputs minus their row mean
    r: Tensor  # (..., 1) 1/sqrt(row variance + ε)


def layer_norm_forward(a: Tensor, eps: float = EPS) -> tuple[Tensor, LayerNormCache]:
    """``z = (a - mean(a)) / sqrt(var(a) + ε)`` over the last dimension (biased variance, as torch).

    Args:
        a: (..., O) inputs; each row along the last dimension is normalised on its own.

    Returns:
        z: (..., O), and the cache for :func:`layer_norm_backward`.
    """
    mu = a.mean(dim=-1, keepdim=True)  # (..., 1)
    d = a - mu  # (..., O)
    v = (d * d).mean(dim=-1, keepdim=True)  # (..., 1)
    r = (v + eps).rsqrt()  # (..., 1)
    z = d * r  # (..., O)
    return z, LayerNormCache(d=d, r=r)


def layer_norm_backward(dz: Tensor, cache: LayerNormCache) -> Tensor:
    """``∂L/∂a`` (..., O) from ``dz = ∂L/∂z``, back through the forward's steps in reverse.

    ``d`` reaches ``z`` twice, directly (``z = d·r``) and through the variance (``r`` depends on
    ``v = mean(d²)``); ``a`` reaches ``d`` directly and through the mean. Put together,
    ``∂L/∂a = r·(dz - mean(dz) - z·mean(dz·z))``.
    """
    d, r = cache.d, cache.r
    size = d.shape[-1]
    dr = (dz * d).sum(dim=-1, keepdim=True)  # (..., 1)  ∂z/∂r = d, summed over the row's outputs
    dv = dr * -0.5 * r**3  # (..., 1)  ∂r/∂v = -½(v + ε)^(-3/2) = -½r³
    dd = dz * r + dv * 2 * d / size  # (..., O)  ∂z/∂d = r (direct); ∂v/∂d = 2d/O (through v)
    da = dd - dd.mean(dim=-1, keepdim=True)  # (..., O)  ∂d_j/∂a_k = [j = k] - 1/O (through μ)
    return da
