"""The benchmark as a bar chart: step-time and peak-memory ratios, manual over autograd, and what checking costs."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["plot_bench"]

DARK, LIGHT = "#1f78b4", "#a6cee3"  # paired blues: distinct in lightness, so also without colour vision
COST_DARK, COST_LIGHT = "#b35806", "#fdb863"  # paired oranges for the cost of checking
BAR = 0.38


def _ratio(num: float | None, den: float | None) -> float:
    return float(num) / float(den) if num is not None and den else np.nan


def _right(*series: list[float]) -> float:
    """The panel's right edge: room past the longest bar (and past 1) for a number written beside it."""
    return float(np.nanmax([1.0, *(v for values in series for v in values)])) * 1.18


def _bars(ax: Axes, y: np.ndarray, values: list[float], color: str, text_color: str, label: str, right: float) -> None:
    """Horizontal bars with their value written inside the bar's end (outside, boxed, when the bar is short).

    The dashed line at 1 is drawn behind the bars, so it never crosses a number written inside one.
    """
    ax.barh(y, values, height=BAR, color=color, label=label, zorder=2)
    for yi, value in zip(y, values):
        if np.isnan(value):
            ax.text(0.02 * right, yi, "not measured", va="center", fontsize=8, color="0.35", zorder=3)
        elif value > 0.22 * right:  # room inside the bar for the number
            ax.text(
                value - 0.01 * right,
                yi,
                f"{value:.2f}",
                va="center",
                ha="right",
                fontsize=9,
                color=text_color,
                zorder=3,
            )
        else:  # beside the bar; past the dashed line if the number would sit on it (~0.1 of the axis wide)
            x = value + 0.01 * right
            if x < 1.0 < x + 0.1 * right:
                x = 1.0 + 0.01 * right
            ax.text(x, yi, f"{value:.2f}", va="center", ha="left", fontsize=9, zorder=3)


def _panel(ax: Axes, right: float, title: str, xlabel: str) -> None:
    ax.axvline(1.0, color="k", ls="--", lw=1, zorder=1)
    ax.set_xlim(0, right)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel, fontsize=9)


def plot_bench(result: dict) -> Figure:
    """One row per configuration (and device): speed, memory and (when measured) the cost of checking.

    Every panel is a ratio with a dashed line at 1, where the two things compared are equal. An optional
    ``result["note"]`` (e.g. how the machine was loaded) is shown under the title.
    """
    configs = result["configs"]
    labels = [f"{c['name']}\n({c['device']}, {c['dtype']})" for c in configs]
    y = np.arange(len(configs))
    checked = any(c.get("checked_overhead") is not None for c in configs)
    fig = Figure(figsize=(15 if checked else 11, 0.9 * len(configs) + 2.6), layout="constrained")
    axes = fig.subplots(1, 3 if checked else 2, sharey=True)
    speed, memory = axes[0], axes[1]

    ratios = [_ratio(c["manual_s"], c["autograd_s"]) for c in configs]
    compiled = [_ratio(c.get("compiled_s"), c["autograd_s"]) for c in configs]
    right = _right(ratios, compiled)
    if np.all(np.isnan(compiled)):
        _bars(speed, y, ratios, DARK, "white", "manual / autograd", right)
    else:
        _bars(speed, y - BAR / 2, ratios, DARK, "white", "manual / autograd", right)
        _bars(speed, y + BAR / 2, compiled, LIGHT, "black", "autograd compiled / autograd", right)
    _panel(speed, right, "Speed: one training step", "median step time ratio (< 1: faster than autograd)")
    speed.set_yticks(y, labels, fontsize=9)
    speed.invert_yaxis()

    mem = [_ratio(c["manual_peak_bytes"], c["autograd_peak_bytes"]) for c in configs]
    right = _right(mem)
    _bars(memory, y, mem, DARK, "white", "manual / autograd", right)
    _panel(
        memory, right, "Memory: peak bytes allocated in a step", "peak memory ratio, manual / autograd (≤ 1: no more)"
    )

    if checked:
        cost = axes[2]
        overhead = [c["checked_overhead"] if c.get("checked_overhead") is not None else np.nan for c in configs]
        growth = [c["checked_memory_ratio"] if c.get("checked_memory_ratio") is not None else np.nan for c in configs]
        right = _right(overhead, growth)
        _bars(
            cost,
            y - BAR / 2,
            overhead,
            COST_DARK,
            "white",
            "time: checked step / its own manual + autograd steps",
            right,
        )
        _bars(cost, y + BAR / 2, growth, COST_LIGHT, "black", "memory: peak of a long / a short checked run", right)
        _panel(cost, right, "What checking costs (side-by-side trainer)", "ratio (1: no cost)")

    handles: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    fig.legend(
        list(handles.values()), list(handles), loc="outside lower center", ncols=len(handles), fontsize=8, frameon=False
    )
    machine = result["machine"]
    fig.suptitle(
        f"Manual backprop against autograd — {machine['cpu']}, {machine['cpu_threads']} threads, torch {machine['torch']}"
        + (f", {machine['gpu']}" if "gpu" in machine else "")
        + (f"\n{result['note']}" if result.get("note") else ""),
        fontsize=10,
    )
    return fig
