"""``mva compare --record``: parameter names are the network's own (W1, b1, ...), checked before the run."""

from __future__ import annotations

import math

from manual_vs_autograd.cli import main
from manual_vs_autograd.config import MLPConfig
from manual_vs_autograd.preflight import _param_bytes
from manual_vs_autograd.record import load_record


def test_an_unknown_name_is_refused_naming_the_real_parameters(capsys):
    assert main(["compare", "--quiet", "--record", "Wfoo", "--epochs", "2"]) == 2
    err = capsys.readouterr().err
    assert err == "mva: error: --record names Wfoo not among the parameters W1, b1, W2, b2\n"


def test_named_parameters_are_kept_and_only_they(tmp_path, capsys):
    run = tmp_path / "run.safetensors"
    assert (
        main(["compare", "--quiet", "--hidden", "3,3", "--record", "W1,b3", "--epochs", "3", "--save", str(run)]) == 0
    )
    record = load_record(run)
    assert set(record.params["manual"]) == set(record.params["autograd"]) == {"W1", "b3"}
    assert record.params["manual"]["W1"].shape == (4, 3, 2)


def test_a_record_of_some_parameters_draws_their_trajectories_and_refuses_the_rest(tmp_path, capsys):
    run, out = tmp_path / "run.safetensors", tmp_path / "pictures"
    assert (
        main(["compare", "--quiet", "--record", "W1", "--record-every", "7", "--epochs", "40", "--save", str(run)]) == 0
    )
    assert main(["plot", str(run), "--out", str(out), "--quiet"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["data.png", "loss.png", "trajectories.png"]
    capsys.readouterr()
    assert main(["plot", str(run), "--out", str(out), "--kind", "heatmap", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "mva: error: the heat map picture needs every parameter, but this record kept only W1; "
        "record them all when training (--record all)\n"
    )


def test_the_pre_flight_estimate_uses_the_networks_names_and_sizes():
    config = MLPConfig((3, 5, 4, 2), "tanh", "ce")
    expected = {name: math.prod(shape) * 8 for name, shape in config.param_shapes().items()}
    assert _param_bytes(config.sizes, 8) == expected
    assert list(_param_bytes(config.sizes, 8)) == list(expected)  # the same order: layer by layer, W then b


def test_an_empty_name_in_the_list_is_refused_not_dropped(capsys):
    for value in ("W1,,b2", "W1,"):
        assert main(["compare", "--quiet", "--record", value, "--epochs", "2"]) == 2
        err = capsys.readouterr().err
        expected = f"argument --record: {value!r} has an empty name between its commas; expected names like W1,b2"
        assert err == f"mva: error: {expected}\n"
