"""The notebook's weight heat map: one row per layer, each neuron as ``b, w, w, …``; and its GIF.

For the 2-2-1 network the grid is ``[[0, b3, w5, w6, 0, 0], [b1, w1, w2, b2, w3, w4]]``: the
output layer on top, every row centred, padding cells left blank. When a layer's row would be too
long to read (more than ``ANNOTATE_MAX_CELLS`` cells), each layer gets its own panel instead: the
matrix ``[b | W]``, one row per neuron — the same "b, w, w, …" per neuron, folded.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..atomic import atomic_path
from ..record import RunRecord
from .common import LECTURE_CMAP, param_labels

__all__ = ["heatmap_grid", "plot_heatmap", "save_heatmap_gif"]

ANNOTATE_MAX_CELLS = 24  # per row; beyond that the numbers would not be readable


def heatmap_grid(record: RunRecord, step: int) -> tuple[np.ndarray, list[list[str]]]:
    """Values (layers, width) with NaN padding, and the label of each cell ("" for padding)."""
    config = record.config
    labels = param_labels(config)
    rows, names = [], []
    for layer in range(config.n_layers, 0, -1):  # output layer first (top)
        W = record.params["manual"][f"W{layer}"][step]
        b = record.params["manual"][f"b{layer}"][step]
        values, cells = [], []
        for k in range(W.shape[0]):
            values += [b[k], *W[k]]
            cells += [labels[(f"b{layer}", (k,))], *(labels[(f"W{layer}", (k, i))] for i in range(W.shape[1]))]
        rows.append(values)
        names.append(cells)
    width = max(len(r) for r in rows)
    grid = np.full((len(rows), width), np.nan)
    label_grid = [[""] * width for _ in rows]
    for r, (values, cells) in enumerate(zip(rows, names)):
        left = (width - len(values)) // 2
        grid[r, left : left + len(values)] = values
        label_grid[r][left : left + len(values)] = cells
    return grid, label_grid


def _vmax(record: RunRecord) -> float:
    """A symmetric colour limit fixed over the whole run: the largest |value|, rounded up."""
    biggest = max(float(np.abs(v).max()) for v in record.params["manual"].values())
    return float(np.ceil(max(biggest, 1e-3)))


def _wide(record: RunRecord) -> bool:
    return heatmap_grid(record, 0)[0].shape[1] > ANNOTATE_MAX_CELLS


def _draw(fig: Figure, record: RunRecord, step: int, vmax: float):
    """Draw the heat map after ``step`` steps; on a figure drawn before, only update its artists."""
    epoch = step / record.steps_per_epoch
    if _wide(record):
        return _draw_per_layer(fig, record, step, vmax, epoch)
    grid, labels = heatmap_grid(record, step)
    title = f"Weights and biases after epoch {epoch:g} (each neuron as b, w, w, …; manual side)"
    ax = fig.axes[0] if fig.axes else None
    if ax is not None and ax.images:  # an animation frame: new values into the same artists
        ax.images[0].set_data(np.ma.masked_invalid(grid))
        cells = [(r, c) for (r, c), v in np.ndenumerate(grid) if not np.isnan(v)]
        for text, (r, c) in zip(ax.texts, cells):
            text.set_text(f"{labels[r][c]}\n{grid[r, c]:.2f}")
        ax.set_title(title, fontsize=10)
        return ax.images[0]
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(grid), cmap=LECTURE_CMAP, vmin=-vmax, vmax=vmax, aspect="auto")
    n_layers = grid.shape[0]
    ax.set_yticks(range(n_layers), [f"layer {record.config.n_layers - r}" + (" (output)" if r == 0 else "") for r in range(n_layers)])
    ax.set_xticks([])
    for (r, c), value in np.ndenumerate(grid):
        if not np.isnan(value):
            ax.text(c, r, f"{labels[r][c]}\n{value:.2f}", ha="center", va="center", fontsize=9)
    ax.set_title(title, fontsize=10)
    return image


def _draw_per_layer(fig: Figure, record: RunRecord, step: int, vmax: float, epoch: float):
    n_layers = record.config.n_layers
    panels = [ax for ax in fig.axes if ax.images]
    image = None
    for layer in range(1, n_layers + 1):
        W = record.params["manual"][f"W{layer}"][step]
        b = record.params["manual"][f"b{layer}"][step]
        values = np.column_stack([b, W])  # (neurons, 1 + inputs)
        if panels:  # an animation frame
            panels[layer - 1].images[0].set_data(values)
            continue
        ax = fig.add_subplot(1, n_layers, layer)
        image = ax.imshow(values, cmap=LECTURE_CMAP, vmin=-vmax, vmax=vmax, aspect="auto")
        ax.axvline(0.5, color="k", lw=1)
        ax.set_title(f"layer {layer}{' (output)' if layer == n_layers else ''}: [b | W{layer}]", fontsize=9)
        ax.set_xlabel("b, then one column per input")
        ax.set_ylabel("neuron")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(f"Weights and biases after epoch {epoch:g} (one row per neuron: b, w, w, …; manual side)", fontsize=10)
    return image if image is not None else panels[0].images[0]


def plot_heatmap(record: RunRecord, step: int = -1) -> Figure:
    """The heat map after ``step`` steps (default: the end), with a colour bar."""
    step = step % (record.steps + 1)
    if _wide(record):
        fig = Figure(figsize=(3.2 * record.config.n_layers + 1.5, 4.5), layout="constrained")
    else:
        width = heatmap_grid(record, 0)[0].shape[1]
        fig = Figure(figsize=(max(6.0, 0.9 * width + 2), 1.2 * record.config.n_layers + 1.6), layout="constrained")
    image = _draw(fig, record, step, _vmax(record))
    fig.colorbar(image, ax=list(fig.axes), label="value (fixed range over the run)")
    return fig


def save_heatmap_gif(record: RunRecord, path: str | os.PathLike, frames: int = 50, fps: int = 5, dpi: int = 100) -> Path:
    """``frames`` heat maps evenly spaced over the run, from the start to the end, as a GIF."""
    steps = np.unique(np.linspace(0, record.steps, frames).round().astype(int))
    fig = plot_heatmap(record, 0)
    fig.canvas.draw()
    fig.set_layout_engine("none")  # freeze the layout: frames only change values
    vmax = _vmax(record)
    animation = FuncAnimation(fig, lambda i: _draw(fig, record, int(steps[i]), vmax), frames=len(steps))
    with atomic_path(path, suffix=".gif") as tmp:
        animation.save(tmp, writer=PillowWriter(fps=fps), dpi=dpi)
    return Path(path)
