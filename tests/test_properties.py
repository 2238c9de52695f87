"""Property tests: for random networks, losses, batch sizes and dtypes, parity holds every time."""

from __future__ import annotations

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from manual_vs_autograd import MLPConfig, TrainConfig, compare_gradients, init_params, train_side_by_side
from manual_vs_autograd.tolerance import tolerance_for


@st.composite
def cases(draw):
    depth = draw(st.integers(1, 4))
    widths = tuple(draw(st.lists(st.integers(1, 24), min_size=depth, max_size=depth)))
    loss = draw(st.sampled_from(["mse", "bce", "ce"]))
    n_in = draw(st.integers(1, 6))
    n_out = draw(st.integers(2, 6)) if loss == "ce" else 1
    config = MLPConfig((n_in, *widths, n_out), draw(st.sampled_from(["sigmoid", "tanh", "relu"])), loss)
    n = draw(st.integers(1, 80))
    batch = draw(st.one_of(st.none(), st.integers(1, n)))
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    seed = draw(st.integers(0, 2**16))
    return config, n, batch, dtype, seed


def _data(config, n, dtype, seed):
    g = torch.Generator().manual_seed(seed)
    x = (torch.randn(n, config.sizes[0], generator=g) * 2).to(dtype)
    if config.loss == "ce":
        return x, torch.randint(0, config.sizes[-1], (n,), generator=g)
    return x, torch.randint(0, 2, (n, 1), generator=g).to(dtype)


# 40 examples of up to ~20 small steps each: well under a minute on 2 CPU cores.
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_gradient_and_trajectory_parity_for_random_networks(case):
    config, n, batch, dtype, seed = case
    x, y = _data(config, n, dtype, seed)
    params = init_params(config, seed, scheme="scaled", dtype=dtype)
    report = compare_gradients(config, params, x, y)
    assert report.parity, [p for p in report.params if not p.ok(report.tolerance.grad)]
    # a small learning rate keeps the short run far from the chaotic regime (see the README)
    _, _, record = train_side_by_side(config, params, x, y, TrainConfig(epochs=2, lr=0.05, batch_size=batch, seed=seed))
    bound = tolerance_for(dtype).trajectory
    assert record.stopped is None
    assert all(p.ok(bound) for p in (record.loss_parity(), *record.param_parity()))
