"""A mutated update rule is caught beside torch.optim, and the report names the line of the rule at fault.

Each mutant is the hand-written rule with one realistic mistake. It runs teacher-forced beside
torch.optim (same parameters, state and gradients in at every step); the check must fail even with the
tolerance an honest re-implementation needs, and the first differing quantity must be the one the
mistake feeds: a running average ("exp_avg", "momentum_buffer", ...) or the parameter update itself.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from manual_vs_autograd import MLPConfig, init_params, load_blobs, targets_for
from manual_vs_autograd.optim import OptimizerSpec, check_update_rule
from manual_vs_autograd.optim.rules import adam_step, sgd_step

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


# --- the mutants: each is a rule(params, grads, state, spec) with one line changed -----------------


def adam_eps_inside_sqrt(params, grads, state, spec):
    """θ -= γ m̂ / √(v̂ + ε) instead of γ m̂ / (√v̂ + ε)."""
    (b1, b2), state.step = spec.betas, state.step + 1
    for name, p in params.items():
        g, m, v = grads[f"d{name}"], state.exp_avg[name], state.exp_avg_sq[name]
        m.lerp_(g, 1 - b1)
        v.mul_(b2).addcmul_(g, g, value=1 - b2)
        denom = (v / (1 - b2**state.step)).add(spec.eps).sqrt()
        p.addcdiv_(m, denom, value=-spec.lr / (1 - b1**state.step))


def adam_without_bias_correction(params, grads, state, spec):
    """θ -= γ m / (√v + ε): the moments' zero start is not corrected for."""
    (b1, b2), state.step = spec.betas, state.step + 1
    for name, p in params.items():
        g, m, v = grads[f"d{name}"], state.exp_avg[name], state.exp_avg_sq[name]
        m.lerp_(g, 1 - b1)
        v.mul_(b2).addcmul_(g, g, value=1 - b2)
        p.addcdiv_(m, v.sqrt().add_(spec.eps), value=-spec.lr)


def adamw_with_coupled_decay(params, grads, state, spec):
    """AdamW's decay added to the gradient (Adam's L2 penalty) instead of applied to θ."""
    adam_step(params, grads, state, dataclasses.replace(spec, name="adam"))


def adam_with_decoupled_decay(params, grads, state, spec):
    """Adam's L2 penalty applied as AdamW's decoupled decay."""
    adam_step(params, grads, state, dataclasses.replace(spec, name="adamw"))


def adam_amsgrad_max_unused(params, grads, state, spec):
    """The running maximum of v is kept but the denominator uses v itself."""
    for name in params:
        torch.maximum(state.max_exp_avg_sq[name], state.exp_avg_sq[name], out=state.max_exp_avg_sq[name])
    adam_step(params, grads, state, dataclasses.replace(spec, amsgrad=False))
    for name in params:  # keep the max up to date with this step's v, as the real rule does
        torch.maximum(state.max_exp_avg_sq[name], state.exp_avg_sq[name], out=state.max_exp_avg_sq[name])


def nesterov_as_plain_momentum(params, grads, state, spec):
    """Nesterov's look-ahead g + μb dropped: steps along b."""
    sgd_step(params, grads, state, dataclasses.replace(spec, name="momentum"))


def dampened_first_step(params, grads, state, spec):
    """b_1 = (1 - τ) g_1: dampening applied from the first step (torch starts with b_1 = g_1)."""
    for name in params:
        if name not in state.momentum_buffer:
            state.momentum_buffer[name] = torch.zeros_like(params[name]).mul_(spec.momentum)
    sgd_step(params, grads, state, spec)


def lr_inside_the_velocity(params, grads, state, spec):
    """Sutskever et al.'s form: b = μ b + γ g, θ -= b (torch scales the velocity by γ afterwards)."""
    scaled = {key: g * spec.lr for key, g in grads.items()}
    sgd_step(params, scaled, state, dataclasses.replace(spec, lr=1.0))


def sgd_without_weight_decay(params, grads, state, spec):
    """The λθ term forgotten."""
    sgd_step(params, grads, state, dataclasses.replace(spec, weight_decay=0.0))


def rmsprop_eps_inside_sqrt(params, grads, state, spec):
    """θ -= γ g / √(v + ε) instead of γ g / (√v + ε)."""
    state.step += 1
    for name, p in params.items():
        g, v = grads[f"d{name}"], state.square_avg[name]
        v.mul_(spec.alpha).addcmul_(g, g, value=1 - spec.alpha)
        p.addcdiv_(g, v.add(spec.eps).sqrt(), value=-spec.lr)


def rmsprop_momentum_as_an_average(params, grads, state, spec):
    """b = μ b + (1 - μ) g/d, a running average, instead of torch's sum b = μ b + g/d."""
    state.step += 1
    for name, p in params.items():
        g, v, b = grads[f"d{name}"], state.square_avg[name], state.momentum_buffer[name]
        v.mul_(spec.alpha).addcmul_(g, g, value=1 - spec.alpha)
        b.mul_(spec.momentum).add_(g / v.sqrt().add_(spec.eps), alpha=1 - spec.momentum)
        p.add_(b, alpha=-spec.lr)


# The settings make each mistake matter in float32 too: ε = 1e-3 (at the default 1e-8 the difference
# between √(v̂+ε) and √v̂+ε is below float32's resolution while √v̂ ≫ ε), dampening 0.5, λ = 0.1.
MUTANTS = [
    (adam_eps_inside_sqrt, OptimizerSpec("adam", lr=0.05, eps=1e-3), "param", "eps"),
    (adam_without_bias_correction, OptimizerSpec("adam", lr=0.05), "param", "bias correction"),
    (adamw_with_coupled_decay, OptimizerSpec("adamw", lr=0.05, weight_decay=0.1), "exp_avg", "weight decay"),
    (adam_with_decoupled_decay, OptimizerSpec("adam", lr=0.05, weight_decay=0.1), "exp_avg", "weight decay"),
    (adam_amsgrad_max_unused, OptimizerSpec("adam", lr=0.05, amsgrad=True), "param", "amsgrad"),
    (nesterov_as_plain_momentum, OptimizerSpec("nesterov", lr=0.5), "param", "nesterov"),
    (dampened_first_step, OptimizerSpec("momentum", lr=0.5, dampening=0.5), "momentum_buffer", "first step"),
    (lr_inside_the_velocity, OptimizerSpec("momentum", lr=0.5), "momentum_buffer", "momentum"),
    (sgd_without_weight_decay, OptimizerSpec("sgd", lr=1.0, weight_decay=0.1), "param", "weight decay"),
    (rmsprop_eps_inside_sqrt, OptimizerSpec("rmsprop", lr=0.01, eps=1e-3), "param", "eps"),
    (rmsprop_momentum_as_an_average, OptimizerSpec("rmsprop", lr=0.01, momentum=0.5), "momentum_buffer", "momentum"),
]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize(("mutant", "spec", "quantity", "named"), MUTANTS, ids=[m[0].__name__ for m in MUTANTS])
def test_mutant_is_caught_and_named(mutant, spec, quantity, named, dtype):
    config, params, x, y = problem(dtype)
    report = check_update_rule(spec, config, params, x, y, steps=STEPS, rule=mutant, tolerance=honest_tolerance(dtype))
    assert not report.ok, f"{mutant.__name__} passed as {spec.describe()}"
    assert report.mismatch.quantity == quantity, str(report.mismatch)
    assert named in report.mismatch.line, str(report.mismatch)
    assert named in str(report.mismatch)


def adam_textbook_form(params, grads, state, spec):
    """Adam written as printed: m = β1 m + (1-β1) g, v = β2 v + (1-β2) g², θ -= γ m̂/(√v̂ + ε). Correct, other rounding."""
    (b1, b2), state.step = spec.betas, state.step + 1
    for name, p in params.items():
        g = grads[f"d{name}"]
        m = state.exp_avg[name].copy_(b1 * state.exp_avg[name] + (1 - b1) * g)
        v = state.exp_avg_sq[name].copy_(b2 * state.exp_avg_sq[name] + (1 - b2) * g * g)
        m_hat, v_hat = m / (1 - b1**state.step), v / (1 - b2**state.step)
        p.sub_(spec.lr * m_hat / (v_hat.sqrt() + spec.eps))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
def test_an_honest_rewrite_is_not_bitwise_but_passes_the_rounding_bound(dtype):
    """The other side of the mutants: a correct rule in other ops is flagged only by a bitwise demand."""
    config, params, x, y = problem(dtype)
    spec = OptimizerSpec("adam", lr=0.05)
    bitwise = check_update_rule(spec, config, params, x, y, steps=STEPS, rule=adam_textbook_form)
    assert not bitwise.ok  # other ops, other rounding: some bit differs
    bounded = check_update_rule(spec, config, params, x, y, steps=STEPS, rule=adam_textbook_form, tolerance=honest_tolerance(dtype))  # fmt: skip
    assert bounded.ok, str(bounded.mismatch)
    assert 0 < bounded.max_rel_diff <= honest_tolerance(dtype)
