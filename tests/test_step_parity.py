"""Step parity against trajectory parity on the lecture's chaotic run (lr 2.5, spike near step 160).

A correct manual sigmoid backward that rounds differently from autograd's kernel (``dh*h*(1-h)``
instead of ``(1-h)*dh*h``) is injected by monkeypatching the activation registry: every step agrees
within its bound, the free runs part where the sensitivity run says rounding is amplified, exit 0.
A wrong one is caught at its first step and named, exit 1.
"""

from __future__ import annotations

import json

import pytest

from manual_vs_autograd import layers
from manual_vs_autograd.cli import main

EPOCHS = "300"  # past the loss spike (steps ~150-250) of the 2000-epoch lecture run; the same steps


def _patch_sigmoid(monkeypatch, backward):
    entry = layers.ACTIVATIONS["sigmoid"]
    monkeypatch.setitem(layers.ACTIVATIONS, "sigmoid", entry._replace(backward=backward))


def test_correct_but_not_bitwise_manual_variant_passes_with_a_diagnosis(monkeypatch, capsys):
    _patch_sigmoid(monkeypatch, lambda dh, cache: dh * cache.h * (1 - cache.h))
    assert main(["compare", "--epochs", EPOCHS, "--check-every", "1", "--quiet", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["parity"] is True
    assert out["step_parity"]["schedule"] == "every step"
    assert out["step_parity"]["holds"] is True
    assert out["step_parity"]["checked_steps"] == out["steps"] == int(EPOCHS)
    traj, sens = out["trajectory_parity"], out["sensitivity"]
    assert traj["holds"] is False and traj["exact"] is False
    assert sens["horizon_step"] is not None and sens["growth_per_step"] > 1
    # the runs part no earlier than the perturbation test says rounding becomes visible (50 steps of slack
    # for the differences that two non-bitwise sides have accumulated before, against one ULP at the start)
    assert traj["first_outside_step"] >= sens["horizon_step"] - 50
    assert "as expected" in out["diagnosis"]


def test_a_wrong_manual_variant_fails_naming_the_parameter_and_the_first_bad_step(monkeypatch, capsys):
    # a derivative off by one part in 1e9: far below what a plot would show, far above float64 rounding
    _patch_sigmoid(monkeypatch, lambda dh, cache: dh * cache.h * (1 - cache.h) * (1 + 1e-9))
    assert main(["compare", "--epochs", "5", "--quiet", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["parity"] is False and out["step_parity"]["holds"] is False
    assert out["step_parity"]["first_bad_step"] == 1
    assert "dW1" in out["step_parity"]["first_bad"]
    assert "MISMATCH" in out["diagnosis"] and "step 1" in out["diagnosis"]


def test_json_is_strict_when_the_run_diverges(capsys):
    args = [
        "compare",
        "--lr",
        "1e6",
        "--loss",
        "ce",
        "--hidden",
        "8,8",
        "--activation",
        "relu",
        "--dtype",
        "float32",
    ]
    args += ["--epochs", "30", "--quiet", "--json"]
    assert main(args) == 1
    text = capsys.readouterr().out
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON token {c}"))
    assert "NaN" not in text and "Infinity" not in text
