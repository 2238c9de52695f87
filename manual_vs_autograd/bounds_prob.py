"""Probabilistic per-element bounds: rounding errors propagated as random samples through the real network.

**Why a second bound.** :mod:`.bounds` is a worst-case model: it carries errors through ``|W|`` (every
upstream error assumed aligned with every other) and adds every term's magnitude. Through 3-4 layers
and sums over large batches that compounds to bounds 100-1000 times the differences two correct
implementations actually show, and a whole tensor scaled by ``1 + 1e-3`` in float32 can hide under
it. Here the same rounding model is propagated through the *signed* operations instead, in the spirit
of probabilistic rounding-error analysis (Higham & Mary, SIAM J. Sci. Comput. 41(5), 2019) and Monte
Carlo arithmetic (Parker, 1997). :func:`.bounds.mlp_grad_bounds` takes the element-wise minimum of the
two, so the deterministic bound stays a hard cap.

**The model.** To first order, a computed value is ``v + E(v)`` with ``E`` a linear function of the
roundings ``δ_k`` (``|δ_k| ≤ u``) made along the way: ``E(v) = Σ_k c_k δ_k``. We assume the roundings
are *independent and mean zero* (Higham & Mary's model; Azuma's inequality needs only mean-zero given
the past). Then ``E(v)`` is a sum of independent bounded terms ``|c_k δ_k| ≤ u|c_k|`` and Hoeffding's
inequality gives ``P(|E(v)| ≥ λσ) ≤ 2·exp(-λ²/2)`` with the variance proxy ``σ² = u²Σ_k c_k²``.

``σ`` is estimated by running the network's forward and backward pass on ``K`` random error samples
at once (a leading dimension of size ``K``, float64, on the tensors' device). Every operation adds a
Gaussian error whose standard deviation is the root-sum-square bound of its own roundings, and
propagates the errors it receives through its exact derivative (signs included):

* a sum of ``n`` terms ``t_j`` (``addmm``, ``mm``, ``sum``): its product roundings (``≤ u|t_j|``) and
  its additions, each rounding a partial sum. Whatever the order and association (recursive, blocked,
  pairwise), the additions form a binary tree over the *nonzero* terms (adding an exact zero rounds
  nothing), one rounded partial sum ``s_v`` per internal node. A node over ``m`` terms sums a subset
  of ``m`` of them, so ``|s_v| ≤ B_m = max(T⁺_m, T⁻_m)``, the sums of the ``m`` largest positive and of
  the ``m`` largest negative terms (at most ``P`` and ``N``, the sums of all positive and all negative
  terms). A tree over ``n`` leaves has at most ``n - m + 1`` internal nodes over ``m`` or more terms
  (induction on the root's split), as many as the sequential order has, and ``B_m`` grows with ``m``,
  so ``Σ_v f(|s_v|) ≤ Σ_{m=2}^{n} f(B_m)`` in every order for any growing ``f`` (Abel summation;
  ``tests/test_bounds_prob.py`` checks it on random trees). Inside the network a sum's own roundings
  are drawn with ``own = u·√(Σt_j² + (n - 1)·max(P, N)²)`` (:func:`_sum_std`, its products are not
  formed); a gradient's own final sum is bounded in the worst case (below), with the ramp ``B_m`` for
  a bias's sum over the batch (computed from the sorted terms; on a sum that cancels it is about 3/4
  of ``(n - 1)·max(P, N)``). Linear layer ``a = h Wᵀ + b``:
  ``E(a) = E(h) Wᵀ + own``; its backward ``E(dW) = E(da)ᵀ h + daᵀ E(h) + own``,
  ``E(db) = Σ_n E(da) + own``, ``E(dh) = E(da) W + own``;
* an activation ``h = f(a)``: ``E(h) = f'(a)·E(a) + k_f·u·|h|`` (``k_f`` of :mod:`.bounds`: 4 for
  sigmoid and tanh, 0 for relu and identity); its backward ``da = dh·φ(h)``:
  ``E(da) = φ·E(dh) + dh·φ'(h)·E(h) + √3·u·|dh|·T`` with :mod:`.bounds`' term sizes ``T``;
* the losses (MSE, BCE, softmax cross-entropy; :mod:`.bounds_prob_loss`) step by step, each
  elementary operation one rounding (``exp`` and ``log`` two), e.g. BCE's ``(p - y)/((1 - p)p)/M``
  with the error of ``1 - p`` carried exactly, and a scale computed once (``2/M``, ``-1/N``) adding
  *one* error, signed like the value it scales, shared by every element.

Errors are the same where the operands are: a rounding is a deterministic function of its inputs, so
batch rows with equal ``x`` share their forward draws, and rows with equal ``(x, y)`` their backward
draws (a batch of repeated samples sums its errors coherently, as it does in floating point). The
injected terms dominate each operation's variance proxy, and the propagation is the linearised error
map itself, so every sample is one realisation of a Gaussian with variance ``σ_i² ≥ u²Σ_k c_{ik}²``
per element. With Gaussian draws ``K·σ̂_i²/σ_i² ~ χ²_K`` exactly (``σ̂_i`` the root mean square over
the samples).

**The constant.** For a gradient element, ``E = E_up + E_own``: the samples carry everything upstream
(``σ̂_up``, estimated), while its own final sum (over the batch) is bounded in the worst case,
``|E_own| ≤ w_i = u·(Σ|t| + Σ_v |s_v|)`` (:func:`_sum_worst`: every product and every addition, in
any order, the partial sums by the ramp ``B_m`` for a plain sum, by ``max(P, N)`` for a matrix
product). Not as independent roundings: rows that repeat, or nearly, make a loop over the batch round
alike at every addition, so its error grows like ``n``, not ``√n`` (2000 equal rows summed one by one
in float32 reach 1.5 times an independent-rounding bound; ``tests/test_verdict.py``). The bound is
``bound_i = √2·c_K(p)·σ̂_up + 2·w_i + R_i`` (the loss value likewise, ``w`` its mean over the batch:
:mod:`.bounds_prob_loss`). A bias gradient's sum over the batch is where that worst case costs most
(a sum that cancels hundreds-fold over a few dozen rows: the two sides' own roundings alone may
then reach 10⁻³ of it in float32), so it also gets the smaller of that and
``√2·√(c_K²σ̂_up² + λ²σ_own²) + 2·u·Σ_{top d} B_m + R_i`` (:func:`_batch_sum_own`): the additions of
its ``d`` *alike* terms (each within ``2u·max(P, N)`` of another, closer than the spacing of the
floats near the largest partial sum, so that adding either rounds the same way: repeated rows, or
nearly) in the worst case, the others as independent roundings with the known proxy
``σ_own² = u²·Σ B_m²``, but for a measured *bias*: terms whose bits below the floats' spacing agree
(quantised or crafted values: a zeroed last layer makes the terms the targets themselves) round the
same way without being alike, so the mean rounding of the terms is measured at every spacing and the
part beyond chance is added in the worst case (:func:`_rounding_bias`). Its tail holds at ``p`` too: it fails with probability
``2·exp(-λ²(1 - α)/2)·(1 + α·c_K²/K)^{-K/2}``, ``α`` the sampled part's share of the variance, which is
``p`` at both ends and log-convex in ``α`` (test in ``tests/test_bounds_prob.py``).

* ``c_K(p) = √(K·((2/p)^{2/K} - 1))`` (:func:`sample_factor`): for ``E`` sub-Gaussian with proxy
  ``σ²`` and an independent ``σ̂`` with ``K·σ̂²/σ² ~ χ²_K``, ``P(|E| ≥ cσ̂) ≤ E[2·exp(-c²σ̂²/2σ²)]
  = 2·(1 + c²/K)^{-K/2}`` (the χ²_K moment generating function), which is ``p`` at ``c = c_K(p)``:
  Hoeffding's ``λ(p) = √(2 ln(2/p))`` for an exact ``σ`` (7.5 at ``p = 1e-12``), widened for knowing
  ``σ`` only from ``K`` samples: 23.1 at ``K = 16``, 12.5 at ``K = 32``, 9.5 at ``K = 64``, 97 at ``K = 8``;
* ``p`` = :data:`FAILURE_PROBABILITY` = 1e-12 per element: a run that checks 10⁶ elements at each of
  10⁴ steps flags a correct implementation with probability ≤ 1%, if the model's assumptions hold;
* ``√2``: two independent implementations, each with proxy ``σ²``, differ with proxy ``2σ²`` (a float64
  reference counts as a second side: the bound is then conservative by ``√2``); ``2·w_i``: each side's
  own final sum, added (in the worst case the two round in opposite directions);
* ``R_i`` (:func:`.bounds.second_order_terms`): what the neglected higher-order terms can add, both
  sides: ``x/(1 - x)·2·u·S_i`` with ``u·S_i`` the worst-case first-order error of :mod:`.bounds` and
  ``x`` the network's higher-order ratio (``u`` per rounding along its longest chain, and the
  curvature of its activations and loss at their inputs' error): about ``10⁻⁵`` in float32, so
  ``R_i`` is negligible there; where ``x ≥ 1/3`` it is ``inf`` and the worst case stands alone.

``K`` (:func:`samples_for`): 64 where the passes fit :data:`SAMPLE_WORK` (2³¹ multiply-adds, about a
second of float64 work on two CPU cores), else 32, else :data:`SAMPLES` = 16. ``c_K`` is 23.1 at
16, 12.5 at 32 and 9.5 at 64, towards the limit 7.5 (97 at 8): small networks, where the mutation
suite's hardest cases live, get the tight bound for a fraction of a second, large ones pay 16 passes.
The cost is about ``K`` float64 passes with the samples as a batch dimension, plus drawing them:
measured on two busy CPU cores for a 784-1024-1024-10 relu/CE network, batch 512, float32: 44 s
(``K = 16``; 27 s at 8, 88 s at 32) against 5.7 s for the worst-case bound alone. The generator is seeded (``seed=0``): the bound,
and so the verdict, is reproducible.

**Where the assumptions can fail, and what is done.** Independence fails for data with structure
(constant rows: handled above by sharing draws; exactly representable values round to 0, which only
helps), or when a sum's order follows its values (a sorted sum's partial sums all sit near ``P``: the
model allows that size, but adds those roundings as independent). A gradient's own final sum is
bounded in the worst case for that reason (above; a bias's over its alike terms). An upstream sum's own rounding is inside the
sampled part even in the worst case, ``(n - 1)·max(P, N)`` per side, while ``n - 1 ≤ c_K²/2`` (267
terms at ``K = 16``, 45 at ``K = 64``); a longer upstream sum (a wide layer) whose additions round
alike (features that repeat along a row) is the case the model still assumes away; and the bound is
capped by the deterministic one of :mod:`.bounds` in any case. Where first order fails the model is
not used: a relu gate within ``C·σ̂`` of 0 (``C = 1.5·√2·c_K``, :func:`prob_constant`) may flip on
either side. Its forward error ``relu(a + E) - relu(a)`` lies between 0 and ``E`` and is carried as
``E``; in the backward one side may pass the whole ``dh`` where the other passes none, a worst-case
term ``|dh|`` carried to the gradients below through ``|φ|``, ``|W|`` and ``|h|`` (as in :mod:`.bounds`)
and added, times 1.5 (:data:`C_SECOND_ORDER`, as in :mod:`.bounds`), to the bound (wide relu layers almost always have a few such gates). A sigmoid
output within ``C·σ̂`` of 0 or 1 under BCE (where ``1 - p`` or the floor on ``p(1 - p)`` takes over)
leaves every gradient to the deterministic bound. Layer normalisation and registered (user)
activations and losses have no propagation here: their networks keep the deterministic bound
(:func:`mlp_prob_bounds` returns ``None``).

**What it assumes away.** Inside the network: sums whose additions round alike (above). In a bias's
batch sum: terms that are exact ties (``r = 1/2``) at some spacing, arranged so that each tie goes the
same way (a tie goes to the even neighbour, which depends on the partial sum as much as on the term);
and a bias hidden below chance (``3/√(12n)`` of the spacing per addition), which adds at most about a
sixth of the independent part. The worst-case cap of :mod:`.bounds` stands in any case
(``probabilistic=False`` gives it alone).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

import torch
from torch import Tensor

from .bounds import _FN_ULPS, _builtin
from .bounds_prob_loss import loss_errors
from .config import MLPConfig

__all__ = [
    "C_SECOND_ORDER",
    "FAILURE_PROBABILITY",
    "SAMPLES",
    "mlp_prob_bounds",
    "prob_constant",
    "sample_factor",
    "samples_for",
]

SAMPLES = 16
"""The fewest random error samples ``K`` carried through the network (about ``K`` float64 passes of cost)."""
SAMPLE_CHOICES = (64, 32, 16)
"""``K`` is the largest of these whose passes fit :data:`SAMPLE_WORK` (:func:`samples_for`)."""
SAMPLE_WORK = 2**31
"""Multiply-adds (and draws) the ``K`` passes may take: about a second of float64 work on two CPU cores."""
SAMPLE_BYTES = 64 * 2**20
"""The most one error-sample tensor (``K`` × batch × the widest layer, float64) may take; a few are alive at once."""
FAILURE_PROBABILITY = 1e-12
"""``p``: the probability, per element, that a correct implementation's error exceeds its bound."""
C_SECOND_ORDER = 1.5
"""On the worst-case terms here (gates that may flip) and in their threshold: higher orders, as in :mod:`.bounds`."""


def sample_factor(samples: int, failure: float) -> float:
    """``c_K(p) = √(K((2/p)^{2/K} - 1))``: ``P(|E| ≥ c·σ̂) ≤ p`` for sub-Gaussian ``E`` and ``σ̂`` from ``K`` samples.

    ``samples=0`` stands for ``σ`` known exactly: Hoeffding's ``λ = √(2 ln(2/p))``, the limit ``K → ∞``.
    """
    if samples == 0:
        return math.sqrt(2 * math.log(2 / failure))
    return math.sqrt(samples * math.expm1(2 * math.log(2 / failure) / samples))


def samples_for(config: MLPConfig, batch: int) -> int:
    """``K`` for a network and batch: 64 samples where their passes are cheap, down to :data:`SAMPLES` (16);
    0 (no probabilistic bound: the worst case alone) where even 16 samples of the widest layer's errors
    would not fit :data:`SAMPLE_BYTES` (a batch of 100 000 rows at width 16 would need 205 MB per tensor).

    ``c_K`` falls from 23.1 (16 samples) to 12.5 (32) and 9.5 (64), towards Hoeffding's 7.5: more samples
    buy a tighter bound for time that a small network can spare and a large one cannot.
    """
    per_sample = batch * sum(math.prod(shape) + shape[0] for shape in config.param_shapes().values() if len(shape) == 2)
    per_sample_bytes = batch * max(config.sizes) * 8
    fits = [K for K in (*SAMPLE_CHOICES, SAMPLES) if K * per_sample_bytes <= SAMPLE_BYTES]
    if not fits:
        return 0
    return next((K for K in fits if K * per_sample <= SAMPLE_WORK), fits[-1])


def prob_constant(samples: int = SAMPLES, failure: float = FAILURE_PROBABILITY) -> float:
    """``C = 1.5 · √2 · c_K(p)``: second order, two sides, the tail at ``p`` with ``σ`` from ``K`` samples."""
    return C_SECOND_ORDER * math.sqrt(2) * sample_factor(samples, failure)


class _Noise:
    """Gaussian draws with a leading sample dimension ``K``, rows shared where their operands are equal.

    Drawn in float32 and widened to float64 (a float32 normal is a normal to 1e-7; it is four times
    faster to draw, and drawing is most of this model's cost on the CPU).
    """

    def __init__(self, samples: int, x: Tensor, y: Tensor, seed: int) -> None:
        self.K = samples
        self.generator = torch.Generator(device=x.device).manual_seed(seed)
        n = x.shape[0]
        x64 = x.detach().to(torch.float64).reshape(n, -1)
        key = torch.cat([x64, y.detach().to(torch.float64).reshape(n, -1)], dim=1)
        self.groups = {False: self._groups(x64), True: self._groups(key)}  # forward: rows of x; backward: (x, y)

    @staticmethod
    def _groups(rows: Tensor) -> tuple[int, Tensor | None]:
        """The number of distinct rows, and each row's group (``None`` when all rows differ).

        Rows are told apart by a fixed projection on irrational weights ``√(1..2)`` (``unique`` over
        rows is slow): equal rows always share a group; two different rows that project to the same
        float64 (none in practice) would only tie their draws together.
        """
        weights = torch.linspace(1.0, 2.0, rows.shape[1], dtype=rows.dtype, device=rows.device).sqrt()
        unique, inverse = torch.unique(rows @ weights, return_inverse=True)
        return (unique.shape[0], None) if unique.shape[0] == rows.shape[0] else (unique.shape[0], inverse)

    def _randn(self, *shape: int, like: Tensor) -> Tensor:
        draws = torch.randn(self.K, *shape, generator=self.generator, dtype=torch.float32, device=like.device)
        return draws.to(torch.float64)

    def rows(self, std: Tensor, backward: bool = True) -> Tensor:
        """``(K, N, C)`` for ``std`` (N, C): equal rows (``x``, or ``(x, y)`` in the backward) share draws."""
        count, inverse = self.groups[backward]
        draws = self._randn(count, std.shape[1], like=std)
        return (draws if inverse is None else draws[:, inverse]).mul_(std)  # in place: memory

    def shared(self, std: Tensor) -> Tensor:
        """``(K, *std.shape)``: one draw per sample for the whole tensor (a scale rounded once)."""
        return self._randn(*([1] * std.dim()), like=std) * std


class _Layer(NamedTuple):
    """What the error propagation's backward needs from one layer's forward (values and their error samples)."""

    h_in: Tensor  # (N, I) the layer's input
    E_in: Tensor  # (K, N, I) its error samples
    W: Tensor  # (O, I)
    h: Tensor  # (N, O) the activation's output
    E_h: Tensor  # (K, N, O) its error samples
    dphi: Tensor  # (N, O) φ'(h), the backward derivative's derivative in the output
    T: Tensor  # (N, O) the term size of the backward derivative's roundings
    flip: Tensor | None  # (N, O) relu gates within C·σ̂ of 0, which either side may take the other way


def _sum_std(u: float, A: Tensor, B: Tensor, bias: Tensor | None = None) -> Tensor:
    """The own-rounding proxy ``u·√(Σt² + (n - 1)·max(P, N)²)`` of each sum in ``A @ B (+ bias)``, for the samples.

    ``t`` are the products ``A_ik·B_kj`` (rounded: ``Σt²``); each addition rounds a partial sum, at most
    ``max(P, N)`` in any order (the sums of the positive and of the negative products); only nonzero
    terms are counted: adding an exact zero rounds nothing.
    """
    pos, neg = A.clamp_min(0), (-A).clamp_min(0)
    Bp, Bn = B.clamp_min(0), (-B).clamp_min(0)
    P, N, sq = pos @ Bp + neg @ Bn, pos @ Bn + neg @ Bp, (A * A) @ (B * B)
    terms = (A != 0).to(A.dtype) @ (B != 0).to(A.dtype)  # nonzero products per sum (exact counts in float64)
    if bias is not None:
        P, N, terms = P + bias.clamp_min(0), N + (-bias).clamp_min(0), terms + (bias != 0).to(A.dtype)
    return u * (sq + (terms - 1).clamp_min(0) * torch.maximum(P, N).square()).sqrt()


def _sum_worst(u: float, A: Tensor, B: Tensor | None = None) -> Tensor:
    """The own rounding of each sum in ``A @ B``, or ``A.sum(0)``, in the worst case: ``u·(Σ|t| + Σ_v |s_v|)``.

    A gradient's own final sum (over the batch) is bounded deterministically, not as independent
    roundings: rows that repeat, or nearly, make its additions round alike, so that in a sequential
    loop the error grows like ``n``, not ``√n`` (2000 equal rows summed one by one in float32 reach
    1.5 times the independent-rounding bound). The products' roundings are at most ``u·Σ|t|``; the
    additions' at most ``u·Σ_{m=2}^{n} B_m`` (:func:`_ramp`, any order) for a plain sum and
    ``u·(n - 1)·max(P, N)`` for a matrix product, over the nonzero terms.
    """
    if B is None:
        return u * _ramp(A).sum(0)
    pos, neg = A.clamp_min(0), (-A).clamp_min(0)
    Bp, Bn = B.clamp_min(0), (-B).clamp_min(0)
    P, N = pos @ Bp + neg @ Bn, pos @ Bn + neg @ Bp
    terms = (A != 0).to(A.dtype) @ (B != 0).to(A.dtype)
    return u * (P + N + (terms - 1).clamp_min(0) * torch.maximum(P, N))


def _batch_sum_own(u: float, A: Tensor, ramp: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """A bias gradient's own final sum, ``A.sum(0)`` over the batch, per column: ``(coherent, std)``
    (``ramp``: :func:`_ramp` of ``A`` where the caller has it already).

    Each addition rounds a partial sum ``s_v`` by at most ``u·|s_v|``; sorted, the ``k``-th largest
    ``|s_v|`` is at most ``B_{n-k+1}`` (:func:`_ramp`, any order). Additions of terms that are *alike*
    (another term lies within ``2u·max(P, N)``, closer than the spacing of floats near the largest
    partial sum: repeated rows, or nearly) may round alike: ``coherent`` bounds ``d`` of them (``d`` the
    alike terms) in the worst case by the ``d`` largest ``B_m``, ``u·Σ_{top d} B_m``, and the others'
    measured bias (:func:`_rounding_bias`) likewise. The rest rounds independently: mean-zero terms of
    at most ``u·B_m`` each, variance proxy ``std² = u²·Σ B_m²`` (all ``m``, to stay on the safe side),
    which joins the sampled errors' proxy.
    """
    ramp = _ramp(A) if ramp is None else ramp  # (N, C)
    values = torch.where(A != 0, A, math.nan).sort(dim=0).values  # zeros round nothing; NaN sorts last
    near = values.diff(dim=0) <= 2 * u * ramp.amax(0, keepdim=True)  # NaN gaps (the zeros') compare False
    pad = torch.zeros_like(near[:1])
    alike = torch.cat([pad, near]) | torch.cat([near, pad])
    top = ramp.sort(dim=0, descending=True).values
    rank = torch.arange(A.shape[0], device=A.device).unsqueeze(1)
    worst_alike = (top * (rank < alike.sum(0))).sum(0)
    bias = _rounding_bias(u, A, ramp.amax(0))
    coherent = worst_alike + bias * (ramp.sum(0) - worst_alike)
    return u * coherent, u * ramp.square().sum(0).sqrt()


BIAS_LEVELS = 64
"""At most this many float spacings are tried for a rounding bias (float32 terms span far fewer)."""


def _rounding_bias(u: float, A: Tensor, largest: Tensor) -> Tensor:
    """Per column of terms ``A``, the fraction of each addition's largest rounding that may be *biased*.

    Adding a term ``t`` to a partial sum whose floats are spaced ``q`` rounds away ``t``'s part below
    ``q``: its signed rounding is ``ρ(r) = r`` for ``r = (t/q) mod 1 < 1/2``, else ``r - 1`` (in units
    of ``q``). Terms whose ``r`` are spread make roundings of mean zero, as the independent model
    assumes; terms crafted or quantised so that their bits below ``q`` agree (a grid, one offset) all
    round the same way, even when no two are alike. For every spacing from the one near the largest
    partial sum (``largest``) down to the smallest term's, the mean ``ρ̄`` of the nonzero terms is
    measured; what exceeds chance (``3/√(12n)``: three standard deviations of the mean of ``n``
    uniform roundings) counts as bias, and the largest such excess, doubled (``|ρ| ≤ 1/2``), is the
    fraction returned (0: unbiased; 1: every addition may round fully one way). The terms are taken
    as the working precision holds them, so ``r`` is exact (a power-of-two scaling and its fraction).
    """
    floats = (torch.float64, torch.float32, torch.bfloat16, torch.float16)
    dtype = next((d for d in floats if torch.finfo(d).eps / 2 == u), torch.float64)  # the precision u belongs to
    digits = round(-math.log2(u))  # significand bits: 24 in float32
    terms = A.to(dtype).to(torch.float64)
    nonzero = terms != 0
    n = nonzero.sum(0).clamp_min(1)
    chance = 3 / torch.sqrt(12 * n.to(torch.float64))
    smallest = torch.where(nonzero, terms.abs(), math.inf).amin(0)
    tiny = torch.finfo(torch.float64).tiny
    top = torch.floor(torch.log2(largest.clamp_min(tiny))) - (digits - 1)  # spacing exponent near the largest sum
    bottom = torch.floor(torch.log2(smallest.clamp(min=tiny, max=math.inf))) - (digits - 1)
    levels = int(torch.clamp(top - bottom + 1, 1, BIAS_LEVELS).max()) if bool(nonzero.any()) else 0
    bias = torch.zeros_like(largest)
    for level in range(levels):
        exponent = (top - level).clamp(min=-1000)
        r = torch.remainder(torch.ldexp(terms, -exponent), 1.0)  # exact: a power-of-two scaling and a fraction
        rho = torch.where(r < 0.5, r, r - 1).nan_to_num(0.0)
        rho = torch.where(r == 0.5, 0.0, rho)  # a tie goes to the even neighbour: either way
        mean = (rho * nonzero).sum(0) / n
        active = exponent >= bottom  # finer than the smallest term's spacing nothing rounds
        bias = torch.maximum(bias, torch.where(active, (mean.abs() - chance).clamp_min(0), 0.0))
    return (2 * bias).clamp(max=1.0)


def _ramp(A: Tensor) -> Tensor:
    """``B_m`` per column of ``A`` at each rounded addition (row ``m - 1``; 0 where no addition rounds)."""
    largest = torch.stack([A.clamp_min(0), (-A).clamp_min(0)]).sort(dim=1, descending=True).values
    ramp = largest.cumsum(dim=1).amax(dim=0)  # (N, C): row m - 1 is B_m
    m = torch.arange(1, A.shape[0] + 1, device=A.device).unsqueeze(1)
    return ramp * ((m >= 2) & (m <= (A != 0).sum(0)))


def _var(E: Tensor) -> Tensor:
    """``σ̂²``: the mean square over the sample dimension."""
    return E.square().mean(0)


def _rms(E: Tensor) -> Tensor:
    """``σ̂``: the root mean square over the sample dimension."""
    return E.square().mean(0).sqrt()


def _activation(name: str, a: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """``h = f(a)``, ``f'(a)``, and the backward's ``φ'(h)`` (``da = dh·φ(h)``) and term size ``T``."""
    if name == "sigmoid":
        h = torch.sigmoid(a)
        return h, h * (1 - h), 1 - 2 * h, h.abs() * (1 + h.abs())
    if name == "tanh":
        h = torch.tanh(a)
        return h, 1 - h * h, -2 * h, 1 + h * h
    zero = torch.zeros_like(a)
    if name == "relu":
        return torch.relu(a), (a > 0).to(a.dtype), zero, zero
    return a, torch.ones_like(a), zero, zero  # identity


def mlp_prob_bounds(
    config: MLPConfig,
    params: Mapping[str, Tensor],
    x: Tensor,
    y: Tensor,
    u: float,
    *,
    samples: int | None = None,
    failure: float = FAILURE_PROBABILITY,
    seed: int = 0,
    second_order: Mapping[str, Tensor] | None = None,
) -> dict[str, Tensor] | None:
    """Per-element bounds for ``dW1, db1, ...`` and ``loss`` (float64), see the module docstring.

    ``samples``: ``K`` (default :func:`samples_for` the network and batch); ``second_order``: the
    higher-order terms of :func:`.bounds.second_order_terms` (computed here when not given).

    ``inf`` where first order may fail (a BCE output within its error of 0 or 1); ``None`` for networks this model does not cover (layer norm, registered activations
    or losses): the deterministic bound of :mod:`.bounds` then stands alone.
    """
    layers = range(1, config.n_layers + 1)
    if config.norm != "none" or not _builtin(config.loss, "loss"):
        return None
    if not all(_builtin(config.layer_activation(layer), "activation") for layer in layers):
        return None
    if samples is None:
        samples = samples_for(config, x.shape[0])
    if samples == 0:  # the samples would not fit in memory: the worst case alone
        return None
    if second_order is None:
        from .bounds import _magnitudes, second_order_terms

        S, nonlinear = _magnitudes(config, params, x, y, u)
        second_order = second_order_terms(config, S, x.shape[0], u, nonlinear)
    C = prob_constant(samples, failure)
    f64 = torch.float64
    noise = _Noise(samples, x, y, seed)
    h = x.to(f64)  # (N, I)
    E_h = torch.zeros(samples, *h.shape, dtype=f64, device=h.device)  # the data is exact
    saved: list[_Layer] = []
    for layer in layers:
        W, b = params[f"W{layer}"].to(f64), params[f"b{layer}"].to(f64)
        a = torch.addmm(b, h, W.t())  # (N, O)
        E_a = (E_h @ W.t()).add_(noise.rows(_sum_std(u, h, W.t(), b), backward=False))  # (K, N, O)
        name = config.layer_activation(layer)
        h_in, E_in = h, E_h
        h, d1, dphi, T = _activation(name, a)
        flip = (a.abs() < C * _rms(E_a)) if name == "relu" else None  # an exact 0 (no error) stays shut
        if flip is not None and bool(flip.any()):
            d1 = torch.where(flip, 1.0, d1)  # relu(a + E) - relu(a) lies between 0 and E: carried as E
        else:
            flip = None
        E_h = E_a.mul_(d1).add_(noise.rows(_FN_ULPS[name] * u * h.abs(), backward=False))  # E_a's storage
        saved.append(_Layer(h_in, E_in, W, h, E_h, dphi, T, flip))
    yt = y.to(f64) if y.is_floating_point() else y
    E_L, own_L, dh, E_dh, sound = loss_errors(config.loss, h, E_h, yt, u, noise, C)
    # per tensor: the samples' variance of everything upstream (σ̂², kept instead of the samples: memory),
    # and its own final sum's rounding in the worst case
    errors: dict[str, tuple[Tensor, Tensor]] = {"loss": (_var(E_L), own_L)}
    independent: dict[str, tuple[Tensor, Tensor]] = {}  # bias sums: (coherent part, independent part's proxy)
    flipped: dict[str, Tensor] = {}  # worst-case terms of gates that may flip, per gradient
    F_dh: Tensor | None = None  # (N, O) their magnitude in ∂L/∂h, carried down through |φ| and |W|
    for layer in reversed(layers):
        s = saved.pop()  # this layer's, released after it
        phi = _activation_phi(config.layer_activation(layer), s.h)
        da = dh * phi  # (N, O)
        E_da = E_dh.mul_(phi).addcmul_(s.E_h, dh * s.dphi).add_(noise.rows(math.sqrt(3) * u * dh.abs() * s.T))
        E_dW = (E_da.transpose(1, 2) @ s.h_in).add_(da.t() @ s.E_in)  # (K, O, I)
        errors[f"dW{layer}"] = (E_dW.square_().mean(0), _sum_worst(u, da.t(), s.h_in))
        del E_dW
        ramp = _ramp(da)  # (N, O): the batch sum's partial sums, for its worst case and its mixed bound
        errors[f"db{layer}"] = (_var(E_da.sum(1)), u * ramp.sum(0))  # (O,), (O,): _sum_worst(u, da)
        independent[f"db{layer}"] = _batch_sum_own(u, da, ramp)
        F_da = None if F_dh is None else phi.abs() * F_dh
        if s.flip is not None:  # a gate that may flip passes, or stops, the whole dh on one side only
            F_up = torch.zeros_like(dh) if F_dh is None else F_dh
            F_da = torch.where(s.flip, dh.abs() + F_up, phi.abs() * F_up)
        if F_da is not None:
            flipped[f"dW{layer}"], flipped[f"db{layer}"] = F_da.t() @ s.h_in.abs(), F_da.sum(0)
        if layer > 1:
            dh = da @ s.W
            E_dh = (E_da @ s.W).add_(noise.rows(_sum_std(u, da, s.W)))  # (K, N, I)
            F_dh = None if F_da is None else F_da @ s.W.abs()
    c_K, lam = sample_factor(samples, failure), sample_factor(0, failure)
    bounds = {}
    for name in [*(f"d{p}" for p in config.param_shapes()), "loss"]:
        var, own = errors[name]
        bound = math.sqrt(2) * c_K * var.sqrt() + 2 * own + second_order[name]
        if name in independent:  # the same sum with its independent additions in the sampled part's proxy
            coherent, std = independent[name]
            tail = (c_K**2 * var + lam**2 * std.square()).sqrt()
            bound = torch.minimum(bound, math.sqrt(2) * tail + 2 * coherent + second_order[name])
        if name in flipped:
            bound = bound + C_SECOND_ORDER * flipped[name]
        bounds[name] = bound if sound else torch.full_like(bound, math.inf)
    return bounds


def _activation_phi(name: str, h: Tensor) -> Tensor:
    """``φ(h)``: the activation's derivative written in its output, as the backward passes compute it."""
    if name == "sigmoid":
        return h * (1 - h)
    if name == "tanh":
        return 1 - h * h
    if name == "relu":
        return (h > 0).to(h.dtype)
    return torch.ones_like(h)
