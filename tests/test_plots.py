"""The pictures: figures and files checked by their structure (axes, lines, labels, frames, colours), on
ordinary runs and on what records allow (one feature, huge values, NaN/inf steps, thinned or loss-only
records). Figures are drawn (``FigureCanvasAgg.draw``) where a warning could hide in the drawing: pytest
turns warnings into errors."""

from __future__ import annotations

import colorsys
import copy

import numpy as np
import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from PIL import Image

import manual_vs_autograd.plots.heatmap as heatmap_module
from manual_vs_autograd import CompareSpec, run_compare
from manual_vs_autograd.errors import InputError
from manual_vs_autograd.lecture.names import from_matrices
from manual_vs_autograd.lecture.scalar_net import LectureNet, fit_scalar
from manual_vs_autograd.plots import (
    applicable,
    heatmap_grid,
    neuron_activations,
    plot_data,
    plot_heatmap,
    plot_loss_curves,
    plot_predictions,
    plot_regions,
    plot_w1_only,
    plot_weight_trajectories,
    save_heatmap_gif,
    save_regions_gif,
    write_pictures,
)
from manual_vs_autograd.plots.common import EXACT_FLOOR, frame_rows
from manual_vs_autograd.plots.regions import REGION_CMAP
from manual_vs_autograd.record import record_from_result


@pytest.fixture(scope="module")
def lecture_record():
    return record_from_result(run_compare(CompareSpec(epochs=60, device="cpu")))


@pytest.fixture(scope="module")
def wide_record():
    spec = CompareSpec(
        hidden=(16, 16), activation="tanh", loss="ce", epochs=2, batch_size=250, dtype="float32", device="cpu"
    )
    return record_from_result(run_compare(spec))


def drawn(fig):
    FigureCanvasAgg(fig).draw()
    return fig


def luminance(color) -> float:
    """WCAG relative luminance of an sRGB colour."""
    channels = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(color)]
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]


def contrast(a, b) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def deuteranope(color) -> np.ndarray:
    """Viénot, Brettel & Mollon (1999) simulation of red-green (deuteranope) vision, on linear RGB."""
    rgb = np.array([c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(color)])
    m = np.array([[0.29275, 0.70725, 0.0], [0.29275, 0.70725, 0.0], [-0.02234, 0.02234, 1.0]])
    return m @ rgb


# --- trajectories and loss ---------------------------------------------------------------------------


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


def test_trajectory_lines_stay_distinct_past_ten_and_without_red_green(wide_record):
    fig = plot_weight_trajectories(wide_record, max_lines=14)
    manual, auto, diff = fig.axes[:3]
    styles = [(line.get_color(), line.get_linestyle()) for line in manual.lines]
    assert len(styles) == 14 and len(set(styles)) == 14  # matplotlib's default cycle repeats after 10
    # the same parameter keeps its colour and style in every panel
    assert styles == [(line.get_color(), line.get_linestyle()) for line in auto.lines]
    assert styles == [(line.get_color(), line.get_linestyle()) for line in diff.lines]
    # lines of one style stay apart for a red-green colour-blind reader (simulated)
    for style in {s for _, s in styles}:
        colors = [c for c, s in styles if s == style]
        seen = [deuteranope(c) for c in colors]
        gaps = [np.linalg.norm(a - b) for i, a in enumerate(seen) for b in seen[i + 1 :]]
        assert min(gaps) > 0.03, style


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


# --- heat map -----------------------------------------------------------------------------------------


def test_heatmap_has_the_lecture_layout(lecture_record):
    grid, labels = heatmap_grid(lecture_record, 0)
    assert labels == [["", "b3", "w5", "w6", "", ""], ["b1", "w1", "w2", "b2", "w3", "w4"]]
    assert np.isnan(grid[0, 0]) and grid[1, 1] == pytest.approx(1.764, abs=1e-3)
    fig = plot_heatmap(lecture_record)
    image = fig.axes[0].images[0]
    low, high = image.get_clim()
    assert low == -high  # symmetric colour range
    assert sum("w5" in t.get_text() for t in fig.axes[0].texts) == 1
    # one separator between the two neurons of layer 1 (b1 w1 w2 | b2 w3 w4), none in the one-neuron output row
    (separators,) = [c for c in fig.axes[0].collections if len(c.get_segments())]
    ((x0, y0), (x1, y1)) = separators.get_segments()[0]
    assert len(separators.get_segments()) == 1 and x0 == x1 == 2.5 and sorted((y0, y1)) == [0.5, 1.5]


def test_heatmap_numbers_are_readable_on_their_cells(lecture_record):
    fig = plot_heatmap(lecture_record)
    ax = fig.axes[0]
    image = ax.images[0]
    grid, _ = heatmap_grid(lecture_record, -1)
    assert np.nanmax(np.abs(grid)) > 0.7 * image.get_clim()[1]  # some cells are dark: the test has teeth
    for text in ax.texts:
        col, row = (round(v) for v in text.get_position())
        cell = image.cmap(image.norm(grid[row, col]))
        assert contrast(text.get_color(), cell[:3]) >= 3.0, text.get_text()  # WCAG AA for large text


def test_heatmap_colours_are_told_apart_without_red_green(lecture_record):
    image = plot_heatmap(lecture_record).axes[0].images[0]
    negative, positive = (deuteranope(image.cmap(x)[:3]) for x in (0.1, 0.9))
    assert np.linalg.norm(negative - positive) > 0.2  # RdYlGn's ends would nearly coincide


def test_heatmap_of_a_wide_network_is_one_panel_per_layer(wide_record):
    fig = plot_heatmap(wide_record)
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.images[0].get_array().shape for ax in panels] == [(16, 3), (16, 17), (4, 17)]


def test_heatmap_gif_frames_keep_their_labels_inside(lecture_record, tmp_path, monkeypatch):
    seen = []
    real = heatmap_module.FuncAnimation

    def spy(fig, *args, **kwargs):
        seen.append(fig)
        return real(fig, *args, **kwargs)

    monkeypatch.setattr(heatmap_module, "FuncAnimation", spy)
    path = save_heatmap_gif(lecture_record, tmp_path / "h.gif", frames=7)
    with Image.open(path) as gif:
        assert gif.n_frames == 7
    (fig,) = seen
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer, width = canvas.get_renderer(), fig.bbox.width
    labels = [t for t in fig.axes[0].get_yticklabels() if t.get_text()]
    assert [t.get_text() for t in labels] == ["layer 2 (output)", "layer 1"]
    assert all(0 <= t.get_window_extent(renderer).x0 and t.get_window_extent(renderer).x1 <= width for t in labels)


# --- regions ------------------------------------------------------------------------------------------


def test_regions_grid(lecture_record):
    fig = drawn(plot_regions(lecture_record, resolution=30))
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == [
        "h1[0], notebook h1  (sigmoid)", "h1[1], notebook h2  (sigmoid)", "ŷ[0] (> 0.5: class 1), notebook h3  (sigmoid)",
    ]  # fmt: skip
    for ax in panels:
        assert ax.axison and (ax.get_xlabel(), ax.get_ylabel()) == ("x1", "x2")
        assert len(ax.get_xticks()) >= 3 and len(ax.get_yticks()) >= 3
    # no empty slot: every axes but the colour bars is a neuron panel
    assert len([ax for ax in fig.axes if ax.get_label() != "<colorbar>"]) == 3
    # the title fits the figure as laid out (a GIF frame is not cropped to its content)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    box = fig._suptitle.get_window_extent(canvas.get_renderer())
    assert 0 <= box.x0 and box.x1 <= fig.bbox.width


def test_region_dots_stand_out_from_the_background(lecture_record):
    fig = plot_regions(lecture_record, resolution=30)
    dots = [c for c in fig.axes[0].collections if c.get_offsets().shape[0] > 1 and not hasattr(c, "levels")]
    assert len(dots) == 2  # one per class
    background = [REGION_CMAP(x)[:3] for x in np.linspace(0, 1, 11)]
    assert max(colorsys.rgb_to_hsv(*c)[1] for c in background) < 0.2  # a grey ramp, no hue of its own
    for collection in dots:
        face, edge = collection.get_facecolor()[0][:3], collection.get_edgecolor()[0][:3]
        assert colorsys.rgb_to_hsv(*face)[1] > 0.6  # a saturated class colour
        assert contrast(face, edge) >= 3.0  # with an outline
    faces = [deuteranope(c.get_facecolor()[0][:3]) for c in dots]
    assert np.linalg.norm(faces[0] - faces[1]) > 0.2  # told apart without red-green vision


def test_regions_use_the_manual_forward_pass(lecture_record):
    points = torch.tensor([[0.0, 0.0], [1.0, -2.0], [3.0, 4.0]], dtype=torch.float64)
    row = -1
    hidden, output = neuron_activations(lecture_record, row, points)
    p = {k: torch.from_numpy(v[row]) for k, v in lecture_record.params["manual"].items()}
    h = torch.sigmoid(points @ p["W1"].T + p["b1"])  # the lecture's network written out in the test
    assert hidden == pytest.approx(h.numpy(), rel=1e-12)
    assert output == pytest.approx(torch.sigmoid(h @ p["W2"].T + p["b2"]).numpy(), rel=1e-12)


def test_regions_neuron_names_are_one_scheme(wide_record):
    titles = [ax.get_title() for ax in plot_regions(wide_record, resolution=20).axes if ax.get_title()]
    assert titles[:6] == [f"h1[{k}]  (tanh)" for k in range(6)]
    assert titles[6:12] == [f"h2[{k}]  (tanh)" for k in range(6)]
    assert titles[12:] == [f"P(class {k}) = softmax(ŷ)[{k}]  (softmax)" for k in range(4)]


def test_region_gif_frames_are_log_spaced(tmp_path):
    record = record_from_result(run_compare(CompareSpec(epochs=400, device="cpu")))
    rows = frame_rows(record, 12, spacing="log")
    gaps = np.diff(rows)
    assert rows[0] == 0 and rows[-1] == 400
    assert gaps[0] <= 2 and gaps[-1] >= 50 and np.all(np.diff(gaps) >= 0)  # dense early, sparse late
    path = save_regions_gif(record, tmp_path / "r.gif", frames=12, resolution=20, dpi=40)
    with Image.open(path) as gif:
        assert gif.n_frames == len(rows)


# --- w1 only, data, predictions, the standard set -----------------------------------------------------


def test_w1_only_is_honest_about_the_drop(lecture_record):
    start = LectureNet(**from_matrices(lecture_record.params_at(0), lecture_record.config))
    x, y = lecture_record.data["x_train"].tolist(), lecture_record.data["y_train"].tolist()
    history = fit_scalar(start, x, y, 500, 1.0, only_w1=True)
    fig = plot_w1_only(history, lr=1.0)
    loss = fig.axes[1]
    assert loss.get_ylim()[0] == 0  # the loss axis starts at 0, not at the curve's minimum
    # the notebook's numbers (lecture table): 0.2319 after epoch 1, 0.2284 at the end; 0.2320 before training
    assert "from 0.2319 (after epoch 1) to 0.2284" in fig.get_suptitle()
    curve = loss.lines[0]
    assert curve.get_xdata()[0] == 1 and round(curve.get_ydata()[0], 4) == 0.2319
    assert any("before training: 0.2320" in t.get_text() for t in loss.get_legend().get_texts())
    assert any("drop of 0.0035" in t.get_text() for t in loss.texts)


def test_data_says_how_many_features_it_shows():
    three = record_from_result(run_compare(CompareSpec(n_features=3, epochs=2, device="cpu")))
    assert "x1 and x2 only, of 3 input features" in drawn(plot_data(three)).get_suptitle()
    one = record_from_result(run_compare(CompareSpec(n_features=1, epochs=2, device="cpu")))
    fig = drawn(plot_data(one))
    assert "one input feature" in fig.get_suptitle() and fig.axes[0].get_xlabel() == "x1"
    drawn(plot_predictions(one))
    with pytest.raises(InputError, match="2 input features, this run has 1"):
        plot_regions(one)
    assert not [kind for kind in applicable(one) if kind.startswith("regions")]


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


# --- what records allow: NaN/inf steps, huge values, thinned and loss-only records --------------------


@pytest.fixture()
def broken_record(lecture_record):
    """The lecture run with its last 10 steps not finite: the loss NaN on one side, a weight +inf."""
    record = copy.deepcopy(lecture_record)
    record.losses["manual"][-10:] = np.nan
    record.losses["autograd"][-10:] = np.inf
    record.params["manual"]["W1"][-10:, 0, 0] = np.inf
    record.params["manual"]["b2"][-5:, 0] = np.nan
    return record


def test_non_finite_steps_are_marked_not_put_on_the_equal_band(broken_record):
    fig = drawn(plot_loss_curves(broken_record))
    top, diff = fig.axes[:2]
    (line,) = diff.lines[:1]
    ys = line.get_ydata()
    assert np.all(np.isnan(ys[-10:]))  # not drawn at the "bitwise equal" floor
    assert np.all(ys[:-10] == EXACT_FLOOR)
    crosses = [ln for ln in diff.lines if ln.get_marker() == "x"]
    assert len(crosses) == 1 and len(crosses[0].get_xdata()) == 10
    assert any("not finite" in t.get_text() for t in diff.texts)
    assert any("not finite" in ln.get_label() for ln in top.lines)
    traj = drawn(plot_weight_trajectories(broken_record))
    assert any(ln.get_marker() == "x" and len(ln.get_xdata()) == 10 for ln in traj.axes[2].lines)


def test_non_finite_parameters_in_the_heat_map_and_regions(broken_record, tmp_path):
    fig = drawn(plot_heatmap(broken_record))
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "w1\n+inf" in texts and "b3\nnan" in texts
    drawn(plot_regions(broken_record, resolution=20))
    save_heatmap_gif(broken_record, tmp_path / "h.gif", frames=3)


def test_huge_finite_values_draw_without_warnings(lecture_record, tmp_path):
    record = copy.deepcopy(lecture_record)
    for side in ("manual", "autograd"):
        record.losses[side] = record.losses[side] * 1e300
        for values in record.params[side].values():
            values *= 1e300
    record.params["autograd"]["W1"] *= -1  # differences overflow to inf
    for make in (plot_loss_curves, plot_weight_trajectories, plot_heatmap, plot_predictions):
        drawn(make(record))
    drawn(plot_regions(record, resolution=20))


def test_thinned_records_are_drawn_at_their_steps(lecture_record):
    record = copy.deepcopy(lecture_record)
    keep = np.arange(0, 61, 10)  # parameters before training and every 10th step
    record.param_steps = keep
    record.loss_steps = np.arange(5, 61, 5)
    for side in ("manual", "autograd"):
        record.losses[side] = record.losses[side][record.loss_steps - 1]
        record.params[side] = {n: v[keep] for n, v in record.params[side].items()}
    traj = drawn(plot_weight_trajectories(record))
    assert list(traj.axes[0].lines[0].get_xdata()) == list(keep / record.steps_per_epoch)
    loss = drawn(plot_loss_curves(record))
    assert list(loss.axes[0].lines[0].get_xdata()) == list(record.loss_steps / record.steps_per_epoch)
    assert "after epoch 30" in plot_heatmap(record, step=35).axes[0].get_title()  # the last kept row by then
    assert "epoch 60" in plot_regions(record, resolution=20).get_suptitle()


def test_loss_only_records_say_what_is_missing(lecture_record, tmp_path):
    record = copy.deepcopy(lecture_record)
    record.params = {"manual": {}, "autograd": {}}
    for make in (plot_weight_trajectories, plot_heatmap, plot_regions, plot_predictions):
        with pytest.raises(InputError, match="needs parameters, but this record kept none") as err:
            make(record)
        assert "\n" not in str(err.value)
    written = sorted(p.name for p in write_pictures(record, tmp_path))
    assert written == ["data.png", "loss.png"]
