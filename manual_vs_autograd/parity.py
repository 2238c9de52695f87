"""Gradient parity: the manual backward pass and autograd, from the same parameters and batch.

:func:`compare_gradients` computes both sides' loss and every parameter gradient and reports, per
parameter, how far apart they are: max absolute and relative difference, max distance in units in
the last place (ULPs), and whether they are bitwise equal.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .config import MLPConfig
from .manual import loss_and_grads
from .tolerance import Tolerance, tolerance_for
from .twin import TwinMLP
from .validation import check_inputs

__all__ = ["GradientReport", "ParamParity", "compare_gradients", "compare_tensors", "ulp_distance"]

_INT_VIEW = {torch.float64: torch.int64, torch.float32: torch.int32, torch.float16: torch.int16, torch.bfloat16: torch.int16}


def _ordered_bits(t: Tensor) -> Tensor:
    """Float bits as integers that count up with the float's value (+0 and -0 both map to 0)."""
    bits = t.contiguous().view(_INT_VIEW[t.dtype]).to(torch.int64)
    sign_free = bits & ((1 << (8 * t.element_size() - 1)) - 1)  # magnitude bits
    return torch.where(bits < 0, -sign_free, sign_free)


def ulp_distance(a: Tensor, b: Tensor) -> Tensor:
    """Element-wise number of representable floats between ``a`` and ``b`` (same dtype), as int64.

    0 means bitwise equal (or +0 against -0); 1 means neighbours.
    """
    if a.dtype != b.dtype or a.dtype not in _INT_VIEW:
        raise TypeError(f"ulp_distance needs two tensors of one float dtype, got {a.dtype} and {b.dtype}")
    return (_ordered_bits(a) - _ordered_bits(b)).abs()


@dataclass(frozen=True)
class ParamParity:
    """How one tensor of the manual side compares with autograd's."""

    name: str
    shape: tuple[int, ...]
    max_abs_diff: float
    max_rel_diff: float  # max |Δ| / |autograd| over entries where autograd is nonzero
    max_ulp: int
    exact: bool  # bitwise equal
    scaled_diff: float  # max |Δ| / max(max |autograd|, 1): what the tolerance bounds

    def ok(self, bound: float) -> bool:
        """Whether the scaled difference is within ``bound`` (and no NaN crept in)."""
        return self.scaled_diff <= bound


def compare_tensors(name: str, manual: Tensor, autograd: Tensor) -> ParamParity:
    """Compare two tensors of the same shape and dtype."""
    diff = (manual - autograd).abs()
    nonzero = autograd != 0
    rel = (diff[nonzero] / autograd[nonzero].abs()).max().item() if bool(nonzero.any()) else 0.0
    max_abs = diff.max().item() if diff.numel() else 0.0
    scale = max(autograd.abs().max().item(), 1.0) if autograd.numel() else 1.0
    if torch.isnan(diff).any():
        max_abs = rel = float("nan")
    return ParamParity(
        name=name,
        shape=tuple(manual.shape),
        max_abs_diff=max_abs,
        max_rel_diff=rel,
        max_ulp=int(ulp_distance(manual, autograd).max().item()) if manual.numel() else 0,
        exact=bool(torch.equal(manual, autograd)),
        scaled_diff=max_abs / scale,
    )


@dataclass(frozen=True)
class GradientReport:
    """Both sides' loss and the per-parameter comparison of their gradients."""

    loss_manual: float
    loss_autograd: float
    loss: ParamParity
    params: tuple[ParamParity, ...]
    tolerance: Tolerance

    @property
    def parity(self) -> bool:
        """Loss and every gradient within the dtype's tolerance."""
        return all(p.ok(self.tolerance.grad) for p in (self.loss, *self.params))

    @property
    def flagged(self) -> tuple[str, ...]:
        """Names of the parameters whose gradients are outside the tolerance."""
        return tuple(p.name for p in self.params if not p.ok(self.tolerance.grad))


def compare_gradients(config: MLPConfig, params: dict[str, Tensor], x: Tensor, y: Tensor) -> GradientReport:
    """From the same ``params`` and batch ``(x, y)``, both sides' loss and gradients, compared.

    ``params`` are not changed. The autograd side is a :class:`TwinMLP` loaded with a copy.
    Bad inputs raise :class:`~manual_vs_autograd.errors.InputError` (see :mod:`.validation`).
    """
    check_inputs(config, params, x, y)
    L_manual, grads = loss_and_grads(params, x, y, config)
    twin = TwinMLP(config, params)
    L_auto = twin.loss(x, y)
    L_auto.backward()
    auto_grads = twin.math_gradients()
    rows = tuple(compare_tensors(name, grads[f"d{name}"], auto_grads[f"d{name}"]) for name in params)
    return GradientReport(
        loss_manual=L_manual.item(),
        loss_autograd=L_auto.item(),
        loss=compare_tensors("loss", L_manual, L_auto.detach()),
        params=rows,
        tolerance=tolerance_for(x.dtype),
    )
