"""The notebook's weight heat map: one row per layer, each neuron as ``b, w, w, …``; and its GIF.

For the 2-2-1 network the grid is ``[[0, b3, w5, w6, 0, 0], [b1, w1, w2, b2, w3, w4]]``: the
output layer on top, every row centred, padding cells left blank, a line between one neuron's
``b, w, w`` and the next. When a layer's row would be too long to read (more than
``ANNOTATE_MAX_CELLS`` cells), each layer gets its own panel instead: the matrix ``[b | W]``, one row
per neuron — the same "b, w, w, …" per neuron, folded.

Colours: red negative, white 0, blue positive (readable with red-green colour blindness), on a range
fixed over the run; each number is written in black or white, whichever reads on its cell.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.axes import Axes
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..atomic import atomic_path
from ..record import RunRecord
from .common import DIVERGING_CMAP, frame_rows, param_labels, param_steps, require_params, row_for

__all__ = ["heatmap_grid", "plot_heatmap", "save_heatmap_gif"]

ANNOTATE_MAX_CELLS = 24  # per row; beyond that the numbers would not be readable
CMAP = colormaps[DIVERGING_CMAP].with_extremes(bad="#d9d9d9")  # padding (and NaN) grey, not white like 0


def _groups(record: RunRecord) -> list[list[list[str]]]:
    """Per layer, output layer first: each neuron's cell labels ``[b_k, W[k, 0], W[k, 1], …]``."""
    config, labels = record.config, param_labels(record.config)
    rows = []
    for layer in range(config.n_layers, 0, -1):
        n_out, n_in = config.param_shapes()[f"W{layer}"]
        rows.append(
            [[labels[(f"b{layer}", (k,))], *(labels[(f"W{layer}", (k, i))] for i in range(n_in))] for k in range(n_out)]
        )
    return rows


def heatmap_grid(record: RunRecord, row: int) -> tuple[np.ndarray, list[list[str]]]:
    """Values (layers, width) with NaN padding after the parameter row ``row``, and each cell's label ("" for padding)."""
    config = record.config
    rows, names = [], []
    for layer, groups in zip(range(config.n_layers, 0, -1), _groups(record)):
        W = record.params["manual"][f"W{layer}"][row]
        b = record.params["manual"][f"b{layer}"][row]
        rows.append([v for k in range(W.shape[0]) for v in (b[k], *W[k])])
        names.append([cell for group in groups for cell in group])
    width = max(len(r) for r in rows)
    grid = np.full((len(rows), width), np.nan)
    label_grid = [[""] * width for _ in rows]
    for r, (values, cells) in enumerate(zip(rows, names)):
        left = (width - len(values)) // 2
        grid[r, left : left + len(values)] = values
        label_grid[r][left : left + len(values)] = cells
    return grid, label_grid


def _vmax(record: RunRecord) -> float:
    """A symmetric colour limit fixed over the whole run: the largest finite |value|, rounded up."""
    finite = [np.abs(v[np.isfinite(v)]).max() for v in record.params["manual"].values() if np.isfinite(v).any()]
    biggest = float(max(finite, default=1.0))
    return float(np.ceil(min(max(biggest, 1e-3), 1e300)))


def _number(value: float) -> str:
    if not np.isfinite(value):
        return "nan" if np.isnan(value) else ("+inf" if value > 0 else "-inf")
    return f"{value:.2f}" if abs(value) < 1e4 else f"{value:.2g}"


def _text_color(value: float, vmax: float) -> str:
    """Black on light cells, white on dark ones (relative luminance of the cell's colour)."""
    if not np.isfinite(value):
        return "black"
    r, g, b, _ = CMAP(Normalize(-vmax, vmax)(value))
    return "white" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.45 else "black"


def _wide(record: RunRecord) -> bool:
    return heatmap_grid(record, 0)[0].shape[1] > ANNOTATE_MAX_CELLS


def _epoch_title(record: RunRecord, row: int) -> str:
    return f"after epoch {param_steps(record)[row] / record.steps_per_epoch:g}"


def _separators(ax: Axes, record: RunRecord, width: int) -> None:
    """A vertical line between one neuron's ``b, w, w, …`` and the next, in each layer's row."""
    for r, groups in enumerate(_groups(record)):
        left = (width - sum(len(g) for g in groups)) // 2
        for edge in np.cumsum([len(g) for g in groups])[:-1]:
            ax.vlines(left + edge - 0.5, r - 0.5, r + 0.5, color="#222222", lw=3)


def _draw(fig: Figure, record: RunRecord, row: int, vmax: float):
    """Draw the heat map of parameter row ``row``; on a figure drawn before, only update its artists."""
    if _wide(record):
        return _draw_per_layer(fig, record, row, vmax)
    grid, labels = heatmap_grid(record, row)
    title = f"Weights and biases {_epoch_title(record, row)} (each neuron as b, w, w, …; manual side)"
    cells = [(r, c) for (r, c), v in np.ndenumerate(grid) if labels[r][c]]
    ax = fig.axes[0] if fig.axes else None
    if ax is not None and ax.images:  # an animation frame: new values into the same artists
        ax.images[0].set_data(np.ma.masked_invalid(grid))
        for text, (r, c) in zip(ax.texts, cells):
            text.set_text(f"{labels[r][c]}\n{_number(float(grid[r, c]))}")
            text.set_color(_text_color(float(grid[r, c]), vmax))
        ax.set_title(title, fontsize=10)
        return ax.images[0]
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(grid), cmap=CMAP, vmin=-vmax, vmax=vmax, aspect="auto")
    n_layers = grid.shape[0]
    ax.set_yticks(
        range(n_layers),
        [f"layer {record.config.n_layers - r}" + (" (output)" if r == 0 else "") for r in range(n_layers)],
    )
    ax.set_xticks([])
    for r, c in cells:
        ax.text(c, r, f"{labels[r][c]}\n{_number(float(grid[r, c]))}", ha="center", va="center", fontsize=9,
                color=_text_color(float(grid[r, c]), vmax))  # fmt: skip
    _separators(ax, record, grid.shape[1])
    ax.set_title(title, fontsize=10)
    return image


def _draw_per_layer(fig: Figure, record: RunRecord, row: int, vmax: float):
    n_layers = record.config.n_layers
    panels = [ax for ax in fig.axes if ax.images]
    image = None
    for layer in range(1, n_layers + 1):
        W = record.params["manual"][f"W{layer}"][row]
        b = record.params["manual"][f"b{layer}"][row]
        values = np.ma.masked_invalid(np.column_stack([b, W]))  # (neurons, 1 + inputs)
        if panels:  # an animation frame
            panels[layer - 1].images[0].set_data(values)
            continue
        ax = fig.add_subplot(1, n_layers, layer)
        image = ax.imshow(values, cmap=CMAP, vmin=-vmax, vmax=vmax, aspect="auto")
        ax.axvline(0.5, color="k", lw=1)
        ax.set_title(f"layer {layer}{' (output)' if layer == n_layers else ''}: [b | W{layer}]", fontsize=9)
        ax.set_xlabel("b, then one column per input")
        ax.set_ylabel("neuron")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(
        f"Weights and biases {_epoch_title(record, row)} (one row per neuron: b, w, w, …; manual side)", fontsize=10
    )
    return image if image is not None else panels[0].images[0]


def plot_heatmap(record: RunRecord, step: int = -1) -> Figure:
    """The heat map after ``step`` steps (default: the end; a thinned record: the last row kept by then)."""
    require_params(record, "heat map")
    row = row_for(record, step)
    if _wide(record):
        fig = Figure(figsize=(3.2 * record.config.n_layers + 1.5, 4.5), layout="constrained")
    else:
        width = heatmap_grid(record, 0)[0].shape[1]
        fig = Figure(figsize=(max(6.0, 0.9 * width + 2.5), 1.2 * record.config.n_layers + 1.6), layout="constrained")
    image = _draw(fig, record, row, _vmax(record))
    fig.colorbar(image, ax=list(fig.axes), label="value (red < 0 < blue; fixed range over the run)")
    return fig


def save_heatmap_gif(
    record: RunRecord, path: str | os.PathLike, frames: int = 50, fps: int = 5, dpi: int = 100
) -> Path:
    """About ``frames`` heat maps evenly spaced over the run, from the start to the end, as a GIF."""
    rows = frame_rows(record, frames)
    fig = plot_heatmap(record, 0)
    fig.set_dpi(dpi)  # lay out at the resolution the frames are written at: text fits at small sizes too
    fig.draw_without_rendering()  # lay the figure out once (tick labels included) ...
    fig.set_layout_engine("none")  # ... and freeze it: frames only change values
    vmax = _vmax(record)
    animation = FuncAnimation(fig, lambda i: _draw(fig, record, int(rows[i]), vmax), frames=len(rows))
    with atomic_path(path, suffix=".gif") as tmp:
        animation.save(tmp, writer=PillowWriter(fps=fps), dpi=dpi)
    return Path(path)
