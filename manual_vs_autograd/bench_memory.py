"""Peak memory of a call, one method for the CPU and CUDA: the allocator's own events, replayed in order.

While ``torch.profiler`` runs with ``profile_memory=True``, every allocation and free of PyTorch's
allocators (the CPU allocator, the CUDA caching allocator) is reported as a ``[memory]`` event with its
device, its size in bytes (negative for a free) and a time stamp. :func:`peak_bytes` replays those
events in time order and returns the largest running total inside the measured call, above the total
when the call began.

One catch, and how it is avoided: the CPU allocator learns a block's size only if the block was
allocated while the profiler ran, so the free of a block allocated before (say the previous step's
``.grad``) would be missing. :func:`peak_bytes` therefore calls ``fn`` once inside the profiled window
before the measured call: whatever the measured call frees was allocated in view. ``before`` runs in
between, to bring the state to where a step starts from (for autograd: ``zero_grad(set_to_none=True)``,
so that neither side's baseline holds gradients).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch

__all__ = ["peak_bytes", "replay_peak"]

_MARK = "manual_vs_autograd.measured"


def replay_peak(events: list[tuple[int, int]], start: int, end: int) -> int:
    """Peak of the running total of ``(time, bytes)`` events within ``[start, end]``, above the total at ``start``.

    Events before ``start`` set the baseline; events after ``end`` are ignored. Never negative.
    """
    running = base = 0
    peak = 0
    for time, delta in sorted(events):
        if time > end:
            break
        running += delta
        if time < start:
            base = running
        else:
            peak = max(peak, running - base)
    return int(peak)


def _device_types(device: torch.device) -> set[str]:
    return {"CPU", "MKLDNN", "IDEEP"} if device.type == "cpu" else {device.type.upper()}


def peak_bytes(
    fn: Callable[[], object],
    device: torch.device,
    *,
    before: Callable[[], object] | None = None,
    warm_up: bool = True,
) -> int:
    """Peak bytes allocated on ``device`` during a call of ``fn``, above what was allocated when it began.

    ``warm_up``: call ``fn`` once first, inside the profiled window (see the module docstring); ``before``
    runs after that call and before the measured one.
    """
    from torch.profiler import ProfilerActivity, profile, record_function

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    with _native_stderr_silenced(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        if warm_up:
            fn()
        if before is not None:
            before()
        sync()
        with record_function(_MARK):
            fn()
            sync()
    kinds = _device_types(device)
    events, window = [], None
    for event in prof.profiler.kineto_results.events():
        name = event.name()
        if name == _MARK:
            window = (event.start_ns(), event.end_ns())
        elif name == "[memory]" and str(event.device_type()).rsplit(".", 1)[-1] in kinds:
            events.append((event.start_ns(), int(event.nbytes())))
    if window is None:  # the profiler lost the marker: count everything it saw
        return replay_peak(events, -1, 2**63)
    return replay_peak(events, *window)


@contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Hide what the profiler's C++ side prints on file descriptor 2 while it runs (start/stop lines)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
