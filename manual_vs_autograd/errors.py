"""The one exception the package raises for bad input, and the checks that raise it.

Every message is one line that names the bad value and says what was expected. The CLI prints it
as ``mva: error: <message>`` and exits with status 2.
"""

from __future__ import annotations

from typing import Iterable

import torch
from torch import Tensor

__all__ = ["InputError", "check_choice", "check_finite", "check_positive"]


class InputError(ValueError):
    """Bad input from the user: a value, shape, dtype, device or file that cannot be used."""


def check_choice(what: str, value: str, valid: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``valid``; else raise naming the valid ones."""
    valid = list(valid)
    if value not in valid:
        raise InputError(f"unknown {what} {value!r}; expected one of: {', '.join(valid)}")
    return value


def check_positive(what: str, value: float) -> None:
    """Raise unless ``value`` is a finite number greater than zero."""
    if not (value > 0 and value != float("inf")):
        raise InputError(f"{what} must be a positive number, got {value!r}")


def check_finite(what: str, t: Tensor) -> None:
    """Raise if ``t`` holds NaN or infinity, naming how many and the first index."""
    bad = ~torch.isfinite(t)
    if bool(bad.any()):
        first = tuple(int(i) for i in bad.nonzero()[0])
        raise InputError(
            f"{what} holds {int(bad.sum())} NaN/inf value(s), the first at index {first}; "
            "expected finite numbers"
        )
