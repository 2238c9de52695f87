"""``mva lecture``: the JSON the issue asks for, and the tables."""

from __future__ import annotations

import json

import pytest

from manual_vs_autograd.cli import main


@pytest.fixture(scope="module")
def lecture_json():
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["lecture", "--json", "--all"]) == 0
    return json.loads(buffer.getvalue())


def test_json_has_every_experiment(lecture_json):
    assert set(lecture_json["w1_only"]) >= {"w1_start", "w1_end", "mse_start", "mse_end"}
    assert set(lecture_json["full"]) >= {"train_acc", "test_acc"}
    assert set(lecture_json["multiclass"]) >= {"train_acc", "test_acc"}
    assert lecture_json["multiclass_original"]["flagged"] == ["b1", "b2", "b3", "b4", "b5", "b6"]
    assert lecture_json["notebook"]["w1_only"]["w1_end"] == 1.245


def test_json_tables(lecture_json):
    assert [d["ok"] for d in lecture_json["derivation"]] == [False, True, True]
    assert lecture_json["chain_rule"]["sigmoid"]["product"] == pytest.approx(0.19661193324148185, abs=1e-15)
    assert all(row["path_mults"] > 0 for row in lecture_json["paths"])


def test_table_shows_ours_beside_the_notebooks(capsys):
    assert main(["lecture"]) == 0
    out = capsys.readouterr().out
    assert "w1_end" in out and "1.245" in out and "0.77-0.80" in out
    assert "flags: b1, b2, b3, b4, b5, b6" in out
