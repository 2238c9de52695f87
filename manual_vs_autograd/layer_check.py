"""Check your own backward: a hand-written forward/backward pair against a torch reference, three witnesses.

For a pair in the package's style, ``forward(*inputs) -> (out, cache)`` and ``backward(dout, cache)
-> grads`` (in the order of the inputs; a single gradient bare or as a 1-tuple), and a torch function
``reference(*inputs) -> out`` that computes the same forward::

    report = check_layer(softplus_forward, softplus_backward, torch.nn.functional.softplus, x)
    assert_layer_matches(softplus_forward, softplus_backward, torch.nn.functional.softplus, x)

Three witnesses, per input:

1. **your backward**, run in the inputs' own dtype and device on a random upstream gradient ``dout``
   (seeded, so a failure repeats);
2. **autograd** through ``reference``, same dtype and device, same ``dout``: the two must agree to
   within the per-element bound of :func:`layer_grad_bounds` (how far two correct computations in
   this dtype may differ);
3. **central finite differences** of *your* forward in float64: your float64 backward must agree
   with them to the accuracy of a finite difference (this catches a backward that matches a wrong
   reference, or a forward that is not the reference's).

Integer inputs (class labels, indices) take no gradient; keyword arguments go to forward and reference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from .bounds import layer_grad_bounds
from .devices import dtype_name
from .finite_diff import numerical_backward
from .parity import unravel

__all__ = ["InputCheck", "LayerReport", "assert_layer_matches", "check_layer"]

FD_RTOL = 1e-6
"""Finite differences in float64 with h = 1e-6 are good to ~1e-10 of the function's scale; 1e-6 of
each entry plus 1e-6 of the largest one (and of ``Σ|out·dout|``, the scale of ``L``) leaves a wide margin
yet catches any wrong factor, sign or index."""


@dataclass(frozen=True)
class InputCheck:
    """The three witnesses' agreement on one input's gradient."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    verdict: str  # "ok", "MISMATCH vs autograd", "MISMATCH vs finite differences", both, or "no gradient"
    # the witnesses' numbers; None for an input that takes no gradient
    worst_index: tuple[int, ...] | None = None  # the element where |manual - autograd| / bound is largest
    manual: float | None = None  # your gradient there
    autograd: float | None = None  # autograd's there
    bound: float | None = None  # the allowed |manual - autograd| there
    ulps: float | None = None  # |manual - autograd| there, in units in the last place of autograd's value
    max_bound_ratio: float | None = None  # max |manual - autograd| / bound over all elements (≤ 1 passes)
    fd_max_diff: float | None = None  # max |your float64 gradient - finite differences|
    fd_allowed: float | None = None  # what the finite-difference witness allows

    @property
    def ok(self) -> bool:
        return self.verdict in ("ok", "no gradient")


@dataclass(frozen=True)
class LayerReport:
    """Every input's verdict; ``str(report)`` is the table."""

    title: str
    inputs: tuple[InputCheck, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.inputs)

    def __str__(self) -> str:
        head = f"{'input':<10} {'shape':<14} {'dtype':<8} {'verdict':<32} {'worst at':<10} {'manual':>11} "
        head += f"{'autograd':>11} {'|Δ|/bound':>9} {'ULPs':>8} {'FD |Δ| (f64)':>12}"
        lines = [f"{self.title}: {'ok' if self.ok else 'MISMATCH'}", head]
        for c in self.inputs:
            if c.worst_index is None:
                lines.append(f"{c.name:<10} {c.shape!s:<14} {c.dtype:<8} {c.verdict:<32}")
                continue
            lines.append(
                f"{c.name:<10} {c.shape!s:<14} {c.dtype:<8} {c.verdict:<32} {list(c.worst_index)!s:<10} "
                f"{c.manual:>11.4g} {c.autograd:>11.4g} {c.max_bound_ratio:>9.3g} {c.ulps:>8.3g} {c.fd_max_diff:>12.3g}"
            )
        return "\n".join(lines)


def _as_tuple(grads: Any) -> tuple[Any, ...]:
    return (grads,) if isinstance(grads, Tensor) or grads is None else tuple(grads)


def _run_pair(
    forward: Callable[..., Any],
    backward: Callable[..., Any],
    inputs: list[Tensor],
    dout: Tensor | None,
    names: list[str],
    seed: int,
    kwargs: dict[str, Any],
) -> tuple[Tensor, Tensor, list[Tensor | None]]:
    """Your forward and backward on ``inputs``: ``out``, the ``dout`` used, one gradient (or None) per input."""
    result = forward(*inputs, **kwargs)
    if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], Tensor)):
        raise TypeError(f"forward must return (out, cache) with out a tensor; got {type(result).__name__}")
    out, cache = result
    if dout is None:
        generator = torch.Generator().manual_seed(seed)
        dout = torch.randn(out.shape, generator=generator, dtype=torch.float64).to(out.dtype).to(out.device)
    elif dout.shape != out.shape:
        raise ValueError(f"dout has shape {tuple(dout.shape)}; expected forward's output shape {tuple(out.shape)}")
    dout = dout.to(dtype=out.dtype, device=out.device)
    grads = _as_tuple(backward(dout, cache))
    floats = [i for i, t in enumerate(inputs) if t.is_floating_point()]
    if len(grads) == len(inputs):
        by_input = list(grads)
    elif len(grads) == len(floats):
        by_input = [None] * len(inputs)
        for i, g in zip(floats, grads):
            by_input[i] = g
    else:
        raise ValueError(
            f"backward returned {len(grads)} gradient(s); expected {len(inputs)} (one per input: "
            f"{', '.join(names)}) or {len(floats)} (one per floating-point input: "
            f"{', '.join(names[i] for i in floats)})"
        )
    for i, (t, g) in enumerate(zip(inputs, by_input)):
        if i not in floats:
            continue
        if not isinstance(g, Tensor):
            raise TypeError(f"backward's gradient for input {i} ({names[i]}) is {type(g).__name__}; expected a tensor")
        if g.shape != t.shape:
            raise ValueError(
                f"backward's gradient for input {i} ({names[i]}) has shape {tuple(g.shape)}; "
                f"expected {tuple(t.shape)}, the input's shape"
            )
    return out, dout, [g if i in floats else None for i, g in enumerate(by_input)]


def _reference_grads(
    reference: Callable[..., Tensor], inputs: list[Tensor], dout: Tensor, kwargs: dict[str, Any]
) -> tuple[Tensor, list[Tensor | None]]:
    """Autograd through ``reference`` on fresh leaves (your tensors' own ``.grad`` is never touched)."""
    with torch.enable_grad():
        leaves = [t.detach().clone().requires_grad_(True) if t.is_floating_point() else t for t in inputs]
        out = reference(*leaves, **kwargs)
        wanted = [t for t in leaves if t.is_floating_point()]
        got = iter(torch.autograd.grad(out, wanted, dout, allow_unused=True))
    grads: list[Tensor | None] = []
    for t in leaves:
        if t.is_floating_point():
            g = next(got)
            grads.append(torch.zeros_like(t) if g is None else g)
        else:
            grads.append(None)
    return out.detach(), grads


def _ulps(diff: float, value: float, dtype: torch.dtype) -> float:
    """``diff`` in units of the spacing of ``dtype`` floats next to ``value``."""
    v = torch.tensor(abs(value), dtype=dtype)
    spacing = (torch.nextafter(v, torch.tensor(float("inf"), dtype=dtype)) - v).item()
    return diff / spacing


def check_layer(
    forward: Callable[..., Any],
    backward: Callable[..., Any],
    reference: Callable[..., Tensor],
    *inputs: Tensor,
    dout: Tensor | None = None,
    seed: int = 0,
    names: Sequence[str] | None = None,
    **kwargs: Any,
) -> LayerReport:
    """Your backward against autograd through ``reference`` and against float64 finite differences.

    Args:
        forward: ``forward(*inputs, **kwargs) -> (out, cache)``.
        backward: ``backward(dout, cache) -> grads``, one per input in order (or one per
            floating-point input); a single gradient may be returned bare.
        reference: ``reference(*inputs, **kwargs) -> out`` in torch ops; autograd differentiates it.
        inputs: tensors of any shape, dtype, device and layout; they are not modified and their
            ``requires_grad`` and ``.grad`` are left alone. Integer inputs take no gradient.
        dout: the upstream gradient ∂L/∂out; default a standard-normal draw from ``seed``.
        names: a name per input for the report (default ``x0, x1, ...``).
        kwargs: passed to ``forward`` and ``reference`` (and to finite differences), not to backward.

    Returns:
        A :class:`LayerReport`; ``report.ok`` when every input passes both witnesses.

    Raises:
        ValueError / TypeError naming the input when forward or backward returns the wrong count,
        type or shape, or the reference's output shape differs from forward's.
    """
    if not inputs:
        raise ValueError("check_layer needs at least one input tensor")
    names = [f"x{i}" for i in range(len(inputs))] if names is None else list(names)
    if len(names) != len(inputs):
        raise ValueError(f"{len(names)} names for {len(inputs)} inputs")
    for name, t in zip(names, inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"input {name} is {type(t).__name__}; expected a tensor")
    if not any(t.is_floating_point() for t in inputs):
        raise ValueError("no floating-point input: nothing takes a gradient")
    own = [t.detach() for t in inputs]  # same storage and strides, outside any graph
    out, d, manual = _run_pair(forward, backward, own, dout, names, seed, kwargs)
    ref_out, auto = _reference_grads(reference, own, d, kwargs)
    if ref_out.shape != out.shape:
        raise ValueError(f"forward's output has shape {tuple(out.shape)}, the reference's {tuple(ref_out.shape)}")
    floats = [t.is_floating_point() for t in own]
    bounds = layer_grad_bounds(lambda *xs: reference(*xs, **kwargs), own, d, needs_grad=floats)

    # the third witness: your pair in float64 against finite differences of your own forward
    own64 = [t.to(torch.float64) if f else t for t, f in zip(own, floats)]
    out64, d64, manual64 = _run_pair(forward, backward, own64, d.to(torch.float64), names, seed, kwargs)
    fd = numerical_backward(lambda *xs: forward(*xs, **kwargs)[0], own64, d64)
    scale_L = (out64.abs() * d64.abs()).sum().item()

    checks = []
    for i, t in enumerate(own):
        if not floats[i]:
            checks.append(InputCheck(names[i], tuple(t.shape), dtype_name(t.dtype), "no gradient"))
            continue
        got, a, bound, got64, fd_i = manual[i], auto[i], bounds[i], manual64[i], fd[i]
        # every floating-point input has a gradient from each witness and a bound (None marks the others)
        assert got is not None and a is not None and bound is not None, names[i]
        assert got64 is not None and fd_i is not None, names[i]
        m, b = got.detach(), bound.to(t.device)
        diff = (m.to(torch.float64) - a.to(torch.float64)).abs()
        ratio = torch.where(diff == 0, 0.0, diff / b.to(torch.float64))  # x/0 = inf: no room at all
        ratio = torch.nan_to_num(ratio, nan=torch.inf, posinf=torch.inf)  # a NaN gradient fails
        worst = int(ratio.reshape(-1).argmax()) if ratio.numel() else 0
        index = unravel(worst, tuple(t.shape))
        fd_diff = (got64.detach() - fd_i).abs()
        fd_allowed = FD_RTOL * (fd_i.abs() + fd_i.abs().max() + scale_L) if fd_i.numel() else fd_diff
        autograd_ok = bool((ratio <= 1).all())
        fd_ok = bool((fd_diff <= fd_allowed).all())
        if autograd_ok and fd_ok:
            verdict = "ok"
        elif fd_ok:
            verdict = "MISMATCH vs autograd"
        elif autograd_ok:
            verdict = "MISMATCH vs finite differences"
        else:
            verdict = "MISMATCH vs autograd and FD"
        flat_m, flat_a = m.reshape(-1), a.reshape(-1)
        m_w, a_w = (flat_m[worst].item(), flat_a[worst].item()) if m.numel() else (0.0, 0.0)
        checks.append(
            InputCheck(
                name=names[i],
                shape=tuple(t.shape),
                dtype=dtype_name(t.dtype),
                verdict=verdict,
                worst_index=index,
                manual=m_w,
                autograd=a_w,
                bound=b.reshape(-1)[worst].item() if b.numel() else 0.0,
                ulps=_ulps(abs(m_w - a_w), a_w, t.dtype),
                max_bound_ratio=ratio.max().item() if ratio.numel() else 0.0,
                fd_max_diff=fd_diff.max().item() if fd_diff.numel() else 0.0,
                fd_allowed=fd_allowed.min().item() if fd_diff.numel() else 0.0,
            )
        )
    title = f"{getattr(backward, '__name__', 'backward')} against {getattr(reference, '__name__', 'reference')}"
    title += f" (out {tuple(out.shape)}, seed {seed})"
    return LayerReport(title=title, inputs=tuple(checks))


def assert_layer_matches(
    forward: Callable[..., Any],
    backward: Callable[..., Any],
    reference: Callable[..., Tensor],
    *inputs: Tensor,
    **options: Any,
) -> LayerReport:
    """:func:`check_layer`, raising ``AssertionError`` with the report's table unless every input passes.

    ``options`` are :func:`check_layer`'s keywords: ``dout``, ``seed``, ``names`` and the layer's own.
    """
    __tracebackhide__ = True  # pytest shows the caller's line and the report, not this function
    report = check_layer(forward, backward, reference, *inputs, **options)
    if not report.ok:
        raise AssertionError(str(report))
    return report
