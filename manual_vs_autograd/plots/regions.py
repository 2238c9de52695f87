"""Decision regions of every neuron: each hidden and output activation over the input plane.

One row per layer, one panel per neuron (at most ``MAX_NEURONS`` per layer), each row centred. The
shade is the neuron's activation (white low, dark high; a line where it crosses its midpoint, the
decision boundary of an output unit); the dots are the training points in their class colours and
shapes, as in the data picture, with axes in the same x1/x2 units. Neurons are named the same way in
every network: ``h{layer}[k]`` for a hidden neuron, ``ŷ[k]`` for an output (with what it means).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure

from ..atomic import atomic_path
from ..errors import InputError
from ..manual import layer_outputs
from ..record import RunRecord
from .common import class_style, frame_rows, param_steps, require_params, row_for

__all__ = ["neuron_activations", "plot_regions", "save_regions_gif"]

MAX_NEURONS = 6  # per layer shown in the grid
# white (low) to slate (high): no hue of its own, so every class colour stands out on it
REGION_CMAP = LinearSegmentedColormap.from_list("activation", ["#ffffff", "#aab3bc", "#56616b"])


def _mesh(record: RunRecord, resolution: int) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
    x = record.data["x_train"]
    if x.ndim != 2 or x.shape[1] != 2:
        raise InputError(
            f"decision regions need 2 input features, this run has {x.shape[1] if x.ndim == 2 else x.shape}"
        )
    finite = x[np.isfinite(x).all(axis=1)]
    if not len(finite):
        raise InputError("decision regions need finite training points; this record's are all NaN or infinite")
    lo, hi = finite.min(0), finite.max(0)
    pad = np.maximum((hi - lo) * 0.1, 1e-6 * np.maximum(np.abs(hi), 1.0))
    gx, gy = np.meshgrid(
        np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution), np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    )
    return gx, gy, torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], 1)).to(torch.float64)


def neuron_activations(record: RunRecord, row: int, points: torch.Tensor) -> list[np.ndarray]:
    """Per layer, (P, width): each neuron's activation after parameter row ``row``; for a softmax output, the
    class probabilities."""
    config = record.config
    params = {name: torch.from_numpy(values[row]).to(torch.float64) for name, values in record.params["manual"].items()}
    *hidden, y_hat = layer_outputs(params, points, config)
    if config.loss == "ce":
        y_hat = torch.softmax(y_hat, dim=1)
    return [h.numpy() for h in (*hidden, y_hat)]


def _label(record: RunRecord, layer: int, k: int) -> str:
    config = record.config
    if layer < config.n_layers:
        name = f"h{layer}[{k}]"
    else:
        name = {"ce": f"P(class {k}) = softmax(ŷ)[{k}]", "bce": "ŷ[0] = P(class 1)"}.get(
            config.loss, "ŷ[0] (> 0.5: class 1)"
        )
    if config.sizes == (2, 2, 1):  # the notebook numbers its three neurons h1, h2, h3
        name += f", notebook h{k + 1 + 2 * (layer - 1)}"
    return name


def _range(activation: str, values: np.ndarray) -> tuple[float, float]:
    if activation == "tanh":
        return -1.0, 1.0
    if activation == "relu":
        finite = values[np.isfinite(values)]
        return 0.0, float(min(max(finite.max(initial=0.0), 1e-9), 1e300))
    return 0.0, 1.0  # sigmoid, softmax


def _panel(ax: Axes, gx: np.ndarray, gy: np.ndarray, values: np.ndarray, lo: float, hi: float):
    """Filled contours of one neuron, and a line at the middle of its range."""
    for old in [c for c in ax.collections if hasattr(c, "levels")]:
        old.remove()
    field = np.clip(np.nan_to_num(values.reshape(gx.shape), nan=lo), lo, hi)
    filled = ax.contourf(gx, gy, field, levels=np.linspace(lo, hi, 21), cmap=REGION_CMAP, zorder=0)
    if field.min() < (lo + hi) / 2 < field.max():
        ax.contour(gx, gy, field, levels=[(lo + hi) / 2], colors="#111111", linewidths=1.0, linestyles="--", zorder=1)
    return filled


def _draw(fig: Figure, rows: list[list[Axes]], record: RunRecord, row: int, resolution: int) -> None:
    """Draw every neuron's panel after parameter row ``row``; on panels drawn before, replace only the contours."""
    gx, gy, pts = _mesh(record, resolution)
    layers = neuron_activations(record, row, pts)
    config = record.config
    x, y = record.data["x_train"], record.data["y_train"].astype(int)
    for layer, (axes, values) in enumerate(zip(rows, layers), start=1):
        activation = "softmax" if layer == config.n_layers and config.loss == "ce" else config.layer_activation(layer)
        lo, hi = _range(activation, values)
        for k, ax in enumerate(axes):
            first = not ax.collections
            _panel(ax, gx, gy, values[:, k], lo, hi)
            if first:
                for c in np.unique(y):
                    ax.scatter(
                        x[y == c, 0],
                        x[y == c, 1],
                        s=14,
                        linewidths=0.6,
                        zorder=2,
                        label=f"class {c}",
                        **class_style(int(c)),
                    )
                ax.set_title(f"{_label(record, layer, k)}  ({activation})", fontsize=9)
                ax.set_xlabel("x1", fontsize=8, labelpad=1)
                ax.set_ylabel("x2", fontsize=8, labelpad=1)
                ax.tick_params(labelsize=7)
    widest = max(config.sizes[1:])
    capped = f" (the first {MAX_NEURONS} neurons of each layer of up to {widest})" if widest > MAX_NEURONS else ""
    fig.suptitle(
        f"What each neuron computes, epoch {param_steps(record)[row] / record.steps_per_epoch:g}{capped}\n"
        "shade: the neuron's activation over the input plane (dashed: the middle of its range)\n"
        "dots: training points by class",
        fontsize=10,
    )


def _regions_figure(record: RunRecord, row: int, resolution: int) -> tuple[Figure, list[list[Axes]]]:
    require_params(record, "decision regions")
    _mesh(record, 2)  # two input features, or a one-line error before any drawing
    config = record.config
    widths = [min(MAX_NEURONS, w) for w in config.sizes[1:]]
    cols = max(widths)
    fig = Figure(figsize=(max(3.1 * cols + 1.6, 8.0), 3.0 * config.n_layers + 1.2), layout="constrained")
    rows = []
    for subfig, width in zip(np.ravel(fig.subfigures(config.n_layers, 1, squeeze=False)), widths):  # one per layer
        grid = subfig.add_gridspec(1, 2 * cols)  # half-columns, so that a shorter row sits centred
        start = cols - width
        rows.append([subfig.add_subplot(grid[0, start + 2 * k : start + 2 * k + 2]) for k in range(width)])
    _draw(fig, rows, record, row, resolution)
    for layer, axes in enumerate(rows, start=1):
        mappable = next(c for c in axes[0].collections if hasattr(c, "levels"))
        name = "output layer" if layer == config.n_layers else f"hidden layer {layer}"
        axes[0].get_figure(root=False).colorbar(
            mappable, ax=axes, label=f"{name}\nactivation", fraction=0.05, ticks=mappable.levels[::5]
        )
    handles, labels = rows[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8, frameon=False)
    return fig, rows


def plot_regions(record: RunRecord, step: int = -1, resolution: int = 150) -> Figure:
    """The grid of neuron panels after ``step`` steps (default: the end; thinned records: the last row kept)."""
    require_params(record, "decision regions")
    return _regions_figure(record, row_for(record, step), resolution)[0]


def save_regions_gif(
    record: RunRecord, path: str | os.PathLike, frames: int = 20, fps: int = 3, resolution: int = 80, dpi: int = 100
) -> Path:
    """The region grid over training as a GIF, frames log-spaced in steps (the early steps change most)."""
    require_params(record, "decision regions")
    rows_shown = frame_rows(record, frames, spacing="log")
    fig, rows = _regions_figure(record, 0, resolution)
    fig.set_dpi(dpi)  # lay out at the resolution the frames are written at: text fits at small sizes too
    fig.draw_without_rendering()
    fig.set_layout_engine("none")  # freeze the layout: frames only change the contours
    animation = FuncAnimation(
        fig, lambda i: _draw(fig, rows, record, int(rows_shown[i]), resolution), frames=len(rows_shown)
    )
    with atomic_path(path, suffix=".gif") as tmp:
        animation.save(tmp, writer=PillowWriter(fps=fps), dpi=dpi)
    return Path(path)
