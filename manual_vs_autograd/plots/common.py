"""What the pictures share: parameter labels, the colour maps, the "bitwise equal" band, saving.

Figures are plain ``matplotlib.figure.Figure`` objects, not pyplot's: the package never touches the
user's backend or pyplot's global list of figures, and they are freed when no longer referenced.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..atomic import atomic_path
from ..config import MLPConfig
from ..record import RunRecord

__all__ = [
    "CLASS_COLORS",
    "EXACT_FLOOR",
    "LECTURE_CMAP",
    "difference_axis",
    "flat_params",
    "param_labels",
    "save_figure",
]

LECTURE_CMAP = "RdYlGn"  # the notebook's red → yellow → green: negative red, positive green
CLASS_COLORS = ["#d7301f", "#1a9850", "#4575b4", "#fdae61", "#762a83", "#35978f"]
EXACT_FLOOR = 1e-20  # where a difference of exactly 0 is drawn on a log axis


def param_labels(config: MLPConfig) -> dict[tuple[str, tuple[int, ...]], str]:
    """``(matrix, index) -> label``: the lecture's ``w1..``/``b1..`` for 2-2-1 and 2-2-4, else ``W1[0,1]``."""
    from ..lecture.names import lecture_names

    if config.sizes in ((2, 2, 1), (2, 2, 4)):
        return {where: name for name, where in lecture_names(config).items()}
    labels = {}
    for name, shape in config.param_shapes().items():
        for index in np.ndindex(*shape):
            labels[(name, tuple(index))] = f"{name}[{','.join(map(str, index))}]"
    return labels


def flat_params(record: RunRecord, side: str) -> tuple[list[str], np.ndarray]:
    """Labels and a (steps + 1, P) array of every scalar parameter of one side."""
    labels = param_labels(record.config)
    names, columns = [], []
    for where, label in labels.items():
        matrix, index = where
        names.append(label)
        columns.append(record.params[side][matrix][(slice(None), *index)])
    return names, np.stack(columns, axis=1)


def difference_axis(ax: Axes, x: np.ndarray, diffs: np.ndarray, labels: list[str], what: str) -> None:
    """|manual - autograd| per series on a log axis, with exact zeros drawn on a labelled band."""
    diffs = np.atleast_2d(diffs.T).T  # (T, S)
    nonzero = diffs[diffs > 0]
    top = max(nonzero.max() * 10 if nonzero.size else 1e-14, 1e-14)
    ax.set_yscale("log")
    ax.axhspan(EXACT_FLOOR / 3, EXACT_FLOOR * 3, color="#c7e9c0", zorder=0)
    ax.text(0.99, EXACT_FLOOR * 4, "band: bitwise equal (|Δ| = 0)", transform=ax.get_yaxis_transform(), fontsize=8,
            color="#238b45", va="bottom", ha="right", zorder=5, bbox=dict(facecolor="white", edgecolor="none", alpha=0.8))  # fmt: skip
    for column, label in zip(diffs.T, labels):
        ax.plot(x, np.where(column > 0, column, EXACT_FLOOR), lw=1, label=label)
    ax.set_ylim(EXACT_FLOOR / 3, top)
    ax.set_ylabel(f"|manual − autograd|\n{what}")
    if not nonzero.size:
        ax.text(0.5, 0.55, f"every {what} bitwise equal at every step", transform=ax.transAxes, ha="center", fontsize=11, color="#238b45", weight="bold")


def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = 110) -> Path:
    """Save ``fig`` atomically and return the path."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
    return Path(path)
