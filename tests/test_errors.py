"""Bad input gets one clear line naming the bad value and what was expected: from the API and the CLI."""

from __future__ import annotations

import pytest
import torch

from manual_vs_autograd import (
    InputError,
    MLPConfig,
    TrainConfig,
    compare_gradients,
    init_params,
    load_blobs,
    targets_for,
    train_side_by_side,
)
from manual_vs_autograd.cli import main

MSE = MLPConfig((2, 3, 1), "sigmoid", "mse")
CE = MLPConfig((2, 3, 4), "tanh", "ce")


def _batch(config, n=10):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, config.sizes[0], generator=g, dtype=torch.float64)
    y = (
        torch.randint(0, 4, (n,), generator=g)
        if config.loss == "ce"
        else torch.randint(0, 2, (n, 1), generator=g).double()
    )
    return x, y


def _message(config, x, y, params=None) -> str:
    with pytest.raises(InputError) as info:
        compare_gradients(config, params or init_params(config), x, y)
    text = str(info.value)
    assert "\n" not in text
    return text


def test_input_features_that_do_not_match_the_network():
    x, y = _batch(MSE)
    assert (
        _message(MSE, x[:, :1], y)
        == "inputs x have 1 features per sample (shape (10, 1)); the 2-3-1 sigmoid, mse network expects 2"
    )


def test_labels_out_of_range_and_of_the_wrong_dtype():
    x, y = _batch(CE)
    y[4] = 7
    assert "labels hold 1 value(s) outside [0, 4): the first is 7 at index 4" in _message(CE, x, y)
    assert "labels for loss 'ce' are float64; expected int64 class indices in [0, 4)" in _message(CE, x, y.double())
    xm, ym = _batch(MSE)
    assert "targets for loss 'mse' are int64; expected float64" in _message(MSE, xm, ym.long())
    bce = MLPConfig((2, 3, 1), "sigmoid", "bce")
    assert "targets for loss 'bce' must lie in [0, 1]; found 2 at index (0, 0)" in _message(bce, xm, ym * 0 + 2)


def test_targets_of_the_wrong_shape():
    x, y = _batch(MSE)
    assert _message(MSE, x, y[:, 0]) == "targets have shape (10,); expected (10, 1) for loss 'mse'"
    xc, yc = _batch(CE)
    assert "labels have shape (10, 1); expected (10,) for loss 'ce'" in _message(CE, xc, yc[:, None])
    assert "expected (10, 1)" in _message(MSE, x, y[:7])


def test_nan_or_inf_in_the_data():
    x, y = _batch(MSE)
    x[3, 1] = float("nan")
    assert (
        _message(MSE, x, y) == "inputs x holds 1 NaN/inf value(s), the first at index (3, 1); expected finite numbers"
    )
    x, y = _batch(MSE)
    y[2, 0] = float("inf")
    assert "targets y holds 1 NaN/inf value(s), the first at index (2, 0)" in _message(MSE, x, y)


def test_float_dtype_mismatch_between_data_and_parameters():
    x, y = _batch(MSE)
    message = _message(MSE, x.float(), y)
    assert message == "inputs x are float32 but the parameters are float64; convert one, e.g. x.to(torch.float64)"


def test_parameters_of_the_wrong_shape_or_missing():
    x, y = _batch(MSE)
    params = init_params(MSE)
    params["W2"] = torch.zeros(3, 1, dtype=torch.float64)
    assert "parameter W2 has shape (3, 1); expected (1, 3)" in _message(MSE, x, y, params)
    del params["b2"]
    assert "parameters b2 are missing" in _message(MSE, x, y, params)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU to put tensors on two devices")
def test_tensors_on_different_devices():
    x, y = _batch(MSE)
    assert "tensors on different devices: inputs x on cpu" in _message(MSE, x, y, init_params(MSE, device="cuda"))


def test_tensors_on_different_devices_without_a_gpu():
    x, y = _batch(MSE)
    meta = {k: v.to("meta") for k, v in init_params(MSE).items()}  # a second device that needs no GPU
    assert _message(MSE, x, y, meta) == "tensors on different devices: inputs x on cpu, the parameters on meta"


def test_training_settings():
    x, y = _batch(MSE)
    for kwargs, message in (
        (dict(epochs=0), "epochs must be a positive integer, got 0"),
        (dict(lr=0.0), "learning rate must be a positive number, got 0.0"),
        (dict(lr=-1.0), "learning rate must be a positive number, got -1.0"),
        (dict(batch_size=0), "batch size must be a positive integer, got 0"),
    ):
        with pytest.raises(InputError, match=message):
            TrainConfig(**kwargs)
    with pytest.raises(InputError, match="batch size 11 is larger than the 10 training samples"):
        train_side_by_side(MSE, init_params(MSE), x, y, TrainConfig(1, 0.1, 11))


def test_network_description():
    with pytest.raises(InputError, match=r"layer width 0 in sizes \(2, 0, 1\) must be a positive integer"):
        MLPConfig((2, 0, 1))
    with pytest.raises(InputError, match="unknown activation 'gelu'; expected one of: sigmoid, tanh, relu"):
        MLPConfig((2, 2, 1), "gelu")
    with pytest.raises(InputError, match="loss 'mse' takes one output unit"):
        MLPConfig((2, 2, 3), "sigmoid", "mse")


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--hidden", ""], "hidden sizes '' must be positive integers"),
        (["--hidden", "0,4"], "hidden sizes '0,4' must all be positive"),
        (["--hidden", "a"], "hidden sizes 'a' must be positive integers"),
        (["--batch-size", "-3"], "expected a positive integer, got '-3'"),
        (["--epochs", "ten"], "expected a positive integer, got 'ten'"),
        (["--lr", "nan"], "expected a positive finite number, got 'nan'"),
        (["--device", "tpu"], "unknown device 'tpu'; expected one of: auto, cpu, cuda, cuda:N"),
        (["--init", "zeros"], "unknown init scheme 'zeros'; expected one of: lecture, scaled"),
    ],
)
def test_cli_bad_options_exit_2_with_one_line(capsys, argv, message):
    assert main(["compare", "--quiet", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("mva: error: ") and captured.err.count("\n") == 1 and message in captured.err


def test_cli_unknown_subcommand(capsys):
    assert main(["train"]) == 2
    assert "invalid choice: 'train'" in capsys.readouterr().err


def test_blobs_and_targets_reach_the_network():
    data = load_blobs()
    assert targets_for(data.y_train, "mse", torch.float64).shape == (750, 1)


def test_library_entry_points_refuse_what_the_libraries_below_refuse():
    from manual_vs_autograd import resolve_device

    for kwargs, message in (
        (dict(seed=-1), r"seed must be an integer in \[0, 2\*\*32 - 1\].*got -1"),
        (dict(seed=2**32), "got 4294967296"),
        (dict(seed=True), "got True"),
        (dict(n_samples=10**11), "load_blobs makes at most"),
        (dict(n_samples=1000, n_features=10**7), r"1e\+10 values"),
        (dict(centers=1000, binary=False), "give at least 2000 points"),
    ):
        with pytest.raises(InputError, match=message) as info:
            load_blobs(**kwargs)
        assert "\n" not in str(info.value) and len(str(info.value)) < 200
    with pytest.raises(InputError, match="device must be a name .* got None"):
        resolve_device(None)
    with pytest.raises(InputError, match="batch size must be a positive integer, got True"):
        TrainConfig(batch_size=True)


def test_an_extra_parameter_is_named():
    x, y = _batch(MSE)
    params = {**init_params(MSE), "W9": torch.zeros(1, dtype=torch.float64)}
    assert _message(MSE, x, y, params) == (
        "unexpected parameter(s) W9; the 2-3-1 sigmoid, mse network has exactly W1, b1, W2, b2"
    )


def test_long_lists_in_messages_are_summarised():
    from manual_vs_autograd.errors import check_choice, one_line, summarise

    assert summarise(range(3)) == "0, 1, 2"
    assert summarise(range(1000)) == "0, 1, 2, 3, 4, 5, 6, 7, ... (992 more, 1000 in all)"
    with pytest.raises(InputError) as info:
        check_choice("kind", "x" * 5000, [f"k{i}" for i in range(500)])
    assert len(str(info.value)) < 200
    assert one_line("a\nb  c") == "a b c" and len(one_line("y" * 5000)) == 300
