"""Names of devices and dtypes as the user writes them, turned into torch objects."""

from __future__ import annotations

import torch

from .errors import InputError, check_choice, one_line

__all__ = ["DTYPES", "dtype_name", "resolve_device", "resolve_dtype"]

DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "float64": torch.float64}
"""The float dtypes the networks run in, by name."""


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.float32`` -> ``"float32"``: the name the CLI, reports and records use."""
    return str(dtype).removeprefix("torch.")


def resolve_dtype(name: str | torch.dtype) -> torch.dtype:
    """``"float32"`` or ``"float64"`` (or the torch dtype itself) as a torch dtype."""
    if isinstance(name, torch.dtype):
        if name not in DTYPES.values():
            raise InputError(f"unsupported dtype {name}; expected one of: {', '.join(DTYPES)}")
        return name
    return DTYPES[check_choice("dtype", name, DTYPES)]


def resolve_device(name: str | torch.device) -> torch.device:
    """``"auto"`` (CUDA when present, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Asking for CUDA where no GPU is present is an error, never a silent fall-back to the CPU.
    """
    if isinstance(name, torch.device):
        name = str(name)
    if not isinstance(name, str):
        raise InputError(f"device must be a name (auto, cpu, cuda or cuda:N) or a torch.device, got {name!r}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise InputError(f"device {name!r} was asked for, but no CUDA GPU is available; use cpu or auto")
        device = torch.device(name)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise InputError(
                f"device {name!r} does not exist; this machine has {torch.cuda.device_count()} CUDA device(s)"
            )
        return device
    raise InputError(f"unknown device {one_line(repr(name), 60)}; expected one of: auto, cpu, cuda, cuda:N")
