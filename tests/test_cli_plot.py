"""``mva compare --save/--plots`` and ``mva plot``: the same pictures without training again."""

from __future__ import annotations

import pytest

import manual_vs_autograd.compare as compare_module
from manual_vs_autograd.cli import main


def test_save_then_plot_gives_the_same_pictures(tmp_path, monkeypatch, capsys):
    run = tmp_path / "run.npz"
    assert main(["compare", "--epochs", "30", "--quiet", "--save", str(run), "--plots", str(tmp_path / "a")]) == 0
    capsys.readouterr()

    def no_training(*args, **kwargs):
        raise AssertionError("mva plot trained again")

    monkeypatch.setattr(compare_module, "train_side_by_side", no_training)
    assert main(["plot", str(run), "--kind", "all", "--out", str(tmp_path / "b"), "--quiet"]) == 0
    first = sorted(p.name for p in (tmp_path / "a").iterdir())
    second = sorted(p.name for p in (tmp_path / "b").iterdir())
    assert first == second and len(first) == 9
    for name in ("trajectories.png", "heatmap.png", "regions.png"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_plot_one_kind(tmp_path, capsys):
    run = tmp_path / "run.npz"
    assert main(["compare", "--epochs", "3", "--quiet", "--save", str(run)]) == 0
    assert main(["plot", str(run), "--kind", "loss", "--out", str(tmp_path / "o"), "--quiet"]) == 0
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["loss.png"]


@pytest.mark.parametrize(
    "argv,message",
    [
        (["plot", "missing.npz"], "does not exist"),
        (["plot", "RUN", "--kind", "pie"], "unknown picture kind 'pie'"),
    ],
)
def test_plot_errors(tmp_path, capsys, argv, message):
    run = tmp_path / "run.npz"
    assert main(["compare", "--epochs", "2", "--quiet", "--save", str(run)]) == 0
    capsys.readouterr()
    argv = [str(run) if a == "RUN" else str(tmp_path / a) if a.endswith(".npz") else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("mva: error: ") and message in err and err.count("\n") == 1


def test_plot_refuses_a_hostile_record_and_a_bad_out_in_one_line(tmp_path, capsys):
    import numpy as np
    from safetensors.numpy import save_file

    hostile = tmp_path / "hostile.safetensors"
    save_file({"loss/manual": np.zeros(3)}, str(hostile), metadata={"format": "manual_vs_autograd.run/2", "meta": "[]"})
    assert main(["plot", str(hostile), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mva: error: ") and "has metadata of type list" in err and err.count("\n") == 1
    (tmp_path / "file").write_text("")
    assert main(["plot", str(hostile), "--out", str(tmp_path / "file"), "--quiet"]) == 2
    assert "--out" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_failure_while_writing_the_pictures_is_one_line(tmp_path, capsys, monkeypatch):
    import manual_vs_autograd.cli.plot as cli_plot
    from manual_vs_autograd.cli import main

    def failing(*args, **kwargs):
        raise OSError(28, "No space left on device")
        yield  # a generator, as write_pictures is

    monkeypatch.setattr(cli_plot, "load_record", lambda path: object())
    monkeypatch.setattr(cli_plot, "write_pictures", failing)
    assert main(["plot", "run.safetensors", "--out", str(tmp_path / "p"), "--quiet"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mva: error: could not write the pictures") and "No space" in err


def test_all_on_a_loss_only_record_says_which_pictures_it_leaves_out(tmp_path, capsys):
    run = tmp_path / "run.npz"
    assert main(["compare", "--epochs", "3", "--quiet", "--record", "loss", "--save", str(run)]) == 0
    capsys.readouterr()
    assert main(["plot", str(run), "--out", str(tmp_path / "o"), "--quiet"]) == 0
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["data.png", "loss.png"]
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("mva: not drawn")]
    left_out = {kind for line in notes for kind in line.split("(")[1].split(")")[0].split(", ")}
    assert left_out == {"trajectories", "heatmap", "heatmap-gif", "regions", "regions-gif", "predictions", "w1-only"}
    assert notes == [  # one line per reason
        "mva: not drawn (trajectories, heatmap, heatmap-gif, regions, regions-gif, predictions, w1-only): "
        "this record kept no parameters; record them when training (--record all)"
    ]


def test_a_record_without_losses_draws_no_loss_picture_and_refuses_one_asked_for(tmp_path, capsys):
    run = tmp_path / "run.npz"
    assert main(["compare", "--epochs", "3", "--quiet", "--record", "none", "--save", str(run)]) == 0
    capsys.readouterr()
    assert main(["plot", str(run), "--out", str(tmp_path / "o"), "--quiet"]) == 0
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["data.png"]
    assert "mva: not drawn (loss): this record kept no losses (--record none)" in capsys.readouterr().err
    assert main(["plot", str(run), "--kind", "loss", "--out", str(tmp_path / "p")]) == 2
    assert capsys.readouterr().err.startswith("mva: error: the loss picture needs the losses")


def test_kinds_asked_by_name_are_all_checked_before_any_is_drawn(tmp_path, capsys):
    run = tmp_path / "run.npz"
    assert main(["compare", "--epochs", "3", "--quiet", "--record", "W1,b2", "--save", str(run)]) == 0
    capsys.readouterr()
    out = tmp_path / "o"
    argv = ["plot", str(run), "--kind", "trajectories", "--kind", "loss", "--kind", "regions", "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("mva: error: the decision regions picture needs every parameter") and err.count("\n") == 1
    assert not out.exists() or not list(out.iterdir())  # none drawn: the trajectories and loss were not written first


@pytest.mark.parametrize("kinds", [["optimizer-paths", "heatmap"], ["all", "heatmap"]])
def test_a_refused_kind_beside_others_draws_nothing(tmp_path, capsys, kinds):
    run = tmp_path / "run.npz"
    assert main(["compare", "--epochs", "3", "--quiet", "--record", "loss", "--save", str(run)]) == 0
    capsys.readouterr()
    out = tmp_path / "o"
    argv = ["plot", str(run), "--out", str(out), "--quiet"] + [a for k in kinds for a in ("--kind", k)]
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith("mva: error: the heat map picture needs parameters")
    assert not out.exists() or not list(out.iterdir())
