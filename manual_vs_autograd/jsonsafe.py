"""Strict JSON: what ``json.dumps`` writes as ``NaN``/``Infinity`` (not JSON) becomes ``null``, and says so.

A diverged run has infinite or NaN losses and differences; Python's ``json`` module writes them as
the bare words ``NaN`` and ``Infinity``, which strict JSON parsers (``jq``, JavaScript,
``json.loads(..., parse_constant=...)``) reject. :func:`to_strict` replaces each such number by
``null`` and, when the top level is an object, adds one field

``"non_finite": {"<dotted path>": "nan" | "inf" | "-inf", ...}``

naming every replaced value and what it was, so that ``null`` is never ambiguous. The conversion
runs at print/save time over the finished object, so it holds for any field anyone adds.
numpy and torch scalars become Python numbers; tuples become lists.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import torch

__all__ = ["NON_FINITE_KEY", "dumps", "to_strict"]

NON_FINITE_KEY = "non_finite"


def _plain(value: Any) -> Any:
    """numpy/torch scalars and 0-d arrays as Python numbers; anything else unchanged."""
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return value.item()
    if isinstance(value, torch.Tensor) and value.dim() == 0:
        return value.item()
    return value


def _convert(value: Any, path: str, found: dict[str, str]) -> Any:
    value = _plain(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        found[path or "."] = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        return None
    if isinstance(value, dict):
        return {str(k): _convert(v, f"{path}.{k}" if path else str(k), found) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_convert(v, f"{path}[{i}]", found) for i, v in enumerate(value)]
    return value


def to_strict(obj: Any) -> Any:
    """A copy of ``obj`` that ``json.dumps(..., allow_nan=False)`` accepts (see the module docstring)."""
    found: dict[str, str] = {}
    converted = _convert(obj, "", found)
    if found and isinstance(converted, dict):
        converted[NON_FINITE_KEY] = found
    return converted


def dumps(obj: Any, **kwargs: Any) -> str:
    """``json.dumps`` of :func:`to_strict` ``(obj)``; never writes ``NaN`` or ``Infinity``."""
    return json.dumps(to_strict(obj), allow_nan=False, **kwargs)
