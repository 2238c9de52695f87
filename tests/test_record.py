"""Run records: a saved run loads back equal to the run, in a safe format; bad files are clear errors."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from manual_vs_autograd import CompareSpec, InputError, run_compare
from manual_vs_autograd.record import load_record, record_from_result, save_record


@pytest.fixture(scope="module")
def result():
    return run_compare(CompareSpec(hidden=(3,), loss="bce", epochs=4, batch_size=200, device="cpu"))


def test_round_trip_equals_the_run(result, tmp_path):
    path = tmp_path / "run.npz"
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
    assert loaded.meta["accuracy"] == result.accuracy
    assert loaded.config == result.config
    assert loaded.steps_per_epoch == 4
    assert loaded.meta["summary"]["parity"] is True


def test_file_holds_no_pickle(result, tmp_path):
    path = tmp_path / "run.npz"
    save_record(record_from_result(result), path)
    with np.load(path, allow_pickle=False) as archive:  # would raise on object arrays
        assert json.loads(str(archive["meta"]))["format"] == "manual_vs_autograd.run/1"
        assert all(archive[k].dtype != object for k in archive.files)


def test_saving_leaves_no_temporary_files(result, tmp_path):
    save_record(record_from_result(result), tmp_path / "run.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["run.npz"]


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "is not a readable .npz run record"),
        (b"hello, not an archive", "is not a readable .npz run record"),
    ],
)
def test_unreadable_files_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        load_record(path)


def test_missing_truncated_and_foreign_files(result, tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_record(tmp_path / "nope.npz")
    good = tmp_path / "run.npz"
    save_record(record_from_result(result), good)
    truncated = tmp_path / "cut.npz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(InputError, match="not a readable .npz run record"):
        load_record(truncated)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.ones(3))
    with pytest.raises(InputError, match="has no run metadata"):
        load_record(foreign)
    other = tmp_path / "other.npz"
    np.savez(other, meta=np.array(json.dumps({"format": "something/else"})))
    with pytest.raises(InputError, match="has format 'something/else'"):
        load_record(other)
    assert zipfile.is_zipfile(good)
