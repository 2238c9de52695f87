"""The data, and the predictions with the misclassified points drawn larger."""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.figure import Figure

from ..manual import predict
from ..record import RunRecord
from .common import CLASS_COLORS

__all__ = ["plot_data", "plot_predictions"]


def _scatter(ax, x: np.ndarray, labels: np.ndarray, sizes) -> None:
    for c in np.unique(labels):
        mask = labels == c
        size = sizes[mask] if isinstance(sizes, np.ndarray) else sizes
        ax.scatter(x[mask, 0], x[mask, 1], s=size, color=CLASS_COLORS[int(c) % len(CLASS_COLORS)],
                   edgecolors="k", linewidths=0.3, label=f"class {int(c)}")  # fmt: skip
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.legend(fontsize=8)


def plot_data(record: RunRecord) -> Figure:
    """Training and test points, coloured by label."""
    fig = Figure(figsize=(10, 4.5), layout="constrained")
    for ax, split in zip(fig.subplots(1, 2, sharex=True, sharey=True), ("train", "test")):
        x, y = record.data[f"x_{split}"], record.data[f"y_{split}"]
        _scatter(ax, x[:, :2], y, 14)
        ax.set_title(f"{split}: {len(y)} points")
    spec = record.meta["spec"]
    fig.suptitle(f"Blob data: make_blobs({spec['n_samples']} points, {spec['centers']} centres, seed {spec['seed']})"
                 + (", labels = centre % 2" if record.meta["network"]["loss"] != "ce" else ""))  # fmt: skip
    return fig


def plot_predictions(record: RunRecord) -> Figure:
    """Each split coloured by the trained manual network's prediction; misclassified points large."""
    config, params = record.config, record.params_at(-1)
    fig = Figure(figsize=(10, 4.5), layout="constrained")
    for ax, split in zip(fig.subplots(1, 2, sharex=True, sharey=True), ("train", "test")):
        x, y = record.data[f"x_{split}"], record.data[f"y_{split}"]
        predicted = predict(params, torch.from_numpy(x).to(torch.float64), config).numpy()
        wrong = predicted != y
        _scatter(ax, x[:, :2], predicted, np.where(wrong, 70.0, 12.0))
        ax.set_title(f"{split}: accuracy {1 - wrong.mean():.3f} — {int(wrong.sum())} misclassified (large dots)")
    fig.suptitle("Predictions of the trained network (colour = predicted class)")
    return fig
