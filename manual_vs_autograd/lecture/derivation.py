"""A derivation checker: candidate gradient formulas against autograd and finite differences.

State a small network as a function from named scalars to named intermediates (one tensor of
``P`` random points per name, so one call checks every point at once), and candidate formulas for
``∂L/∂<parameter>`` written in those names. Each candidate is evaluated at the points and compared
with autograd's gradient and a central finite difference; wrong ones are reported with their error
and the point where it is worst.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = [
    "Candidate",
    "CandidateResult",
    "LECTURE_CANDIDATES",
    "check_derivation",
    "check_lecture_slip",
    "lecture_softmax_net",
]

Values = Mapping[str, Tensor]

# float64 at O(1) values: autograd and a right formula differ by rounding (~1e-15); a central
# difference with h = 1e-6 is good to ~1e-9. 1e-6 separates "right" from "wrong" with margin.
TOLERANCE = 1e-6
FD_STEP = 1e-6


@dataclass(frozen=True)
class Candidate:
    """A stated formula for ``∂L/∂param``."""

    param: str
    text: str  # how the formula is written on paper
    formula: Callable[[Values], Tensor]  # the same formula in code, over every point's values


@dataclass(frozen=True)
class CandidateResult:
    """How a candidate compares with autograd (and autograd with finite differences) over the points."""

    candidate: Candidate
    max_abs_error: float  # max over points of |candidate - autograd|
    max_rel_error: float  # the same relative to |autograd|
    autograd_vs_fd: float  # max |autograd - finite difference|: the two witnesses agree
    worst_point: dict[str, float]  # every input and parameter where the error is largest
    points: int
    scale: float  # max |autograd gradient| over the points

    @property
    def ok(self) -> bool:
        """Within :data:`TOLERANCE` of autograd at every point (relative to the gradient's scale)."""
        return self.max_abs_error <= TOLERANCE * max(1.0, self.scale)


def check_derivation(
    forward: Callable[[Values], dict[str, Tensor]],
    params: Sequence[str],
    inputs: Sequence[str],
    candidates: Sequence[Candidate],
    *,
    targets: Sequence[str] = (),
    points: int = 256,
    seed: int = 0,
) -> list[CandidateResult]:
    """Check each candidate at ``points`` random points.

    Args:
        forward: named values -> every intermediate, including the loss ``"L"`` (each (P,)).
        params, inputs: names drawn from N(0, 1) at each point.
        targets: names drawn from {0, 1}.
    """
    g = torch.Generator().manual_seed(seed)
    base = {n: torch.randn(points, generator=g, dtype=torch.float64) for n in (*params, *inputs)}
    base.update({n: torch.randint(0, 2, (points,), generator=g).to(torch.float64) for n in targets})

    leaves = {n: (t.clone().requires_grad_() if n in params else t) for n, t in base.items()}
    forward(leaves)["L"].sum().backward()  # points are independent: each point's gradient
    with torch.no_grad():
        values = {**base, **forward(base)}

    results = []
    for cand in candidates:
        auto = leaves[cand.param].grad  # (P,)
        assert auto is not None, "every param is a leaf that requires grad, and L.backward() reached it"
        plus, minus = dict(base), dict(base)
        plus[cand.param] = base[cand.param] + FD_STEP
        minus[cand.param] = base[cand.param] - FD_STEP
        with torch.no_grad():
            fd = (forward(plus)["L"] - forward(minus)["L"]) / (2 * FD_STEP)
            stated = cand.formula(values)
        err = (stated - auto).abs()
        worst = int(err.argmax())
        results.append(
            CandidateResult(
                candidate=cand,
                max_abs_error=err.max().item(),
                max_rel_error=(err / auto.abs().clamp_min(1e-300)).max().item(),
                autograd_vs_fd=(auto - fd).abs().max().item(),
                worst_point={n: base[n][worst].item() for n in (*inputs, *targets, *params)},
                points=points,
                scale=auto.abs().max().item(),
            )
        )
    return results


def lecture_softmax_net(v: Values) -> dict[str, Tensor]:
    """The lecture's network for the slip: 2 inputs, 2 sigmoid hidden units, a 2-way softmax, and
    the squared error of the first output, ``L = (y1 - y1_hat)²``. Names as in the lecture:
    ``w212`` is layer 2, neuron 1, input 2."""
    out: dict[str, Tensor] = {}
    out["a11"] = v["w111"] * v["x1"] + v["w112"] * v["x2"] + v["b11"]
    out["h11"] = torch.sigmoid(out["a11"])
    out["a12"] = v["w121"] * v["x1"] + v["w122"] * v["x2"] + v["b12"]
    out["h12"] = torch.sigmoid(out["a12"])
    out["a21"] = v["w211"] * out["h11"] + v["w212"] * out["h12"] + v["b21"]
    out["a22"] = v["w221"] * out["h11"] + v["w222"] * out["h12"] + v["b22"]
    out["y1_hat"] = torch.exp(out["a21"]) / (torch.exp(out["a21"]) + torch.exp(out["a22"]))
    out["y2_hat"] = 1 - out["y1_hat"]
    out["L"] = (v["y1"] - out["y1_hat"]) ** 2
    return out


LECTURE_PARAMS = ("w111", "w112", "w121", "w122", "b11", "b12", "w211", "w212", "w221", "w222", "b21", "b22")
LECTURE_INPUTS = ("x1", "x2")
LECTURE_TARGETS = ("y1",)

LECTURE_CANDIDATES = (
    Candidate(
        "w212",
        "as in the lecture: -2(y1 - y1_hat) · y1_hat(1 - y1_hat)·(-a22) · h12",
        lambda v: -2 * (v["y1"] - v["y1_hat"]) * v["y1_hat"] * (1 - v["y1_hat"]) * (-v["a22"]) * v["h12"],
    ),
    Candidate(
        "w212",
        "corrected: -2(y1 - y1_hat) · y1_hat(1 - y1_hat) · h12",
        lambda v: -2 * (v["y1"] - v["y1_hat"]) * v["y1_hat"] * (1 - v["y1_hat"]) * v["h12"],
    ),
    Candidate(
        "w111",
        "two paths (via a21 and a22): -2(y1 - y1_hat) · y1_hat(1 - y1_hat) · (w211 - w221) · h11(1 - h11) · x1",
        lambda v: (
            -2
            * (v["y1"] - v["y1_hat"])
            * v["y1_hat"]
            * (1 - v["y1_hat"])
            * (v["w211"] - v["w221"])
            * v["h11"]
            * (1 - v["h11"])
            * v["x1"]
        ),
    ),
)
"""The lecture's slip, its correction, and a first-layer weight reached by two paths."""


def check_lecture_slip(points: int = 256, seed: int = 0) -> list[CandidateResult]:
    """Run :func:`check_derivation` on the lecture's network and :data:`LECTURE_CANDIDATES`."""
    return check_derivation(
        lecture_softmax_net,
        LECTURE_PARAMS,
        LECTURE_INPUTS,
        LECTURE_CANDIDATES,
        targets=LECTURE_TARGETS,
        points=points,
        seed=seed,
    )
