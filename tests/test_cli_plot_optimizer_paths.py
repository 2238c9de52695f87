"""``mva plot --kind optimizer-paths``: drawn without a run record; other kinds still need one.

The picture itself trains the lecture run (minutes on a busy CPU) and is tested with the optimizer
package; here the command's wiring is tested with the drawing function replaced by a cheap figure.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from manual_vs_autograd.cli import main
from manual_vs_autograd.plots import optimizer_paths


def test_optimizer_paths_needs_no_record(monkeypatch, tmp_path, capsys):
    calls = []

    def stand_in():
        calls.append(True)
        fig = Figure()
        fig.add_subplot().plot([0, 1], [1, 0])
        return fig

    monkeypatch.setattr(optimizer_paths, "lecture_optimizer_paths", stand_in)
    assert main(["plot", "--kind", "optimizer-paths", "--out", str(tmp_path), "--quiet"]) == 0
    assert calls == [True]
    written = tmp_path / "optimizer_paths.png"
    assert written.stat().st_size > 0 and f"wrote {written}" in capsys.readouterr().err


def test_other_kinds_without_a_record_are_one_line_and_exit_2(tmp_path, capsys):
    assert main(["plot", "--kind", "loss", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mva: error: no run record given")
