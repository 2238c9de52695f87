"""What each update rule remembers between steps, as plain records of tensors.

Each field is named after the key ``torch.optim`` keeps in ``optimizer.state[p]`` (``momentum_buffer``,
``exp_avg``, ``exp_avg_sq``, ...) and maps a parameter name (``W1``, ``b1``, ...) to a tensor of that
parameter's shape, so the two sides' states compare and copy key by key.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import torch
from torch import Tensor

from .spec import SGD_FAMILY, OptimizerSpec

__all__ = [
    "AdamState",
    "OptimizerState",
    "RMSpropState",
    "SGDState",
    "buffers_per_parameter",
    "init_state",
    "state_buffers",
]


@dataclass
class SGDState:
    """SGD's memory: the momentum buffer ``b`` per parameter, created at the first step as ``b_1 = g_1``."""

    step: int = 0  # steps taken
    momentum_buffer: dict[str, Tensor] = field(default_factory=dict)  # name -> b; absent before step 1


@dataclass
class AdamState:
    """Adam's and AdamW's memory: the moment estimates ``m`` and ``v`` (zeros at the start), per parameter."""

    step: int = 0  # t, the steps taken: the bias corrections use β^t
    exp_avg: dict[str, Tensor] = field(default_factory=dict)  # name -> m, running mean of g
    exp_avg_sq: dict[str, Tensor] = field(default_factory=dict)  # name -> v, running mean of g²
    max_exp_avg_sq: dict[str, Tensor] = field(default_factory=dict)  # name -> max over steps of v (amsgrad only)


@dataclass
class RMSpropState:
    """RMSprop's memory: the running mean of ``g²`` (and of ``g`` when centred), the momentum buffer."""

    step: int = 0  # steps taken
    square_avg: dict[str, Tensor] = field(default_factory=dict)  # name -> v, running mean of g²
    grad_avg: dict[str, Tensor] = field(default_factory=dict)  # name -> running mean of g (centered only)
    momentum_buffer: dict[str, Tensor] = field(default_factory=dict)  # name -> b, zeros at the start (momentum > 0)


OptimizerState = SGDState | AdamState | RMSpropState


def init_state(spec: OptimizerSpec, params: dict[str, Tensor]) -> OptimizerState:
    """The state before the first step, shaped like ``params``: zeros where torch starts from zeros.

    SGD's momentum buffer is not created here: torch sets it to the first gradient at step 1.
    """

    def zeros():
        return {name: torch.zeros_like(p) for name, p in params.items()}

    if spec.name in SGD_FAMILY:
        return SGDState()
    if spec.name == "rmsprop":
        return RMSpropState(
            square_avg=zeros(),
            grad_avg=zeros() if spec.centered else {},
            momentum_buffer=zeros() if spec.momentum > 0 else {},
        )
    return AdamState(exp_avg=zeros(), exp_avg_sq=zeros(), max_exp_avg_sq=zeros() if spec.amsgrad else {})


def state_buffers(state: OptimizerState) -> dict[str, dict[str, Tensor]]:
    """``{"exp_avg": {"W1": ...}, ...}``: every per-parameter field of ``state``, in the order the rule updates them."""
    return {f.name: getattr(state, f.name) for f in fields(state) if f.name != "step"}


def buffers_per_parameter(spec: OptimizerSpec) -> int:
    """How many tensors of each parameter's shape ``spec``'s rule keeps (0 for plain SGD, 2 for Adam)."""
    if spec.name in SGD_FAMILY:
        return int(spec.momentum > 0)
    if spec.name == "rmsprop":
        return 1 + int(spec.centered) + int(spec.momentum > 0)
    return 2 + int(spec.amsgrad)
