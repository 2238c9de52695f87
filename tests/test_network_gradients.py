"""Whole-network gradients: manual backprop against autograd (and finite differences), many shapes."""

from __future__ import annotations

import pytest
import torch

from manual_vs_autograd import MLPConfig, compare_gradients, init_params, loss_and_grads, numerical_backward
from manual_vs_autograd.tolerance import tolerance_for

NETWORKS = [
    MLPConfig((2, 2, 1), "sigmoid", "mse"),
    MLPConfig((2, 2, 4), "sigmoid", "ce"),
    MLPConfig((3, 8, 1), "tanh", "bce"),
    MLPConfig((2, 16, 16, 4), "tanh", "ce"),
    MLPConfig((4, 32, 16, 8, 1), "relu", "mse"),
    MLPConfig((2, 5, 5, 5, 5, 3), "sigmoid", "ce"),
    MLPConfig((6, 64, 1), "relu", "bce"),
]


def _batch(config: MLPConfig, n: int, seed: int, dtype, device):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, config.sizes[0], generator=g, dtype=torch.float64) * 3
    if config.loss == "ce":
        y = torch.randint(0, config.sizes[-1], (n,), generator=g)
    else:
        y = torch.randint(0, 2, (n, 1), generator=g).to(torch.float64)
    return x.to(dtype=dtype, device=device), y.to(device=device, dtype=y.dtype if config.loss == "ce" else dtype)


@pytest.mark.parametrize("config", NETWORKS, ids=lambda c: c.describe().replace(" ", ""))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("seed", [0, 1])
def test_network_gradients_match_autograd(config, dtype, seed, device):
    x, y = _batch(config, 37, seed, dtype, device)
    params = init_params(config, seed, scheme="scaled", dtype=dtype, device=device)
    report = compare_gradients(config, params, x, y)
    # The library's own tolerance: 1000·eps relative to each tensor's largest entry (floored at 1),
    # the worst case for sums over ~1000 terms; see manual_vs_autograd/tolerance.py.
    bound = tolerance_for(dtype).grad
    assert report.flagged == ()
    for row in (*report.params, report.loss):
        assert row.scaled_diff <= bound, row


@pytest.mark.parametrize("config", NETWORKS[:4], ids=lambda c: c.describe().replace(" ", ""))
def test_network_gradients_match_finite_differences(config):
    x, y = _batch(config, 9, 3, torch.float64, "cpu")
    params = init_params(config, 3, scheme="scaled")
    _, grads = loss_and_grads(params, x, y, config)
    names = list(params)

    def loss_of(*tensors):
        return loss_and_grads(dict(zip(names, tensors)), x, y, config)[0]

    estimates = numerical_backward(loss_of, [params[n] for n in names])
    for name, estimate in zip(names, estimates):
        # float64 central differences, h = 1e-6: error ~1e-10 for an O(1) loss (see test_layers.py).
        torch.testing.assert_close(grads[f"d{name}"], estimate, rtol=1e-6, atol=1e-7, msg=name)


def test_lecture_network_gradients_are_bitwise_equal_on_cpu():
    """The README's claim: for the 2-2-1 sigmoid/MSE network the manual kernels are autograd's own."""
    config = MLPConfig((2, 2, 1), "sigmoid", "mse")
    x, y = _batch(config, 750, 0, torch.float64, "cpu")
    report = compare_gradients(config, init_params(config), x, y)
    assert all(row.exact for row in report.params), report.params


def test_a_wrong_gradient_is_flagged():
    """The check can fail: a manual gradient with a wrong factor is outside the tolerance."""
    config = MLPConfig((2, 3, 1), "sigmoid", "mse")
    x, y = _batch(config, 20, 0, torch.float64, "cpu")
    params = init_params(config)
    _, grads = loss_and_grads(params, x, y, config)
    from manual_vs_autograd.twin import TwinMLP

    twin = TwinMLP(config, params)
    twin.loss(x, y).backward()
    auto = twin.math_gradients()
    from manual_vs_autograd.parity import compare_tensors

    wrong = compare_tensors("W1", grads["dW1"] * (1 + 1e-6), auto["dW1"])
    assert not wrong.ok(tolerance_for(torch.float64).grad)
    assert compare_tensors("W1", grads["dW1"], auto["dW1"]).ok(tolerance_for(torch.float64).grad)
