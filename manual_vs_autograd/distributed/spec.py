"""What a distributed run trains, checked and resolved before any process starts.

:class:`DistributedSpec` is ``mva compare``'s :class:`~manual_vs_autograd.compare.CompareSpec`, limited to
plain SGD without normalisation; :func:`plan` checks it against the number of processes and picks the
backend: ``gloo`` on the CPU, ``nccl`` with one GPU per process. :func:`build_problem` makes the data and
the initial weights; every process calls it with the same spec and gets the same tensors, so nothing but
gradients (and the loss, for the record) ever crosses between processes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..compare import LECTURE_SHAPES, CompareSpec, default_lr
from ..config import MLPConfig, init_params
from ..data import Blobs, load_blobs, targets_for
from ..devices import resolve_dtype
from ..errors import InputError, check_choice, check_positive
from .shards import check_shardable

__all__ = ["DistributedSpec", "Plan", "Problem", "build_problem", "plan"]

BACKENDS = {"cpu": "gloo", "cuda": "nccl"}
"""The collective backend for each device type."""


@dataclass(frozen=True)
class DistributedSpec(CompareSpec):
    """A :class:`~manual_vs_autograd.compare.CompareSpec` that a distributed run can train: plain SGD
    (``optimizer`` ``None``) without normalisation (``norm`` ``"none"``).

    ``batch_size`` is the global batch, split over the processes; ``device`` ``"auto"`` is one GPU per
    process when there are enough, else the CPU.
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.norm != "none":
            raise InputError(f"a distributed run trains without normalisation; expected norm 'none', got {self.norm!r}")
        if self.optimizer is not None:
            raise InputError(
                f"a distributed run trains with plain SGD; expected no optimizer, got {self.optimizer.name!r}"
            )
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or self.epochs <= 0:
            raise InputError(f"epochs must be a positive integer, got {self.epochs!r}")
        if self.lr is not None:
            check_positive("learning rate", self.lr)
        if self.batch_size is not None and (
            isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size <= 0
        ):
            raise InputError(f"batch size must be a positive integer, got {self.batch_size!r}")


@dataclass(frozen=True)
class Plan:
    """A checked spec: the network, the rate, the backend and the device type for ``world_size`` processes."""

    spec: DistributedSpec
    world_size: int
    config: MLPConfig
    lr: float
    init: str
    dtype: torch.dtype
    device_type: str  # cpu | cuda
    backend: str  # gloo | nccl
    n_train: int


@dataclass(frozen=True)
class Problem:
    """The training set and the starting weights, identical in every process."""

    data: Blobs
    x: Tensor  # (N_train, F)
    y: Tensor  # targets as the loss takes them
    params: dict[str, Tensor]


def _device_type(name: str, world_size: int) -> str:
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if name == "auto":
        return "cuda" if gpus >= world_size and torch.distributed.is_nccl_available() else "cpu"
    check_choice("device", name, ("auto", "cpu", "cuda"))
    if name == "cuda" and gpus < world_size:
        raise InputError(f"device 'cuda' with {world_size} processes needs {world_size} GPUs (one each), found {gpus}")
    return name


def plan(spec: DistributedSpec, world_size: int) -> Plan:
    """Check ``spec`` for ``world_size`` processes; every problem is one :class:`InputError` line."""
    if isinstance(world_size, bool) or not isinstance(world_size, int) or world_size < 1:
        raise InputError(f"the number of processes must be a positive integer, got {world_size!r}")
    if not torch.distributed.is_available():
        raise InputError("this torch build has no torch.distributed; run without --nproc")
    device_type = _device_type(spec.device, world_size)
    backend = BACKENDS[device_type]
    if backend == "gloo" and not torch.distributed.is_gloo_available():
        raise InputError("this torch build has no gloo backend, which CPU runs need")
    dtype = resolve_dtype(spec.dtype)
    data = _load(spec, dtype, "cpu")
    config = _config(spec, data)
    n_train = data.x_train.shape[0]
    if spec.batch_size is not None and spec.batch_size > n_train:
        raise InputError(f"batch size {spec.batch_size} is larger than the {n_train} training samples")
    check_shardable(n_train, spec.batch_size, world_size)
    init = spec.init or ("lecture" if config.sizes in LECTURE_SHAPES else "scaled")
    init_params(config, spec.seed, scheme=init, dtype=dtype)  # checks the scheme's name
    lr = default_lr(spec.loss) if spec.lr is None else spec.lr
    return Plan(spec, world_size, config, lr, init, dtype, device_type, backend, n_train)


def _load(spec: DistributedSpec, dtype: torch.dtype, device: torch.device | str) -> Blobs:
    binary = spec.loss != "ce"
    return load_blobs(
        spec.n_samples, spec.centers, spec.n_features, spec.seed, binary=binary, dtype=dtype, device=device
    )


def _config(spec: DistributedSpec, data: Blobs) -> MLPConfig:
    n_out = 1 if spec.loss != "ce" else data.n_classes
    return MLPConfig((spec.n_features, *spec.hidden, n_out), spec.activation, spec.loss)


def build_problem(p: Plan, device: torch.device) -> Problem:
    """The data and initial weights of ``p`` on ``device`` (the same in every process)."""
    data = _load(p.spec, p.dtype, device)
    params = init_params(p.config, p.spec.seed, scheme=p.init, dtype=p.dtype, device=device)
    return Problem(data, data.x_train, targets_for(data.y_train, p.config.loss, p.dtype), params)
