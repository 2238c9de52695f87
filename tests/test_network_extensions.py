"""Your layers inside the network: a registered activation and loss, and layer normalisation, trained side by side."""

from __future__ import annotations

import contextlib
import io
import json

import pytest
import torch
import torch.nn.functional as F

from manual_vs_autograd import (
    CompareSpec,
    InputError,
    MLPConfig,
    TrainConfig,
    init_params,
    load_blobs,
    register_activation,
    register_loss,
    run_compare,
    targets_for,
    train_side_by_side,
)
from manual_vs_autograd.cli import main
from manual_vs_autograd.examples import softplus_backward, softplus_forward
from manual_vs_autograd.layers import ACTIVATIONS
from manual_vs_autograd.losses import LOSSES, LossCache
from manual_vs_autograd.twin import TORCH_ACTIVATIONS, TORCH_LOSSES


def half_mse_forward(y_hat, y):
    L = 0.5 * (y_hat - y).square().mean()
    return L, LossCache(y_hat=y_hat, y=y)


def half_mse_backward(dout, cache):
    return dout * (cache.y_hat - cache.y) / cache.y_hat.numel()  # ∂L/∂y_hat = (y_hat - y)/M


@pytest.fixture
def registered():
    """softplus and half_mse registered for one test, then removed from both sides' tables."""
    register_activation("softplus", softplus_forward, softplus_backward, F.softplus)
    register_loss(
        "half_mse",
        half_mse_forward,
        half_mse_backward,
        lambda y_hat, y: 0.5 * F.mse_loss(y_hat, y),
        output_activation="sigmoid",
    )
    yield
    for table in (ACTIVATIONS, TORCH_ACTIVATIONS):
        table.pop("softplus")
    for table in (LOSSES, TORCH_LOSSES):
        table.pop("half_mse")


def test_an_unregistered_activation_is_refused_with_the_choices():
    with pytest.raises(InputError, match=r"unknown activation 'softplus'; expected one of: sigmoid, tanh, relu"):
        MLPConfig((2, 16, 1), "softplus", "mse")


@pytest.mark.parametrize("loss", ["mse", "half_mse"])
def test_registered_activation_trains_side_by_side_with_parity(registered, loss):
    config = MLPConfig((2, 16, 1), "softplus", loss)
    data = load_blobs(binary=True, dtype=torch.float64)
    y = targets_for(data.y_train, "mse", torch.float64)
    params = init_params(config, 0, scheme="scaled")
    final, twin, trajectories = train_side_by_side(config, params, data.x_train, y, TrainConfig(epochs=20, lr=0.1))
    assert trajectories.parity
    # 20 full-batch steps in float64 from the same start: the sides differ by a few roundings per step
    # (~1e-16 each on O(1) parameters), so 1e-12 is ~4500 eps of room; a wrong derivative moves them by ~lr
    for name, p in twin.math_parameters().items():
        assert (final[name] - p).abs().max().item() <= 1e-12, name
    assert not torch.equal(final["W1"], params["W1"])  # it trained


def test_registered_activation_runs_through_run_compare(registered):
    result = run_compare(CompareSpec(hidden=(16,), activation="softplus", loss="mse", epochs=5, device="cpu"))
    assert result.config.activation == "softplus" and result.parity


def test_registering_twice_or_with_an_unknown_output_activation_is_refused(registered):
    with pytest.raises(InputError, match="'softplus' is already registered; pass replace=True"):
        register_activation("softplus", softplus_forward, softplus_backward, F.softplus)
    with pytest.raises(InputError, match="unknown output activation 'swish'"):
        register_loss("other", half_mse_forward, half_mse_backward, F.mse_loss, output_activation="swish")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_compare_with_layer_norm_trains_with_parity(dtype):
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        status = main(
            [
                "compare",
                "--norm",
                "layer",
                "--hidden",
                "8,8",
                "--epochs",
                "30",
                "--dtype",
                dtype,
                "--device",
                "cpu",
                "--json",
                "--quiet",
            ]
        )
    result = json.loads(buffer.getvalue())
    assert status == 0 and result["parity"] is True, result
    assert result["network"] == "2-8-8-1 sigmoid + layer norm, mse"  # the normalised network was the one trained


def test_an_unknown_norm_is_refused():
    with pytest.raises(InputError, match="unknown norm 'batch'; expected one of: none, layer"):
        MLPConfig((2, 4, 1), "tanh", "mse", norm="batch")
