"""``mva bench`` reports what it claims (no timing is asserted here: speed belongs in the benchmark)."""

from __future__ import annotations

import json

import pytest

from manual_vs_autograd.bench import run_bench
from manual_vs_autograd.cli import main


@pytest.fixture(scope="module")
def small():
    return run_bench(quick=True, device="cpu", names=("lecture 2-2-1",))


def test_json_fields_are_consistent(small):
    (c,) = small["configs"]
    assert c["name"] == "lecture 2-2-1" and c["device"] == "cpu" and c["dtype"] == "float64"
    assert c["manual_s"] > 0 and c["autograd_s"] > 0 and c["matmul_s"] > 0
    assert c["ratio"] == pytest.approx(c["manual_s"] / c["autograd_s"])
    assert c["matmul_fraction"] == pytest.approx(c["matmul_s"] / c["manual_s"])
    # a step allocates at least its activations: 750 samples × (2 + 2 + 1 + 1) float64 values
    assert c["manual_peak_bytes"] >= 750 * 6 * 8 and c["autograd_peak_bytes"] >= 750 * 6 * 8
    assert c["compiled_s"] is None and "not run" in c["compiled_note"]
    s = small["scalar"]
    assert small["scalar_speedup"] == pytest.approx(s["vectorised_epochs_per_s"] / s["scalar_epochs_per_s"])


def test_cli_writes_json_and_chart(tmp_path, capsys, monkeypatch):
    import manual_vs_autograd.cli.bench as cli_bench

    monkeypatch.setattr(cli_bench, "run_bench", lambda **kw: run_bench(**kw, names=("lecture 2-2-1", "lecture 2-2-4")))
    assert main(["bench", "--quick", "--quiet", "--device", "cpu", "--out", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "lecture 2-2-1" in table and "epochs/s" in table
    written = json.loads((tmp_path / "bench.json").read_text())
    assert [c["name"] for c in written["configs"]] == ["lecture 2-2-1", "lecture 2-2-4"]
    assert (tmp_path / "bench.png").stat().st_size > 10_000
