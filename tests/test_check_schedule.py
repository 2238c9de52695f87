"""Which steps get the bounded checks: a share of the run's own time, or every K-th step.

The schedule reads a clock; these tests give it one they control (each call returns the time the
test says has passed), so they assert the rule itself, not the machine's speed.
"""

from __future__ import annotations

import pytest

from manual_vs_autograd.check_schedule import CHECK_SHARE, SENSITIVITY_FOLLOW, CheckSchedule
from manual_vs_autograd.errors import InputError


class StepClock:
    """A clock that moves only when told: ``advance(dt)``."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, dt: float) -> None:
        self.now += dt


def _simulate(schedule: CheckSchedule, clock: StepClock, steps: int, plain: float, check: float) -> list[int]:
    """A run whose plain steps take ``plain`` and whose bounded checks take ``check``; returns the checked steps."""
    checked = []
    for step in range(1, steps + 1):
        schedule.start("plain")
        clock.advance(plain)
        schedule.stop("plain")
        if schedule.check_due(step, steps):
            checked.append(step)
            schedule.start("checks")
            clock.advance(check)
            schedule.stop("checks")
    return checked


def test_the_default_spends_its_share_on_checks_spread_over_the_run():
    clock = StepClock()
    schedule = CheckSchedule(clock=clock)
    checked = _simulate(schedule, clock, steps=1000, plain=1.0, check=3.0)
    assert checked[0] == 1  # a bug in the backward shows at once
    # each check costs 3 plain steps: the share allows share*1000/3 of them, give or take the one that tips it over
    assert abs(len(checked) - CHECK_SHARE * 1000 / 3) <= 2
    assert schedule.checks_s <= CHECK_SHARE * schedule.plain_s + 3.0
    gaps = {b - a for a, b in zip(checked[1:], checked[2:])}
    assert max(gaps) - min(gaps) <= 1  # evenly spread, not bunched at the start
    assert checked[-1] > 900


def test_cheap_checks_run_every_step():
    clock = StepClock()
    checked = _simulate(CheckSchedule(clock=clock), clock, steps=200, plain=1.0, check=0.05)
    assert checked == list(range(1, 201))


@pytest.mark.parametrize("every", [1, 7])
def test_every_k_checks_steps_1_k_plus_1_and_the_last(every):
    clock = StepClock()
    checked = _simulate(CheckSchedule(every=every, clock=clock), clock, steps=50, plain=1.0, check=100.0)
    expected = sorted({*range(1, 51, every), 50})
    assert checked == expected


@pytest.mark.parametrize(("total", "expected"), [(1, 1), (9, 1), (30, 3), (1000, 100), (2001, 201)])
def test_the_perturbed_run_follows_the_first_tenth_of_the_steps_whatever_they_cost(total, expected):
    clock = StepClock()
    schedule = CheckSchedule(clock=clock)
    followed = 0
    for step in range(1, total + 1):
        schedule.start("plain")
        clock.advance(1.0 if step % 2 else 50.0)  # the machine's speed does not enter
        schedule.stop("plain")
        if not schedule.sensitivity_allowed(step, total):
            break
        followed = step
        schedule.start("sensitivity")
        clock.advance(5.0)
        schedule.stop("sensitivity")
    assert SENSITIVITY_FOLLOW == 0.1
    assert followed == expected  # the first 10%, rounded up; step 1 at least
    assert CheckSchedule(every=3, clock=clock).sensitivity_allowed(10**9, 10**9)  # a fixed stride follows it all


@pytest.mark.parametrize("every", [0, -1, True, 2.5])
def test_a_bad_stride_is_refused(every):
    with pytest.raises(InputError, match="check every"):
        CheckSchedule(every=every)


def test_a_sync_runs_at_every_timed_boundary():
    # on CUDA the trainer passes torch.cuda.synchronize, so queued kernels count where they ran
    calls = []
    clock = StepClock()
    schedule = CheckSchedule(clock=clock, sync=lambda: calls.append(clock()))
    _simulate(schedule, clock, steps=3, plain=1.0, check=0.05)
    assert len(calls) == 2 * (3 + 3)  # start and stop of 3 plain steps and of 3 checks (cheap: every step)


def test_sharp_checks_wait_until_their_cost_fits_half_the_share():
    from manual_vs_autograd.check_schedule import SHARP_COST

    clock = StepClock()
    schedule = CheckSchedule(clock=clock)
    assert not schedule.sharp_due()  # nothing measured yet: the worst-case bound first
    schedule.start("checks")
    clock.advance(1.0)
    schedule.stop("checks", bounded=True)  # a worst-case check took 1
    needed = SHARP_COST * 1.0 / (CHECK_SHARE / 2)  # plain time after which a sharp check (16) fits
    while schedule.plain_s < needed - 1:
        schedule.start("plain")
        clock.advance(1.0)
        schedule.stop("plain")
        assert not schedule.sharp_due()
    schedule.start("plain")
    clock.advance(1.0)
    schedule.stop("plain")
    assert schedule.sharp_due()
    assert CheckSchedule(every=5, clock=clock).sharp_due()  # a fixed stride: every check is sharp


@pytest.mark.parametrize(("field", "what"), [("share", "check share"), ("follow", "followed fraction")])
@pytest.mark.parametrize("value", [0, -0.1, 1.5, float("nan"), True, "0.1"])
def test_a_share_outside_0_1_is_refused_naming_it(field, what, value):
    with pytest.raises(InputError, match=f"{what} must be in \\(0, 1\\], got"):
        CheckSchedule(**{field: value})


def test_the_checks_share_and_the_followed_steps_are_set_apart():
    clock = StepClock()
    schedule = CheckSchedule(clock=clock, share=0.02, follow=0.25)
    checked = _simulate(schedule, clock, steps=1000, plain=1.0, check=1.0)
    assert abs(len(checked) - 0.02 * 1000) <= 2
    assert schedule.sensitivity_allowed(250, 1000) and not schedule.sensitivity_allowed(251, 1000)


def test_numpy_numbers_are_taken_as_shares():
    import numpy as np

    schedule = CheckSchedule(share=np.float32(0.5), follow=np.float64(0.25))
    assert (schedule.share, schedule.follow) == (0.5, 0.25) and type(schedule.share) is float
