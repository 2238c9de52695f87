"""The main job: build a network and its data, then check gradients and train both sides side by side."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import torch
from torch import Tensor

from .config import MLPConfig, init_params
from .data import Blobs, load_blobs, targets_for
from .devices import resolve_device, resolve_dtype
from .errors import InputError
from .manual import labels_from_output, predict
from .parity import GradientReport, compare_gradients
from .trainer import TrainConfig, Trajectories, batches, train_side_by_side
from .twin import TwinMLP

__all__ = ["CompareResult", "CompareSpec", "LECTURE_SHAPES", "default_lr", "run_compare"]

LECTURE_SHAPES = ((2, 2, 1), (2, 2, 4))
"""The lecture's networks, which start from the notebook's initialisation by default."""


def default_lr(loss: str) -> float:
    """2.5 for MSE and BCE; 0.1 for cross-entropy.

    2.5 is the notebook's lr 5: the notebook's MSE gradient drops the factor 2 of
    ``d(y_hat - y)²/dy_hat = 2(y_hat - y)`` (folding it into the learning rate), while
    ``F.mse_loss`` and the manual side keep it, so the same steps need half the rate.

    Softmax cross-entropy is the one loss whose manual gradient is not bitwise equal to autograd's
    (a 1-ULP difference in ``exp``); on the raw blob coordinates, mini-batch runs above lr ≈ 0.2 are
    chaotic enough to grow that into visible differences within a few hundred steps.
    """
    return 0.1 if loss == "ce" else 2.5


@dataclass(frozen=True)
class CompareSpec:
    """Everything that defines a side-by-side run; ``None`` fields take the defaults described."""

    hidden: tuple[int, ...] = (2,)  # hidden widths: the lecture's single layer of 2
    activation: str = "sigmoid"  # hidden activation
    loss: str = "mse"  # mse | bce on binary labels; ce on the 4-class labels
    epochs: int = 2000
    lr: float | None = None  # None: default_lr(loss)
    batch_size: int | None = None  # None: full batch
    dtype: str = "float64"
    device: str = "auto"
    seed: int = 0  # data, initial weights and mini-batch order
    init: str | None = None  # lecture | scaled; None: lecture for LECTURE_SHAPES, else scaled
    n_samples: int = 1000
    centers: int = 4
    n_features: int = 2
    norm: str = "none"  # none | layer (layer normalisation before each hidden activation)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(self.hidden))
        if not self.hidden:
            raise InputError("hidden sizes are empty; give at least one hidden width, e.g. 2 or 16,16")


@dataclass
class CompareResult:
    """What a side-by-side run found."""

    spec: CompareSpec
    config: MLPConfig
    train: TrainConfig
    init: str
    device: torch.device
    dtype: torch.dtype
    gradients: GradientReport  # at the first step
    trajectories: Trajectories
    params: dict[str, Tensor]  # manual side, final
    twin: TwinMLP  # autograd side, final
    data: Blobs
    accuracy: dict[str, float] = field(default_factory=dict)  # manual side: train, test
    accuracy_autograd: dict[str, float] = field(default_factory=dict)

    @property
    def parity(self) -> bool:
        """Gradients at the first step and the whole trajectory, each within the dtype's tolerance."""
        return self.gradients.parity and self.trajectories.parity and self.trajectories.stopped is None

    def to_json(self) -> dict[str, Any]:
        """The ``mva compare --json`` object."""
        traj = self.trajectories
        return {
            "parity": self.parity,
            "network": self.config.describe(),
            "sizes": list(self.config.sizes),
            "activation": self.config.activation,
            "loss": self.config.loss,
            "dtype": str(self.dtype).removeprefix("torch."),
            "device": str(self.device),
            "epochs": self.train.epochs,
            "lr": self.train.lr,
            "batch_size": self.train.batch_size,
            "seed": self.spec.seed,
            "init": self.init,
            "steps": traj.steps,
            "stopped": traj.stopped,
            "tolerance": {"grad": self.gradients.tolerance.grad, "trajectory": self.gradients.tolerance.trajectory},
            "gradient_parity": self.gradients.parity,
            "trajectory_parity": traj.parity,
            "parameters": [
                {k: (list(v) if k == "shape" else v) for k, v in asdict(p).items()} for p in self.gradients.params
            ],
            "first_loss": {"manual": self.gradients.loss_manual, "autograd": self.gradients.loss_autograd},
            "max_loss_diff": traj.max_loss_diff,
            "max_param_diff": traj.max_param_diff,
            "final_loss": {"manual": traj.manual.losses[-1], "autograd": traj.autograd.losses[-1]},
            "accuracy": self.accuracy,
            "accuracy_autograd": self.accuracy_autograd,
        }


def _accuracy(predicted: Tensor, labels: Tensor) -> float:
    return (predicted == labels).to(torch.float64).mean().item()


def run_compare(spec: CompareSpec, *, progress: Callable[[int, int], None] | None = None) -> CompareResult:
    """Load the blobs, build the network, compare first-step gradients, train both sides, score them."""
    device, dtype = resolve_device(spec.device), resolve_dtype(spec.dtype)
    binary = spec.loss != "ce"
    data = load_blobs(
        spec.n_samples, spec.centers, spec.n_features, spec.seed, binary=binary, dtype=dtype, device=device
    )
    n_out = 1 if binary else data.n_classes
    config = MLPConfig((spec.n_features, *spec.hidden, n_out), spec.activation, spec.loss, spec.norm)
    train = TrainConfig(
        epochs=spec.epochs,
        lr=default_lr(spec.loss) if spec.lr is None else spec.lr,
        batch_size=spec.batch_size,
        seed=spec.seed,
    )
    n_train = data.x_train.shape[0]
    init = spec.init or ("lecture" if config.sizes in LECTURE_SHAPES else "scaled")
    params = init_params(config, spec.seed, scheme=init, dtype=dtype, device=device)
    y_train = targets_for(data.y_train, config.loss, dtype)

    first = next(batches(n_train, train.batch_size, 1, train.seed, device))
    report = compare_gradients(config, params, data.x_train[first], y_train[first])
    final, twin, trajectories = train_side_by_side(config, params, data.x_train, y_train, train, progress=progress)

    result = CompareResult(spec, config, train, init, device, dtype, report, trajectories, final, twin, data)
    with torch.no_grad():
        for split, x, labels in (("train", data.x_train, data.y_train), ("test", data.x_test, data.y_test)):
            result.accuracy[split] = _accuracy(predict(final, x, config), labels)
            result.accuracy_autograd[split] = _accuracy(labels_from_output(twin(x)), labels)
    return result
