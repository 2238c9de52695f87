"""The benchmark as a bar chart: step-time ratio and peak-memory ratio, manual over autograd."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

__all__ = ["plot_bench"]


def plot_bench(result: dict) -> Figure:
    """Bars per configuration (and device); a dashed line at 1, where the two sides are equal."""
    configs = result["configs"]
    labels = [f"{c['name']}\n({c['device']}, {c['dtype']})" for c in configs]
    y = np.arange(len(configs))
    fig = Figure(figsize=(11, 0.9 * len(configs) + 2.2), layout="constrained")
    speed, memory = fig.subplots(1, 2, sharey=True)
    ratios = [c["ratio"] for c in configs]
    speed.barh(y, ratios, height=0.38, color="#1f78b4", label="manual / autograd")
    compiled = [c["compiled_s"] / c["autograd_s"] if c["compiled_s"] else np.nan for c in configs]
    if not np.all(np.isnan(compiled)):
        speed.barh(y + 0.4, compiled, height=0.38, color="#a6cee3", label="autograd compiled / autograd")
        for yi, r in zip(y, compiled):
            if not np.isnan(r):
                speed.text(r, yi + 0.4, f" {r:.2f}", va="center", fontsize=8, color="#35608a")
    for yi, r in zip(y, ratios):
        speed.text(r, yi, f" {r:.2f}", va="center", fontsize=9)
    speed.axvline(1.0, color="k", ls="--", lw=1)
    speed.set_yticks(y, labels, fontsize=9)
    speed.invert_yaxis()
    speed.set_xlabel("median step time ratio (< 1: faster than autograd)")
    speed.set_title("Speed: one training step")
    speed.legend(fontsize=8, loc="lower right")
    mem = [c["manual_peak_bytes"] / c["autograd_peak_bytes"] if c["autograd_peak_bytes"] else np.nan for c in configs]
    memory.barh(y, mem, height=0.38, color="#33a02c")
    for yi, r in zip(y, mem):
        memory.text(r, yi, f" {r:.2f}", va="center", fontsize=9)
    memory.axvline(1.0, color="k", ls="--", lw=1)
    memory.set_xlabel("peak memory ratio, manual / autograd (≤ 1: no more than autograd)")
    memory.set_title("Memory: peak bytes allocated in a step")
    machine = result["machine"]
    fig.suptitle(
        f"Manual backprop against autograd — {machine['cpu']}, {machine['cpu_threads']} threads, torch {machine['torch']}"
        + (f", {machine['gpu']}" if "gpu" in machine else ""),
        fontsize=10,
    )
    return fig
