"""The probabilistic bound's constants, its reproducibility, and its treatment of repeated rows."""

from __future__ import annotations

import math

import torch

from manual_vs_autograd import MLPConfig
from manual_vs_autograd.bounds import mlp_grad_bounds, unit_roundoff
from manual_vs_autograd.bounds_prob import (
    FAILURE_PROBABILITY,
    _Noise,
    mlp_prob_bounds,
    prob_constant,
    sample_factor,
)
from manual_vs_autograd.config import init_params


def test_sample_factor_solves_its_tail_equation_and_tends_to_hoeffding():
    # 2·(1 + c²/K)^(-K/2) = p at c = c_K(p) (the χ²_K moment generating function); K → ∞ gives λ = √(2 ln(2/p))
    p = FAILURE_PROBABILITY
    for K in (8, 16, 32):
        c = sample_factor(K, p)
        assert math.isclose(2 * (1 + c * c / K) ** (-K / 2), p, rel_tol=1e-9)
    lam = sample_factor(0, p)
    assert math.isclose(lam, math.sqrt(2 * math.log(2 / p)))
    assert lam < sample_factor(10**6, p) < lam * 1.001
    assert math.isclose(prob_constant(), 1.5 * math.sqrt(2) * sample_factor(16, p))


def _network(dtype: torch.dtype = torch.float32) -> tuple[MLPConfig, dict[str, torch.Tensor]]:
    config = MLPConfig((3, 8, 8, 1), "tanh", "mse")
    return config, init_params(config, 0, scheme="scaled", dtype=dtype)


def test_bounds_are_reproducible_and_capped_by_the_worst_case():
    config, params = _network()
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(64, 3, generator=g), torch.randint(0, 2, (64, 1), generator=g).float()
    u = unit_roundoff(torch.float32)
    first, again = mlp_prob_bounds(config, params, x, y, u), mlp_prob_bounds(config, params, x, y, u)
    assert first is not None and again is not None
    assert all(torch.equal(first[k], again[k]) for k in first)  # a seeded generator: the same verdict every time
    combined = mlp_grad_bounds(config, params, x, y)
    worst_case = mlp_grad_bounds(config, params, x, y, probabilistic=False)
    assert all(bool((combined[k] <= worst_case[k]).all()) for k in combined)
    assert any(bool((combined[k] < worst_case[k]).any()) for k in combined)


def test_repeated_rows_share_their_draws():
    # A rounding is a function of its operands: equal rows of x make equal forward errors, equal (x, y)
    # rows equal backward errors, so their error samples must be equal too (and summed coherently).
    x = torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = torch.tensor([[1.0], [1.0], [0.0], [0.0]])
    noise = _Noise(8, x, y, seed=0)
    std = torch.ones(4, 3, dtype=torch.float64)
    forward, backward = noise.rows(std, backward=False), noise.rows(std)
    assert torch.equal(forward[:, 0], forward[:, 2])  # same x
    assert not torch.equal(backward[:, 0], backward[:, 2])  # same x, other y
    assert not torch.equal(forward[:, 0], forward[:, 1]) and not torch.equal(forward[:, 1], forward[:, 3])
