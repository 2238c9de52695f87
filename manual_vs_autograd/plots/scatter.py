"""The data, and the predictions with the misclassified points drawn larger.

Two input features are drawn as the plane x1-x2; one feature as x1 against the class (points spread
a little up and down so that they do not hide each other); more than two as x1-x2, saying so in the title.
"""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..manual import predict
from ..record import RunRecord
from .common import class_style, require_params

__all__ = ["plot_data", "plot_predictions"]


def _coordinates(x: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What goes on the two axes: x1 and x2, or (one feature) x1 and the class with a fixed jitter."""
    if x.shape[1] >= 2:
        return x[:, 0], x[:, 1]
    jitter = np.random.default_rng(0).uniform(-0.25, 0.25, len(labels))  # fixed: the picture is reproducible
    return x[:, 0], labels + jitter


def _scatter(ax: Axes, x: np.ndarray, labels: np.ndarray, sizes) -> None:
    h, v = _coordinates(x, labels)
    for c in np.unique(labels):
        mask = labels == c
        size = sizes[mask] if isinstance(sizes, np.ndarray) else sizes
        ax.scatter(h[mask], v[mask], s=size, linewidths=0.5, label=f"class {int(c)}", **class_style(int(c)))
    ax.set_xlabel("x1")
    if x.shape[1] >= 2:
        ax.set_ylabel("x2")
    else:
        ax.set_ylabel("class (points spread ±0.25 to show them all)")
        ax.set_yticks(np.unique(labels))
    ax.legend(fontsize=8)


def _features_note(x: np.ndarray) -> str:
    n = x.shape[1]
    if n == 1:
        return " — one input feature: x1 against the class"
    if n > 2:
        return f" — showing x1 and x2 only, of {n} input features"
    return ""


def plot_data(record: RunRecord) -> Figure:
    """Training and test points, coloured and shaped by label."""
    fig = Figure(figsize=(10, 4.5), layout="constrained")
    for ax, split in zip(fig.subplots(1, 2, sharex=True, sharey=True), ("train", "test")):
        x, y = record.data[f"x_{split}"], record.data[f"y_{split}"].astype(int)
        _scatter(ax, x, y, 16)
        ax.set_title(f"{split}: {len(y)} points")
    spec = record.meta["spec"]
    fig.suptitle(f"Blob data: make_blobs({spec['n_samples']} points, {spec['centers']} centres, seed {spec['seed']})"
                 + (", labels = centre % 2" if record.meta["network"]["loss"] != "ce" else "")
                 + _features_note(record.data["x_train"]))  # fmt: skip
    return fig


def plot_predictions(record: RunRecord) -> Figure:
    """Each split coloured by the trained manual network's prediction; misclassified points large."""
    require_params(record, "predictions")
    config = record.config
    params = {name: torch.from_numpy(values[-1]).to(torch.float64) for name, values in record.params["manual"].items()}
    fig = Figure(figsize=(10, 4.5), layout="constrained")
    for ax, split in zip(fig.subplots(1, 2, sharex=True, sharey=True), ("train", "test")):
        x, y = record.data[f"x_{split}"], record.data[f"y_{split}"].astype(int)
        predicted = predict(params, torch.from_numpy(x).to(torch.float64), config).numpy()
        wrong = predicted != y
        _scatter(ax, x, predicted, np.where(wrong, 70.0, 12.0))
        ax.set_title(f"{split}: accuracy {1 - wrong.mean():.3f} — {int(wrong.sum())} misclassified (large dots)")
    fig.suptitle(
        "Predictions of the trained network (colour and shape = predicted class)"
        + _features_note(record.data["x_train"])
    )
    return fig
