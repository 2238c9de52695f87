"""Per-element error bounds: how far two correct computations of a gradient may differ.

**The model** (first-order forward error analysis, Higham, *Accuracy and Stability of Numerical
Algorithms*, ch. 3). Let ``u`` be the unit roundoff of the working dtype (``eps/2``: float64 1.1e-16,
float32 6.0e-8, float16 4.9e-4, bfloat16 3.9e-3). A sum of ``n`` products computed in any order
satisfies ``|fl(Σ a_k b_k) - Σ a_k b_k| ≤ γ_n Σ|a_k||b_k|`` with ``γ_n = n·u/(1 - n·u)``. Running the
network's forward and backward pass **on magnitudes** carries, beside each value ``v``, a number
``S(v)`` with ``|computed v - exact v| ≤ u·S(v)`` to first order:

* linear layer ``a = h Wᵀ + b`` (fan-in ``I``): ``S(a) = S(h)|W|ᵀ + g(I+1)·(|h||W|ᵀ + |b|)``;
* its backward, summing over the batch ``N`` or the fan-out ``O``:
  ``S(dW) = S(da)ᵀ|h| + |da|ᵀS(h) + g(N)·|da|ᵀ|h|``, ``S(db) = Σ_n S(da) + g(N)·Σ_n|da|``,
  ``S(dh) = S(da)|W| + g(O)·|da||W|``, where ``g(n) = γ_n/u = n/(1 - n·u)``;
* an activation ``h = f(a)``: ``S(h) = |f'(a)|·S(a) + k_f·|h|``, ``k_f`` the library's accuracy in
  units of ``u``: 4 for sigmoid (``exp`` ≤ 2u, then ``1 +`` and ``1/``) and tanh (≤ 2 ULP), 0 for
  relu and identity, 8 for an activation this module does not know;
* its backward ``da = dh·φ(h)`` with ``φ`` the derivative written in the output:
  ``S(da) = |φ|·S(dh) + |dh|·|φ'(h)|·S(h) + 3·|dh|·T(h)``: three roundings on terms of size ``T``,
  the magnitude of what the derivative formula is made of. Sigmoid ``φ = h(1 - h)``: ``T = |h|(1 + |h|)``;
  tanh ``φ = 1 - h²``: ``T = 1 + h²``; relu: ``T = 0``, but where ``|a| ≤ u·S(a)`` the gate may flip
  and the whole ``|dh|`` is allowed; unknown activations (``register_activation``): ``T = max(|f'(a)|, 1)``
  (activation derivatives are computed from O(1) terms), ``f'`` and ``f''`` taken by autograd in float64;
* layer normalisation over the width ``O`` (``norm="layer"``, between a hidden linear map and its
  activation): ``S(μ) = mean S(a) + g(O+1)·mean|a|``, ``S(d) = S(a) + S(μ) + |d|``,
  ``S(v) = 2·mean(|d|S(d)) + g(O+2)·(mean a² + μ²)``, ``S(r) = r·(½·(S(v) + v + ε)/(v + ε) + 2)``,
  ``S(z) = r·S(d) + |d|·S(r) + 3·ẑ`` with ``ẑ = r(|a| + |μ|)``: the term sizes are the *uncentred* ones,
  because torch's kernels form the variance by Welford or ``E[a²] - μ²`` and ``z`` as ``a·r + (-μ·r)``.
  Its backward ``da = r·(dz - m₁ - z·m₂)``, ``m₁ = mean dz``, ``m₂ = mean(dz·z)`` (two sums over ``O``):
  ``S(da) = r·(S(dz) + mean S(dz) + |z|·mean(|z|S(dz))) + S(r)·(|dz| + |m₁| + 3|z||m₂|)
  + r·(S(z)|m₂| + |z|·mean(|dz|S(z))) + r·(g(O+1)·(mean|dz| + (ẑ + mean ẑ)·c₂) + K_LN·T)`` with
  ``c₂ = mean(|dz|ẑ)``, ``T = |dz| + mean|dz| + ẑ·c₂`` and ``K_LN = 10`` roundings per term
  (:data:`K_LN`): the exact map on the upstream errors, ``r``'s error (cubed in the third term),
  ``z``'s error, then this layer's own roundings;
* the losses likewise (MSE ``2(ŷ - y)/M``; BCE ``(ŷ - y)/(ŷ(1 - ŷ))/N`` including the ill-conditioning
  of ``1 - ŷ`` near saturation; softmax cross-entropy through ``log_softmax`` and ``exp``), and the loss
  value itself (a mean of ``M`` terms: ``g(M + 1)``). A loss registered with ``register_loss`` (or a
  built-in name replaced) has no formula here: its value and gradient ``g`` come from its torch
  function by autograd in float64, and ``S(dy) = 2·P + 2·n·R + |g|`` where ``P`` is the gradient's
  largest response to the forward's error ``S(ŷ)`` and ``R`` its largest response to a unit relative
  perturbation of ``ŷ`` and ``y`` (backward stability, ``n = K + 4`` operations per element: a
  reduction over the row's ``K`` outputs, then a few), each probed with 8 random sign patterns and
  doubled (random signs see about half of an absolute sum, as for :func:`layer_grad_bounds`);
  ``S(L) = Σ|g|S(ŷ) + n·(Σ|g||ŷ| + Σ|∂L/∂y||y|) + g(M + 1)·|L|`` (a mean of terms of one sign, as
  losses are). A registered activation likewise takes the unknown-activation model above.

**The constant.** Two correct implementations each lie within ``u·S`` of the exact value, so they
differ by at most ``2·u·S`` to first order. The neglected second-order terms are products of the
first-order ones; while the relative bound along any chain stays ≤ 1/3, ``x/(1 - x) ≤ 1.5·x`` covers
them. Hence ``bound = c·u·S`` with ``c = 2 × 1.5 = 3`` (:data:`C_TWO_SIDES`). The ratio ``x`` itself is
computed by :func:`second_order_terms` (``u`` per rounding along the longest chain, and the curvature
of the activations and losses): about ``10⁻⁵`` in float32 and ``10⁻¹⁴`` in float64, so the factor
1.5 is generous there; in bfloat16 a chain of more than ~85 roundings passes 1/3 and this bound is
then an approximation (the probabilistic bound, which uses ``x`` itself, is not used there). Nothing is floored at 1 and
there is no absolute epsilon: an entry made of tiny terms gets a tiny bound. ``g(n)`` is infinite
when ``n·u ≥ 1`` (a float16 sum of 2048 terms, a bfloat16 sum of 256): no bound can be promised there.

The bounds are computed in float64 on the tensors' device (CPU or CUDA). On CUDA they hold for
float32 only with TF32 off (``torch.backends.cuda.matmul.allow_tf32 = False``, PyTorch's default):
TF32 rounds the products' inputs to 10 bits, which this model does not count.

This worst case carries every error through ``|W|`` and so compounds with depth and batch size: on
random 3-4-layer float32 networks it is 100-1000 times the differences correct implementations show.
:func:`mlp_grad_bounds` therefore returns, element by element, the smaller of ``c·u·S`` and the
probabilistic bound of :mod:`.bounds_prob` (the same roundings as random samples propagated through
the signed network, holding with probability ``1 - 1e-12`` per element); ``c·u·S`` stays a hard cap.
Measured with both (``tests/test_verdict.py``, ``scripts/mutation_table.py --cases 200``): the honest
cases (another batch order, float32 against float64, plain-formula variants) use at most 0.090 of the
bound over 200 random networks per dtype, while every bug of the mutation suite exceeds it (a float32
tensor scaled by 1 + 1e-3 included, on bias sums that cancel 100- to 519-fold).

With layer norms the model is loose at depth: every normalised layer re-scales its rows to unit
variance, so the magnitudes summed through each linear map (``Σ|h||W|`` against ``|Σ hW|``) are not
squashed by the activations as in a plain network. On random 3-4-layer normalised networks in float32
the honest differences use < 3% of the bound and the first layers' bounds can exceed their largest
entries: there only gross bugs are resolvable (``tests/test_verdict.py``); in float64 every injected
bug still is.

For **arbitrary layers** (:func:`layer_grad_bounds`) the magnitudes are not known, so the model is
backward stability instead: a correct backward in precision ``u`` is the exact backward of inputs
(and ``dout``) perturbed relatively by at most ``n·u`` per element, ``n`` the longest sum it can form
(the largest dimension of any input or of ``dout``). The float64 reference's response to such
perturbations is sampled with ``P = 8`` random sign patterns (``R_j``: the largest change of ``g_j``
per unit relative perturbation), and ``bound_j = C_LAYER·u·(n·R_j + |g_j|)`` with ``C_LAYER = 4``:
2 for two sides, 2 because random signs see about half of ``Σ_k |∂g_j/∂x_k||x_k|`` when one term
dominates (and ``n`` already over-counts when many do).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import torch
from torch import Tensor

from .config import MLPConfig
from .errors import InputError

__all__ = ["C_LAYER", "C_TWO_SIDES", "layer_grad_bounds", "mlp_grad_bounds", "unit_roundoff"]

C_TWO_SIDES = 3.0
"""2 (two implementations, each within u·S of exact) × 1.5 (second-order terms while u·S/|v| ≤ 1/3)."""
C_LAYER = 4.0
"""2 (two sides) × 2 (random sign patterns see at least about half of the absolute response)."""

_FN_ULPS = {"sigmoid": 4.0, "tanh": 4.0, "relu": 0.0, "identity": 0.0}
_UNKNOWN_FN_ULPS = 8.0
LOSS_OPS = 4
"""Element-wise operations behind one gradient element of a registered loss, beside a reduction over its row."""
LOSS_PROBES = 8
"""Random sign patterns for a registered loss's responses (as ``layer_grad_bounds``' ``samples``)."""


def unit_roundoff(dtype: torch.dtype) -> float:
    """``u = eps/2``: the largest relative error of one correctly rounded operation in ``dtype``."""
    return torch.finfo(dtype).eps / 2


LAMBDA = 10.0
"""Confidence of the probabilistic sum bound: each rounding stays inside with probability ≥ 1 - 2e^{-λ²/2} = 1 - 4e-22."""


def _g(n: int, u: float) -> float:
    """The error factor of a sum of ``n`` terms, in units of ``u``: ``min(γ_n, γ̃_n(λ)) / u``.

    ``γ_n = n·u/(1 - n·u)`` is the classical worst case (infinite when ``n·u ≥ 1``);
    ``γ̃_n(λ) = exp(λ√n·u + n·u²/(1 - u)) - 1`` is Higham & Mary's probabilistic bound (SIAM J. Sci.
    Comput. 41(5), 2019, Thm. 2.4), which holds with probability ≥ 1 - 2n·e^{-λ²(1-u)²/2}.
    """
    classical = n / (1 - n * u) if n * u < 1 else math.inf
    lam_sqrt_n_u = LAMBDA * math.sqrt(n) * u
    probabilistic = math.expm1(lam_sqrt_n_u + n * u * u / (1 - u)) / u if lam_sqrt_n_u < 1 else math.inf
    return min(classical, probabilistic)


def _activation_fn(name: str) -> Callable[[Tensor], Tensor]:
    from .twin import TORCH_ACTIVATIONS  # the torch function of each registered name lives with the twin

    return TORCH_ACTIVATIONS[name]


def _builtin(name: str, kind: str) -> bool:
    """Whether ``name`` still means the built-in function this module has a formula for (not replaced by a registration)."""
    import torch.nn.functional as F

    from .twin import TORCH_ACTIVATIONS, TORCH_LOSSES, _identity

    if kind == "loss":
        builtin = {"mse": F.mse_loss, "bce": F.binary_cross_entropy, "ce": F.cross_entropy}.get(name)
        return builtin is not None and TORCH_LOSSES.get(name) is builtin
    builtin = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "identity": _identity}.get(name)
    return builtin is not None and TORCH_ACTIVATIONS.get(name) is builtin


def _activation(name: str, a: Tensor, S_a: Tensor, u: float) -> tuple[Tensor, Tensor, Callable]:
    """``h = f(a)`` in float64, ``S(h)``, and the backward's ``(dh, S_dh) -> (da, S_da)``."""
    known = _builtin(name, "activation")  # False for a registered activation, or a built-in name replaced
    if known and name == "sigmoid":
        h = torch.sigmoid(a)
        phi, dphi, T = h * (1 - h), (1 - 2 * h).abs(), h.abs() * (1 + h.abs())
    elif known and name == "tanh":
        h = torch.tanh(a)
        phi, dphi, T = 1 - h * h, 2 * h.abs(), 1 + h * h
    elif known and name == "relu":
        h = torch.relu(a)
        phi, dphi, T = (a > 0).to(a.dtype), torch.zeros_like(a), torch.zeros_like(a)
    elif known and name == "identity":
        h = a
        phi, dphi, T = torch.ones_like(a), torch.zeros_like(a), torch.zeros_like(a)
    else:
        h, phi, d2 = _derivatives(_activation_fn(name), a)
        S_h = phi.abs() * S_a + _UNKNOWN_FN_ULPS * h.abs()

        def backward_unknown(dh: Tensor, S_dh: Tensor) -> tuple[Tensor, Tensor]:
            T = phi.abs().clamp_min(1.0)
            return dh * phi, phi.abs() * S_dh + dh.abs() * d2.abs() * S_a + 3 * dh.abs() * T

        return h, S_h, backward_unknown
    S_h = phi.abs() * S_a + _FN_ULPS[name] * h.abs()
    # relu: where |a| is within its own error of 0 the gate may differ between two correct runs
    flip = (a.abs() < u * S_a) if name == "relu" else None

    def backward(dh: Tensor, S_dh: Tensor) -> tuple[Tensor, Tensor]:
        S_da = phi.abs() * S_dh + dh.abs() * dphi * S_h + 3 * dh.abs() * T
        if flip is not None:
            S_da = torch.where(flip, S_da + dh.abs() / u, S_da)
        return dh * phi, S_da

    return h, S_h, backward


def _derivatives(fn: Callable[[Tensor], Tensor], a: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``f(a)``, ``f'(a)``, ``f''(a)`` element-wise, by autograd in float64."""
    with torch.enable_grad(), torch.inference_mode(False):
        a = a.detach().clone().requires_grad_(True)
        h = fn(a)
        (d1,) = torch.autograd.grad(h.sum(), a, create_graph=True)
        if d1.requires_grad:
            (d2,) = torch.autograd.grad(d1.sum(), a, allow_unused=True)
        else:
            d2 = None
    return h.detach(), d1.detach(), torch.zeros_like(a) if d2 is None else d2.detach()


def _loss(loss: str, y_hat: Tensor, S_y: Tensor, y: Tensor, u: float) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Loss value, ``S(L)``, ``∂L/∂y_hat`` and its ``S``, all float64."""
    M = y_hat.numel()
    if not _builtin(loss, "loss"):
        return _registered_loss(loss, y_hat, S_y, y, u)
    if loss == "mse":
        d = y_hat - y
        S_d = S_y + d.abs()
        dy = d * (2.0 / M)
        S_dy = (2.0 / M) * (S_d + 2 * d.abs())
        L = (d * d).mean()
        S_L = (2 * d.abs() * S_d).sum() / M + _g(M + 1, u) * L
        return L, S_L, dy, S_dy
    if loss == "bce":
        p = y_hat
        den = (p * (1 - p)).clamp_min(1e-12)
        S_den = (1 - 2 * p).abs() * S_y + 2 * p.abs() * (1 + p.abs())
        num = p - y
        S_num = S_y + num.abs()
        dy = num / den / M
        S_dy = (S_num / den + num.abs() * S_den / (den * den) + 3 * num.abs() / den) / M
        log_p, log_q = torch.log(p).clamp_min(-100), torch.log(1 - p).clamp_min(-100)
        terms = y * log_p + (1 - y) * log_q
        floor = torch.exp(torch.tensor(-100.0, dtype=p.dtype, device=p.device))
        S_terms = y.abs() * (S_y / p.clamp_min(floor) + 4 * log_p.abs()) + (1 - y).abs() * (
            (S_y + p.abs()) / (1 - p).clamp_min(floor) + 4 * log_q.abs()
        )
        L = -terms.mean()
        S_L = S_terms.sum() / M + _g(M + 2, u) * terms.abs().mean()
        return L, S_L, dy, S_dy
    if loss == "ce":
        n, K = y_hat.shape
        m, arg = y_hat.max(dim=1, keepdim=True)
        z = y_hat - m
        S_z = S_y + S_y.gather(1, arg) + z.abs()
        e = torch.exp(z)
        s = e.sum(dim=1, keepdim=True)
        S_s = (e * (S_z + 2)).sum(dim=1, keepdim=True) + _g(K, u) * s
        lse = torch.log(s)
        S_lse = S_s / s + 2 * lse.abs()
        log_p = z - lse
        S_lp = S_z + S_lse + log_p.abs()
        p = torch.exp(log_p)
        S_p = p * (S_lp + 2)
        onehot = torch.zeros_like(p).scatter_(1, y.view(-1, 1), 1.0)
        dy = (p - onehot) / n
        S_dy = (S_p + 2 * p + 2 * (p - onehot).abs()) / n
        picked = log_p.gather(1, y.view(-1, 1))
        L = -picked.sum() / n
        S_L = S_lp.gather(1, y.view(-1, 1)).sum() / n + _g(n + 1, u) * picked.abs().sum() / n
        return L, S_L, dy, S_dy
    return _registered_loss(loss, y_hat, S_y, y, u)


K_LN = 10.0
"""Roundings along the longest path from one term to ``∂L/∂a`` in a layer norm's backward, sums aside: the
manual's ``dz·d``, ``r³`` (≤ 2), ``×dr``, ``×d``, ``/O``, ``+ dz·r``, ``- mean``, ``/O``; torch's kernel
(``r³``, ``×(db·μ - ds)``, ``/O``, ``×a``, ``+ c``, ``+ r·dz``) has fewer."""


def _layer_norm(a: Tensor, S_a: Tensor, u: float) -> tuple[Tensor, Tensor, Callable]:
    """``z = (a - μ)·r`` over the last dimension in float64, ``S(z)``, and the backward's ``(dz, S_dz) -> (da, S_da)``.

    Term magnitudes are taken from the *uncentred* input ``|a| + |μ|`` wherever torch's kernels use it
    (Welford or ``E[a²] - μ²`` for the variance, ``a·r + (-μ·r)`` for ``z``, ``Σ dz·a - μ·Σ dz`` in the
    backward), so that both the manual centred form and the kernel's are inside the bound.
    """
    from .norm import EPS

    O = a.shape[-1]

    def mean(t: Tensor) -> Tensor:
        return t.mean(dim=-1, keepdim=True)

    mu = mean(a)
    S_mu = mean(S_a) + _g(O + 1, u) * mean(a.abs())
    d = a - mu
    S_d = S_a + S_mu + d.abs()
    v = mean(d * d)
    S_v = 2 * mean(d.abs() * S_d) + _g(O + 2, u) * (mean(a * a) + mu * mu)
    w = v + EPS
    r = w.rsqrt()
    S_r = r * (0.5 * (S_v + w) / w + 2)  # + ε (one rounding), then sqrt and 1/ (or rsqrt, ≤ 2 ULP)
    z = d * r
    za = r * (a.abs() + mu.abs())  # |z| as the kernel forms it, from the uncentred input: ≥ |z|
    S_z = r * S_d + d.abs() * S_r + 3 * za

    def backward(dz: Tensor, S_dz: Tensor) -> tuple[Tensor, Tensor]:
        # da = r·(dz - mean(dz) - z·mean(dz·z)): three terms, two of them sums over the width O
        m1, m2 = mean(dz), mean(dz * z)
        da = r * (dz - m1 - z * m2)
        adz = dz.abs()
        cross = mean(adz * za)  # ≥ |mean(dz·z)|, as summed from uncentred terms
        T = adz + mean(adz) + za * cross  # the terms' magnitudes (over r)
        S_da = (
            r * (S_dz + mean(S_dz) + z.abs() * mean(S_dz * z.abs()))  # dz's error through the exact map
            + S_r * (adz + m1.abs() + 3 * z.abs() * m2.abs())  # r's error (r³ in the third term)
            + r * (S_z * m2.abs() + z.abs() * mean(adz * S_z))  # z's (d's) error
            + r * (_g(O + 1, u) * (mean(adz) + za * cross + mean(za) * cross) + K_LN * T)  # this layer's roundings
        )
        return da, S_da

    return z, S_z, backward


def _registered_loss(
    name: str, y_hat: Tensor, S_y: Tensor, y: Tensor, u: float
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """A loss without a formula here (``register_loss``): its derivatives by autograd in float64, see the module docstring."""
    from .twin import TORCH_LOSSES  # the torch function of each registered name lives with the twin

    fn = TORCH_LOSSES[name]
    y_grad = y.is_floating_point()

    def value_and_grads(yh: Tensor, yt: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        with torch.enable_grad(), torch.inference_mode(False):
            yh = yh.detach().clone().requires_grad_(True)
            yt = yt.detach().clone().requires_grad_(y_grad)
            L = fn(yh, yt)
            got = torch.autograd.grad(L, [yh, yt] if y_grad else [yh], allow_unused=True)
        g = torch.zeros_like(yh) if got[0] is None else got[0]
        g_y = torch.zeros_like(yt) if not y_grad or got[1] is None else got[1]
        return L.detach(), g.detach(), g_y.detach()

    L, g, g_y = value_and_grads(y_hat, y)
    M, K = y_hat.numel(), y_hat.shape[-1]
    n = K + LOSS_OPS  # operations behind one gradient element: a row-wise reduction over K, then a few
    generator = torch.Generator().manual_seed(0)

    def signs(t: Tensor) -> Tensor:
        return (torch.randint(0, 2, t.shape, generator=generator) * 2 - 1).to(torch.float64).to(t.device)

    probe = 1e-6  # relative size of each perturbation (linear to ~1e-6 in float64); responses are divided by it
    floor = max(
        1e-3 * y_hat.abs().max().item(), torch.finfo(torch.float64).tiny
    )  # an output at 0 moves like a small one
    room = (S_y / y_hat.abs().clamp_min(floor)).max().item() if y_hat.numel() else 0.0
    step = probe / room if room > 0 and math.isfinite(room) else 0.0  # S_y scaled so no element moves > 1e-6 relative
    R, P = torch.zeros_like(g), torch.zeros_like(g)
    for _ in range(LOSS_PROBES):
        moved_y = y * (1 + probe * signs(y)) if y_grad else y
        R = torch.maximum(R, (value_and_grads(y_hat * (1 + probe * signs(y_hat)), moved_y)[1] - g).abs() / probe)
        if step > 0:
            P = torch.maximum(P, (value_and_grads(y_hat + step * signs(y_hat) * S_y, y)[1] - g).abs() / step)
    S_dy = 2 * P + 2 * n * R + g.abs()
    response = (g.abs() * y_hat.abs()).sum() + ((g_y.abs() * y.abs()).sum() if y_grad else 0.0)
    S_L = (g.abs() * S_y).sum() + n * response + _g(M + 1, u) * L.abs()
    return L, S_L, g, S_dy


def mlp_magnitudes(
    config: MLPConfig, params: Mapping[str, Tensor], x: Tensor, y: Tensor, u: float
) -> dict[str, Tensor]:
    """``S`` for every gradient ``dW1, db1, ...`` and for ``loss``: see the module docstring."""
    return _magnitudes(config, params, x, y, u)[0]


def _magnitudes(
    config: MLPConfig, params: Mapping[str, Tensor], x: Tensor, y: Tensor, u: float
) -> tuple[dict[str, Tensor], float]:
    """``S`` as :func:`mlp_magnitudes`, and the nonlinear part of :func:`second_order_terms`' ratio ``x``."""
    f64 = torch.float64
    h = x.to(f64)
    S_h = torch.zeros_like(h)  # the data is exact
    backwards, saved = [], []
    nonlinear = 0.0
    for layer in range(1, config.n_layers + 1):
        W, b = params[f"W{layer}"].to(f64), params[f"b{layer}"].to(f64)
        a = torch.addmm(b, h, W.t())
        S_a = S_h @ W.abs().t() + _g(W.shape[1] + 1, u) * torch.addmm(b.abs(), h.abs(), W.abs().t())
        saved.append((h, S_h, W))
        norm_backward = None
        if config.normalises(layer):
            a, S_a, norm_backward = _layer_norm(a, S_a, u)
        name = config.layer_activation(layer)
        nonlinear = max(nonlinear, _curvature(_CURVATURE.get(name, 0.0), S_a, u))
        h, S_h, backward = _activation(name, a, S_a, u)
        backwards.append((backward, norm_backward))
    yt = y.to(f64) if y.is_floating_point() else y
    nonlinear = max(nonlinear, _loss_curvature(config.loss, h, S_h, u))
    L, S_L, dh, S_dh = _loss(config.loss, h, S_h, yt, u)
    out: dict[str, Tensor] = {"loss": S_L}
    n = x.shape[0]
    for layer in range(config.n_layers, 0, -1):
        backward, norm_backward = backwards[layer - 1]
        da, S_da = backward(dh, S_dh)
        if norm_backward is not None:
            da, S_da = norm_backward(da, S_da)
        h_prev, S_prev, W = saved[layer - 1]
        out[f"dW{layer}"] = S_da.t() @ h_prev.abs() + da.abs().t() @ S_prev + _g(n, u) * (da.abs().t() @ h_prev.abs())
        out[f"db{layer}"] = S_da.sum(0) + _g(n, u) * da.abs().sum(0)
        if layer > 1:
            dh, S_dh = da @ W, S_da @ W.abs() + _g(W.shape[0], u) * (da.abs() @ W.abs())
    S = {**{f"d{name}": out[f"d{name}"] for name in config.param_shapes()}, "loss": out["loss"]}
    return S, nonlinear


_CURVATURE = {"sigmoid": 1.0, "tanh": 2.0}
"""``max |f''/f'|`` of the activations with curvature (sigmoid ``1 - 2σ``, tanh ``-2·tanh``); relu and identity: 0."""


def _curvature(k: float, S_a: Tensor, u: float) -> float:
    """The second-order part of ``f(a + e) - f(a)`` over its first-order part ``f'(a)·e``: ``k·ε·e^{kε}``.

    ``ε = 1.5·u·max S(a)`` bounds the error ``e`` of the inputs (first order, covered to ``1/3``), and
    ``|f''(ξ)| ≤ k·f'(ξ) ≤ k·e^{kε}·f'(a)`` between them for sigmoid and tanh (``f'`` changes by at most
    ``e^{k|e|}``).
    """
    if k == 0.0 or S_a.numel() == 0:
        return 0.0
    eps = 1.5 * u * float(S_a.max())
    return k * eps * math.exp(min(k * eps, 700.0))


def _loss_curvature(loss: str, y_hat: Tensor, S_y: Tensor, u: float) -> float:
    """The same ratio for the built-in losses' gradients: softmax's ``exp`` of the logits (``k = 2``: a logit
    and the log-sum-exp), BCE's ``1/(p(1 - p))`` (twice the relative errors of ``p`` and ``1 - p``); MSE is linear."""
    if y_hat.numel() == 0 or not _builtin(loss, "loss"):
        return 0.0
    if loss == "ce":
        return _curvature(2.0, S_y, u)
    if loss == "bce":
        p = y_hat
        rel = (S_y / p).clamp_min(0) + (S_y + p) / (1 - p)  # 1 - p rounds once (its size is p's complement)
        return 2 * 1.5 * u * float(torch.nan_to_num(rel, nan=math.inf).max())
    return 0.0


def chain_roundings(config: MLPConfig, batch: int) -> int:
    """The roundings along the longest chain from a datum to a gradient element or the loss, counted generously.

    Per layer: the forward sum over the fan-in and the bias (``I + 1``), the activation (``k_f``, 8 for one
    this module does not know), the backward sum over the fan-out (``O + 1``) and the derivative (3), layer
    norm's ``2·O + K_LN`` where there is one; the loss's reduction over the output row and a few operations
    (``K + 8``); the final sum over the batch, or the loss's mean over all ``M`` outputs (``M + 2``).
    """
    count = 0
    for layer in range(1, config.n_layers + 1):
        I, O = config.sizes[layer - 1], config.sizes[layer]
        k_f = _FN_ULPS.get(config.layer_activation(layer), _UNKNOWN_FN_ULPS)
        count += I + 1 + int(k_f) + O + 1 + 3 + (2 * O + int(K_LN) if config.normalises(layer) else 0)
    outputs = config.sizes[-1]
    return count + outputs + 8 + batch * outputs + 2


def second_order_terms(
    config: MLPConfig, S: Mapping[str, Tensor], batch: int, u: float, nonlinear: float
) -> dict[str, Tensor]:
    """What the neglected higher-order terms can add, for both sides: ``x/(1 - x)·2·u·S`` per element.

    ``x`` bounds, relative to the worst-case first-order error ``u·S``, what the higher orders add at one
    rounding: ``u`` per rounding along a chain of products (``Π(1 + δ) - 1 ≤ γ_L = Lu/(1 - Lu)``, with
    ``L`` :func:`chain_roundings`), and the curvature of the activations and losses
    (:func:`_curvature`). Compounded, the higher orders stay within ``x/(1 - x)`` of the first order. Where
    ``x ≥ 1/3`` the first-order model is not trusted: ``inf`` (the worst case, which covers ``x ≤ 1/3``
    with its factor 1.5, then stands alone).
    """
    x = max(u * chain_roundings(config, batch), nonlinear)
    if not x < 1 / 3:
        return {name: torch.full_like(s, math.inf) for name, s in S.items()}
    return {name: (x / (1 - x)) * 2 * u * s for name, s in S.items()}


def mlp_grad_bounds(
    config: MLPConfig,
    params: Mapping[str, Tensor],
    x: Tensor,
    y: Tensor,
    *,
    dtype: torch.dtype | None = None,
    c: float = C_TWO_SIDES,
    probabilistic: bool = True,
) -> dict[str, Tensor]:
    """Per-element bounds on ``|manual - autograd|`` for ``dW1, db1, ...`` and ``loss`` (float64).

    Each element's bound is the smaller of the worst-case ``c·u·S`` (this module) and, with
    ``probabilistic`` (the default), the propagated-sample bound of :mod:`.bounds_prob`, which holds
    with probability ``1 - 1e-12`` per element under independent mean-zero roundings; the worst case
    stays a hard cap. ``dtype`` (default: ``x``'s) sets ``u``; for a float32 computation checked
    against a float64 reference pass ``torch.float32``. The bound tensors have the gradients' shapes
    (``loss``: 0-d).
    """
    from .bounds_prob import mlp_prob_bounds  # it imports this module's activation table

    if x.dim() != 2 or x.shape[0] == 0:
        raise InputError(f"inputs x have shape {tuple(x.shape)}; expected (N, features) with at least one sample")
    u = unit_roundoff(dtype or x.dtype)
    with torch.no_grad():
        S, nonlinear = _magnitudes(config, params, x, y, u)
        bounds = {name: (c * u) * s for name, s in S.items()}
        prob = None
        if probabilistic:
            second_order = second_order_terms(config, S, x.shape[0], u, nonlinear)
            prob = mlp_prob_bounds(config, params, x, y, u, second_order=second_order)
    if prob is not None:
        bounds = {name: torch.minimum(b, prob[name].nan_to_num(nan=math.inf)) for name, b in bounds.items()}
    # NaN only where magnitudes overflowed (|x| near 1e154 squared, then times 0): no bound can be promised
    return {name: b.nan_to_num(nan=math.inf) for name, b in bounds.items()}


def layer_grad_bounds(
    reference_fn: Callable[..., Tensor],
    inputs: Sequence[Tensor],
    dout: Tensor,
    *,
    dtype: torch.dtype | None = None,
    needs_grad: Sequence[bool] | None = None,
    samples: int = 8,
    seed: int = 0,
    c: float = C_LAYER,
) -> tuple[Tensor | None, ...]:
    """Per-element bounds on a correct backward of ``out = reference_fn(*inputs)`` given ``dout``.

    The model (module docstring): the float64 reference's gradient ``g`` of ``Σ dout·out``, and its
    largest response ``R`` over ``samples`` random-sign relative perturbations of the inputs and
    ``dout``; ``bound = c·u·(n·R + |g|)`` with ``n`` the largest dimension of any input or ``dout``.

    Args:
        reference_fn: the layer's forward, written with torch ops (autograd differentiates it).
        inputs: the layer's inputs in the working dtype; ``dtype`` (default: the first floating
            input's) sets ``u``.
        needs_grad: which inputs get a bound (default: every floating-point input).

    Returns:
        one float64 bound tensor per input, of its shape; ``None`` for inputs without a gradient.
    """
    floats = [t.is_floating_point() for t in inputs]
    wanted = list(floats if needs_grad is None else needs_grad)
    u = unit_roundoff(dtype or next(t.dtype for t, f in zip(inputs, floats) if f))
    base = [t.detach().to(torch.float64) if f else t for t, f in zip(inputs, floats)]
    d64 = dout.detach().to(torch.float64)

    def grads(xs: list[Tensor], d: Tensor) -> list[Tensor | None]:
        with torch.enable_grad(), torch.inference_mode(False):
            leaves = [t.clone().requires_grad_(w) if w else t for t, w in zip(xs, wanted)]
            out = reference_fn(*leaves)
            targets = [t for t, w in zip(leaves, wanted) if w]
            got = torch.autograd.grad(out, targets, d, allow_unused=True)
        it = iter(got)
        result: list[Tensor | None] = []
        for t, w in zip(xs, wanted):
            g = next(it) if w else None
            result.append(None if not w else (torch.zeros_like(t) if g is None else g.detach()))
        return result

    g0 = grads(base, d64)
    n = max([d64.dim() and max(d64.shape)] + [max(t.shape) for t in base if t.dim()])
    generator = torch.Generator().manual_seed(seed)
    eps = 1e-6  # relative size of the probe; the response is divided by it (linear to ~1e-6 in float64)
    R = [torch.zeros_like(g) if g is not None else None for g in g0]

    def signs(t: Tensor) -> Tensor:
        return (torch.randint(0, 2, t.shape, generator=generator) * 2 - 1).to(torch.float64).to(t.device)

    for _ in range(samples):
        xs = [t * (1 + eps * signs(t)) if f else t for t, f in zip(base, floats)]
        gp = grads(xs, d64 * (1 + eps * signs(d64)))
        # r, p and g are None together: exactly for the inputs that get no gradient (``wanted``).
        R = [
            None if r is None or p is None or g is None else torch.maximum(r, (p - g).abs() / eps)
            for r, p, g in zip(R, gp, g0)
        ]
    return tuple(None if g is None or r is None else c * u * (n * r + g.abs()) for g, r in zip(g0, R))
