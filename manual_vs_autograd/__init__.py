"""manual_vs_autograd: hand-written backprop beside its autograd twin, checked gradient by gradient.

The manual side (:mod:`.layers`, :mod:`.losses`, :mod:`.manual`) is plain tensor ops with every
local derivative written out; the twin (:mod:`.twin`) is an ``nn.Module`` trained by autograd.
:func:`compare_gradients` and :func:`train_side_by_side` prove they compute the same thing.

Names are loaded on first use (PEP 562), so ``import manual_vs_autograd`` and ``python -m
manual_vs_autograd`` import neither torch nor numpy: the command line checks its output paths, and
answers Ctrl-C during start-up, before that import (see ``_mva_entry``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what the names below are, for type checkers and editors
    from .compare import CompareResult, CompareSpec, run_compare
    from .config import MLPConfig, init_params
    from .data import Blobs, load_blobs, targets_for
    from .devices import resolve_device, resolve_dtype
    from .errors import InputError
    from .finite_diff import numerical_backward
    from .function_pair import autograd_function_pair
    from .layer_check import InputCheck, LayerReport, assert_layer_matches, check_layer
    from .manual import layer_outputs, loss_and_grads, mlp_backward, mlp_forward, predict, sgd_step
    from .parity import (
        GradientReport,
        ParamParity,
        assert_grads_close,
        compare_gradients,
        compare_tensors,
        ulp_distance,
    )
    from .registry import register_activation, register_loss
    from .tolerance import Tolerance, tolerance_for
    from .trainer import TrainConfig, Trajectories, train_side_by_side
    from .twin import TwinMLP
    from .validation import check_inputs

_EXPORTS = {  # public name: the module that defines it
    "Blobs": "data",
    "CompareResult": "compare",
    "CompareSpec": "compare",
    "GradientReport": "parity",
    "InputCheck": "layer_check",
    "InputError": "errors",
    "LayerReport": "layer_check",
    "MLPConfig": "config",
    "ParamParity": "parity",
    "Tolerance": "tolerance",
    "TrainConfig": "trainer",
    "Trajectories": "trainer",
    "TwinMLP": "twin",
    "assert_grads_close": "parity",
    "assert_layer_matches": "layer_check",
    "autograd_function_pair": "function_pair",
    "check_inputs": "validation",
    "check_layer": "layer_check",
    "compare_gradients": "parity",
    "compare_tensors": "parity",
    "init_params": "config",
    "layer_outputs": "manual",
    "load_blobs": "data",
    "loss_and_grads": "manual",
    "mlp_backward": "manual",
    "mlp_forward": "manual",
    "numerical_backward": "finite_diff",
    "predict": "manual",
    "register_activation": "registry",
    "register_loss": "registry",
    "resolve_device": "devices",
    "resolve_dtype": "devices",
    "run_compare": "compare",
    "sgd_step": "manual",
    "targets_for": "data",
    "tolerance_for": "tolerance",
    "train_side_by_side": "trainer",
    "ulp_distance": "parity",
}

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
    "check_inputs",
    "check_layer",
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


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # the next lookup finds it without this function
    return value


def __dir__() -> list[str]:
    return sorted({*__all__, "__version__"})
