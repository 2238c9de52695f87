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
from .common import shown_values, value_limits

__all__ = ["plot_w1_only"]

CONSTANT_HALF_MSE = 0.25  # (0.5 - y)² for y in {0, 1}: the MSE of a network that always says 0.5


def _num(value: float) -> str:
    """Three decimals, or three significant digits for a huge value (not hundreds of digits)."""
    return f"{value:.3f}" if abs(value) < 1e6 else f"{value:.3g}"


def plot_w1_only(history: ScalarHistory, lr: float) -> Figure:
    """w1 above, MSE below, against epochs (the notebook's FFNetworkW1 figure, on an honest loss axis)."""
    w1 = np.array([p.w1 for p in history.params])  # (epochs + 1,): before training, then after each epoch
    mse = np.array(history.mse)  # (epochs,): after each epoch's update
    epochs = np.arange(len(w1))
    fig = Figure(figsize=(8, 6.5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    shown = shown_values(w1)  # a diverged start's huge values drawn at the cap, said on the axis
    top.plot(epochs, shown, color="#0072B2")
    value_limits(top, shown)
    top.set_ylabel("w1")
    top.annotate(_num(w1[0]), (0, shown[0]), textcoords="offset points", xytext=(5, -12))
    top.annotate(_num(w1[-1]), (epochs[-1], shown[-1]), textcoords="offset points", xytext=(-35, 8))

    bottom.plot(epochs[1:], mse, color="#D55E00", label="MSE after each epoch (as the notebook records it)")
    bottom.plot([0], [history.mse_start], ls="none", marker="o", mfc="white", color="#D55E00",
                label=f"before training: {history.mse_start:.4f}")  # fmt: skip
    bottom.axhline(CONSTANT_HALF_MSE, color="0.4", ls=":", lw=1.2, label="always predicting 0.5: 0.25")
    finite = mse[np.isfinite(mse)]
    bottom.set_ylim(0, max(0.3, float(finite.max()) * 1.15 if finite.size else 0.0))
    drop = mse[0] - mse[-1]
    with np.errstate(all="ignore"):  # a start at MSE 0 (or NaN) is written as inf % (or nan %), as it is
        share = 100 * drop / mse[0]
    bottom.annotate(
        f"{mse[0]:.4f} → {mse[-1]:.4f}: a drop of {drop:.4f} ({share:.1f} %)",
        (epochs[-1], mse[-1]), textcoords="offset points", xytext=(-10, -28), ha="right", fontsize=9,
    )  # fmt: skip
    bottom.set_ylabel("MSE (training set), axis from 0")
    bottom.set_xlabel("epoch")
    bottom.legend(fontsize=8, loc="lower left")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    fig.suptitle(
        f"Only w1 is trained (notebook lr {lr:g}): w1 moves from {_num(w1[0])} to {_num(w1[-1])},\n"
        f"but the loss falls only from {mse[0]:.4f} (after epoch 1) to {mse[-1]:.4f} — "
        "one weight alone cannot separate the classes",
        fontsize=10,
    )
    return fig
