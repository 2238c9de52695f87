"""Which steps of a side-by-side run get the costly checks, so that checking a real run stays cheap.

Comparing two gradients that are bitwise equal costs nothing; everything else a checked step does is
extra work: the per-element bounds (the network's forward and backward pass on magnitudes, in
float64: about three times a plain step), the manual gradient recomputed at autograd's parameters
once the runs have parted (teacher forcing: one more manual step), and the perturbed third run of
:mod:`.sensitivity` (one more autograd step per step it follows). Two ways to spend it:

* **a share of the run's time** (the default): the bounded checks run at step 1 and then whenever the
  time spent on them is at most ``share`` (:data:`CHECK_SHARE`, 5%) of the time the two sides' own
  steps have taken so far, so they are spread evenly over the run; the perturbed run follows the
  first ``follow`` (:data:`SENSITIVITY_FOLLOW`, 10%) of the run's steps (it cannot pause and resume: a
  trajectory is followed from the start or not at all, and the lecture's default run needs its first
  158 steps of 2000 followed to see where it parts). A step of it is one autograd step, half to
  nine tenths of the two sides' pair (the more, the smaller the network), so a checked run costs
  about ``1 + share + follow·0.5..0.9`` plain runs, whatever its size, plus the per-step summaries
  (``mva bench``). Counting the perturbed run in steps, not seconds, makes its horizon the same on
  every machine. A check compares with
  the worst-case bound of :mod:`.bounds` (about three plain steps) and, where its cost fits in half
  the share, with the sharp one (the smaller of that and the probabilistic bound, about as many times
  dearer as it draws samples: 16 to 64, :func:`.bounds_prob.samples_for`): a long run gets sharp checks spread over it, a short one the
  worst case alone. Which steps are checked
  depends on the machine's speed; the report says how many were.
  On CUDA the trainer makes the schedule wait for the queued kernels at each boundary it times
  (``sync``), so that the shares are of the GPU's time, not of the launches'.
* **every K-th step** (``every=K``): steps 1, 1+K, 1+2K, ... and the last one, and the perturbed run
  follows the whole run (up to its own caps); every check is sharp. ``every=1`` checks every step: the choice for tests and
  for small runs, where it is cheap.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import InputError

__all__ = ["CHECK_SHARE", "SENSITIVITY_FOLLOW", "CheckSchedule"]

CHECK_SHARE = 0.05
"""Default share of the run's own time for the bounded checks (the free bitwise comparisons included)."""
SENSITIVITY_FOLLOW = 0.1
"""Default fraction of the run's steps that the perturbed run follows (from step 1)."""
SHARP_COST = 16
"""A sharp check's cost in worst-case checks when not told (the trainer tells: K, 16 to 64 samples)."""


@dataclass
class CheckSchedule:
    """Decides step by step whether the bounded checks run and whether the perturbed run goes on."""

    every: int | None = None  # None: a share of the time; K: every K-th step
    share: float = CHECK_SHARE
    follow: float = SENSITIVITY_FOLLOW  # the fraction of the steps the perturbed run follows
    clock: Callable[[], float] = time.perf_counter
    sync: Callable[[], None] | None = None  # CUDA: wait for the queued kernels, so the clock sees their time
    plain_s: float = 0.0  # the two sides' own steps so far
    checks_s: float = 0.0
    sensitivity_s: float = 0.0
    plain_steps: int = 0
    sensitivity_steps: int = 0
    sharp_s: float = 0.0  # of checks_s: the checks with the sharp bound
    last_check_s: float = 0.0  # the last bounded check with the worst-case bound alone
    _started: dict[str, float] = field(default_factory=dict)
    _first_step_s: float = 0.0

    def __post_init__(self) -> None:
        if self.every is not None and (
            isinstance(self.every, bool) or not isinstance(self.every, int) or self.every < 1
        ):
            raise InputError(f"check every must be a positive integer number of steps, got {self.every!r}")
        for what, value in (("check share", self.share), ("followed fraction", self.follow)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value <= 1:
                raise InputError(f"{what} must be in (0, 1], got {value!r}")
        self.share, self.follow = float(self.share), float(self.follow)  # numpy scalars too

    def describe(self) -> str:
        if self.every == 1:
            return "every step"
        if self.every is not None:
            return f"steps 1, 1 + {self.every}, 1 + 2·{self.every}, ... and the last"
        return f"step 1, then within {self.share:.0%} of the run's own time"

    def to_json(self) -> dict[str, object]:
        """How the checked steps were picked and what the checks cost, as shares of the two sides' own time."""
        share = (lambda t: t / self.plain_s) if self.plain_s > 0 else (lambda t: None)
        return {
            "schedule": self.describe(),
            "check_time_share": share(self.checks_s),
            "sensitivity_time_share": share(self.sensitivity_s),
        }

    def start(self, what: str) -> None:
        """Start timing ``what``: ``"plain"``, ``"checks"`` or ``"sensitivity"``."""
        if self.sync is not None:
            self.sync()
        self._started[what] = self.clock()

    def stop(self, what: str, *, count: bool = True, bounded: bool = False, sharp: bool = False) -> None:
        """Add the time since :meth:`start` to ``what``; ``count=False``: part of a plain step, more to come.

        For ``"checks"``: ``bounded``, a bound was computed and compared; ``sharp``, it was the sharp one.
        """
        if self.sync is not None:
            self.sync()
        elapsed = self.clock() - self._started.pop(what)
        if what == "plain":
            self.plain_s += elapsed
            self.plain_steps += count
            if self.plain_steps <= 1:  # step 1 warms up (allocations, first kernels): not a typical step
                self._first_step_s = self.plain_s
        elif what == "checks":
            self.checks_s += elapsed
            if bounded and sharp:
                self.sharp_s += elapsed
            elif bounded:
                self.last_check_s = elapsed
        else:  # the perturbed run's first step warms its optimizer up: not charged, as step 1 is not typical
            self.sensitivity_steps += 1
            if self.sensitivity_steps > 1:
                self.sensitivity_s += elapsed

    def check_due(self, step: int, total: int) -> bool:
        """Whether step ``step`` of ``total`` gets the bounded checks."""
        if step == 1:
            return True
        if self.every is not None:
            return (step - 1) % self.every == 0 or step == total
        return self.checks_s <= self.share * self.plain_s

    def sharp_due(self, cost: float = SHARP_COST) -> bool:
        """Whether a due check uses the sharp bound: always with a fixed stride; with a share of the time,
        when ``cost`` worst-case checks (a sharp check's price: its samples) fit in half the share beside
        the sharp checks so far (so a short run, or the first steps of a long one, are checked with the
        worst-case bound)."""
        if self.every is not None:
            return True
        if self.last_check_s <= 0:
            return False
        return self.sharp_s + cost * self.last_check_s <= self.share / 2 * self.plain_s

    def sensitivity_allowed(self, step: int, total: int) -> bool:
        """Whether the perturbed run may take step ``step`` of ``total``: within the first :attr:`follow` of
        them (at least step 1), or every step with a fixed stride."""
        followed = math.ceil(round(self.follow * total, 9))  # rounded first: 0.1·30 is 3.0000000000000004
        return self.every is not None or step <= max(1, followed)

    @property
    def typical_plain_s(self) -> float | None:
        """The two sides' own time per step after step 1 (whose warm-up is not typical); None before step 2."""
        if self.plain_steps < 2:
            return None
        return (self.plain_s - self._first_step_s) / (self.plain_steps - 1)
