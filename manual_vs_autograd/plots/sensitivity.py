"""How a run amplifies rounding: the distance from a 1-ULP-perturbed twin, beside the loss."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

__all__ = ["plot_sensitivity"]


def plot_sensitivity(
    distance: Sequence[float],
    bound: Sequence[float],
    loss: Sequence[float],
    *,
    loss_steps: Sequence[int] | None = None,
    horizon: int | None = None,
    parted: int | None = None,
    title: str = "sensitivity of the run to one ULP",
) -> Figure:
    """Two panels over the steps: the loss; and, on a log axis, the distance between the autograd run
    and its twin started one ULP away, with the trajectory bound ``D_t`` it is measured against.

    ``horizon`` (the step where the distance passes the bound) and ``parted`` (where the two compared
    sides part) are drawn as vertical lines when given.
    """
    fig = Figure(figsize=(8, 5.5), constrained_layout=True)
    top, bottom = fig.subplots(2, 1, sharex=True)
    steps = np.arange(len(distance))
    loss_x = np.asarray(loss_steps) if loss_steps is not None else np.arange(1, len(loss) + 1)
    top.plot(loss_x, loss, color="black", lw=1.2, label="loss (autograd side)")
    top.set_ylabel("loss")
    top.set_title(title)
    d = np.asarray(distance, dtype=float)
    b = np.asarray(bound, dtype=float)
    bottom.semilogy(
        steps,
        np.where(d > 0, d, np.nan),
        color="#d7301f",
        lw=1.2,
        label="|perturbed - autograd| (max over parameters)",
    )
    bottom.semilogy(
        steps[1:],
        np.where(b[1:] > 0, b[1:], np.nan),
        color="#4575b4",
        lw=1.2,
        ls="--",
        label="trajectory bound D_t",
    )
    bottom.set_ylabel("parameter distance (log)")
    bottom.set_xlabel("step")
    marks = ((horizon, "horizon", "#762a83", ":"), (parted, "sides part", "#1a9850", "-."))
    for ax in (top, bottom):
        for step, what, color, ls in marks:
            if step is not None:  # labelled once, in the lower panel's legend
                ax.axvline(step, color=color, lw=1, ls=ls, label=f"{what}: step {step}" if ax is bottom else None)
        ax.grid(alpha=0.3)
    top.legend(loc="upper right", fontsize=8)
    bottom.legend(loc="lower right", fontsize=8)
    return fig
