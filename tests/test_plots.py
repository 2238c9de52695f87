"""The pictures: figures and files checked by their structure (axes, lines, labels, frames)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from manual_vs_autograd import CompareSpec, run_compare
from manual_vs_autograd.plots import (
    heatmap_grid,
    plot_heatmap,
    plot_loss_curves,
    plot_predictions,
    plot_regions,
    plot_weight_trajectories,
    save_heatmap_gif,
    write_pictures,
)
from manual_vs_autograd.plots.common import EXACT_FLOOR
from manual_vs_autograd.record import record_from_result


@pytest.fixture(scope="module")
def lecture_record():
    return record_from_result(run_compare(CompareSpec(epochs=60, device="cpu")))


@pytest.fixture(scope="module")
def wide_record():
    spec = CompareSpec(hidden=(16, 16), activation="tanh", loss="ce", epochs=2, batch_size=250, dtype="float32", device="cpu")
    return record_from_result(run_compare(spec))


def test_trajectories_side_by_side(lecture_record):
    fig = plot_weight_trajectories(lecture_record)
    manual, auto, diff = fig.axes[:3]
    assert manual.get_title() == "manual backprop" and auto.get_title().startswith("autograd")
    assert len(manual.lines) == len(auto.lines) == 9  # w1..w6, b1..b3
    assert manual.get_ylim() == auto.get_ylim() and manual.get_xlim() == auto.get_xlim()
    assert sorted(t.get_text() for t in auto.get_legend().get_texts()) == sorted(
        ["w1", "w2", "w3", "w4", "w5", "w6", "b1", "b2", "b3"]
    )
    assert diff.get_yscale() == "log" and manual.get_xlabel() == "epoch"
    # bitwise-equal run: every difference is drawn on the labelled floor, none dropped
    assert len(diff.lines) == 9
    assert all(np.all(line.get_ydata() == EXACT_FLOOR) for line in diff.lines)
    assert any("bitwise equal" in t.get_text() for t in diff.texts)


def test_trajectories_cap_lines_on_big_networks(wide_record):
    fig = plot_weight_trajectories(wide_record, max_lines=10)
    assert len(fig.axes[0].lines) == 10
    assert "10 of 388" in fig.get_suptitle()
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert all(label[0] in "Wb" and "[" in label for label in labels)


def test_loss_curves(lecture_record):
    fig = plot_loss_curves(lecture_record)
    top, bottom = fig.axes[:2]
    assert [line.get_label() for line in top.lines] == ["manual backprop", "autograd"]
    assert len(top.lines[0].get_xdata()) == lecture_record.steps
    assert bottom.get_yscale() == "log"


def test_heatmap_has_the_lecture_layout(lecture_record):
    grid, labels = heatmap_grid(lecture_record, 0)
    assert labels == [["", "b3", "w5", "w6", "", ""], ["b1", "w1", "w2", "b2", "w3", "w4"]]
    assert np.isnan(grid[0, 0]) and grid[1, 1] == pytest.approx(1.764, abs=1e-3)
    fig = plot_heatmap(lecture_record)
    image = fig.axes[0].images[0]
    low, high = image.get_clim()
    assert low == -high  # symmetric colour range
    assert sum("w5" in t.get_text() for t in fig.axes[0].texts) == 1


def test_heatmap_of_a_wide_network_is_one_panel_per_layer(wide_record):
    fig = plot_heatmap(wide_record)
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.images[0].get_array().shape for ax in panels] == [(16, 3), (16, 17), (4, 17)]


def test_heatmap_gif_frames(lecture_record, tmp_path):
    path = save_heatmap_gif(lecture_record, tmp_path / "h.gif", frames=7)
    with Image.open(path) as gif:
        assert gif.n_frames == 7


def test_regions_grid(lecture_record):
    fig = plot_regions(lecture_record, resolution=30)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["h1 (sigmoid)", "h2 (sigmoid)", "h3 (sigmoid)"]
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert all(len(ax.collections) >= 2 for ax in panels)  # contours and the training points


def test_predictions_title_counts_the_misclassified(lecture_record):
    fig = plot_predictions(lecture_record)
    assert all("misclassified" in ax.get_title() and "accuracy" in ax.get_title() for ax in fig.axes)


def test_standard_set_writes_every_picture(lecture_record, tmp_path):
    written = write_pictures(lecture_record, tmp_path)
    names = sorted(p.name for p in written)
    assert names == sorted([
        "trajectories.png", "loss.png", "heatmap.png", "heatmap.gif", "regions.png", "regions.gif",
        "data.png", "predictions.png", "w1_only.png",
    ])  # fmt: skip
    for path in written:
        with Image.open(path) as image:
            assert image.size[0] > 300 and image.size[1] > 200
    assert sorted(p.name for p in tmp_path.iterdir()) == names  # nothing half-written left behind
