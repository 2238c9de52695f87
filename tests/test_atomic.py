"""Atomic writes: respect what is at the path, keep its mode, and leave no temporary file on any way out."""

from __future__ import annotations

import json
import os
import stat

import pytest

from manual_vs_autograd import InputError
from manual_vs_autograd.atomic import atomic_path
from manual_vs_autograd.jsonsafe import dumps, to_strict


@pytest.mark.parametrize("exc", [KeyboardInterrupt, SystemExit, OSError])
def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path, exc):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(exc), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise exc()
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_a_replaced_file_keeps_its_mode_and_a_new_one_gets_the_umask(tmp_path):
    target = tmp_path / "secret.txt"
    target.write_text("old")
    os.chmod(target, 0o640)
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new" and stat.S_IMODE(target.stat().st_mode) == 0o640
    umask = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "fresh.txt") as tmp:
            tmp.write_text("x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "fresh.txt").stat().st_mode) == 0o644


def test_links_fifos_and_devices_are_never_replaced(tmp_path):
    (tmp_path / "real").write_text("keep")
    os.symlink(tmp_path / "real", tmp_path / "link")
    os.mkfifo(tmp_path / "fifo")
    for path, message in (
        (tmp_path / "link", "symbolic link"),
        (tmp_path / "fifo", "FIFO"),
        ("/dev/null", "character device"),
    ):
        with pytest.raises(InputError, match=message), atomic_path(path) as tmp:
            tmp.write_text("x")
    assert os.path.islink(tmp_path / "link") and (tmp_path / "real").read_text() == "keep"
    assert stat.S_ISFIFO((tmp_path / "fifo").lstat().st_mode) and os.path.exists("/dev/null")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "link", "real"]


def test_a_folder_is_made_when_the_first_file_is_written(tmp_path):
    with atomic_path(tmp_path / "a" / "b" / "f.txt") as tmp:
        tmp.write_text("x")
    assert (tmp_path / "a" / "b" / "f.txt").read_text() == "x"


def test_strict_json_names_every_replaced_number():
    text = dumps({"loss": [1.0, float("nan")], "diff": {"max": float("inf")}, "low": -float("inf"), "ok": 2})
    data = json.loads(text, parse_constant=lambda word: pytest.fail(f"{word} in strict JSON"))
    assert data == {
        "loss": [1.0, None],
        "diff": {"max": None},
        "low": None,
        "ok": 2,
        "non_finite": {"loss[1]": "nan", "diff.max": "inf", "low": "-inf"},
    }
    assert to_strict([float("nan")]) == [None]  # no object to hold the note: null alone
    assert "non_finite" not in to_strict({"a": 1.5})
