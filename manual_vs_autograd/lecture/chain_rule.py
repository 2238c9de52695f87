"""The chain rule, one elementary step at a time.

A function is split into steps ``u_k = f_k(u_{k-1})``; each step's local derivative
``∂u_k/∂u_{k-1}`` is simple, and the derivative of the whole is their product. The lecture's
example is the sigmoid::

    a1 = -x         ∂a1/∂x  = -1
    a2 = exp(a1)    ∂a2/∂a1 = exp(a1)
    a3 = 1 + a2     ∂a3/∂a2 = 1
    y  = 1 / a3     ∂y/∂a3  = -1/a3²
    ∂y/∂x = (-1/a3²)·1·exp(a1)·(-1) = exp(-x) / (1 + exp(-x))²
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["CHAINS", "TORCH_FUNCTIONS", "ChainTrace", "Step", "mse_chain", "run_chain"]


@dataclass(frozen=True)
class Step:
    """One elementary step: its output's name, its formula, and its local derivative."""

    name: str  # the step's output, e.g. "a2"
    formula: str  # e.g. "exp(a1)"
    local: str  # its derivative with respect to the previous value, e.g. "exp(a1)"
    f: Callable[[Tensor], Tensor]
    df: Callable[[Tensor], Tensor]  # local derivative, evaluated at the step's input


CHAINS: dict[str, tuple[Step, ...]] = {
    "sigmoid": (
        Step("a1", "-x", "-1", lambda u: -u, lambda u: -torch.ones_like(u)),
        Step("a2", "exp(a1)", "exp(a1)", torch.exp, torch.exp),
        Step("a3", "1 + a2", "1", lambda u: 1 + u, torch.ones_like),
        Step("y", "1 / a3", "-1/a3²", lambda u: 1 / u, lambda u: -1 / u**2),
    ),
    "tanh": (  # tanh(x) = 2·σ(2x) - 1
        Step("a1", "2x", "2", lambda u: 2 * u, lambda u: torch.full_like(u, 2.0)),
        Step("a2", "-a1", "-1", lambda u: -u, lambda u: -torch.ones_like(u)),
        Step("a3", "exp(a2)", "exp(a2)", torch.exp, torch.exp),
        Step("a4", "1 + a3", "1", lambda u: 1 + u, torch.ones_like),
        Step("a5", "1 / a4", "-1/a4²", lambda u: 1 / u, lambda u: -1 / u**2),
        Step("y", "2·a5 - 1", "2", lambda u: 2 * u - 1, lambda u: torch.full_like(u, 2.0)),
    ),
}
"""Chains of one variable by name; the lecture's MSE chain needs a target, see :func:`mse_chain`."""

TORCH_FUNCTIONS: dict[str, Callable[[Tensor], Tensor]] = {"sigmoid": torch.sigmoid, "tanh": torch.tanh}


def mse_chain(y: float) -> tuple[Step, ...]:
    """The lecture's split of one output's squared error ``L = (y - y_hat)²`` as a function of ``y_hat``::

    z1 = -y_hat      ∂z1/∂y_hat = -1
    z2 = y + z1      ∂z2/∂z1    = 1
    z3 = z2²         ∂z3/∂z2    = 2·z2         ⇒ ∂L/∂y_hat = -2(y - y_hat)
    """
    return (
        Step("z1", "-y_hat", "-1", lambda u: -u, lambda u: -torch.ones_like(u)),
        Step("z2", f"{y:g} + z1", "1", lambda u: y + u, torch.ones_like),
        Step("z3", "z2²", "2·z2", lambda u: u**2, lambda u: 2 * u),
    )


@dataclass(frozen=True)
class ChainTrace:
    """Each step's value and local derivative at the points ``x``, and their product."""

    steps: tuple[Step, ...]
    x: Tensor  # (P,)
    values: tuple[Tensor, ...]  # per step, (P,)
    locals: tuple[Tensor, ...]  # per step, (P,)
    derivative: Tensor  # (P,) the product of the local derivatives


def run_chain(steps: tuple[Step, ...], x: Tensor) -> ChainTrace:
    """Push ``x`` (P,) through the steps, multiplying the local derivatives as it goes."""
    u, values, locals_ = x, [], []
    derivative = torch.ones_like(x)
    for step in steps:
        local = step.df(u)  # ∂u_k/∂u_{k-1} at this step's input
        u = step.f(u)
        derivative = derivative * local  # chain rule: multiply the local derivatives
        values.append(u)
        locals_.append(local)
    return ChainTrace(steps, x, tuple(values), tuple(locals_), derivative)
