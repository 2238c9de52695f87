"""A mutated update rule is caught beside torch.optim, and the report names the line of the rule at fault.

Each mutant is the hand-written rule with one realistic mistake. It runs teacher-forced beside
torch.optim (same parameters, state and gradients in at every step); the check must fail even with the
tolerance an honest re-implementation needs, and the first differing quantity must be the one the
mistake feeds: a running average ("exp_avg", "momentum_buffer", ...) or the parameter update itself.
"""

from __future__ import annotations

import pytest
import torch

from manual_vs_autograd import MLPConfig, init_params, load_blobs, targets_for
from manual_vs_autograd.optim import OptimizerProblem, OptimizerSpec, check_update_rule
from manual_vs_autograd.optim.mutants import MUTANTS, adam_textbook_form

STEPS = 20


def honest_tolerance(dtype):
    # A correct rule written with other ops (β m + (1-β) g instead of lerp, a division instead of
    # addcdiv) rounds each of its ≤ 6 ops per element differently: a few eps of the tensor's largest
    # value. 64 eps is the bound below which we call a difference rounding, not a bug.
    return 64 * torch.finfo(dtype).eps


def problem(dtype):
    config = MLPConfig()
    blobs = load_blobs(dtype=dtype)
    return config, init_params(config, 0, dtype=dtype), blobs.x_train, targets_for(blobs.y_train, "mse", dtype)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize(("mutant", "spec", "quantity", "named"), MUTANTS, ids=[m.rule.__name__ for m in MUTANTS])
def test_mutant_is_caught_and_named(mutant, spec, quantity, named, dtype):
    config, params, x, y = problem(dtype)
    report = check_update_rule(
        spec, OptimizerProblem(config, params, x, y, STEPS), rule=mutant, tolerance=honest_tolerance(dtype)
    )
    assert not report.ok, f"{mutant.__name__} passed as {spec.describe()}"
    assert report.mismatch.quantity == quantity, str(report.mismatch)
    assert named in report.mismatch.line, str(report.mismatch)
    assert named in str(report.mismatch)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
def test_an_honest_rewrite_is_not_bitwise_but_passes_the_rounding_bound(dtype):
    """The other side of the mutants: a correct rule in other ops is flagged only by a bitwise demand."""
    config, params, x, y = problem(dtype)
    spec = OptimizerSpec("adam", lr=0.05)
    bitwise = check_update_rule(spec, OptimizerProblem(config, params, x, y, STEPS), rule=adam_textbook_form)
    assert not bitwise.ok  # other ops, other rounding: some bit differs
    bounded = check_update_rule(spec, OptimizerProblem(config, params, x, y, STEPS), rule=adam_textbook_form, tolerance=honest_tolerance(dtype))  # fmt: skip
    assert bounded.ok, str(bounded.mismatch)
    assert 0 < bounded.max_rel_diff <= honest_tolerance(dtype)
