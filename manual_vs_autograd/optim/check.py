"""Step parity of an update rule against ``torch.optim``, and which line of the rule broke it.

Teacher forcing: at every step both sides start from the same parameters and the same optimizer
state and receive the same gradients (autograd's, on the twin); only the update rules differ. After
the step, every state buffer (in the order the rule updates them) and then every parameter is
compared. The first quantity that differs names the line of the rule at fault: a wrong momentum
buffer or moment points at its running-average line, a right state with a wrong parameter points at
the last line (learning rate, bias correction, where ε enters, Nesterov's look-ahead).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..twin import TwinMLP
from .pair import OptimizerProblem, Rule
from .rules import manual_step
from .spec import SGD_FAMILY, OptimizerSpec
from .state import init_state, state_buffers
from .torch_side import copy_params, implementation, state_from_torch, torch_optimizer

__all__ = ["StepMismatch", "UpdateParity", "check_update_rule", "rule_line"]

_LINES = {
    "momentum_buffer": "b_t = μ b_{t-1} + (1 - τ) g_t, with b_1 = g_1 (momentum, dampening, first step)",
    "exp_avg": "m_t = β1 m_{t-1} + (1 - β1) g_t (beta1, or weight decay added to g)",
    "exp_avg_sq": "v_t = β2 v_{t-1} + (1 - β2) g_t² (beta2, or weight decay added to g)",
    "max_exp_avg_sq": "v_t^max = max(v_{t-1}^max, v_t) (amsgrad)",
    "square_avg": "v_t = α v_{t-1} + (1 - α) g_t² (alpha, or weight decay added to g)",
    "grad_avg": "ḡ_t = α ḡ_{t-1} + (1 - α) g_t (centered)",
    "rmsprop momentum_buffer": "b_t = μ b_{t-1} + g_t / (√v_t + ε), with b_0 = 0 (momentum, eps)",
    "sgd param": "θ_t = θ_{t-1} - γ (g_t + λθ_{t-1} or b_t, or g_t + μ b_t with Nesterov) (lr, weight decay, nesterov)",
    "adam param": "θ_t = θ_{t-1} - γ/(1 - β1^t) · m_t / (√v_t/√(1 - β2^t) + ε) (lr, bias correction, eps)",
    "adamw param": "θ_t = θ_{t-1}(1 - γλ) - γ/(1 - β1^t) · m_t / (√v_t/√(1 - β2^t) + ε) "
    "(lr, decoupled weight decay, bias correction, eps)",
    "rmsprop param": "θ_t = θ_{t-1} - γ g_t / (√v_t + ε) or θ_{t-1} - γ b_t (lr, eps)",
}


def rule_line(spec: OptimizerSpec, quantity: str) -> str:
    """The equation (and the settings it uses) that produces ``quantity`` ("param" or a state key) under ``spec``."""
    family = "sgd" if spec.name in SGD_FAMILY else spec.name
    line = _LINES.get(f"{family} {quantity}", _LINES.get(quantity, quantity))
    if spec.amsgrad and quantity == "param":  # the denominator uses the running maximum of v
        line = line.replace("√v_t", "√v_t^max").replace(", eps)", ", eps, amsgrad)")
    return line


@dataclass(frozen=True)
class StepMismatch:
    """The first quantity that differed from ``torch.optim``'s, at the first step where one did."""

    step: int  # 1-based
    quantity: str  # "param" or a state key ("exp_avg", "momentum_buffer", ...)
    param: str  # "W1", "b1", ...
    max_abs_diff: float  # inf when one side lacks the buffer
    line: str  # the rule's equation that computes ``quantity``

    def __str__(self) -> str:
        what = f"parameter {self.param}" if self.quantity == "param" else f"state {self.quantity} of {self.param}"
        return f"step {self.step}: {what} differs from torch.optim's by {self.max_abs_diff:.3g}; check {self.line}"


@dataclass(frozen=True)
class UpdateParity:
    """Teacher-forced comparison of a hand-written rule with ``torch.optim`` over ``steps`` steps."""

    spec: OptimizerSpec
    implementation: str  # torch's: "single-tensor" or "foreach"
    steps: int  # steps compared (up to and including a mismatch)
    tolerance: float  # allowed |Δ| relative to max |torch value| per tensor; 0 = bitwise
    max_rel_diff: float  # largest |Δ| / max|torch value| seen, over every quantity and step
    mismatch: StepMismatch | None  # the first violation, or None

    @property
    def ok(self) -> bool:
        return self.mismatch is None

    @property
    def bitwise(self) -> bool:
        return self.ok and self.max_rel_diff == 0.0


def check_update_rule(
    spec: OptimizerSpec, problem: OptimizerProblem, *, rule: Rule = manual_step, tolerance: float = 0.0
) -> UpdateParity:
    """Run ``rule`` and ``torch.optim`` step by step from shared parameters, state and gradients; stop at a mismatch.

    A tensor passes when ``max|manual - torch| <= tolerance · max|torch|`` (so ``tolerance=0`` demands
    bitwise equality) and both sides hold the same state buffers.
    """
    config, params, x, y = problem.config, problem.params, problem.x, problem.y
    twin = TwinMLP(config, params)
    named = twin.named_math_parameters()
    optimizer = torch_optimizer(spec, named.values())
    manual = {name: p.detach().clone() for name, p in params.items()}
    state = init_state(spec, manual)
    worst = 0.0
    step = 0
    for step, index in problem.batches():
        optimizer.zero_grad(set_to_none=True)
        twin.loss(x[index], y[index]).backward()
        grads = twin.math_gradients()  # copies: the manual rule cannot touch torch's p.grad
        rule(manual, grads, state, spec)
        optimizer.step()

        reference = state_from_torch(spec, optimizer, named)
        pairs = [(key, name, buffers.get(name), state_buffers(reference)[key].get(name))
                 for key, buffers in state_buffers(state).items() for name in manual]  # fmt: skip
        pairs += [("param", name, manual[name], named[name].detach()) for name in manual]
        for quantity, name, mine, theirs in pairs:
            if mine is None and theirs is None:
                continue
            if mine is None or theirs is None:
                diff = rel = float("inf")
            else:
                diff = float((mine - theirs).abs().max())
                rel = diff / max(float(theirs.abs().max()), torch.finfo(theirs.dtype).tiny)
            worst = max(worst, rel)
            if rel > tolerance:
                mismatch = StepMismatch(step, quantity, name, diff, rule_line(spec, quantity))
                return UpdateParity(spec, implementation(x.device), step, tolerance, worst, mismatch)
        if tolerance > 0:  # teacher forcing: the next step starts from torch's parameters and state
            copy_params(manual, {name: p.detach() for name, p in named.items()})
            state = reference
    return UpdateParity(spec, implementation(x.device), step, tolerance, worst, None)
