"""Gradient parity: the manual backward pass and autograd, from the same parameters and batch.

Each gradient element ``i`` is held to its own bound ``|manual_i - reference_i| ≤ bound_i`` from the
error model of :mod:`.bounds` (the same computation run on magnitudes). :func:`compare_tensors`
reports, per tensor, the verdict and the worst element (its index, both values, its bound, its
distance in ULPs); :func:`compare_gradients` does it for a whole network; :func:`assert_grads_close`
is the same check for test suites.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import torch
from torch import Tensor

from .bounds import C_TWO_SIDES, _g, mlp_grad_bounds, unit_roundoff
from .config import MLPConfig
from .errors import summarise
from .manual import loss_and_grads
from .tolerance import Tolerance, tolerance_for
from .twin import TwinMLP
from .validation import check_inputs

__all__ = [
    "GradientReport",
    "ParamParity",
    "assert_grads_close",
    "compare_gradients",
    "compare_tensors",
    "format_parity_table",
    "ulp_distance",
    "unravel",
]

_INT_VIEW = {
    torch.float64: torch.int64,
    torch.float32: torch.int32,
    torch.float16: torch.int16,
    torch.bfloat16: torch.int16,
}
_INT64_MAX = 2**63 - 1


def _ordered_bits(t: Tensor) -> Tensor:
    """Float bits as integers that count up with the float's value (+0 and -0 both map to 0)."""
    bits = t.contiguous().view(_INT_VIEW[t.dtype]).to(torch.int64)
    sign_free = bits & ((1 << (8 * t.element_size() - 1)) - 1)  # magnitude bits
    return torch.where(bits < 0, -sign_free, sign_free)


def ulp_distance(a: Tensor, b: Tensor) -> Tensor:
    """Element-wise number of representable floats between ``a`` and ``b`` (same dtype), as int64.

    0 means bitwise equal, or +0 against -0; 1 means neighbours. Across zero the floats on both sides
    are counted: the smallest positive and the smallest negative subnormal are 2 apart, and 1.0
    against -1.0 in float64 is about 9.2e18 (every float in between). Distances beyond int64's range
    (only float64 values near ±max against each other) saturate at 2**63 - 1, as does any NaN.
    """
    if a.dtype != b.dtype or a.dtype not in _INT_VIEW:
        raise TypeError(f"ulp_distance needs two tensors of one float dtype, got {a.dtype} and {b.dtype}")
    oa, ob = _ordered_bits(a), _ordered_bits(b)
    if a.dtype == torch.float64:  # |oa - ob| < 2**64 may overflow int64: subtract in halves
        hi = (oa >> 1) - (ob >> 1)
        if bool((hi.abs() >= 2**61).any()):
            dist = torch.where(hi.abs() >= 2**61, torch.full_like(oa, _INT64_MAX), (oa - ob).abs())
        else:
            dist = (oa - ob).abs()
    else:
        dist = (oa - ob).abs()
    nan = a.isnan() | b.isnan()
    return torch.where(nan, torch.full_like(dist, _INT64_MAX), dist)


@dataclass(frozen=True)
class ParamParity:
    """How one tensor of the manual side compares with the reference's (autograd's).

    The verdict is per element: ``|Δ_i| ≤ bound_i``; ``max_ratio`` is the largest ``|Δ_i|/bound_i``
    (0 where both are 0; infinite where a difference meets a zero bound, or a NaN appears).
    """

    name: str
    shape: tuple[int, ...]
    max_abs_diff: float
    max_rel_diff: float  # max |Δ| / |reference| over entries where the reference is nonzero
    max_ulp: int
    exact: bool  # bitwise equal
    scaled_diff: float  # max |Δ| / max(max |reference|, 1): the old tolerance's measure, kept for comparison
    max_ratio: float = 0.0  # max |Δ_i| / bound_i: the verdict is max_ratio <= 1
    worst_index: tuple[int, ...] = ()  # the element with the largest ratio
    worst_manual: float = 0.0
    worst_reference: float = 0.0
    worst_bound: float = 0.0
    worst_ulp: int = 0
    bounded: bool = False  # whether per-element bounds were given

    @property
    def within(self) -> bool:
        """The verdict: every element within its bound (bitwise equal when no bounds were given)."""
        return self.max_ratio <= 1.0 if self.bounded else self.exact

    def ok(self, bound: float | None = None) -> bool:
        """The verdict; with a number, the old check ``scaled_diff <= bound`` instead."""
        return self.within if bound is None else self.scaled_diff <= bound


def unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The index of element ``flat`` of a row-major tensor of ``shape`` (``()`` for a 0-d one).

    Plain integer arithmetic: ``torch.unravel_index`` imports sympy on its first call (a second of
    start-up in the middle of a run, and a library that swallows Ctrl-C while it loads).
    """
    index = []
    for size in reversed(shape):
        flat, k = divmod(flat, size) if size else (flat, 0)
        index.append(k)
    return tuple(reversed(index))


def compare_tensors(name: str, manual: Tensor, reference: Tensor, bound: Tensor | None = None) -> ParamParity:
    """Compare two tensors of one shape; with ``bound`` (same shape, or broadcastable) judge each element.

    ``manual`` and ``reference`` may differ in dtype (a float32 computation against a float64
    reference): differences are taken in float64, ULPs in the coarser of the two dtypes.
    """
    coarse = manual.dtype if torch.finfo(manual.dtype).eps >= torch.finfo(reference.dtype).eps else reference.dtype
    m64, r64 = manual.detach().to(torch.float64), reference.detach().to(torch.float64)
    diff = (m64 - r64).abs()
    nonzero = r64 != 0
    rel = (diff[nonzero] / r64[nonzero].abs()).max().item() if bool(nonzero.any()) else 0.0
    max_abs = diff.max().item() if diff.numel() else 0.0
    scale = max(r64.abs().max().item(), 1.0) if r64.numel() else 1.0
    ulps = ulp_distance(manual.detach().to(coarse), reference.detach().to(coarse))
    if bool(torch.isnan(diff).any()):
        max_abs = rel = math.nan
    summary = ParamParity(
        name=name,
        shape=tuple(manual.shape),
        max_abs_diff=max_abs,
        max_rel_diff=rel,
        max_ulp=int(ulps.max().item()) if manual.numel() else 0,
        exact=bool(torch.equal(manual, reference)) if manual.dtype == reference.dtype else bool(torch.equal(m64, r64)),
        scaled_diff=max_abs / scale,
        bounded=bound is not None,
    )
    if diff.numel() == 0:
        return summary
    if bound is None:
        key = diff.nan_to_num(math.inf)
    else:
        b = bound.detach().to(torch.float64).expand_as(diff)
        key = torch.where(diff == 0, torch.zeros_like(diff), diff / b).nan_to_num(math.inf, math.inf)
    flat = int(key.reshape(-1).argmax().item())
    index = unravel(flat, tuple(diff.shape))
    return replace(
        summary,
        max_ratio=float(key.reshape(-1)[flat].item()) if bound is not None else 0.0,
        worst_index=index,
        worst_manual=float(m64.reshape(-1)[flat].item()),
        worst_reference=float(r64.reshape(-1)[flat].item()),
        worst_bound=float(b.reshape(-1)[flat].item()) if bound is not None else 0.0,
        worst_ulp=int(ulps.reshape(-1)[flat].item()),
    )


def format_parity_table(rows: tuple[ParamParity, ...] | list[ParamParity]) -> str:
    """One line per tensor: verdict, worst element's index, both values, its bound and ULP distance."""
    lines = [
        f"{'tensor':<8} {'verdict':<8} {'worst at':<10} {'manual':>13} {'reference':>13} {'|diff|':>10} {'bound':>10} {'ULP':>6}"
    ]
    for r in rows:
        verdict = "ok" if r.within else "OUTSIDE"
        diff = abs(r.worst_manual - r.worst_reference)
        lines.append(
            f"{r.name:<8} {verdict:<8} {list(r.worst_index)!s:<10} {r.worst_manual:>13.6g} {r.worst_reference:>13.6g} "
            f"{diff:>10.3g} {r.worst_bound:>10.3g} {r.worst_ulp:>6d}"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class GradientReport:
    """Both sides' loss and the per-parameter comparison of their gradients, each element against its bound."""

    loss_manual: float
    loss_autograd: float
    loss: ParamParity
    params: tuple[ParamParity, ...]
    tolerance: Tolerance  # the old per-dtype tolerances, reported beside the bounds

    @property
    def parity(self) -> bool:
        """Loss and every gradient element within its bound."""
        return all(p.within for p in (self.loss, *self.params))

    @property
    def flagged(self) -> tuple[str, ...]:
        """Names of the parameters whose gradients are outside their bounds."""
        return tuple(p.name for p in self.params if not p.within)


def compare_gradients(config: MLPConfig, params: dict[str, Tensor], x: Tensor, y: Tensor) -> GradientReport:
    """From the same ``params`` and batch ``(x, y)``, both sides' loss and gradients, compared element by element.

    ``params`` are not changed. The autograd side is a :class:`TwinMLP` loaded with a copy.
    Bad inputs raise :class:`~manual_vs_autograd.errors.InputError` (see :mod:`.validation`).
    """
    check_inputs(config, params, x, y)
    L_manual, grads = loss_and_grads(params, x, y, config)
    twin = TwinMLP(config, params)
    L_auto = twin.loss(x, y)
    L_auto.backward()
    auto_grads = twin.math_gradients()
    bounds = mlp_grad_bounds(config, params, x, y)
    rows = tuple(
        compare_tensors(name, grads[f"d{name}"], auto_grads[f"d{name}"], bounds[f"d{name}"]) for name in params
    )
    return GradientReport(
        loss_manual=L_manual.item(),
        loss_autograd=L_auto.item(),
        loss=compare_tensors("loss", L_manual, L_auto.detach(), bounds["loss"]),
        params=rows,
        tolerance=tolerance_for(x.dtype),
    )


def _bound_for(name: str, bounds: Mapping[str, Tensor | None]) -> Tensor | None:
    for key in (name, f"d{name}", name.removeprefix("d")):
        if key in bounds:
            return bounds[key]
    return None


def assert_grads_close(
    manual: Mapping[str, Tensor],
    reference: Mapping[str, Tensor],
    *,
    inputs: tuple[MLPConfig, Mapping[str, Tensor], Tensor, Tensor] | None = None,
    bounds: Mapping[str, Tensor | None] | None = None,
    dtype: torch.dtype | None = None,
) -> tuple[ParamParity, ...]:
    """Raise ``AssertionError`` with a short table unless every ``manual[name]`` is within its bound of ``reference[name]``.

    Where the bounds come from, first match wins:

    * ``bounds``: per name (``"dW1"`` or ``"W1"``), e.g. from :func:`.bounds.layer_grad_bounds`;
    * ``inputs = (config, params, x, y)``: an MLP's gradients, bounded by :func:`.bounds.mlp_grad_bounds`;
    * neither: a coarse bound from the reference alone, ``3·u·γ̃(numel)·max|reference|`` per tensor
      (a sum over at most every element of the tensor; relative to its largest entry, no floor).

    ``dtype`` sets ``u`` (default: the coarser of each pair's dtypes). Returns the rows when all pass.
    """
    missing = sorted(set(reference) - set(manual))
    if missing:
        raise AssertionError(
            f"gradients missing from the manual side: {summarise(missing)}; the manual side has "
            f"{summarise(sorted(manual)) if manual else 'none'} (both mappings must use the same names)"
        )
    if bounds is None and inputs is not None:
        config, params, x, y = inputs
        check_inputs(config, dict(params), x, y)  # one line naming the bad input, not an error from inside torch
        bounds = mlp_grad_bounds(config, params, x, y, dtype=dtype)
    rows = []
    for name, ref in reference.items():
        got = manual[name]
        if tuple(got.shape) != tuple(ref.shape):
            raise AssertionError(f"{name}: manual shape {tuple(got.shape)} != reference shape {tuple(ref.shape)}")
        bound = _bound_for(name, bounds) if bounds is not None else None
        if bound is None:
            coarse = got.dtype if torch.finfo(got.dtype).eps >= torch.finfo(ref.dtype).eps else ref.dtype
            u = unit_roundoff(dtype or coarse)
            scale = ref.detach().abs().max().to(torch.float64) if ref.numel() else torch.tensor(0.0)
            bound = C_TWO_SIDES * u * _g(max(ref.numel(), 1), u) * scale
        rows.append(compare_tensors(name, got, ref, bound))
    bad = [r for r in rows if not r.within]
    if bad:
        raise AssertionError(
            f"{len(bad)} of {len(rows)} gradients outside their bounds ({', '.join(r.name for r in bad)}):\n"
            + format_parity_table(rows)
        )
    return tuple(rows)
