"""``mva compare``: its JSON says what it claims, its table ends with the verdict, bad input exits 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from manual_vs_autograd.cli import main


def _json(capsys, *argv) -> tuple[int, dict]:
    status = main(["compare", *argv, "--json", "--quiet"])
    return status, json.loads(capsys.readouterr().out)


def test_json_fields_of_a_short_default_run(capsys):
    status, out = _json(capsys, "--epochs", "50")
    assert status == 0 and out["parity"] is True
    assert out["dtype"] == "float64" and out["device"] in ("cpu", "cuda:0", "cuda")
    assert out["epochs"] == 50 and out["steps"] == 50 and out["sizes"] == [2, 2, 1]
    assert [p["name"] for p in out["parameters"]] == ["W1", "b1", "W2", "b2"]
    assert [p["shape"] for p in out["parameters"]] == [[2, 2], [2], [1, 2], [1]]
    for p in out["parameters"]:
        assert p["max_abs_diff"] <= 1e-12 and p["max_ulp"] >= 0 and isinstance(p["exact"], bool)
        assert p["exact"] == (p["max_abs_diff"] == 0)
    assert out["max_loss_diff"] <= 1e-10 and out["max_param_diff"] <= 1e-10
    assert set(out["final_loss"]) == {"manual", "autograd"}
    assert abs(out["final_loss"]["manual"] - out["final_loss"]["autograd"]) <= out["max_loss_diff"]
    assert out["final_loss"]["manual"] < out["first_loss"]["manual"]
    assert 0.5 <= out["accuracy"]["train"] <= 1 and 0 <= out["accuracy"]["test"] <= 1


def test_options_reach_the_run(capsys):
    status, out = _json(
        capsys,
        "--hidden",
        "6,5",
        "--activation",
        "tanh",
        "--loss",
        "ce",
        "--epochs",
        "3",
        "--batch-size",
        "100",
        "--dtype",
        "float32",
        "--lr",
        "0.05",
        "--seed",
        "2",
        "--device",
        "cpu",
    )
    assert status == 0
    assert out["sizes"] == [2, 6, 5, 4] and out["activation"] == "tanh" and out["loss"] == "ce"
    assert out["dtype"] == "float32" and out["device"] == "cpu" and out["lr"] == 0.05
    assert out["batch_size"] == 100 and out["steps"] == 3 * 8 and out["seed"] == 2


def test_table_ends_with_the_verdict(capsys):
    assert main(["compare", "--epochs", "5", "--quiet"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == "parity: yes"
    assert any(line.split()[:1] == ["W1"] for line in lines)


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--epochs", "0"], "expected a positive integer, got '0'"),
        (["--lr", "-1"], "expected a positive finite number, got '-1'"),
        (["--hidden", "4,,2"], "hidden sizes '4,,2'"),
        (["--activation", "swish"], "unknown activation 'swish'; expected one of: sigmoid, tanh, relu"),
        (["--loss", "hinge"], "unknown loss 'hinge'; expected one of: mse, bce, ce"),
        (["--dtype", "float16"], "unknown dtype 'float16'; expected one of: float32, float64"),
        (["--batch-size", "5000"], "batch size 5000 is larger than the 750 training samples"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    assert main(["compare", *argv, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mva: error: ") and message in err


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_a_clear_error(capsys):
    assert main(["compare", "--device", "cuda", "--quiet"]) == 2
    assert "no CUDA GPU is available" in capsys.readouterr().err


def test_python_dash_m_is_the_same_command():
    done = subprocess.run(
        [sys.executable, "-m", "manual_vs_autograd", "compare", "--epochs", "2", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["epochs"] == 2
