"""Checks of a network's parameters and a batch against each other, before any arithmetic.

Each failure is an :class:`~manual_vs_autograd.errors.InputError` with one line that names the bad
value and what was expected, instead of a shape or dtype error from deep inside torch. The entry
points (:func:`~manual_vs_autograd.parity.compare_gradients`,
:func:`~manual_vs_autograd.trainer.train_side_by_side`, ``mva compare``) call :func:`check_inputs`;
the inner loop (:func:`~manual_vs_autograd.manual.loss_and_grads`) does not, to stay fast.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .config import MLPConfig
from .devices import dtype_name
from .errors import InputError, check_finite, summarise

__all__ = ["check_inputs", "check_params"]


def check_params(config: MLPConfig, params: dict[str, Tensor], *, finite: bool = True) -> None:
    """Every parameter present, a tensor of the right shape, one float dtype, one device, finite."""
    expected = config.param_shapes()
    missing = [name for name in expected if name not in params]
    if missing:
        raise InputError(
            f"parameters {summarise(missing)} are missing; the {config.describe()} network needs {summarise(expected)}"
        )
    extra = [str(name) for name in params if name not in expected]
    if extra:
        raise InputError(
            f"unexpected parameter(s) {summarise(extra)}; the {config.describe()} network has exactly {summarise(expected)}"
        )
    first = params["W1"]
    for name, shape in expected.items():
        p = params[name]
        if not isinstance(p, Tensor):
            raise InputError(f"parameter {name} is a {type(p).__name__}; expected a torch.Tensor of shape {shape}")
        if tuple(p.shape) != shape:
            raise InputError(
                f"parameter {name} has shape {tuple(p.shape)}; expected {shape} for the {config.describe()} network"
            )
        if p.dtype not in (torch.float32, torch.float64):
            raise InputError(f"parameter {name} has dtype {dtype_name(p.dtype)}; expected float32 or float64")
        if p.dtype != first.dtype:
            raise InputError(
                f"parameter {name} is {dtype_name(p.dtype)} but W1 is {dtype_name(first.dtype)}; give every parameter one dtype"
            )
        if p.device != first.device:
            raise InputError(f"tensors on different devices: parameter {name} on {p.device}, W1 on {first.device}")
        if finite:
            check_finite(f"parameter {name}", p)


def check_inputs(config: MLPConfig, params: dict[str, Tensor], x: Tensor, y: Tensor) -> None:
    """The parameters, and a batch ``(x, y)`` that the network and its loss can take."""
    check_params(config, params, finite=False)
    W1 = params["W1"]
    if not isinstance(x, Tensor) or not isinstance(y, Tensor):
        raise InputError(f"inputs and targets must be torch tensors, got {type(x).__name__} and {type(y).__name__}")
    for what, t in (("inputs x", x), ("targets y", y)):
        if t.device != W1.device:
            raise InputError(f"tensors on different devices: {what} on {t.device}, the parameters on {W1.device}")
    for name, p in params.items():
        check_finite(f"parameter {name}", p)
    if x.dim() != 2:
        raise InputError(f"inputs x have shape {tuple(x.shape)}; expected (N, {config.sizes[0]}), one row per sample")
    if x.shape[0] == 0:
        raise InputError("inputs x are empty (0 samples); expected at least one sample")
    if x.shape[1] != config.sizes[0]:
        raise InputError(
            f"inputs x have {x.shape[1]} features per sample (shape {tuple(x.shape)}); "
            f"the {config.describe()} network expects {config.sizes[0]}"
        )
    if x.dtype != W1.dtype:
        raise InputError(
            f"inputs x are {dtype_name(x.dtype)} but the parameters are {dtype_name(W1.dtype)}; "
            f"convert one, e.g. x.to(torch.{dtype_name(W1.dtype)})"
        )
    check_finite("inputs x", x)
    n, k = x.shape[0], config.sizes[-1]
    if config.loss == "ce":
        if y.dtype != torch.int64:
            raise InputError(
                f"labels for loss 'ce' are {dtype_name(y.dtype)}; expected int64 class indices in [0, {k})"
            )
        if tuple(y.shape) != (n,):
            raise InputError(
                f"labels have shape {tuple(y.shape)}; expected ({n},) for loss 'ce', one class index per sample"
            )
        bad = (y < 0) | (y >= k)
        if bool(bad.any()):
            i = int(bad.nonzero()[0, 0])
            raise InputError(
                f"labels hold {int(bad.sum())} value(s) outside [0, {k}): the first is {int(y[i])} at index {i}; "
                f"the network has {k} output classes"
            )
        return
    if not y.is_floating_point():
        raise InputError(
            f"targets for loss {config.loss!r} are {dtype_name(y.dtype)}; expected {dtype_name(W1.dtype)} values of shape ({n}, {k})"
        )
    if tuple(y.shape) != (n, k):
        raise InputError(f"targets have shape {tuple(y.shape)}; expected ({n}, {k}) for loss {config.loss!r}")
    if y.dtype != W1.dtype:
        raise InputError(
            f"targets y are {dtype_name(y.dtype)} but the parameters are {dtype_name(W1.dtype)}; convert one"
        )
    check_finite("targets y", y)
    if config.loss == "bce":
        bad = (y < 0) | (y > 1)
        if bool(bad.any()):
            at = tuple(int(v) for v in bad.nonzero()[0])
            raise InputError(f"targets for loss 'bce' must lie in [0, 1]; found {y[at].item():g} at index {at}")
