"""The one exception the package raises for bad input, and the checks that raise it.

Every message is one line that names the bad value and says what was expected. The CLI prints it
as ``mva: error: <message>`` and exits with status 2.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor

__all__ = ["InputError", "check_choice", "check_finite", "check_positive", "one_line", "summarise"]

MAX_LINE = 300
"""The longest error line the package writes; longer text is cut (see :func:`one_line`)."""


class InputError(ValueError):
    """Bad input from the user: a value, shape, dtype, device or file that cannot be used."""


def summarise(items: Iterable[object], limit: int = 8) -> str:
    """``a, b, c`` for a short list; the first ``limit`` items and how many more for a long one."""
    texts = [str(item) for item in items]
    if len(texts) <= limit:
        return ", ".join(texts)
    return f"{', '.join(texts[:limit])}, ... ({len(texts) - limit} more, {len(texts)} in all)"


def one_line(text: object, limit: int = MAX_LINE) -> str:
    """``text`` on one line (newlines folded) and at most ``limit`` characters (the rest cut, marked ...)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 4].rstrip() + " ..."


def check_choice(what: str, value: str, valid: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``valid``; else raise naming the valid ones."""
    valid = list(valid)
    if not isinstance(value, str) or value not in valid:
        raise InputError(f"unknown {what} {one_line(repr(value), 60)}; expected one of: {summarise(valid)}")
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
            f"{what} holds {int(bad.sum())} NaN/inf value(s), the first at index {first}; expected finite numbers"
        )
