"""What the pictures share: parameter labels, colours, the "bitwise equal" band, the steps a record kept, saving.

Figures are plain ``matplotlib.figure.Figure`` objects, not pyplot's: the package never touches the
user's backend or pyplot's global list of figures, and they are freed when no longer referenced.

Colours are chosen to stay readable with red-green colour blindness: Paul Tol's "muted" qualitative
palette for lines (with a second and third line style once its nine colours are used up), the
Okabe-Ito colours plus a marker shape per class, and a red-blue diverging map for signed values.

Records may be thinned (contract: ``record.loss_steps`` and ``record.param_steps`` give the step
number of each kept loss and each kept parameter row); records without them kept every step.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..atomic import atomic_path
from ..config import MLPConfig
from ..errors import InputError
from ..record import RunRecord

__all__ = [
    "CLASS_COLORS",
    "CLASS_MARKERS",
    "DIVERGING_CMAP",
    "EXACT_FLOOR",
    "NOT_FINITE",
    "PALETTE",
    "abs_difference",
    "class_style",
    "difference_axis",
    "flat_params",
    "frame_rows",
    "loss_steps",
    "param_labels",
    "param_steps",
    "has_every_param",
    "require_params",
    "row_for",
    "save_figure",
    "series_style",
    "shown_values",
    "total_steps",
    "value_limits",
]

PALETTE = ["#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499"]
LINE_STYLES = ["-", "--", ":"]  # after the palette's nine colours, the same colours dashed, then dotted
DIVERGING_CMAP = "RdBu"  # negative red, 0 white, positive blue (ColorBrewer: colour-blind safe)
CLASS_COLORS = ["#E69F00", "#0072B2", "#009E73", "#CC79A7", "#D55E00", "#56B4E9"]  # Okabe-Ito
CLASS_MARKERS = ["o", "s", "^", "D", "v", "P"]
EXACT_FLOOR = 1e-20  # where a difference of exactly 0 is drawn on a log axis
DIFF_CAP = 1e200  # top of a difference axis: matplotlib's log ticks overflow near 1e308
VALUE_CAP = 1e200  # values beyond ±VALUE_CAP are drawn at ±VALUE_CAP: autoscaling near ±1e308 overflows
NOT_FINITE = "#D55E00"  # steps whose value is NaN or infinite: vermillion crosses along the top


def series_style(i: int) -> dict[str, Any]:
    """Colour and line style of the ``i``-th line: distinct for 27 lines."""
    return {"color": PALETTE[i % len(PALETTE)], "linestyle": LINE_STYLES[(i // len(PALETTE)) % len(LINE_STYLES)]}


def class_style(label: int) -> dict[str, Any]:
    """Colour and marker of class ``label``, with a dark outline so the dot stands out on any background."""
    return {
        "color": CLASS_COLORS[label % len(CLASS_COLORS)],
        "marker": CLASS_MARKERS[label % len(CLASS_MARKERS)],
        "edgecolors": "#222222",
    }


def loss_steps(record: RunRecord) -> np.ndarray:
    """The 1-based step number of each kept loss (every step when the record says nothing)."""
    steps = getattr(record, "loss_steps", None)
    return np.arange(1, len(record.losses["manual"]) + 1) if steps is None else np.asarray(steps, dtype=np.int64)


def param_steps(record: RunRecord) -> np.ndarray:
    """The step number of each kept parameter row, 0 being before training (every step when not said)."""
    steps = getattr(record, "param_steps", None)
    if steps is not None:
        return np.asarray(steps, dtype=np.int64)
    first = next(iter(record.params["manual"].values()), None)
    return np.arange(0 if first is None else first.shape[0])


def total_steps(record: RunRecord) -> int:
    """The number of steps the run took (a thinned record keeps fewer)."""
    steps = record.meta.get("steps")
    return int(steps) if isinstance(steps, int) and not isinstance(steps, bool) else int(record.steps)


def row_for(record: RunRecord, step: int) -> int:
    """The parameter row to show for ``step``: negative counts rows from the end (-1: the last); else the
    last row recorded at or before ``step``."""
    steps = param_steps(record)
    if not len(steps):
        raise InputError("this record kept no parameters")
    if step < 0:
        return max(len(steps) + step, 0)
    return max(int(np.searchsorted(steps, step, side="right")) - 1, 0)


def frame_rows(record: RunRecord, frames: int, spacing: str = "linear") -> np.ndarray:
    """Parameter rows for an animation of about ``frames`` frames, from the first row to the last.

    ``spacing="log"``: frame times log-spaced in steps (training changes most at the start), so the early
    frames are close together and the late ones far apart; ``"linear"``: evenly spaced in steps.
    """
    steps = param_steps(record)
    last = int(steps[-1])
    if spacing == "log" and last > 1:
        targets = np.concatenate([[0], np.geomspace(1, last, max(frames - 1, 1))])
    else:
        targets = np.linspace(0, last, frames)
    rows = np.searchsorted(steps, targets.round(), side="right") - 1
    return np.unique(np.clip(rows, 0, len(steps) - 1))


def require_params(record: RunRecord, picture: str, every: bool = True) -> None:
    """An InputError when the record kept no parameters (a loss-only record), or, with ``every``, not all of them."""
    for side in ("manual", "autograd"):
        if not record.params.get(side):
            raise InputError(f"the {picture} picture needs parameters, but this record kept none ({side} side); "
                             "record them when training (--record all)")  # fmt: skip
    missing = [name for name in record.config.param_shapes() if name not in record.params["manual"]]
    if every and missing:
        kept = ", ".join(record.params["manual"])
        raise InputError(f"the {picture} picture needs every parameter, but this record kept only {kept}; "
                         "record them all when training (--record all)")  # fmt: skip


def has_every_param(record: RunRecord) -> bool:
    """Whether both sides kept every parameter of the network."""
    names = record.config.param_shapes()
    return all(
        record.params.get(side) and all(n in record.params[side] for n in names) for side in ("manual", "autograd")
    )


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
    """Labels and a (rows, P) array of every recorded scalar parameter of one side (rows: the recorded steps)."""
    labels = param_labels(record.config)
    names, columns = [], []
    for where, label in labels.items():
        matrix, index = where
        if matrix not in record.params[side]:  # a record that kept some parameters (--record W1)
            continue
        names.append(label)
        values = record.params[side][matrix]  # (rows, *shape)
        columns.append(values.reshape(values.shape[0], -1)[:, int(np.ravel_multi_index(index, values.shape[1:]))])
    return names, np.stack(columns, axis=1)


def abs_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``|a - b|`` in float64, quietly: inf - inf is NaN and a huge difference may overflow to inf."""
    with np.errstate(all="ignore"):
        return np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))


def difference_axis(ax: Axes, x: np.ndarray, diffs: np.ndarray, labels: list[str], what: str) -> None:
    """|manual - autograd| per series on a log axis, with exact zeros drawn on a labelled band.

    NaN or infinite differences (a side's value was not finite) are not zeros: they are drawn as crosses
    along the top of the axis and named in a note.
    """
    diffs = np.atleast_2d(np.asarray(diffs, dtype=np.float64).T).T  # (T, S)
    finite = np.isfinite(diffs)
    nonzero = diffs[finite & (diffs > 0)]
    top = float(min(max(nonzero.max() * 10 if nonzero.size else 1e-14, 1e-14), DIFF_CAP))
    ax.set_yscale("log")
    ax.set_ylim(EXACT_FLOOR / 3, top)  # fixed before drawing: autoscaling a log axis near 1e308 overflows
    ax.axhspan(EXACT_FLOOR / 3, EXACT_FLOOR * 3, color="#c7e9c0", zorder=0)
    ax.text(0.99, EXACT_FLOOR * 4, "band: bitwise equal (|Δ| = 0)", transform=ax.get_yaxis_transform(), fontsize=8,
            color="#238b45", va="bottom", ha="right", zorder=5, bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8})  # fmt: skip
    for i, (column, label) in enumerate(zip(diffs.T, labels)):
        shown = np.where(np.isfinite(column), np.clip(column, EXACT_FLOOR, top / 2), np.nan)
        ax.plot(x, shown, lw=1, label=label, **series_style(i))
    bad_steps = np.asarray(x)[~finite.all(axis=1)]
    if bad_steps.size:
        ax.plot(bad_steps, np.full(bad_steps.shape, top / 3), ls="none", marker="x", color=NOT_FINITE, ms=6, mew=1.5)
        ax.text(0.01, 0.97, f"×: not finite (NaN or ±inf) at {bad_steps.size} of {len(x)} points, from epoch {bad_steps[0]:g}",
                transform=ax.transAxes, fontsize=8, color=NOT_FINITE, va="top", ha="left",
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8})  # fmt: skip
    if nonzero.size and nonzero.max() > DIFF_CAP:
        ax.text(0.99, 0.97, f"differences above {DIFF_CAP:g} drawn just under the top", transform=ax.transAxes, fontsize=8,
                va="top", ha="right", bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8})  # fmt: skip
    ax.set_ylabel(f"|manual − autograd|\n{what}")
    if not nonzero.size and not bad_steps.size:
        ax.text(0.5, 0.55, f"every {what} bitwise equal at every recorded step", transform=ax.transAxes, ha="center",
                fontsize=11, color="#238b45", weight="bold")  # fmt: skip


def shown_values(values: np.ndarray) -> np.ndarray:
    """``values`` in float64 as a value axis draws them: magnitudes above :data:`VALUE_CAP` (and ±inf, which
    lines do not draw anyway) clipped to it, NaN kept (not drawn)."""
    return np.clip(np.asarray(values, dtype=np.float64), -VALUE_CAP, VALUE_CAP)


def value_limits(ax: Axes, values: np.ndarray) -> None:
    """For ``values`` (as :func:`shown_values` gives them) with none finite, or some at the cap, fix ``ax``'s y
    range and say so on the axis: matplotlib's own autoscaling warns (and fails) on such data. Else nothing."""
    shown = np.asarray(values, dtype=np.float64)
    finite = shown[np.isfinite(shown)]
    if not finite.size:
        ax.set_ylim(-1, 1)
        ax.text(0.5, 0.5, "no finite value to draw (all NaN or ±inf)", transform=ax.transAxes, ha="center",
                color=NOT_FINITE, fontsize=10)  # fmt: skip
        return
    lo, hi = float(finite.min()), float(finite.max())
    if max(abs(lo), abs(hi)) >= VALUE_CAP:
        pad = (hi - lo) * 0.05 if hi > lo else abs(hi) * 0.05
        ax.set_ylim(lo - pad, hi + pad)
        ax.text(0.99, 0.03, f"values beyond ±{VALUE_CAP:g} drawn at ±{VALUE_CAP:g}", transform=ax.transAxes,
                fontsize=8, va="bottom", ha="right", bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8})  # fmt: skip


def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = 110) -> Path:
    """Save ``fig`` atomically and return the path."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
    return Path(path)
