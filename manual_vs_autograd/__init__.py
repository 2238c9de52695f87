"""manual_vs_autograd: hand-written backprop beside its autograd twin, checked gradient by gradient.

The manual side (:mod:`.layers`, :mod:`.losses`, :mod:`.manual`) is plain tensor ops with every
local derivative written out; the twin (:mod:`.twin`) is an ``nn.Module`` trained by autograd.
:func:`compare_gradients` and :func:`train_side_by_side` prove they compute the same thing.
"""

from .compare import CompareResult, CompareSpec, run_compare
from .config import MLPConfig, init_params
from .data import Blobs, load_blobs, targets_for
from .devices import resolve_device, resolve_dtype
from .errors import InputError
from .finite_diff import numerical_backward
from .function_pair import autograd_function_pair
from .layer_check import InputCheck, LayerReport, assert_layer_matches, check_layer
from .manual import layer_outputs, loss_and_grads, mlp_backward, mlp_forward, predict, sgd_step
from .parity import GradientReport, ParamParity, assert_grads_close, compare_gradients, compare_tensors, ulp_distance
from .registry import register_activation, register_loss
from .tolerance import Tolerance, tolerance_for
from .trainer import TrainConfig, Trajectories, train_side_by_side
from .twin import TwinMLP
from .validation import check_inputs

__all__ = [
    "Blobs",
    "CompareResult",
    "CompareSpec",
    "GradientReport",
    "InputCheck",
    "InputError",
    "LayerReport",
    "MLPConfig",
    "ParamParity",
    "Tolerance",
    "TrainConfig",
    "Trajectories",
    "TwinMLP",
    "assert_grads_close",
    "assert_layer_matches",
    "autograd_function_pair",
    "check_layer",
    "check_inputs",
    "compare_gradients",
    "compare_tensors",
    "init_params",
    "layer_outputs",
    "load_blobs",
    "loss_and_grads",
    "mlp_backward",
    "mlp_forward",
    "numerical_backward",
    "predict",
    "register_activation",
    "register_loss",
    "resolve_device",
    "resolve_dtype",
    "run_compare",
    "sgd_step",
    "targets_for",
    "tolerance_for",
    "train_side_by_side",
    "ulp_distance",
]

__version__ = "0.1.0"
