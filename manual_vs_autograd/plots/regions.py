"""Decision regions of every neuron: each hidden and output activation over the input plane."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.figure import Figure

from ..atomic import atomic_path
from ..errors import InputError
from ..layers import ACTIVATIONS
from ..layers import linear_forward
from ..record import RunRecord
from .common import CLASS_COLORS, LECTURE_CMAP

__all__ = ["neuron_activations", "plot_regions", "save_regions_gif"]

MAX_NEURONS = 6  # per layer shown in the grid


def _mesh(record: RunRecord, resolution: int) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
    x = record.data["x_train"]
    if x.shape[1] != 2:
        raise InputError(f"decision regions need 2 input features, this run has {x.shape[1]}")
    lo, hi = x.min(0) - 1.0, x.max(0) + 1.0
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    return gx, gy, torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], 1)).to(torch.float64)


def neuron_activations(record: RunRecord, step: int, points: torch.Tensor) -> list[np.ndarray]:
    """Per layer, (P, width): each neuron's activation; for a softmax output, the class probabilities."""
    config, params = record.config, record.params_at(step)
    h, layers = points, []
    for layer in range(1, config.n_layers + 1):
        a, _ = linear_forward(h, params[f"W{layer}"], params[f"b{layer}"])
        h, _ = ACTIVATIONS[config.layer_activation(layer)].forward(a)
        layers.append((torch.softmax(h, 1) if config.loss == "ce" and layer == config.n_layers else h).numpy())
    return layers


def _label(record: RunRecord, layer: int, k: int) -> str:
    config = record.config
    if config.sizes == (2, 2, 1):
        return f"h{k + 1 + 2 * (layer - 1)}"  # the lecture's h1, h2, h3
    if layer == config.n_layers and config.loss == "ce":
        return f"P(class {k})"
    return f"h{layer}[{k}]"


def _draw(fig: Figure, axes: np.ndarray, record: RunRecord, step: int, resolution: int) -> None:
    """Draw every neuron's panel after ``step`` steps; on panels drawn before, replace only the contours."""
    gx, gy, pts = _mesh(record, resolution)
    layers = neuron_activations(record, step, pts)
    config = record.config
    x, y = record.data["x_train"], record.data["y_train"].astype(int)
    point_colors = np.array(CLASS_COLORS)[y % len(CLASS_COLORS)]
    for layer, values in enumerate(layers, start=1):
        activation = "softmax" if layer == config.n_layers and config.loss == "ce" else config.layer_activation(layer)
        lo, hi = {"tanh": (-1, 1), "relu": (0, max(1e-9, float(values.max())))}.get(activation, (0, 1))
        for k in range(axes.shape[1]):
            ax = axes[layer - 1, k]
            if k >= values.shape[1] or k >= MAX_NEURONS:
                ax.axis("off")
                continue
            for old in [c for c in ax.collections if hasattr(c, "levels")]:
                old.remove()
            levels = np.linspace(lo, hi, 21)
            ax.contourf(gx, gy, values[:, k].reshape(gx.shape), levels=levels, cmap=LECTURE_CMAP, extend="both", zorder=0)
            if len(ax.collections) == 1:  # first drawing of this panel
                ax.scatter(x[:, 0], x[:, 1], c=point_colors, s=6, edgecolors="k", linewidths=0.2, zorder=1)
                ax.set_title(f"{_label(record, layer, k)} ({activation})", fontsize=9)
                ax.set_xticks([])
                ax.set_yticks([])
        axes[layer - 1, 0].set_ylabel("output layer" if layer == config.n_layers else f"hidden layer {layer}", fontsize=9)
    widest = max(config.sizes[1:])
    capped = f" (the first {MAX_NEURONS} neurons of each layer of up to {widest})" if widest > MAX_NEURONS else ""
    fig.suptitle(
        f"What each neuron computes, epoch {step / record.steps_per_epoch:g}{capped}\n"
        f"colour: the neuron's activation over the input plane; dots: training points by class",
        fontsize=10,
    )


def plot_regions(record: RunRecord, step: int = -1, resolution: int = 150) -> Figure:
    """A grid of filled contours: one row per layer, one panel per neuron (at most 6 per layer)."""
    return _regions_figure(record, step, resolution)[0]


def _regions_figure(record: RunRecord, step: int, resolution: int) -> tuple[Figure, np.ndarray]:
    step = step % (record.steps + 1)
    cols = min(MAX_NEURONS, max(record.config.sizes[1:]))
    fig = Figure(figsize=(max(3.0 * cols + 1.2, 8.0), 2.8 * record.config.n_layers + 0.9), layout="constrained")
    axes = fig.subplots(record.config.n_layers, cols, squeeze=False)
    _draw(fig, axes, record, step, resolution)
    for row in axes:  # one colour bar per layer, from the panels' own contour levels
        mappable = next((c for ax in row for c in ax.collections if hasattr(c, "levels")), None)
        if mappable is not None:
            fig.colorbar(mappable, ax=list(row), label="activation", fraction=0.04, ticks=mappable.levels[::5])
    return fig, axes


def save_regions_gif(record: RunRecord, path: str | os.PathLike, frames: int = 20, fps: int = 3, resolution: int = 80, dpi: int = 100) -> Path:
    """The region grid every ``steps / frames`` steps over training, as a GIF."""
    steps = np.unique(np.linspace(0, record.steps, frames).round().astype(int))
    fig, axes = _regions_figure(record, 0, resolution)
    fig.canvas.draw()
    fig.set_layout_engine("none")  # freeze the layout: frames only change the contours
    animation = FuncAnimation(fig, lambda i: _draw(fig, axes, record, int(steps[i]), resolution), frames=len(steps))
    with atomic_path(path, suffix=".gif") as tmp:
        animation.save(tmp, writer=PillowWriter(fps=fps), dpi=dpi)
    return Path(path)
