"""Shared fixtures: the devices every device-aware test runs on, with TF32 off on CUDA."""

from __future__ import annotations

import os

import pytest
import torch

os.environ.setdefault("MPLBACKEND", "Agg")

DEVICES = [
    pytest.param("cpu", id="cpu"),
    pytest.param(
        "cuda",
        id="cuda",
        marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine"),
    ),
]


@pytest.fixture(params=DEVICES)
def device(request) -> torch.device:
    """cpu always; cuda when a GPU is present (skipped otherwise)."""
    if request.param == "cuda":
        # TF32 would round float32 matmul inputs to 10 mantissa bits on one side's kernels and not
        # necessarily the other's; the comparisons are about full float32.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    return torch.device(request.param)
