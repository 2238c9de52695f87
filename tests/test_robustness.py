"""Diverging runs, interrupted runs, atomic files and determinism."""

from __future__ import annotations

import numpy as np
import pytest

import manual_vs_autograd.record as record_module
from manual_vs_autograd import CompareSpec, run_compare
from manual_vs_autograd.cli import main
from manual_vs_autograd.optim import ManualOptimizer
from manual_vs_autograd.record import load_record, record_from_result, save_record

DIVERGING = ["--lr", "1e6", "--loss", "ce", "--hidden", "8,8", "--activation", "relu", "--dtype", "float32"]


def test_a_diverging_run_stops_names_the_step_and_side_and_keeps_the_record(tmp_path, capsys):
    run = tmp_path / "div.npz"
    assert main(["compare", *DIVERGING, "--quiet", "--save", str(run), "--plots", str(tmp_path / "p")]) == 1
    err = capsys.readouterr().err
    assert "mva: the run stopped early: the loss became inf at step" in err
    assert "manual and autograd sides" in err
    record = load_record(run)
    step = record.meta["steps"]
    assert record.steps == step and 1 <= step < 2000
    assert not np.isfinite(record.losses["manual"][-1]) and np.all(np.isfinite(record.losses["manual"][:-1]))
    assert f"at step {step} " in record.meta["stopped"]
    assert not (tmp_path / "p").exists()  # pictures skipped, and said so
    assert "pictures skipped" in err


def test_ctrl_c_during_compare_save_keeps_what_was_recorded(tmp_path, capsys, monkeypatch):
    real_sgd_step = ManualOptimizer.step  # the manual side's update, once per step
    calls = {"n": 0}

    def interrupting_sgd_step(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 8:
            raise KeyboardInterrupt
        return real_sgd_step(*args, **kwargs)

    monkeypatch.setattr(ManualOptimizer, "step", interrupting_sgd_step)
    run = tmp_path / "run.npz"
    assert main(["compare", "--quiet", "--save", str(run)]) == 130
    err = capsys.readouterr().err
    assert "run record saved to" in err and "with the 7 steps recorded" in err
    assert "interrupted during step 8" in err
    record = load_record(run)
    assert record.steps == 7
    for side in ("manual", "autograd"):
        assert all(v.shape[0] == 8 for v in record.params[side].values())  # start + 7 steps
    np.testing.assert_array_equal(record.losses["manual"], record.losses["autograd"])


def test_a_crash_while_saving_leaves_the_old_file_whole(tmp_path, monkeypatch):
    result = run_compare(CompareSpec(epochs=3, device="cpu"))
    path = tmp_path / "run.npz"
    save_record(record_from_result(result), path)
    before = path.read_bytes()

    def crash(arrays, file, metadata=None):
        with open(file, "wb") as f:
            f.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(record_module, "save_file", crash)
    with pytest.raises(OSError, match="disk full"):
        save_record(record_from_result(result), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["run.npz"]


def test_same_seed_and_config_give_bitwise_identical_records_on_cpu():
    spec = CompareSpec(hidden=(8, 8), activation="tanh", loss="ce", epochs=5, batch_size=64, seed=3, device="cpu")
    first, second = (record_from_result(run_compare(spec)) for _ in range(2))
    for side in ("manual", "autograd"):
        assert first.losses[side].tobytes() == second.losses[side].tobytes()
        for name in first.params[side]:
            assert first.params[side][name].tobytes() == second.params[side][name].tobytes()
    other = record_from_result(run_compare(CompareSpec(**{**spec.__dict__, "seed": 4})))
    assert other.losses["manual"].tobytes() != first.losses["manual"].tobytes()
