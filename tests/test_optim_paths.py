"""The optimizer-paths picture: its data (paths with only two weights free, the loss surface) and the figure."""

from __future__ import annotations

import pytest
import torch

from manual_vs_autograd import init_params, load_blobs, targets_for
from manual_vs_autograd.errors import InputError
from manual_vs_autograd.optim.paths import LECTURE, PATH_SPECS, lecture_surface, optimizer_paths, path_of
from manual_vs_autograd.plots.optimizer_paths import plot_optimizer_paths


@pytest.fixture(scope="module")
def lecture():
    blobs = load_blobs()
    return init_params(LECTURE, 0), blobs.x_train, targets_for(blobs.y_train, "mse", torch.float64)


def test_only_the_two_chosen_weights_move_and_the_sides_agree(lecture):
    params, x, y = lecture
    runs = optimizer_paths(params, x, y, ("w1", "w6"), (0.5, -2.0), steps=12)
    assert set(runs) == set(PATH_SPECS)
    for run in runs.values():
        W1, W2 = run.manual_params["W1"], run.manual_params["W2"]
        assert torch.equal(W1[:, 0, 0][0], torch.tensor(0.5, dtype=torch.float64))  # w1 starts where asked
        assert not torch.equal(W1[0, 0, 0], W1[-1, 0, 0]) and not torch.equal(W2[0, 0, 1], W2[-1, 0, 1])
        frozen = [W1[:, 0, 1], W1[:, 1, 0], W1[:, 1, 1], W2[:, 0, 0], run.manual_params["b1"], run.manual_params["b2"]]
        for values in frozen:
            assert torch.equal(values, values[:1].expand_as(values))  # held at the start value
        assert torch.equal(path_of(run, ("w1", "w6"), "manual"), path_of(run, ("w1", "w6"), "autograd"))


def test_surface_is_the_loss_at_each_grid_point(lecture):
    params, x, y = lecture
    surface = lecture_surface(params, x, y, ("w5", "w6"), ((0.0, 4.0), (-3.0, 1.0)), n=5)
    assert surface.loss.shape == (5, 5)
    assert surface.trained == (float(params["W2"][0, 0]), float(params["W2"][0, 1]))
    point = {name: p.clone() for name, p in params.items()}
    point["W2"][0, 0], point["W2"][0, 1] = 1.0, -2.0  # grid_a[1], grid_b[1]
    from manual_vs_autograd import loss_and_grads

    assert surface.loss[1, 1] == loss_and_grads(point, x, y, LECTURE)[0]


@pytest.mark.parametrize(("weights", "words"), [(("w5", "w9"), ["w9", "w1, w2"]), (("w5", "w5"), ["w5", "differ"]), (("b1", "w5"), ["b1"])])  # fmt: skip
def test_bad_weight_names_are_one_line_errors(lecture, weights, words):
    params, x, y = lecture
    with pytest.raises(InputError) as err:
        optimizer_paths(params, x, y, weights, (0.0, 0.0), steps=1)
    assert all(word in str(err.value) for word in words)


def test_figure_names_the_weights_the_rules_and_the_verdict(lecture):
    params, x, y = lecture
    runs = optimizer_paths(params, x, y, ("w5", "w6"), (1.0, -1.0), steps=10)
    surface = lecture_surface(params, x, y, ("w5", "w6"), ((0.0, 4.0), (-3.0, 1.0)), n=6)
    fig = plot_optimizer_paths(surface, runs)
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("w5") and "W2[0,0]" in ax.get_xlabel()
    assert ax.get_ylabel().startswith("w6") and "W2[0,1]" in ax.get_ylabel()
    assert "w5 and w6 free" in ax.get_title()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    for spec in PATH_SPECS:
        assert any(label.startswith(f"{spec.name} (lr {spec.lr:g}") and "bitwise" in label for label in labels)
    assert "manual rule (every step)" in labels and any(label.startswith("torch.optim") for label in labels)
