"""``mva plot`` on what a user may hand it: odd paths, hostile numbers, and records whose values are not finite.

Bad input is one line and exit status 2; values a record may hold (NaN, ±inf, magnitudes near 1e308) are
drawn, without a single warning from numpy or matplotlib. The records are built here from a real run.
"""

from __future__ import annotations

import dataclasses
import json
import os
import warnings

import numpy as np
import pytest
from safetensors.numpy import save_file

from manual_vs_autograd import CompareSpec, run_compare
from manual_vs_autograd.cli import main
from manual_vs_autograd.lecture.scalar_net import sigmoid
from manual_vs_autograd.plots import write_pictures
from manual_vs_autograd.plots.standard import applicable
from manual_vs_autograd.plots.trajectories import plot_loss_curves, plot_weight_trajectories
from manual_vs_autograd.record import FORMAT, load_record, record_arrays, record_from_result, save_record


@pytest.fixture(scope="module")
def record():
    return record_from_result(run_compare(CompareSpec(epochs=4, device="cpu")))  # the lecture's 2-2-1 network


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mva: error: ") and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize(
    "path,match",
    [
        ("", "run file path is empty; expected the path of a run record file"),
        ("/proc/self/mem", "run file '/proc/self/mem' cannot be read"),  # a regular file that refuses read(2)
        ("/dev/zero", "is not a regular file"),
        ("/proc/self", "is a folder"),
    ],
)
def test_unreadable_or_special_run_files_are_one_line(tmp_path, capsys, path, match):
    if not os.path.exists(path or "."):
        pytest.skip(f"{path} does not exist here")
    assert main(["plot", path, "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert match in one_error_line(capsys)
    assert not (tmp_path / "o").exists()


def test_a_learning_rate_beyond_float_range_is_one_line(record, tmp_path, capsys):
    meta = json.loads(json.dumps(record.meta))
    meta["train"]["lr"] = 10**400  # valid JSON; float() of it overflows
    path = tmp_path / "hostile.safetensors"
    save_record(record, path)  # the real arrays, then the hostile metadata in their place
    save_file(record_arrays(load_record(path)), str(path), metadata={"format": FORMAT, "meta": json.dumps(meta)})
    assert main(["plot", str(path), "--kind", "loss", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "has learning rate 1000000000" in one_error_line(capsys)


def _with_values(record, losses, params):
    """``record`` with every loss set by ``losses(array)`` and every parameter row by ``params(array)``."""
    return dataclasses.replace(
        record,
        losses={side: losses(v.copy()) for side, v in record.losses.items()},
        params={side: {n: params(v.copy()) for n, v in p.items()} for side, p in record.params.items()},
    )


def _fill(value):
    def fill(a):
        a[...] = value
        return a

    return fill


def _alternate(a):
    a[...] = np.where(np.arange(a.size).reshape(a.shape) % 2, 1e308, -1e308)
    return a


def _diverging(a):
    a[len(a) // 2 :] = np.inf  # finite at first, then infinite
    a[-1] = np.nan
    return a


VALUES = {
    "all-nan": (_fill(np.nan), _fill(np.nan)),
    "all-1e308": (_fill(1e308), _fill(1e308)),
    "alternating-pm-1e308": (_alternate, _alternate),
    "diverging-to-inf-then-nan": (_diverging, _diverging),
}


@pytest.mark.parametrize("name", list(VALUES))
def test_pictures_of_records_that_are_not_finite_or_huge_raise_no_warnings(record, tmp_path, name):
    path = tmp_path / "run.safetensors"
    save_record(_with_values(record, *VALUES[name]), path)
    hostile = load_record(path)  # the record file allows these values
    kinds = applicable(hostile)
    assert "w1-only" in kinds and "loss" in kinds and "trajectories" in kinds
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning (overflow, All-NaN slice) fails the test
        written = write_pictures(hostile, tmp_path / "p", kinds)
    assert sorted(p.name for p in written) == sorted(p.name for p in (tmp_path / "p").iterdir())
    assert len(written) == len(kinds)


def _texts(fig) -> str:
    return " | ".join(t.get_text() for ax in fig.axes for t in ax.texts)


def test_the_pictures_say_what_they_could_not_draw(record):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nan = _with_values(record, *VALUES["all-nan"])
        assert "no finite value to draw (all NaN or ±inf)" in _texts(plot_loss_curves(nan))
        assert "no finite value to draw" in _texts(plot_weight_trajectories(nan))
        huge = _with_values(record, *VALUES["alternating-pm-1e308"])
        assert "values beyond ±1e+200 drawn at ±1e+200" in _texts(plot_loss_curves(huge))
        assert "values beyond ±1e+200 drawn at ±1e+200" in _texts(plot_weight_trajectories(huge))


def test_the_lecture_sigmoid_saturates_instead_of_overflowing():
    assert sigmoid(-1e308) == 0.0 and sigmoid(-746.0) == 0.0 and sigmoid(1e308) == 1.0
    assert sigmoid(-700.0) > 0.0 and sigmoid(0.0) == 0.5
