"""Whole-network gradients: manual backprop against autograd (and finite differences), many shapes."""

from __future__ import annotations

import pytest
import torch

from manual_vs_autograd import (
    MLPConfig,
    TwinMLP,
    init_params,
    layer_outputs,
    loss_and_grads,
    mlp_backward,
    mlp_forward,
    numerical_backward,
)
from manual_vs_autograd.losses import LOSSES

# Manual against autograd, per gradient tensor: max |manual - autograd| ≤ GRAD_ULPS·eps·max |autograd|.
# Both sides evaluate the same formulas; they may differ only in the order of the sums (over at most
# 37 samples and 64 fan-in terms per layer) and in a few ULPs of exp/tanh/log_softmax, compounded
# through at most 5 layers of O(1) weights: well under 200 roundings of the tensor's largest entry.
# A wrong derivative (a missing factor, a wrong sign, a slipped index) is off by O(1) relative.
GRAD_ULPS = 200

NETWORKS = [
    MLPConfig((2, 2, 1), "sigmoid", "mse"),
    MLPConfig((2, 2, 4), "sigmoid", "ce"),
    MLPConfig((3, 8, 1), "tanh", "bce"),
    MLPConfig((2, 16, 16, 4), "tanh", "ce"),
    MLPConfig((4, 32, 16, 8, 1), "relu", "mse"),
    MLPConfig((2, 5, 5, 5, 5, 3), "sigmoid", "ce"),
    MLPConfig((6, 64, 1), "relu", "bce"),
    MLPConfig((3, 8, 8, 1), "tanh", "mse", norm="layer"),
    MLPConfig((2, 16, 4), "relu", "ce", norm="layer"),
]


def _batch(config: MLPConfig, n: int, seed: int, dtype, device):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, config.sizes[0], generator=g, dtype=torch.float64) * 3
    if config.loss == "ce":
        y = torch.randint(0, config.sizes[-1], (n,), generator=g)
    else:
        y = torch.randint(0, 2, (n, 1), generator=g).to(torch.float64)
    return x.to(dtype=dtype, device=device), y.to(device=device, dtype=y.dtype if config.loss == "ce" else dtype)


def _both_sides(config: MLPConfig, params, x, y):
    """Manual loss and gradients, and the twin's, from the same parameters and batch."""
    L, grads = loss_and_grads(params, x, y, config)
    twin = TwinMLP(config, params)
    L_auto = twin.loss(x, y)
    L_auto.backward()
    return L, grads, L_auto.detach(), twin.math_gradients()


@pytest.mark.parametrize("config", NETWORKS, ids=lambda c: c.describe().replace(" ", ""))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("seed", [0, 1])
def test_network_gradients_match_autograd(config, dtype, seed, device):
    x, y = _batch(config, 37, seed, dtype, device)
    params = init_params(config, seed, scheme="scaled", dtype=dtype, device=device)
    L, grads, L_auto, auto = _both_sides(config, params, x, y)
    eps = torch.finfo(dtype).eps
    assert set(grads) == set(auto)
    for name, g in [("loss", L), *grads.items()]:
        ref = L_auto if name == "loss" else auto[name]
        assert g.shape == ref.shape and g.dtype == ref.dtype, name
        scale = ref.abs().max().item()
        worst = (g - ref).abs().max().item()
        assert worst <= GRAD_ULPS * eps * scale, (name, worst / (eps * scale))


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
    L, grads, L_auto, auto = _both_sides(config, init_params(config), x, y)
    assert torch.equal(L, L_auto)
    assert all(torch.equal(grads[name], auto[name]) for name in auto), grads


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_a_gradient_one_part_in_a_million_off_is_outside_the_tolerance(dtype):
    """The check above can fail: a manual gradient off by a relative 1e-6 (float64) or 1e-4 (float32)."""
    config = MLPConfig((2, 3, 1), "sigmoid", "mse")
    x, y = _batch(config, 20, 0, dtype, "cpu")
    _, grads, _, auto = _both_sides(config, init_params(config, dtype=dtype), x, y)
    eps = torch.finfo(dtype).eps
    off = 1e-6 if dtype == torch.float64 else 1e-4
    scale = auto["dW1"].abs().max().item()
    assert (grads["dW1"] - auto["dW1"]).abs().max().item() <= GRAD_ULPS * eps * scale
    assert (grads["dW1"] * (1 + off) - auto["dW1"]).abs().max().item() > GRAD_ULPS * eps * scale


@pytest.mark.parametrize("config", NETWORKS, ids=lambda c: c.describe().replace(" ", ""))
def test_mlp_backward_leaves_its_cache_for_a_second_call(config):
    """The public pair: backward from the same cache twice gives the same gradients, equal to loss_and_grads'."""
    x, y = _batch(config, 11, 0, torch.float64, "cpu")
    params = init_params(config, 0, scheme="scaled")
    _, grads = loss_and_grads(params, x, y, config)
    y_hat, cache = mlp_forward(params, x, config)
    loss = LOSSES[config.loss]
    dy_hat = loss.backward(1.0, loss.forward(y_hat, y)[1])
    first = mlp_backward(dy_hat, cache, config)
    second = mlp_backward(dy_hat, cache, config)
    assert list(first) == list(grads)
    for name in grads:  # the same operations on the same tensors: bitwise the same
        assert torch.equal(first[name], second[name]), name
        assert torch.equal(first[name], grads[name]), name


@pytest.mark.parametrize(
    "config", [c for c in NETWORKS if c.norm == "none"], ids=lambda c: c.describe().replace(" ", "")
)
def test_layer_outputs_are_each_layers_h(config):
    """h_l = act(h_{l-1} W_lᵀ + b_l), written out here in torch ops; the last one is mlp_forward's y_hat."""
    x, _ = _batch(config, 7, 1, torch.float64, "cpu")
    params = init_params(config, 0, scheme="scaled")
    outputs = layer_outputs(params, x, config)
    h = x
    for l, got in enumerate(outputs, start=1):
        act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "identity": lambda a: a}
        h = act[config.layer_activation(l)](h @ params[f"W{l}"].T + params[f"b{l}"])
        assert got.shape == (7, config.sizes[l]) and torch.allclose(got, h, rtol=1e-12, atol=0), l
    assert len(outputs) == config.n_layers and torch.equal(outputs[-1], mlp_forward(params, x, config)[0])
