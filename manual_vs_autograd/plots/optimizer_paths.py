"""Optimizer paths over the lecture network's loss: SGD, momentum and Adam, manual and torch.optim."""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..config import init_params
from ..lecture.names import lecture_names
from ..optim.pair import PairRun
from ..optim.paths import (
    LECTURE,
    PATH_SPECS,
    LectureSurface,
    lecture_surface,
    optimizer_paths,
    path_of,
    trained_lecture_params,
)
from ..optim.spec import OptimizerSpec

__all__ = ["lecture_optimizer_paths", "plot_optimizer_paths"]

_COLORS = ["#d7301f", "#2171b5", "#238b45", "#6a51a3", "#ec7014"]


def _label(spec: OptimizerSpec) -> str:
    extra = f", μ {spec.momentum:g}" if spec.name == "momentum" else ""
    extra += f", β {spec.betas[0]:g}/{spec.betas[1]:g}" if spec.name in ("adam", "adamw") else ""
    return f"{spec.name} (lr {spec.lr:g}{extra})"


def plot_optimizer_paths(surface: LectureSurface, runs: dict[OptimizerSpec, PairRun]) -> Figure:
    """Contours of the loss over the two free weights, each rule's path on top: manual as a line, torch.optim as dots.

    Each legend entry gives the largest difference between the two sides' paths (0 means bitwise equal).
    """
    fig = Figure(figsize=(8.5, 7.2))
    ax = fig.add_subplot()
    a, b = surface.grid_a.numpy(), surface.grid_b.numpy()
    log_loss = np.log10(surface.loss.numpy())
    filled = ax.contourf(a, b, log_loss, levels=24, cmap="Greys_r", alpha=0.85)
    ax.contour(a, b, log_loss, levels=12, colors="white", linewidths=0.5, alpha=0.6)
    bar = fig.colorbar(filled, ax=ax, pad=0.02)
    bar.set_label("log10 of the MSE loss (training set)")
    start = None
    every = 10  # torch.optim's positions are marked every 10th step, so the manual line shows between them
    rules = []
    for order, (color, (spec, run)) in enumerate(zip(_COLORS, runs.items())):
        manual = path_of(run, surface.weights, "manual").numpy()
        autograd = path_of(run, surface.weights, "autograd").numpy()
        diff = float(np.abs(manual - autograd).max())
        z = 3 + len(runs) - order  # the first rule on top where paths share the valley floor
        ax.plot(manual[:, 0], manual[:, 1], "-", color=color, lw=2.6, zorder=z)
        ax.plot(autograd[::every, 0], autograd[::every, 1], "o", color="white", ms=6, mec=color, mew=1.8, zorder=z + 0.5)  # fmt: skip
        verdict = "manual = torch.optim bitwise" if diff == 0 else f"max |manual − torch.optim| {diff:.2g}"
        loss = float(run.manual_losses[-1])
        rules.append(Line2D([], [], color=color, lw=2.6, label=f"{_label(spec)}: final loss {loss:.4f}; {verdict}"))
        start = manual[0]
    styles = [
        Line2D([], [], color="black", lw=2.6, label="manual rule (every step)"),
        Line2D([], [], color="white", marker="o", ms=6, mec="black", mew=1.8, ls="none", label=f"torch.optim (every {every}th step)"),
        Line2D([], [], marker="*", ms=14, color="gold", mec="black", ls="none", label="start"),
        Line2D([], [], marker="X", ms=10, color="white", mec="black", ls="none", label="trained value (lecture run)"),
    ]  # fmt: skip
    if start is not None:
        ax.plot(*start, marker="*", ms=18, color="gold", mec="black", ls="none", zorder=10)
    ax.plot(*surface.trained, marker="X", ms=11, color="white", mec="black", ls="none", zorder=10)
    ax.legend(handles=rules + styles, loc="upper left", bbox_to_anchor=(0.0, -0.09), fontsize=8.5, frameon=False, ncol=1)  # fmt: skip
    where = lecture_names(LECTURE)
    wa, wb = surface.weights
    ax.set_xlabel(f"{wa}  ({where[wa][0]}[{','.join(map(str, where[wa][1]))}])")
    ax.set_ylabel(f"{wb}  ({where[wb][0]}[{','.join(map(str, where[wb][1]))}])")
    steps = len(next(iter(runs.values())).manual_losses) if runs else 0
    ax.set_title(
        f"{steps} steps of three optimizers on the lecture 2-2-1 network, only {wa} and {wb} free\n"
        "(every other weight and bias held at its value after the lecture run)",
        fontsize=11,
    )
    ax.set_xlim(a[0], a[-1])
    ax.set_ylim(b[0], b[-1])
    return fig


def lecture_optimizer_paths(
    weights: tuple[str, str] = ("w5", "w6"),
    start: tuple[float, float] | None = None,
    *,
    specs: tuple[OptimizerSpec, ...] = PATH_SPECS,
    steps: int = 150,
    grid: int = 61,
) -> Figure:
    """The whole picture: train the lecture run, set ``weights`` free from ``start``, run each rule both ways, draw.

    Args:
        start: the two weights' starting values; default their lecture initial values (w5 = 1.868, w6 = -0.977).
        grid: contour resolution per axis (``grid²`` forward passes).
    """
    params, x, y = trained_lecture_params()
    if start is None:
        initial = init_params(LECTURE, 0, scheme="lecture")
        (ma, ia), (mb, ib) = (lecture_names(LECTURE)[w] for w in weights)
        start = (float(initial[ma][ia]), float(initial[mb][ib]))
    runs = optimizer_paths(params, x, y, weights, start, specs=specs, steps=steps)
    points = torch.cat([path_of(run, weights, side) for run in runs.values() for side in ("manual", "autograd")])
    trained = torch.tensor([[float(params[m][i]) for m, i in (lecture_names(LECTURE)[w] for w in weights)]])
    points = torch.cat([points, trained.to(points.dtype)])
    low, high = points.min(dim=0).values, points.max(dim=0).values
    margin = 0.25 * (high - low).clamp(min=1.0)
    span = tuple((float(lo - m), float(hi + m)) for lo, hi, m in zip(low, high, margin))
    surface = lecture_surface(params, x, y, weights, span, n=grid)
    return plot_optimizer_paths(surface, runs)
