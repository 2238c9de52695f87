"""``mva compare --optimizer X``: every rule trains both sides with parity on the CPU, in float64 and float32.

The lecture's 2-2-1 network has hand-written gradients bitwise equal to autograd's, and on the CPU
``torch.optim`` runs its single-tensor implementation, which the hand-written rules mirror op for op:
so each run's step parity holds and the trajectories stay bitwise equal. Five epochs are enough for
every state buffer to be created and used.
"""

from __future__ import annotations

import json

import pytest

from manual_vs_autograd.cli import main
from manual_vs_autograd.compare import default_lr
from manual_vs_autograd.optim import OPTIMIZERS
from manual_vs_autograd.optim import default_lr as optimizer_default_lr


def _json(capsys, *argv) -> tuple[int, dict]:
    status = main(["compare", *argv, "--json", "--quiet", "--device", "cpu"])
    return status, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_each_optimizer_with_its_defaults_has_parity(capsys, name, dtype):
    status, out = _json(capsys, "--optimizer", name, "--epochs", "5", "--dtype", dtype)
    assert status == 0 and out["parity"] is True
    opt = out["optimizer"]
    assert opt["name"] == name and opt["implementation"] == "single-tensor"
    assert opt["torch"] == "torch.optim." + {"adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop"}.get(name, "SGD")
    assert opt["lr"] == out["lr"] == optimizer_default_lr(name, default_lr("mse"))
    assert out["step_parity"]["holds"] is True and out["step_parity"]["checked_steps"] == 5
    assert out["trajectory_parity"]["exact"] is True


def test_settings_reach_both_sides_and_the_json(capsys):
    status, out = _json(
        capsys, "--optimizer", "adamw", "--lr", "0.02", "--weight-decay", "0.1", "--betas", "0.8,0.99",
        "--eps", "1e-6", "--amsgrad", "--batch-size", "100", "--epochs", "2", "--dtype", "float32",
    )  # fmt: skip
    assert status == 0 and out["step_parity"]["holds"] is True
    opt = out["optimizer"]
    assert (opt["lr"], opt["weight_decay"], opt["betas"], opt["eps"], opt["amsgrad"]) == (
        0.02,
        0.1,
        [0.8, 0.99],
        1e-6,
        True,
    )
    assert out["steps"] == 2 * 8  # 750 samples in batches of 100


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--optimizer", "lion"], "unknown optimizer 'lion'"),
        (["--optimizer", "adam", "--momentum", "0.5"], "momentum applies to"),
        (["--optimizer", "adam", "--betas", "0.9"], "expected two numbers B1,B2"),
    ],
)
def test_bad_optimizer_settings_are_one_line_and_exit_2(capsys, argv, message):
    assert main(["compare", *argv, "--epochs", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mva: error: ") and message in err
