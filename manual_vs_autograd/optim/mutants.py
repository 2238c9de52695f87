"""Update rules with one classic mistake each: what the step-parity check must catch, and name.

Each is a rule with the signature of :func:`manual_vs_autograd.optim.manual_step`. :data:`MUTANTS` pairs
it with settings under which the mistake matters (in float32 too) and with what the check should
report: the first quantity that differs and a word of the rule's line that it names.
:func:`adam_textbook_form` is their control: a correct rule in other ops, which the check must pass.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor

from .rules import adam_step, sgd_step
from .spec import OptimizerSpec
from .state import AdamState, RMSpropState, SGDState

__all__ = [
    "MUTANTS",
    "Mutant",
    "adam_amsgrad_max_unused",
    "adam_eps_inside_sqrt",
    "adam_textbook_form",
    "adam_with_decoupled_decay",
    "adam_without_bias_correction",
    "adamw_with_coupled_decay",
    "dampened_first_step",
    "lr_inside_the_velocity",
    "nesterov_as_plain_momentum",
    "rmsprop_eps_inside_sqrt",
    "rmsprop_momentum_as_an_average",
    "sgd_without_weight_decay",
]

Params = dict[str, Tensor]


def _adam_moments(name: str, grads: Params, state: AdamState, spec: OptimizerSpec) -> tuple[Tensor, Tensor]:
    """``name``'s m and v after this step, updated as :func:`~.rules.adam_step` does: the two slips below go
    wrong only after this."""
    (b1, b2), g = spec.betas, grads[f"d{name}"]
    m, v = state.exp_avg[name], state.exp_avg_sq[name]
    m.lerp_(g, 1 - b1)  # m = β1 m + (1 - β1) g
    v.mul_(b2).addcmul_(g, g, value=1 - b2)  # v = β2 v + (1 - β2) g²
    return m, v


def adam_eps_inside_sqrt(params: Params, grads: Params, state: AdamState, spec: OptimizerSpec) -> None:
    """θ -= γ m̂ / √(v̂ + ε) instead of γ m̂ / (√v̂ + ε)."""
    (b1, b2), state.step = spec.betas, state.step + 1
    for name, p in params.items():
        m, v = _adam_moments(name, grads, state, spec)
        denom = (v / (1 - b2**state.step)).add(spec.eps).sqrt()
        p.addcdiv_(m, denom, value=-spec.lr / (1 - b1**state.step))


def adam_without_bias_correction(params: Params, grads: Params, state: AdamState, spec: OptimizerSpec) -> None:
    """θ -= γ m / (√v + ε): the moments' zero start is not corrected for."""
    state.step += 1
    for name, p in params.items():
        m, v = _adam_moments(name, grads, state, spec)
        p.addcdiv_(m, v.sqrt().add_(spec.eps), value=-spec.lr)


def adamw_with_coupled_decay(params: Params, grads: Params, state: AdamState, spec: OptimizerSpec) -> None:
    """AdamW's decay added to the gradient (Adam's L2 penalty) instead of applied to θ."""
    adam_step(params, grads, state, dataclasses.replace(spec, name="adam"))


def adam_with_decoupled_decay(params: Params, grads: Params, state: AdamState, spec: OptimizerSpec) -> None:
    """Adam's L2 penalty applied as AdamW's decoupled decay."""
    adam_step(params, grads, state, dataclasses.replace(spec, name="adamw"))


def adam_amsgrad_max_unused(params: Params, grads: Params, state: AdamState, spec: OptimizerSpec) -> None:
    """The running maximum of v is kept but the denominator uses v itself."""
    for name in params:
        torch.maximum(state.max_exp_avg_sq[name], state.exp_avg_sq[name], out=state.max_exp_avg_sq[name])
    adam_step(params, grads, state, dataclasses.replace(spec, amsgrad=False))
    for name in params:  # keep the max up to date with this step's v, as the real rule does
        torch.maximum(state.max_exp_avg_sq[name], state.exp_avg_sq[name], out=state.max_exp_avg_sq[name])


def nesterov_as_plain_momentum(params: Params, grads: Params, state: SGDState, spec: OptimizerSpec) -> None:
    """Nesterov's look-ahead g + μb dropped: steps along b."""
    sgd_step(params, grads, state, dataclasses.replace(spec, name="momentum"))


def dampened_first_step(params: Params, grads: Params, state: SGDState, spec: OptimizerSpec) -> None:
    """b_1 = (1 - τ) g_1: dampening applied from the first step (torch starts with b_1 = g_1)."""
    for name in params:
        if name not in state.momentum_buffer:
            state.momentum_buffer[name] = torch.zeros_like(params[name]).mul_(spec.momentum)
    sgd_step(params, grads, state, spec)


def lr_inside_the_velocity(params: Params, grads: Params, state: SGDState, spec: OptimizerSpec) -> None:
    """Sutskever et al.'s form: b = μ b + γ g, θ -= b (torch scales the velocity by γ afterwards)."""
    scaled = {key: g * spec.lr for key, g in grads.items()}
    sgd_step(params, scaled, state, dataclasses.replace(spec, lr=1.0))


def sgd_without_weight_decay(params: Params, grads: Params, state: SGDState, spec: OptimizerSpec) -> None:
    """The λθ term forgotten."""
    sgd_step(params, grads, state, dataclasses.replace(spec, weight_decay=0.0))


def rmsprop_eps_inside_sqrt(params: Params, grads: Params, state: RMSpropState, spec: OptimizerSpec) -> None:
    """θ -= γ g / √(v + ε) instead of γ g / (√v + ε)."""
    state.step += 1
    for name, p in params.items():
        g, v = grads[f"d{name}"], state.square_avg[name]
        v.mul_(spec.alpha).addcmul_(g, g, value=1 - spec.alpha)
        p.addcdiv_(g, v.add(spec.eps).sqrt(), value=-spec.lr)


def rmsprop_momentum_as_an_average(params: Params, grads: Params, state: RMSpropState, spec: OptimizerSpec) -> None:
    """b = μ b + (1 - μ) g/d, a running average, instead of torch's sum b = μ b + g/d."""
    state.step += 1
    for name, p in params.items():
        g, v, b = grads[f"d{name}"], state.square_avg[name], state.momentum_buffer[name]
        v.mul_(spec.alpha).addcmul_(g, g, value=1 - spec.alpha)
        b.mul_(spec.momentum).add_(g / v.sqrt().add_(spec.eps), alpha=1 - spec.momentum)
        p.add_(b, alpha=-spec.lr)


def adam_textbook_form(params: Params, grads: Params, state: AdamState, spec: OptimizerSpec) -> None:
    """Not a mutant: Adam as printed, m = β1 m + (1-β1) g, v = β2 v + (1-β2) g², θ -= γ m̂/(√v̂ + ε).

    Correct, in other ops than torch's, so it rounds otherwise: a bitwise check flags it, a check with
    the tolerance of an honest rewrite must pass it (the other side of the mutants)."""
    (b1, b2), state.step = spec.betas, state.step + 1
    for name, p in params.items():
        g = grads[f"d{name}"]
        m = state.exp_avg[name].copy_(b1 * state.exp_avg[name] + (1 - b1) * g)
        v = state.exp_avg_sq[name].copy_(b2 * state.exp_avg_sq[name] + (1 - b2) * g * g)
        m_hat, v_hat = m / (1 - b1**state.step), v / (1 - b2**state.step)
        p.sub_(spec.lr * m_hat / (v_hat.sqrt() + spec.eps))


# The settings make each mistake matter in float32 too: ε = 1e-3 (at the default 1e-8 the difference
# between √(v̂+ε) and √v̂+ε is below float32's resolution while √v̂ ≫ ε), dampening 0.5, λ = 0.1.
_TABLE: list[tuple[Callable[..., None], OptimizerSpec, str, str]] = [
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


class Mutant(NamedTuple):
    """A mistaken rule, the settings that expose it, and what the report should say."""

    rule: Callable[..., None]  # a Rule for the state record of its spec
    spec: OptimizerSpec
    quantity: str  # the first quantity that differs: "param" or a state key
    named: str  # a word the report's rule line must contain


MUTANTS = tuple(Mutant(rule, spec, quantity, named) for rule, spec, quantity, named in _TABLE)
