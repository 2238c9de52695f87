"""The notebook's one-weight experiment: w1 and the MSE over epochs, w1 alone being updated."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..lecture.scalar_net import ScalarHistory

__all__ = ["plot_w1_only"]


def plot_w1_only(history: ScalarHistory, lr: float) -> Figure:
    """w1 above, MSE below, against epochs (the notebook's FFNetworkW1 figure)."""
    w1 = np.array([p.w1 for p in history.params])
    mse = np.array((history.mse_start, *history.mse))
    epochs = np.arange(len(w1))
    fig = Figure(figsize=(8, 6), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    top.plot(epochs, w1, color="#1f78b4")
    top.set_ylabel("w1")
    top.annotate(f"{w1[0]:.3f}", (0, w1[0]), textcoords="offset points", xytext=(5, -12))
    top.annotate(f"{w1[-1]:.3f}", (epochs[-1], w1[-1]), textcoords="offset points", xytext=(-35, 8))
    bottom.plot(epochs, mse, color="#e31a1c")
    bottom.set_ylabel("MSE (training set)")
    bottom.set_xlabel("epoch")
    bottom.annotate(f"{mse[0]:.4f}", (0, mse[0]), textcoords="offset points", xytext=(5, -12))
    bottom.annotate(f"{mse[-1]:.4f}", (epochs[-1], mse[-1]), textcoords="offset points", xytext=(-45, 8))
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    fig.suptitle(
        f"Only w1 is trained (notebook lr {lr:g}): w1 moves from {w1[0]:.3f} to {w1[-1]:.3f},\n"
        f"but the loss falls only from {mse[0]:.4f} to {mse[-1]:.4f} — one weight alone cannot separate the classes",
        fontsize=10,
    )
    return fig
