"""The main job: build a network and its data, then check gradients and train both sides side by side."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor

from .batches import batches
from .check_schedule import CheckSchedule
from .config import MLPConfig, init_params
from .data import Blobs, load_blobs, targets_for
from .devices import dtype_name, resolve_device, resolve_dtype
from .errors import InputError
from .manual import labels_from_output, predict
from .optim import OptimizerSpec, buffers_per_parameter, implementation
from .optim import default_lr as optimizer_default_lr
from .parity import GradientReport, ParamParity, compare_gradients
from .preflight import check_fits, estimate
from .recorder import RecordPolicy
from .trainer import TrainConfig, Trajectories, train_side_by_side
from .twin import TwinMLP

__all__ = ["CompareResult", "CompareSpec", "LECTURE_SHAPES", "default_lr", "diagnose", "run_compare"]

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
    optimizer: OptimizerSpec | None = None  # None: plain SGD; its lr is replaced by ``lr`` (or that rule's default)

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
        """The verdict: first-step gradients and every checked step within their bounds, and the run finished.

        Trajectory parity is reported but not required: a chaotic run parts two correct sides."""
        return self.gradients.parity and self.trajectories.parity and self.trajectories.stopped is None

    def diagnosis(self) -> str:
        """One sentence on what step parity, trajectory parity and the sensitivity say together."""
        return diagnose(self.trajectories)

    def to_json(self) -> dict[str, Any]:
        """The ``mva compare --json`` object; print it with :func:`manual_vs_autograd.jsonsafe.dumps`, which
        writes non-finite numbers (a diverged run's) as ``null`` and names them under ``non_finite``."""
        traj = self.trajectories
        return {
            "parity": self.parity,
            "network": self.config.describe(),
            "sizes": list(self.config.sizes),
            "activation": self.config.activation,
            "loss": self.config.loss,
            "dtype": dtype_name(self.dtype),
            "device": str(self.device),
            "epochs": self.train.epochs,
            "lr": self.train.lr,
            "optimizer": {**self.train.optimizer_spec().to_json(), "implementation": implementation(self.device)},
            "batch_size": self.train.batch_size,
            "seed": self.spec.seed,
            "init": self.init,
            "steps": traj.steps,
            "stopped": traj.stopped,
            "bounds": "per element: the smaller of c*u*S (S the computation run on magnitudes, manual_vs_autograd.bounds) and the probabilistic bound (manual_vs_autograd.bounds_prob) where the check schedule uses it",
            "gradient_parity": self.gradients.parity,
            "step_parity": {**traj.step_parity.to_json(), **traj.schedule.to_json()},
            "trajectory_parity": traj.trajectory.to_json(),
            "sensitivity": traj.sensitivity.to_json() if traj.sensitivity is not None else None,
            "diagnosis": self.diagnosis(),
            "record": traj.record.policy,
            "parameters": [_row_json(p) for p in self.gradients.params],
            "first_loss": {"manual": self.gradients.loss_manual, "autograd": self.gradients.loss_autograd},
            "max_loss_diff": traj.max_loss_diff,
            "max_param_diff": traj.max_param_diff,
            "final_loss": {"manual": traj.final_loss[0], "autograd": traj.final_loss[1]},
            "accuracy": self.accuracy,
            "accuracy_autograd": self.accuracy_autograd,
        }


def _row_json(row: ParamParity) -> dict[str, Any]:
    out = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(row).items()}
    return out


def diagnose(traj: Trajectories) -> str:
    """E.g. "every step agrees; this run amplifies rounding (x1.2 per step around step 180); trajectories part at step 185 as expected"."""
    sp, tp, sens = traj.step_parity, traj.trajectory, traj.sensitivity
    if not sp.holds:
        names = ", ".join(sp.first_bad)
        return f"MISMATCH: {names} outside {'its' if len(sp.first_bad) == 1 else 'their'} bound at step {sp.first_bad_step}"
    agree = f"every checked step agrees ({sp.checked} of {traj.steps}, {sp.bitwise} bitwise)"
    amp = ""
    if sens is not None:
        G, _, last = sens.growth()
        if sens.horizon is not None:
            amp = f"this run amplifies rounding (x{G:.3g} per step around step {sens.horizon}); " if G else ""
        elif len(sens.distance) > 2:
            amp = f"a 1-ULP perturbation stays within the bound over {len(sens.distance) - 1} steps; "
    if tp.exact:
        return f"{agree}; {amp}the trajectories are bitwise equal"
    part = tp.first_outside_step
    if part is None:  # tp.holds: no step went outside the bound
        return f"{agree}; {amp}the trajectories agree within the accumulated rounding"
    if sens is not None and sens.horizon is not None:
        expected = "as expected" if part >= sens.horizon - 50 else "before the perturbation horizon (unexplained)"
        return f"{agree}; {amp}trajectories part at step {part} ({tp.first_outside}) {expected}"
    followed = len(sens.distance) - 1 if sens is not None else 0
    if sens is not None and sens.stopped_at is not None and part > followed:
        return (
            f"{agree}; {amp}trajectories part at step {part} ({tp.first_outside}), beyond the {followed} steps "
            "the sensitivity run followed (check every step to follow the whole run)"
        )
    return f"{agree}; {amp}trajectories part at step {part} ({tp.first_outside}), not explained by the sensitivity run"


def _preflight(spec: CompareSpec, dtype: torch.dtype, record: RecordPolicy | None) -> None:
    """Refuse, before generating data or allocating anything, a run that cannot fit in memory."""
    n_out = 1 if spec.loss != "ce" else spec.centers
    sizes = (spec.n_features, *spec.hidden, n_out)
    n_train = max(1, (3 * spec.n_samples) // 4)
    steps = spec.epochs * (1 if spec.batch_size is None else -(-n_train // spec.batch_size))
    buffers = buffers_per_parameter(spec.optimizer) if spec.optimizer is not None else 0
    est = estimate(
        sizes, spec.n_samples, spec.batch_size, torch.finfo(dtype).bits // 8, steps, record or RecordPolicy(), buffers
    )
    if spec.batch_size is not None and spec.batch_size > n_train:
        raise InputError(f"batch size {spec.batch_size} is larger than the {n_train} training samples")
    check_fits(est, batch_size=spec.batch_size, n_samples=spec.n_samples)


def _lr(spec: CompareSpec) -> float:
    """``spec.lr``, else :func:`default_lr` for SGD and :func:`manual_vs_autograd.optim.default_lr` of it for the other rules."""
    if spec.lr is not None:
        return spec.lr
    if spec.optimizer is None:
        return default_lr(spec.loss)
    return optimizer_default_lr(spec.optimizer.name, default_lr(spec.loss), spec.optimizer.momentum)


def _accuracy(predicted: Tensor, labels: Tensor) -> float:
    return (predicted == labels).to(torch.float64).mean().item()


def run_compare(
    spec: CompareSpec,
    *,
    progress: Callable[[int, int], None] | None = None,
    record: RecordPolicy | None = None,
    check: CheckSchedule | None = None,
) -> CompareResult:
    """Load the blobs, build the network, compare first-step gradients, train both sides, score them.

    ``record``: what is kept (:class:`~.recorder.RecordPolicy`); ``check``: which steps get the bounded
    checks and how far the perturbed run goes (:class:`~.check_schedule.CheckSchedule`, default a share
    of the run's time, and its first 10% of steps).
    """
    device, dtype = resolve_device(spec.device), resolve_dtype(spec.dtype)
    binary = spec.loss != "ce"
    _preflight(spec, dtype, record)
    data = load_blobs(
        spec.n_samples, spec.centers, spec.n_features, spec.seed, binary=binary, dtype=dtype, device=device
    )
    n_out = 1 if binary else data.n_classes
    config = MLPConfig((spec.n_features, *spec.hidden, n_out), spec.activation, spec.loss, spec.norm)
    train = TrainConfig(
        epochs=spec.epochs,
        lr=_lr(spec),
        batch_size=spec.batch_size,
        seed=spec.seed,
        optimizer=spec.optimizer,
    )
    n_train = data.x_train.shape[0]
    init = spec.init or ("lecture" if config.sizes in LECTURE_SHAPES else "scaled")
    params = init_params(config, spec.seed, scheme=init, dtype=dtype, device=device)
    y_train = targets_for(data.y_train, config.loss, dtype)

    first = next(batches(n_train, train.batch_size, 1, train.seed, device))
    report = compare_gradients(config, params, data.x_train[first], y_train[first])
    final, twin, trajectories = train_side_by_side(
        config, params, data.x_train, y_train, train, progress=progress, record=record, check=check
    )

    result = CompareResult(spec, config, train, init, device, dtype, report, trajectories, final, twin, data)
    with torch.no_grad():
        for split, x, labels in (("train", data.x_train, data.y_train), ("test", data.x_test, data.y_test)):
            result.accuracy[split] = _accuracy(predict(final, x, config), labels)
            result.accuracy_autograd[split] = _accuracy(labels_from_output(twin(x)), labels)
    return result
