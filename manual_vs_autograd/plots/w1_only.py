"""The notebook's one-weight experiment: w1 and the MSE over epochs, w1 alone being updated.

The MSE is drawn as the notebook records it, after each epoch's update (epoch 1 first: the 0.2319 of
the lecture table), with the value before training (0.2320) as a separate open marker at epoch 0. Its
axis starts at 0, with the MSE of always predicting 0.5 (exactly 0.25 for 0/1 labels) as a reference,
so that the size of the drop is seen as it is; the drop is also written out.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..lecture.scalar_net import ScalarHistory

__all__ = ["plot_w1_only"]

CONSTANT_HALF_MSE = 0.25  # (0.5 - y)² for y in {0, 1}: the MSE of a network that always says 0.5


def plot_w1_only(history: ScalarHistory, lr: float) -> Figure:
    """w1 above, MSE below, against epochs (the notebook's FFNetworkW1 figure, on an honest loss axis)."""
    w1 = np.array([p.w1 for p in history.params])  # (epochs + 1,): before training, then after each epoch
    mse = np.array(history.mse)  # (epochs,): after each epoch's update
    epochs = np.arange(len(w1))
    fig = Figure(figsize=(8, 6.5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    top.plot(epochs, w1, color="#0072B2")
    top.set_ylabel("w1")
    top.annotate(f"{w1[0]:.3f}", (0, w1[0]), textcoords="offset points", xytext=(5, -12))
    top.annotate(f"{w1[-1]:.3f}", (epochs[-1], w1[-1]), textcoords="offset points", xytext=(-35, 8))

    bottom.plot(epochs[1:], mse, color="#D55E00", label="MSE after each epoch (as the notebook records it)")
    bottom.plot([0], [history.mse_start], ls="none", marker="o", mfc="white", color="#D55E00",
                label=f"before training: {history.mse_start:.4f}")  # fmt: skip
    bottom.axhline(CONSTANT_HALF_MSE, color="0.4", ls=":", lw=1.2, label="always predicting 0.5: 0.25")
    bottom.set_ylim(0, max(0.3, float(np.nanmax(mse)) * 1.15))
    drop = mse[0] - mse[-1]
    bottom.annotate(
        f"{mse[0]:.4f} → {mse[-1]:.4f}: a drop of {drop:.4f} ({100 * drop / mse[0]:.1f} %)",
        (epochs[-1], mse[-1]), textcoords="offset points", xytext=(-10, -28), ha="right", fontsize=9,
    )  # fmt: skip
    bottom.set_ylabel("MSE (training set), axis from 0")
    bottom.set_xlabel("epoch")
    bottom.legend(fontsize=8, loc="lower left")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    fig.suptitle(
        f"Only w1 is trained (notebook lr {lr:g}): w1 moves from {w1[0]:.3f} to {w1[-1]:.3f},\n"
        f"but the loss falls only from {mse[0]:.4f} (after epoch 1) to {mse[-1]:.4f} — "
        "one weight alone cannot separate the classes",
        fontsize=10,
    )
    return fig
