"""An interrupt finds both sides after the same step, and the summaries count only completed steps."""

from __future__ import annotations

import os
import signal

import torch

import manual_vs_autograd.trainer as trainer_module
from manual_vs_autograd import MLPConfig, TrainConfig, init_params, load_blobs, targets_for, train_side_by_side
from manual_vs_autograd.check_schedule import CheckSchedule
from manual_vs_autograd.optim import manual_step

LECTURE = MLPConfig((2, 2, 1), "sigmoid", "mse")  # bitwise equal on both sides: any skew between them shows


def _data():
    data = load_blobs()
    return data.x_train, targets_for(data.y_train, LECTURE.loss, data.x_train.dtype)


def test_sigint_during_the_updates_waits_for_both_sides(monkeypatch):
    x, y = _data()
    armed = {"now": False}

    def rule_then_ctrl_c(params, grads, state, spec):
        manual_step(params, grads, state, spec)
        if armed["now"]:  # step 4: the manual side has stepped, autograd has not yet
            armed["now"] = False
            os.kill(os.getpid(), signal.SIGINT)

    def progress(step, total):
        armed["now"] = step == 3

    final, twin, traj = train_side_by_side(
        LECTURE,
        init_params(LECTURE),
        x,
        y,
        TrainConfig(epochs=50, lr=2.5),
        rule=rule_then_ctrl_c,
        sensitivity=False,
        progress=progress,
    )
    assert traj.steps == 4 and "kept the 4 steps" in (traj.stopped or "")
    for name, p in twin.named_math_parameters().items():
        assert torch.equal(final[name], p.detach()), f"{name}: the two sides stopped after different steps"
    assert traj.record.param_steps[-1] == 4


def test_an_interrupt_inside_a_check_drops_that_step_from_the_summaries(monkeypatch):
    x, y = _data()
    real = trainer_module.mlp_grad_bounds
    calls = {"n": 0}

    def bounds_then_ctrl_c(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the bitwise run refreshes its bounds at steps 1 and 11
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(trainer_module, "mlp_grad_bounds", bounds_then_ctrl_c)
    _, _, traj = train_side_by_side(
        LECTURE, init_params(LECTURE), x, y, TrainConfig(epochs=50, lr=2.5), check=CheckSchedule(every=1)
    )
    assert traj.steps == 10
    assert traj.step_parity.checked == traj.step_parity.bitwise == 10  # not 11: step 11 never completed
    assert "interrupted during step 11; kept the 10 steps" in (traj.stopped or "")
