"""Optimizers by hand beside ``torch.optim``: SGD (momentum, dampening, Nesterov, weight decay), Adam, AdamW, RMSprop.

:mod:`.spec` names a rule and its settings; :mod:`.state` holds what it remembers; :mod:`.rules` are the
update rules in plain tensor ops; :mod:`.torch_side` builds the twin's ``torch.optim`` optimizer;
:mod:`.pair` trains both sides together; :mod:`.check` compares the rules step by step and names the
line that differs.
"""

from .check import StepMismatch, UpdateParity, check_update_rule, rule_line
from .pair import ManualOptimizer, OptimizerProblem, PairRun, Rule, make_optimizers, run_pair
from .rules import adam_step, manual_step, rmsprop_step, sgd_step
from .spec import ADAPTIVE, OPTIMIZERS, SGD_FAMILY, OptimizerSpec, default_lr
from .state import (
    AdamState,
    OptimizerState,
    RMSpropState,
    SGDState,
    buffers_per_parameter,
    init_state,
    state_buffers,
)
from .torch_side import implementation, load_state_into_torch, state_from_torch, torch_optimizer

__all__ = [
    "ADAPTIVE",
    "OPTIMIZERS",
    "SGD_FAMILY",
    "AdamState",
    "ManualOptimizer",
    "OptimizerSpec",
    "OptimizerState",
    "OptimizerProblem",
    "PairRun",
    "RMSpropState",
    "Rule",
    "SGDState",
    "StepMismatch",
    "UpdateParity",
    "adam_step",
    "check_update_rule",
    "default_lr",
    "implementation",
    "init_state",
    "load_state_into_torch",
    "make_optimizers",
    "manual_step",
    "rmsprop_step",
    "rule_line",
    "run_pair",
    "sgd_step",
    "state_buffers",
    "buffers_per_parameter",
    "state_from_torch",
    "torch_optimizer",
]
