"""Before a run: estimate the memory it will need, and refuse one that cannot fit.

The estimate is made from the settings alone, before any data is generated or tensor allocated:

* parameters: ``P`` numbers per network, for the manual side, the twin, the 1-ULP sensitivity twin,
  each with its gradient and the optimizer's ``k`` state buffers (0 for plain SGD, 2 for Adam; one
  more copy for the teacher-forced update check), plus the float64 bound computation (value and
  magnitude of every gradient): ``(3·2·b + (3 + 1)·k·b + 4·8)·P`` bytes;
* activations at the batch size ``B``: every layer's pre-activation, output and gradient on each of
  the three networks, plus the float64 magnitude pass: ``B·Σ widths·(3·3·b + 6·8)`` bytes;
* data: scikit-learn's blobs in float64 and their tensors in the working dtype:
  ``n_samples·features·(3·8 + b)`` bytes;
* the record: what the policy keeps (thinned runs: at most its budget).

A run is refused when the estimate exceeds :data:`FRACTION` of the memory available now
(``MemAvailable`` from ``/proc/meminfo``; elsewhere physical memory).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import InputError
from .recorder import RecordPolicy

__all__ = ["FRACTION", "MemoryEstimate", "available_bytes", "check_fits", "estimate"]

FRACTION = 0.8


@dataclass(frozen=True)
class MemoryEstimate:
    parameters: int
    activations: int
    data: int
    record: int

    @property
    def total(self) -> int:
        return self.parameters + self.activations + self.data + self.record


def _gib(n: float) -> str:
    return f"{n / 2**30:.3g} GiB" if n >= 2**28 else f"{n / 2**20:.3g} MiB"


def _param_bytes(sizes: tuple[int, ...], b: int) -> dict[str, int]:
    """Bytes of each parameter, under the network's own names (``W1``, ``b1``, ...: ``MLPConfig.param_shapes``),
    so that ``--record`` names are checked, and refused, against the names the user knows."""
    shapes: dict[str, int] = {}
    for layer in range(1, len(sizes)):
        shapes[f"W{layer}"] = sizes[layer] * sizes[layer - 1] * b
        shapes[f"b{layer}"] = sizes[layer] * b
    return shapes


def estimate(
    sizes: tuple[int, ...],
    n_samples: int,
    batch_size: int | None,
    dtype_bytes: int,
    steps: int,
    policy: RecordPolicy,
    state_buffers: int = 0,
) -> MemoryEstimate:
    """The memory a side-by-side run of a ``sizes`` network on ``n_samples`` points will need, in bytes.

    ``state_buffers``: tensors of each parameter's shape the optimizer keeps (:func:`~.optim.buffers_per_parameter`).
    """
    b = dtype_bytes
    P = sum(sizes[i] * sizes[i + 1] + sizes[i + 1] for i in range(len(sizes) - 1))
    n_train = max(1, (3 * n_samples) // 4)
    B = n_train if batch_size is None else min(batch_size, n_train)
    param_bytes = _param_bytes(sizes, b)
    every, _, _ = policy.resolve(steps, param_bytes)
    kept = steps // every + 2
    record = min(
        policy.bytes_per_step(param_bytes) * kept,
        max(policy.budget_bytes, policy.bytes_per_step(param_bytes) * 2),
    )
    if policy.every is not None:  # an explicit K is not capped by the budget
        record = policy.bytes_per_step(param_bytes) * kept
    return MemoryEstimate(
        parameters=(3 * 2 * b + 4 * state_buffers * b + 4 * 8) * P,
        activations=B * sum(sizes) * (3 * 3 * b + 6 * 8),
        data=n_samples * sizes[0] * (3 * 8 + b),
        record=record,
    )


def available_bytes() -> int:
    """Memory available now: ``MemAvailable`` on Linux, else the physical memory."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_fits(
    est: MemoryEstimate,
    *,
    batch_size: int | None,
    n_samples: int,
    available: int | None = None,
) -> None:
    """Raise a one-line :class:`InputError` naming the estimate and an option that would fit."""
    limit = FRACTION * (available_bytes() if available is None else available)
    if est.total <= limit:
        return
    parts = (
        f"parameters {_gib(est.parameters)}, activations {_gib(est.activations)}, data {_gib(est.data)}, "
        f"record {_gib(est.record)}"
    )
    largest = max(
        ("record", est.record),
        ("data", est.data),
        ("activations", est.activations),
        ("parameters", est.parameters),
        key=lambda kv: kv[1],
    )[0]
    per_sample = est.activations / max(batch_size or max(1, (3 * n_samples) // 4), 1)
    room = limit - est.parameters - est.record - est.data
    if largest == "record":
        hint = "--record loss (or --record-every with a larger K)"
    elif largest == "activations" and room > per_sample:
        hint = f"--batch-size {int(room // per_sample)} or smaller"
    elif largest == "parameters":
        hint = "smaller --hidden widths or --features"
    else:
        hint = "fewer --samples or --features, or a small --batch-size"
    raise InputError(f"the run needs about {_gib(est.total)} ({parts}) but {_gib(limit)} is available; try {hint}")
