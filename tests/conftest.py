"""Shared fixtures: the package's own pytest plugin (``device`` with TF32 off on CUDA, ``float_dtype``, ``assert_layer``).

Imported here so the suite uses them whether or not the package is installed with its entry point.
"""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

from manual_vs_autograd.pytest_plugin import assert_layer, device, float_dtype  # noqa: F401
