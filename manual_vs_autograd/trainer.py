"""Side-by-side training: the manual network and its autograd twin, step for step.

Both sides start from identical parameters and see identical batches: the whole training set
(full batch), or shuffled mini-batches whose order comes from one seeded ``torch.Generator`` and is
fed to both. Every step's loss and the parameters after every step are recorded for both sides.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterator

import torch
from torch import Tensor

from .config import MLPConfig
from .errors import InputError, check_positive
from .manual import loss_and_grads, sgd_step
from .parity import ParamParity, compare_tensors
from .tolerance import tolerance_for
from .twin import TwinMLP
from .validation import check_inputs

__all__ = ["SideRecord", "TrainConfig", "Trajectories", "batches", "train_side_by_side"]


@dataclass(frozen=True)
class TrainConfig:
    """How both sides are trained."""

    epochs: int = 2000  # passes over the training set
    lr: float = 5.0  # SGD learning rate
    batch_size: int | None = None  # None: full batch; else shuffled mini-batches of this size
    seed: int = 0  # seed of the generator that shuffles the mini-batches

    def __post_init__(self) -> None:
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or self.epochs <= 0:
            raise InputError(f"epochs must be a positive integer, got {self.epochs!r}")
        check_positive("learning rate", self.lr)
        if self.batch_size is not None and (
            isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size <= 0
        ):
            raise InputError(f"batch size must be a positive integer, got {self.batch_size!r}")

    def steps_per_epoch(self, n_samples: int) -> int:
        """Steps in one pass over ``n_samples``: 1 for full batch, else ceil(n / batch size)."""
        return 1 if self.batch_size is None else -(-n_samples // self.batch_size)


def batches(n: int, batch_size: int | None, epochs: int, seed: int, device: torch.device) -> Iterator[Tensor]:
    """Index tensors of each step's batch: all of ``0..n-1`` per epoch, or a seeded shuffle cut in slices.

    The last slice of an epoch may be smaller than ``batch_size``.
    """
    if batch_size is None or batch_size >= n:
        everything = torch.arange(n, device=device)
        for _ in range(epochs):
            yield everything
        return
    generator = torch.Generator().manual_seed(seed)  # on the CPU, so every device sees one order
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator).to(device)
        yield from order.split(batch_size)


@dataclass
class SideRecord:
    """One side's run: the loss of each step, and each parameter before the first step and after every step."""

    losses: list[float] = field(default_factory=list)  # (steps,)
    params: dict[str, list[Tensor]] = field(default_factory=dict)  # name -> (steps + 1) tensors

    def append(self, loss: float | None, params: dict[str, Tensor]) -> None:
        if loss is not None:
            self.losses.append(loss)
        for name, p in params.items():
            self.params.setdefault(name, []).append(p.detach().clone())

    def stacked(self) -> dict[str, Tensor]:
        """``name -> (steps + 1, *shape)`` tensor."""
        return {name: torch.stack(ps) for name, ps in self.params.items()}


@dataclass
class Trajectories:
    """Both sides' records of one side-by-side run."""

    manual: SideRecord
    autograd: SideRecord
    dtype: torch.dtype
    steps: int = 0
    stopped: str | None = None  # why the run ended early (divergence), or None

    def loss_parity(self) -> ParamParity:
        m = torch.tensor(self.manual.losses, dtype=torch.float64)
        a = torch.tensor(self.autograd.losses, dtype=torch.float64)
        return compare_tensors("loss", m.to(self.dtype), a.to(self.dtype))

    def param_parity(self) -> tuple[ParamParity, ...]:
        """Per parameter, the largest difference over every recorded step."""
        m, a = self.manual.stacked(), self.autograd.stacked()
        return tuple(compare_tensors(name, m[name], a[name]) for name in m)

    @property
    def max_loss_diff(self) -> float:
        return self.loss_parity().max_abs_diff

    @property
    def max_param_diff(self) -> float:
        return max((p.max_abs_diff for p in self.param_parity()), default=0.0)

    @property
    def parity(self) -> bool:
        """Loss and every parameter, at every step, within the dtype's trajectory tolerance."""
        bound = tolerance_for(self.dtype).trajectory
        return all(p.ok(bound) for p in (self.loss_parity(), *self.param_parity()))


def train_side_by_side(
    config: MLPConfig,
    params: dict[str, Tensor],
    x: Tensor,
    y: Tensor,
    train: TrainConfig,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, Tensor], TwinMLP, Trajectories]:
    """Train a copy of ``params`` by hand and a :class:`TwinMLP` by autograd, on the same batches.

    Args:
        params: the shared starting point (not modified).
        x, y: the training set; targets as :func:`manual_vs_autograd.data.targets_for` makes them.
        progress: called as ``progress(epoch, epochs)`` after each epoch.

    Returns:
        the manual side's final parameters, the trained twin, and both sides' records. A run whose
        loss turns NaN or infinite stops there, and Ctrl-C stops it after the last step both sides
        completed; either way ``Trajectories.stopped`` says where, and the record is kept.
    """
    check_inputs(config, params, x, y)
    if train.batch_size is not None and train.batch_size > x.shape[0]:
        raise InputError(f"batch size {train.batch_size} is larger than the {x.shape[0]} training samples")
    manual = {name: p.detach().clone() for name, p in params.items()}
    twin = TwinMLP(config, params)
    optimizer = torch.optim.SGD(twin.parameters(), lr=train.lr)
    record = Trajectories(SideRecord(), SideRecord(), x.dtype)
    record.manual.append(None, manual)
    record.autograd.append(None, twin.math_parameters())
    steps_per_epoch = train.steps_per_epoch(x.shape[0])
    step = 0
    try:
        for step, index in enumerate(batches(x.shape[0], train.batch_size, train.epochs, train.seed, x.device), start=1):
            xb, yb = x[index], y[index]
            L_manual, grads = loss_and_grads(manual, xb, yb, config)
            sgd_step(manual, grads, train.lr)

            optimizer.zero_grad(set_to_none=True)
            L_auto = twin.loss(xb, yb)
            L_auto.backward()
            optimizer.step()

            losses = (L_manual.item(), L_auto.item())
            record.manual.append(losses[0], manual)
            record.autograd.append(losses[1], twin.math_parameters())
            record.steps = step
            bad = [side for side, value in zip(("manual", "autograd"), losses) if not math.isfinite(value)]
            if bad:
                record.stopped = (
                    f"the loss became {losses[0] if bad[0] == 'manual' else losses[1]} at step {step} "
                    f"on the {' and '.join(bad)} side{'s' if len(bad) == 2 else ''}"
                )
                break
            if progress is not None and step % steps_per_epoch == 0:
                progress(step // steps_per_epoch, train.epochs)
    except KeyboardInterrupt:
        # Keep what both sides completed: the step in flight (maybe half done) is dropped.
        record.stopped = f"interrupted during step {step}; kept the {record.steps} steps both sides completed"
        for side in (record.manual, record.autograd):
            del side.losses[record.steps :]
            for values in side.params.values():
                del values[record.steps + 1 :]
        manual = {name: values[-1].clone() for name, values in record.manual.params.items()}
        twin.load_math_parameters({name: values[-1] for name, values in record.autograd.params.items()})
    return manual, twin, record
