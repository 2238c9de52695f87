"""What checking costs: a side-by-side step against a plain manual step plus a plain autograd step.

A checked step is a step of :func:`~manual_vs_autograd.trainer.train_side_by_side` with its default
recording, called as a black box on one full batch: its time is the run's steady pace, from the end
of its first step to the end of its last over the steps between (the median of a few runs); the
start-up before that (set-up, and the first step, always bound-checked) is reported on its own.

Its overhead is measured **on the same steps**: the trainer times the two sides' own steps (a plain
manual step and a plain autograd step, forward, backward and update: the work its check shares are
measured against) inside the run, so the ratio of the run's pace to theirs holds whatever the machine
does meanwhile. On a shared machine the pace of one process's plain steps moves by tens of percent
from one second to the next, so a ratio of two figures timed apart, also reported, is good to about
that. Its memory is the peak of a long run against a short one
(:func:`~manual_vs_autograd.bench_memory.peak_bytes`, the same method as the plain steps), both
recording the loss only: 1 when a run's memory does not grow with its length (the default record
grows up to its budget, 256 MiB, by design).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch

from .bench_memory import peak_bytes
from .config import MLPConfig

__all__ = ["MIN_STEPS", "CheckedCost", "checked_cost", "checked_steps_for"]

MIN_STEPS, MAX_STEPS = (
    100,
    1000,
)  # per timed run: the start-up (step 1 is always bound-checked) spread thin; a record that fits


@dataclass(frozen=True)
class CheckedCost:
    """Time per checked step and the peak memory of a short and a long checked run."""

    seconds: float  # median over runs of (time from the end of step 1 to the end of the last step) / (steps - 1)
    in_run_ratio: float  # median over runs of that pace / the pace of the run's own manual and autograd steps
    steps: int  # steps per timed run
    startup_seconds: float  # median over runs of the time to the end of step 1 (set-up, first step and its checks)
    short_steps: int
    long_steps: int
    short_peak_bytes: int
    long_peak_bytes: int


def checked_steps_for(plain_s: float, budget_s: float, min_steps: int = MIN_STEPS) -> int:
    """Steps per timed run: a third of ``budget_s`` at the plain pair's speed, within [min_steps, MAX_STEPS] (2 at least)."""
    if plain_s <= 0:
        return MAX_STEPS
    return int(min(MAX_STEPS, max(min_steps, 2, budget_s / 3 / plain_s)))


def _run(
    config: MLPConfig,
    params: dict[str, torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    lr: float,
    steps: int,
    record: str = "all",
    progress: Callable[[int, int], None] | None = None,
) -> float | None:
    """Run ``steps`` checked steps; returns the two sides' own time per step after step 1 (the trainer's timing)."""
    from .recorder import RecordPolicy
    from .trainer import TrainConfig, train_side_by_side

    policy = RecordPolicy(what=record)  # full batch: one step per epoch
    _, _, run = train_side_by_side(
        config, params, x, y, TrainConfig(epochs=steps, lr=lr), record=policy, progress=progress
    )
    return run.schedule.typical_plain_s


def checked_cost(
    config: MLPConfig,
    params: dict[str, torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    lr: float,
    steps: int,
    memory_steps: tuple[int, int],
    repeats: int = 3,
    clock: Callable[[], float] = time.perf_counter,
) -> CheckedCost:
    """Time ``repeats`` checked runs of ``steps`` steps, and the peak memory of runs of ``memory_steps``."""
    device = x.device
    if steps < 2:
        raise ValueError(f"a timed checked run needs 2 steps at least, got {steps}")

    def now() -> float:
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return clock()

    def timed() -> tuple[float, float, float]:
        marks: dict[int, float] = {}

        def progress(step: int, total: int) -> None:
            if step in (1, total):
                marks[step] = now()

        start = now()
        own = _run(config, params, x, y, lr, steps, progress=progress)
        pace = (marks[steps] - marks[1]) / (steps - 1)
        return pace, marks[1] - start, pace / own if own else math.nan

    _run(config, params, x, y, lr, 2)  # warm-up
    runs = [timed() for _ in range(repeats)]
    seconds = statistics.median(pace for pace, _, _ in runs)
    startup = statistics.median(first for _, first, _ in runs)
    in_run = statistics.median(ratio for _, _, ratio in runs)
    short, long = memory_steps
    # the record grows with the run up to its budget, as asked: the memory runs keep the loss only, to show the rest does not
    peaks = [
        peak_bytes(partial(_run, config, params, x, y, lr, n, "loss"), device, warm_up=False) for n in (short, long)
    ]
    return CheckedCost(seconds, in_run, steps, startup, short, long, peaks[0], peaks[1])
