"""Chain rule step by step, the derivation checker on the lecture's slip, many paths versus backprop."""

from __future__ import annotations

import random

import pytest
import torch

from manual_vs_autograd.lecture.chain_rule import CHAINS, TORCH_FUNCTIONS, mse_chain, run_chain
from manual_vs_autograd.lecture.derivation import Candidate, check_derivation, check_lecture_slip
from manual_vs_autograd.lecture.paths import (
    Counter,
    backprop_gradients,
    backprop_mults,
    path_count_table,
    path_gradient,
    path_mults,
)

# float64; each chain is a handful of roundings on O(1) values, so products and autograd agree to
# a few eps: 1e-14 absolute over [-10, 10], where the derivatives are at most 1.
CHAIN_TOL = dict(rtol=0, atol=1e-14)
GRID = torch.linspace(-10, 10, 4001, dtype=torch.float64)


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_chain_values_and_derivative_equal_autograd(name):
    trace = run_chain(CHAINS[name], GRID)
    x = GRID.clone().requires_grad_()
    y = TORCH_FUNCTIONS[name](x)
    y.sum().backward()
    torch.testing.assert_close(trace.values[-1], y.detach(), **CHAIN_TOL)
    torch.testing.assert_close(trace.derivative, x.grad, **CHAIN_TOL)


def test_sigmoid_chain_is_the_lectures_closed_form():
    trace = run_chain(CHAINS["sigmoid"], GRID)
    closed = torch.exp(-GRID) / (1 + torch.exp(-GRID)) ** 2
    torch.testing.assert_close(trace.derivative, closed, **CHAIN_TOL)
    assert [s.name for s in CHAINS["sigmoid"]] == ["a1", "a2", "a3", "y"]


@pytest.mark.parametrize("target", [0.0, 1.0, 0.3])
def test_mse_chain_gives_minus_two_error(target):
    trace = run_chain(mse_chain(target), GRID)
    torch.testing.assert_close(trace.derivative, -2 * (target - GRID), **CHAIN_TOL)


def test_derivation_checker_flags_the_lectures_slip_and_passes_the_correction():
    slip, corrected, two_paths = check_lecture_slip()
    assert not slip.ok and slip.max_abs_error > 0.1
    assert corrected.ok and two_paths.ok
    # the two witnesses agree with each other (central differences, h = 1e-6, float64)
    assert all(r.autograd_vs_fd < 1e-8 for r in (slip, corrected, two_paths))
    assert set(slip.worst_point) >= {"x1", "x2", "y1", "w212"}


def test_derivation_checker_on_a_user_network():
    def net(v):
        a = v["w"] * v["x"] + v["b"]
        return {"a": a, "h": torch.tanh(a), "L": (torch.tanh(a) - v["y"]) ** 2}

    good = Candidate("w", "2(h - y)(1 - h²)x", lambda v: 2 * (v["h"] - v["y"]) * (1 - v["h"] ** 2) * v["x"])
    bad = Candidate("b", "2(h - y)(1 - h)", lambda v: 2 * (v["h"] - v["y"]) * (1 - v["h"]))
    results = check_derivation(net, ["w", "b"], ["x"], [good, bad], targets=["y"], points=64)
    assert [r.ok for r in results] == [True, False]


def _random_net(sizes, seed):
    rng = random.Random(seed)
    Ws = [[[rng.gauss(0, 1) for _ in range(sizes[l])] for _ in range(sizes[l + 1])] for l in range(len(sizes) - 1)]
    bs = [[rng.gauss(0, 1) for _ in range(sizes[l + 1])] for l in range(len(sizes) - 1)]
    x = [rng.gauss(0, 1) for _ in range(sizes[0])]
    y = [float(rng.random() < 0.5) for _ in range(sizes[-1])]
    return Ws, bs, x, y


@pytest.mark.parametrize("sizes", [(2, 2, 1), (2, 3, 4, 2), (3, 2, 2, 2, 1)])
def test_sum_over_paths_equals_backprop_and_autograd(sizes):
    Ws, bs, x, y = _random_net(sizes, seed=len(sizes))
    back = backprop_gradients(Ws, bs, x, y, Counter())
    paths = [[path_gradient(Ws, bs, x, y, j, i, Counter()) for i in range(sizes[0])] for j in range(sizes[1])]

    tW = [torch.tensor(W, dtype=torch.float64, requires_grad=True) for W in Ws]
    h = torch.tensor(x, dtype=torch.float64)
    for W, b in zip(tW, bs):
        h = torch.sigmoid(W @ h + torch.tensor(b, dtype=torch.float64))
    ((h - torch.tensor(y, dtype=torch.float64)) ** 2).sum().backward()
    # float64, sums of at most a few dozen O(1) products: 1e-12 absolute is ~5000 eps
    torch.testing.assert_close(torch.tensor(paths, dtype=torch.float64), tW[0].grad, rtol=0, atol=1e-12)
    for mine, W in zip(back, tW):
        torch.testing.assert_close(torch.tensor(mine, dtype=torch.float64), W.grad, rtol=0, atol=1e-12)


@pytest.mark.parametrize("sizes", [(2, 2, 1), (2, 3, 4, 2), (3, 2, 2, 2, 1), (2, 4, 4, 4, 1)])
def test_multiplication_counts_match_the_formulas(sizes):
    Ws, bs, x, y = _random_net(sizes, seed=1)
    counted_back, counted_paths = Counter(), Counter()
    backprop_gradients(Ws, bs, x, y, counted_back)
    for j in range(sizes[1]):
        for i in range(sizes[0]):
            path_gradient(Ws, bs, x, y, j, i, counted_paths)
    assert counted_back.mults == backprop_mults(sizes)
    assert counted_paths.mults == path_mults(sizes)


def test_path_enumeration_grows_exponentially_and_backprop_linearly_in_depth():
    rows = {r.sizes: r for r in path_count_table(depths=(2, 4, 8), widths=(4,))}
    p2, p4, p8 = (rows[(2, *([4] * d), 1)] for d in (2, 4, 8))
    assert p4.paths_per_first_layer_weight == 4**3 and p8.paths_per_first_layer_weight == 4**7
    # backprop: each extra hidden layer of width w adds the same 2w² + w multiplications
    assert p8.backprop_mults_all - p4.backprop_mults_all == 2 * (p4.backprop_mults_all - p2.backprop_mults_all)
    assert p8.ratio > 100 * p4.ratio > 100 * p2.ratio
