"""Progress of a long run on stderr: tqdm's bar on a terminal, a plain line every few seconds otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from .stdout import say

__all__ = ["PLAIN_EVERY_S", "step_progress"]

PLAIN_EVERY_S = 5.0


def step_progress(label: str, quiet: bool) -> Callable[[int, int], None] | None:
    """A ``progress(step, total)`` callback, or ``None`` with ``quiet``."""
    if quiet:
        return None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = None

        def on_tty(step: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = tqdm(
                    total=total,
                    desc=label,
                    unit="step",
                    file=sys.stderr,
                    leave=False,
                    mininterval=0.5,
                )
            bar.update(step - bar.n)
            if step >= total:
                bar.close()

        return on_tty
    start = time.monotonic()
    last = start

    def plain(step: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < PLAIN_EVERY_S and step < total:
            return
        last = now
        rate = step / max(now - start, 1e-9)
        eta = (total - step) / rate if rate > 0 else float("inf")
        say(f"{label}: step {step}/{total}, {rate:.1f} steps/s, ETA {eta:.0f} s")

    return plain
