"""A pytest plugin (entry point ``pytest11``, active once the package is installed): check your layers in your own tests.

Fixtures:

* ``device`` — ``cpu``, and ``cuda`` when a GPU is present (skipped otherwise), with TF32 off so that
  float32 means full float32;
* ``float_dtype`` — ``torch.float32`` and ``torch.float64``;
* ``assert_layer`` — :func:`~manual_vs_autograd.assert_layer_matches` on the test's device and dtype:
  floating-point inputs are moved there before the check, so one test runs on every pair.

A test that asks for ``assert_layer`` runs once per device and dtype::

    def test_softplus(assert_layer):
        assert_layer(softplus_forward, softplus_backward, torch.nn.functional.softplus, torch.randn(8, 5))

:func:`devices_and_dtypes` gives the same pairs for ``pytest.mark.parametrize``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import Tensor

from .devices import dtype_name
from .layer_check import LayerReport, assert_layer_matches

__all__ = ["FLOAT_DTYPES", "assert_layer", "device", "device_params", "devices_and_dtypes", "float_dtype"]

FLOAT_DTYPES = (torch.float32, torch.float64)


def device_params() -> list[Any]:
    """``cpu`` always; ``cuda`` marked to skip when no GPU is present."""
    no_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
    return [pytest.param("cpu", id="cpu"), pytest.param("cuda", id="cuda", marks=no_gpu)]


def devices_and_dtypes() -> list[Any]:
    """Every (device name, float dtype) pair, for ``@pytest.mark.parametrize(("device", "dtype"), ...)``."""
    pairs = []
    for dev in device_params():
        for dtype in FLOAT_DTYPES:
            name = dtype_name(dtype)
            pairs.append(pytest.param(dev.values[0], dtype, id=f"{dev.id}-{name}", marks=dev.marks))
    return pairs


def _full_precision(device: torch.device) -> None:
    """TF32 would round float32 matmul inputs to 10 mantissa bits on some kernels and not others."""
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False


@pytest.fixture(params=device_params())
def device(request: pytest.FixtureRequest) -> torch.device:
    """cpu always; cuda when a GPU is present (skipped otherwise), TF32 off."""
    dev = torch.device(request.param)
    _full_precision(dev)
    return dev


@pytest.fixture(params=FLOAT_DTYPES, ids=lambda d: dtype_name(d))
def float_dtype(request: pytest.FixtureRequest) -> torch.dtype:
    """torch.float32 and torch.float64."""
    return request.param


@pytest.fixture
def assert_layer(device: torch.device, float_dtype: torch.dtype) -> Callable[..., LayerReport]:
    """:func:`~manual_vs_autograd.assert_layer_matches` with floating-point inputs moved to the test's device and dtype."""

    def check(
        forward: Callable[..., Any],
        backward: Callable[..., Any],
        reference: Callable[..., Tensor],
        *inputs: Tensor,
        **kwargs: Any,
    ) -> LayerReport:
        __tracebackhide__ = True
        moved = [t.to(device=device, dtype=float_dtype) if t.is_floating_point() else t.to(device) for t in inputs]
        return assert_layer_matches(forward, backward, reference, *moved, **kwargs)

    return check


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "layer_check: a hand-written layer checked with manual_vs_autograd")
