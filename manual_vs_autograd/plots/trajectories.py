"""Weight trajectories and loss curves of both sides, side by side, with their differences."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..record import RunRecord
from .common import (
    NOT_FINITE,
    abs_difference,
    difference_axis,
    flat_params,
    has_every_param,
    loss_steps,
    param_steps,
    require_params,
    series_style,
    shown_values,
    total_steps,
    value_limits,
)

__all__ = ["plot_loss_curves", "plot_weight_trajectories"]


def _run_title(record: RunRecord) -> str:
    n, t = record.meta["network"], record.meta["train"]
    batch = "full batch" if t["batch_size"] is None else f"batch {t['batch_size']}"
    kept = len(loss_steps(record))
    total = total_steps(record)
    thinned = "" if kept == total else f", {kept} of {total} steps recorded"
    return (
        f"{'-'.join(map(str, n['sizes']))} {n['activation']}/{n['loss']}, {record.meta['dtype']} on "
        f"{record.meta['device']}, lr {t['lr']:g}, {batch}{thinned}"
    )


def plot_weight_trajectories(record: RunRecord, max_lines: int = 12) -> Figure:
    """Manual and autograd panels with shared axes, one line per parameter; their difference below.

    At most ``max_lines`` parameters are drawn: those that moved most over the run (a parameter that
    became NaN or infinite counts as having moved most). Each line keeps one colour and style in all panels.
    """
    require_params(record, "weight trajectories", every=False)
    labels, manual = flat_params(record, "manual")
    _, auto = flat_params(record, "autograd")
    moved = np.nan_to_num(abs_difference(manual[-1], manual[0]), nan=np.inf)
    keep = np.sort(np.argsort(-moved, kind="stable")[:max_lines])
    epochs = param_steps(record) / record.steps_per_epoch
    shown = [labels[i] for i in keep]

    fig = Figure(figsize=(12, 7.5), layout="constrained")
    grid = fig.add_gridspec(2, 2, height_ratios=[3, 2])
    left = fig.add_subplot(grid[0, 0])
    right = fig.add_subplot(grid[0, 1], sharex=left, sharey=left)
    bottom = fig.add_subplot(grid[1, :], sharex=left)
    for ax, values, side in ((left, manual, "manual backprop"), (right, auto, "autograd (nn.Module + SGD)")):
        for n, i in enumerate(keep):
            ax.plot(epochs, shown_values(values[:, i]), lw=1.4, label=labels[i], **series_style(n))
        ax.set_title(side)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    value_limits(left, shown_values(np.concatenate([manual[:, keep], auto[:, keep]])))  # right shares its y axis
    left.set_ylabel("parameter value")
    right.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, title="parameter")
    difference_axis(bottom, epochs, abs_difference(manual, auto)[:, keep], shown, "parameter")
    bottom.set_xlabel("epoch")
    bottom.grid(alpha=0.3, which="major")
    note = (
        ""
        if len(keep) == len(labels)
        else f" — showing {len(keep)} of {len(labels)} parameters (those that moved most)"
    )
    if not has_every_param(record):
        note += f" — recorded: {', '.join(record.params['manual'])}"
    fig.suptitle(f"Weight trajectories, side by side: {_run_title(record)}{note}", fontsize=11)
    return fig


def plot_loss_curves(record: RunRecord) -> Figure:
    """Both sides' loss per step (manual solid, autograd dashed) and their absolute difference."""
    manual, auto = record.losses["manual"], record.losses["autograd"]
    epochs = loss_steps(record) / record.steps_per_epoch
    fig = Figure(figsize=(9, 6.5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    top.plot(epochs, shown_values(manual), lw=2.5, color="#1f78b4", label="manual backprop")
    top.plot(epochs, shown_values(auto), lw=1.2, ls="--", color="#E69F00", label="autograd")
    value_limits(top, shown_values(np.concatenate([manual, auto])))
    bad = ~(np.isfinite(manual) & np.isfinite(auto))
    if bad.any():  # NaN or ±inf are not drawn as lines: mark where they are
        top.plot(epochs[bad], np.full(int(bad.sum()), 1.0), transform=top.get_xaxis_transform(), ls="none",
                 marker="x", color=NOT_FINITE, clip_on=False, label="loss not finite (NaN or ±inf)")  # fmt: skip
    top.set_ylabel(f"{record.meta['network']['loss']} loss (batch)")
    top.legend()
    top.grid(alpha=0.3)
    difference_axis(bottom, epochs, abs_difference(manual, auto), ["loss"], "loss")
    bottom.set_xlabel("epoch")
    bottom.grid(alpha=0.3)
    fig.suptitle(f"Loss of both sides: {_run_title(record)}", fontsize=11)
    return fig
