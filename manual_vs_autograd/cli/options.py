"""Argument types shared by the subcommands: each turns bad text into a one-line message."""

from __future__ import annotations

from argparse import ArgumentTypeError as InputError  # argparse shows its message as is

from .stdout import say

__all__ = ["int_list", "picture_progress", "positive_float", "positive_int", "progress_printer", "seed"]

MAX_SEED = 2**32 - 1  # numpy's and sklearn's random_state range


def seed(text: str) -> int:
    """A seed numpy, sklearn and torch all take: an integer in [0, 2**32 - 1]."""
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"expected an integer seed in [0, 2**32 - 1], got {text[:40]!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise InputError(f"seed {value} is outside [0, 2**32 - 1] ({MAX_SEED}), the range numpy and sklearn accept")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise InputError(f"expected a positive integer, got {text!r}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"expected a positive number, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise InputError(f"expected a positive finite number, got {text!r}")
    return value


def int_list(text: str) -> tuple[int, ...]:
    """``"16,16"`` -> ``(16, 16)``; every width a positive integer."""
    parts = [p.strip() for p in text.split(",")]
    if not text.strip() or any(not p for p in parts):
        raise InputError(f"hidden sizes {text!r} must be positive integers separated by commas, e.g. 16,16")
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        raise InputError(f"hidden sizes {text!r} must be positive integers separated by commas, e.g. 16,16") from None
    if any(s <= 0 for s in sizes):
        raise InputError(f"hidden sizes {text!r} must all be positive")
    return sizes


def progress_printer(label: str, enabled: bool):
    """A ``progress(done, total)`` callback that redraws one stderr line, or ``None`` when disabled."""
    if not enabled:
        return None
    step = None

    def progress(done: int, total: int) -> None:
        nonlocal step
        step = step or max(1, total // 100)
        if done % step == 0 or done == total:
            end = "\n" if done == total else ""
            say(f"\r{label}: epoch {done}/{total}", end=end)

    return progress


def picture_progress(quiet: bool):
    """A ``progress(kind)`` callback that names each picture on stderr as it starts."""
    if quiet:
        return None
    return lambda kind: say(f"drawing {kind} ...")


def say_skipped(reasons: dict[str, str]) -> None:
    """One line per reason for the pictures ``all`` left out (:func:`~manual_vs_autograd.plots.skipped`)."""
    by_reason: dict[str, list[str]] = {}
    for kind, why in reasons.items():
        by_reason.setdefault(why, []).append(kind)
    for why, kinds in by_reason.items():
        say(f"mva: not drawn ({', '.join(kinds)}): {why}")
