"""The trainer's step parity checks the optimizer's update, teacher-forced: a mistaken rule fails it, named.

At every checked step the manual rule runs from autograd's parameters, autograd's optimizer state and
autograd's gradients, and what it produces (each state buffer, then each parameter) is compared with
``torch.optim``'s. A mutated rule (``optim.mutants``) must fail step parity at the step where
``check_update_rule`` (the optimizer package's own teacher-forced check, same bound) first sees it,
naming the quantity and parameter; a correct rule in other ops must pass, though not bitwise.
"""

from __future__ import annotations

import pytest
import torch

from manual_vs_autograd import MLPConfig, init_params, load_blobs, targets_for
from manual_vs_autograd.check_schedule import CheckSchedule
from manual_vs_autograd.optim import OptimizerProblem, OptimizerSpec, check_update_rule
from manual_vs_autograd.optim.mutants import MUTANTS, adam_textbook_form
from manual_vs_autograd.trainer import UPDATE_BOUND_EPS, TrainConfig, train_side_by_side

STEPS = 20  # the optimizer package's mutant tests see every mistake within 20 steps (amsgrad's takes a few)


def problem(dtype):
    config = MLPConfig()  # the lecture 2-2-1 net: its hand-written gradients are bitwise autograd's
    blobs = load_blobs(dtype=dtype)
    return config, init_params(config, 0, dtype=dtype), blobs.x_train, targets_for(blobs.y_train, "mse", dtype)


def train(spec, dtype, rule=None):
    config, params, x, y = problem(dtype)
    settings = TrainConfig(epochs=STEPS, lr=spec.lr, optimizer=spec)
    return train_side_by_side(
        config, params, x, y, settings, sensitivity=False, rule=rule, check=CheckSchedule(every=1)
    )[2]  # every step, whatever the machine's speed


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize(("mutant", "spec", "quantity", "named"), MUTANTS, ids=[m.rule.__name__ for m in MUTANTS])
def test_a_mutated_rule_fails_step_parity_naming_the_step_and_tensor(mutant, spec, quantity, named, dtype):
    traj = train(spec, dtype, mutant)
    sp = traj.step_parity
    assert not sp.holds and not traj.parity, f"{mutant.__name__} passed as {spec.describe()}"
    config, params, x, y = problem(dtype)
    tolerance = UPDATE_BOUND_EPS * torch.finfo(dtype).eps
    expected = check_update_rule(
        spec, OptimizerProblem(config, params, x, y, STEPS), rule=mutant, tolerance=tolerance
    ).mismatch
    assert expected is not None and sp.first_bad_step == expected.step
    label = f"update {expected.param}" if expected.quantity == "param" else f"{expected.quantity} {expected.param}"
    assert label in sp.first_bad
    assert not any(name.startswith("d") for name in sp.first_bad)  # the gradients themselves agree


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
def test_a_correct_rule_in_other_ops_keeps_step_parity(dtype):
    traj = train(OptimizerSpec("adam", lr=0.05), dtype, adam_textbook_form)
    assert traj.step_parity.holds and traj.parity
    assert not traj.trajectory.exact  # other rounding: the free runs are not bitwise equal
    assert any(name.startswith("update ") for name in traj.step_parity.worst)  # the update was compared


def test_plain_sgd_runs_stay_bitwise_and_skip_the_update_check():
    traj = train(OptimizerSpec("sgd", lr=2.5), torch.float64)
    assert traj.step_parity.holds and traj.trajectory.exact
    assert traj.step_parity.bitwise == traj.step_parity.checked == STEPS
    assert not any(name.startswith("update ") for name in traj.step_parity.worst)


def test_a_run_whose_updates_are_all_bitwise_equal_lists_no_worst_tensor():
    traj = train(OptimizerSpec("adam", lr=0.05), torch.float64)
    assert traj.trajectory.exact and traj.step_parity.bitwise == traj.step_parity.checked  # the update was compared too
    assert traj.step_parity.worst == {}  # nothing differed, so no tensor is the worst
