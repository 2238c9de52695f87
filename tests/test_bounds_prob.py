"""The probabilistic bound's constants, its reproducibility, its treatment of repeated rows, the partial-sum
ramp of its own sums, the number of samples, and the higher-order terms."""

from __future__ import annotations

import itertools
import math
import random

import torch

from manual_vs_autograd import MLPConfig
from manual_vs_autograd.bounds import (
    chain_roundings,
    mlp_grad_bounds,
    mlp_magnitudes,
    second_order_terms,
    unit_roundoff,
)
from manual_vs_autograd.bounds_prob import (
    FAILURE_PROBABILITY,
    _batch_sum_own,
    _Noise,
    _ramp,
    _rounding_bias,
    mlp_prob_bounds,
    prob_constant,
    sample_factor,
    samples_for,
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


def _tree_partial_sums(terms: list[float], rng: random.Random) -> list[float]:
    """The partial sums a random summation tree over ``terms`` rounds: random pairs joined until one is left."""
    nodes, rounded = list(terms), []
    while len(nodes) > 1:
        i, j = sorted(rng.sample(range(len(nodes)), 2))
        joined = nodes[i] + nodes.pop(j)
        nodes[i] = joined
        rounded.append(joined)
    return rounded


def test_ramp_bounds_the_partial_sums_of_every_summation_order():
    # Σ_v |s_v| over the additions of any order and association (sequential, pairwise, random trees)
    # stays within Σ_{m=2}^n B_m, n the nonzero terms (and Σ s_v² within Σ B_m², by the same argument);
    # for a cancelling sum that is well below the order-free (n - 1)·max(P, N).
    rng = random.Random(0)
    for trial in range(200):
        n = rng.randint(1, 40)
        terms = [rng.choice([0.0, rng.uniform(-1, 1), rng.uniform(0, 1)]) for _ in range(n)]
        ramp = _ramp(torch.tensor(terms, dtype=torch.float64).unsqueeze(1))[:, 0]
        nonzero = [t for t in terms if t != 0]
        orders = [sorted(nonzero, reverse=True), sorted(nonzero, key=abs, reverse=True), nonzero]
        sums = [list(itertools.accumulate(order))[1:] for order in orders]  # sequential: every prefix but the first
        sums += [_tree_partial_sums(nonzero, rng) for _ in range(20)]
        for power in (1, 2):
            bound = float(ramp.pow(power).sum())
            worst = max(sum(abs(s) ** power for s in partial) for partial in sums)
            assert worst <= bound * (1 + 1e-12) + 1e-300, (trial, power, terms)
        # the k-th largest |s_v| is at most B_{n-k+1}: any d additions sum to at most the d largest B_m
        largest_b = sorted(ramp.tolist(), reverse=True)
        for partial in sums:
            largest_s = sorted((abs(s) for s in partial), reverse=True)
            for d in range(1, len(largest_s) + 1):
                assert sum(largest_s[:d]) <= sum(largest_b[:d]) * (1 + 1e-12) + 1e-300, (trial, d, terms)
    cancelling = torch.tensor([1.0] * 50 + [-0.99] * 50, dtype=torch.float64).unsqueeze(1)
    P = float(cancelling.clamp_min(0).sum())
    assert float(_ramp(cancelling).sum()) < 0.8 * 99 * P
    with_zeros = torch.cat([cancelling, torch.zeros(100, 1, dtype=torch.float64)])
    assert float(_ramp(with_zeros).sum()) == float(_ramp(cancelling).sum())  # adding an exact zero rounds nothing


def test_a_known_and_a_sampled_error_part_keep_the_tail_probability_together():
    # bias sums: E = E_up + E_own, σ_up known only from K samples (c_K), σ_own known (λ). Their threshold
    # √(c_K²σ̂_up² + λ²σ_own²) fails with probability 2·exp(-λ²(1-α)/2)·(1 + αc_K²/K)^(-K/2), α the
    # sampled part's share of the variance: p at α = 0 and α = 1, log-convex in α, so at most p between
    p = FAILURE_PROBABILITY
    lam = sample_factor(0, p)
    for K in (16, 32, 64):
        c = sample_factor(K, p)
        for i in range(101):
            alpha = i / 100
            tail = 2 * math.exp(-(lam**2) * (1 - alpha) / 2) * (1 + alpha * c * c / K) ** (-K / 2)
            assert tail <= p * (1 + 1e-9), (K, alpha)


def test_a_bias_sum_is_worst_case_over_alike_terms_and_independent_over_the_rest():
    u = unit_roundoff(torch.float32)
    g = torch.Generator().manual_seed(0)
    spread = torch.randn(200, 1, generator=g, dtype=torch.float64)  # distinct terms, far apart at this u
    equal = torch.full((200, 1), 0.37, dtype=torch.float64)  # repeated rows: every addition may round alike
    near = equal * (1 + 1e-9 * torch.randn(200, 1, generator=g, dtype=torch.float64))  # closer than a float's spacing
    A = torch.cat([spread, equal, near, torch.cat([spread[:100], torch.zeros(100, 1, dtype=torch.float64)])], dim=1)
    coherent, std = _batch_sum_own(u, A)
    worst = u * _ramp(A).sum(0)
    assert coherent[0] == 0  # no two of these 200 draws lie within 2u·max(P, N): all independent
    assert torch.allclose(coherent[1:3], worst[1:3], rtol=1e-12)  # alike: the worst case, as for a plain loop
    assert torch.allclose(std, u * _ramp(A).square().sum(0).sqrt(), rtol=1e-12)
    only_nonzero, _ = _batch_sum_own(u, spread[:100])
    assert torch.equal(coherent[3], only_nonzero[0])  # exact zeros round nothing and are alike to nothing


def test_samples_follow_the_network_size():
    # small networks get 64 samples (c_64 = 9.5), the 784-1024-1024-10 benchmark network at batch 512 gets 16
    assert samples_for(MLPConfig((2, 3, 4, 1), "sigmoid", "mse"), 200) == 64
    assert samples_for(MLPConfig((784, 1024, 1024, 10), "relu", "ce"), 512) == 16
    # a batch whose 16 error samples of the widest layer would not fit SAMPLE_BYTES: no probabilistic bound
    huge = MLPConfig((2, 16, 1), "tanh", "mse")
    assert samples_for(huge, 100_000) == 0
    x, y = torch.zeros(100_000, 2), torch.zeros(100_000, 1)
    assert mlp_prob_bounds(huge, init_params(huge, 0, scheme="scaled"), x, y, unit_roundoff(torch.float32)) is None
    assert sample_factor(64, FAILURE_PROBABILITY) < 0.45 * sample_factor(16, FAILURE_PROBABILITY)


def test_second_order_terms_are_small_in_float32_and_refuse_when_first_order_fails():
    config, params = _network()
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(64, 3, generator=g), torch.randint(0, 2, (64, 1), generator=g).float()
    S = mlp_magnitudes(config, params, x, y, unit_roundoff(torch.float32))
    u32 = unit_roundoff(torch.float32)
    terms = second_order_terms(config, S, 64, u32, 0.0)
    ratio = u32 * chain_roundings(config, 64)  # x: u per rounding along the longest chain
    assert ratio < 1e-4
    assert all(torch.allclose(terms[k], ratio / (1 - ratio) * 2 * u32 * S[k]) for k in S)
    # bfloat16 (u = 3.9e-3) over a batch of 64: about 100 roundings on a chain, x > 1/3: no first-order promise
    refused = second_order_terms(config, S, 64, unit_roundoff(torch.bfloat16), 0.0)
    assert all(bool(torch.isinf(t).all()) for t in refused.values())
    # curvature alone can refuse too (a sigmoid input whose error is not small)
    assert all(bool(torch.isinf(t).all()) for t in second_order_terms(config, S, 64, u32, 0.5).values())


def test_an_empty_batch_gets_one_line_not_a_division_by_zero():
    import pytest

    from manual_vs_autograd.errors import InputError

    config, params = _network()
    with pytest.raises(InputError, match=r"shape \(0, 3\).*at least one sample"):
        mlp_grad_bounds(config, params, torch.zeros(0, 3), torch.zeros(0, 1))


def test_a_rounding_bias_is_seen_in_terms_whose_low_bits_agree_not_in_spread_ones():
    u = unit_roundoff(torch.float32)
    g = torch.Generator().manual_seed(0)
    spacing = 2.0**-13  # the floats' spacing near a sum of 1500 in float32
    steps = torch.arange(1, 1001, dtype=torch.float64) * 4 * spacing
    one_offset = torch.cat([torch.tensor([1500.0]), 0.49 * spacing + steps])  # every r = 0.49
    spread_below_half = torch.cat(
        [torch.tensor([1500.0]), (0.40 + 0.09 * torch.rand(1000, generator=g)) * spacing + steps]
    )
    spread = torch.cat([torch.tensor([1500.0]), torch.rand(1000, generator=g, dtype=torch.float64) * spacing + steps])
    random_terms = torch.randn(1001, generator=g, dtype=torch.float64)
    A = torch.stack([one_offset, spread_below_half, spread, random_terms], dim=1).float().double()
    largest = _ramp(A).amax(0)
    bias = _rounding_bias(u, A, largest)
    assert bias[0] > 0.9 and bias[1] > 0.7  # rounding one way, whether or not the offsets agree exactly
    assert bias[2] == 0 and bias[3] == 0  # spread: within chance at every spacing
    coherent, _ = _batch_sum_own(u, A)
    assert coherent[0] > 0.9 * u * _ramp(A)[:, 0].sum()  # nearly the worst case
