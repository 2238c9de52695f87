"""Run records: a saved run loads back equal to the run, in a safe format; old .npz records still load."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest
from safetensors import safe_open

from manual_vs_autograd import CompareSpec, InputError, run_compare
from manual_vs_autograd.record import FORMAT, LEGACY_FORMAT, RunRecord, load_record, record_from_result, save_record


@pytest.fixture(scope="module")
def result():
    return run_compare(CompareSpec(hidden=(3,), loss="bce", epochs=4, batch_size=200, device="cpu"))


def write_legacy(path, record: RunRecord) -> None:
    """A record as ``save_record`` wrote it before safetensors: an .npz, every step kept."""
    arrays = {"meta": np.array(json.dumps({**record.meta, "format": LEGACY_FORMAT}))}
    for side in ("manual", "autograd"):
        arrays[f"loss/{side}"] = record.losses[side]
        for name, values in record.params[side].items():
            arrays[f"param/{side}/{name}"] = values
    for name, values in record.data.items():
        arrays[f"data/{name}"] = values
    np.savez_compressed(path, **arrays)


def test_round_trip_equals_the_run(result, tmp_path):
    path = tmp_path / "run.safetensors"
    save_record(record_from_result(result), path)
    loaded = load_record(path)
    traj = result.trajectories
    assert loaded.steps == traj.steps == 4 * 4
    np.testing.assert_array_equal(loaded.losses["manual"], traj.manual.losses)
    np.testing.assert_array_equal(loaded.losses["autograd"], traj.autograd.losses)
    for side in ("manual", "autograd"):
        for name, values in getattr(traj, side).stacked().items():
            np.testing.assert_array_equal(loaded.params[side][name], values.numpy())
    np.testing.assert_array_equal(loaded.data["x_train"], result.data.x_train.numpy())
    np.testing.assert_array_equal(loaded.loss_steps, np.arange(1, 17))
    np.testing.assert_array_equal(loaded.param_steps, np.arange(0, 17))
    assert loaded.meta["accuracy"] == result.accuracy
    assert loaded.meta["record"]["thinned"] is False
    assert loaded.config == result.config
    assert loaded.steps_per_epoch == 4
    assert loaded.meta["summary"]["parity"] is True


def test_new_records_are_safetensors_whatever_the_name(result, tmp_path):
    path = tmp_path / "run.npz"  # an old habit: the content decides, not the name
    save_record(record_from_result(result), path)
    with safe_open(str(path), framework="numpy") as f:  # the standard reader: no pickle, no code
        assert f.metadata()["format"] == FORMAT
        assert json.loads(f.metadata()["meta"])["steps"] == 16
        assert "param/manual/W1" in f.keys() and f.get_tensor("loss_steps").dtype == np.int64
    assert load_record(path).steps == 16


def test_records_written_as_npz_before_still_load(result, tmp_path):
    new = record_from_result(result)
    path = tmp_path / "old.npz"
    write_legacy(path, new)
    old = load_record(path)
    assert old.meta["format"] == LEGACY_FORMAT and old.steps == 16
    np.testing.assert_array_equal(old.loss_steps, np.arange(1, 17))  # every step, as then
    np.testing.assert_array_equal(old.param_steps, np.arange(0, 17))
    for side in ("manual", "autograd"):
        np.testing.assert_array_equal(old.losses[side], new.losses[side])
        for name in new.params[side]:
            np.testing.assert_array_equal(old.params[side][name], new.params[side][name])
    torch_params = old.params_at(16, "autograd")
    np.testing.assert_array_equal(torch_params["W1"].numpy(), new.params["autograd"]["W1"][16])


def test_a_thinned_record_round_trips_and_names_missing_steps(result, tmp_path):
    full = record_from_result(result)
    keep = np.array([0, 4, 8, 12, 16])
    thinned = RunRecord(
        meta={**full.meta, "record": {"every": 4, "what": ["W1", "b1"], "thinned": True}},
        losses={side: v[3::4] for side, v in full.losses.items()},
        params={side: {n: full.params[side][n][keep] for n in ("W1", "b1")} for side in full.params},
        data=full.data,
        loss_steps=np.arange(4, 17, 4),
        param_steps=keep,
    )
    path = tmp_path / "thin.safetensors"
    save_record(thinned, path)
    loaded = load_record(path)
    assert loaded.steps == 16 and set(loaded.params["manual"]) == {"W1", "b1"}
    np.testing.assert_array_equal(loaded.loss_steps, [4, 8, 12, 16])
    np.testing.assert_array_equal(loaded.params_at(8)["W1"].numpy(), full.params["manual"]["W1"][8])
    np.testing.assert_array_equal(loaded.params_at(-1)["b1"].numpy(), full.params["manual"]["b1"][16])  # the last row
    with pytest.raises(InputError, match="parameters after step 5 are not in this record"):
        loaded.params_at(5)


def test_a_loss_only_record_has_no_parameters(result, tmp_path):
    full = record_from_result(result)
    loss_only = RunRecord(
        meta={**full.meta, "record": {"every": 1, "what": "loss", "thinned": True}},
        losses=full.losses,
        params={"manual": {}, "autograd": {}},
        data=full.data,
        param_steps=np.zeros(0, dtype=np.int64),
    )
    save_record(loss_only, tmp_path / "loss.safetensors")
    loaded = load_record(tmp_path / "loss.safetensors")
    assert loaded.params == {"manual": {}, "autograd": {}} and len(loaded.losses["manual"]) == 16
    with pytest.raises(InputError, match="no parameters"):
        loaded.params_at(0)


def test_saving_leaves_no_temporary_files_and_keeps_the_mode(result, tmp_path):
    path = tmp_path / "run.safetensors"
    save_record(record_from_result(result), path)
    assert [p.name for p in tmp_path.iterdir()] == ["run.safetensors"]
    os.chmod(path, 0o600)
    save_record(record_from_result(result), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["run.safetensors"]


def test_the_metadata_is_strict_json_even_after_divergence(tmp_path):
    diverged = run_compare(
        CompareSpec(loss="ce", hidden=(8, 8), activation="relu", lr=1e6, epochs=50, dtype="float32", device="cpu")
    )
    assert diverged.trajectories.stopped is not None
    path = tmp_path / "div.safetensors"
    save_record(record_from_result(diverged), path)
    with safe_open(str(path), framework="numpy") as f:
        text = f.metadata()["meta"]
    meta = json.loads(text, parse_constant=lambda word: pytest.fail(f"{word} in the metadata"))
    assert meta["non_finite"]  # each replaced number named, e.g. "summary.max_loss_diff": "inf"
    assert set(meta["non_finite"].values()) <= {"nan", "inf", "-inf"}
