"""Run records: a side-by-side run saved as one ``.npz`` file (arrays plus JSON metadata, no pickle).

Layout inside the archive:

* ``meta``: a JSON string: format version, network, training settings, data settings, accuracies,
  the first-step gradient report, parity verdicts, why the run stopped early (if it did);
* ``loss/manual``, ``loss/autograd``: (steps,) each step's batch loss;
* ``param/manual/W1``, ``param/autograd/W1``, ...: (steps + 1, *shape) each parameter before the
  first step and after every step;
* ``data/x_train``, ``data/y_train``, ``data/x_test``, ``data/y_test``: the data the run used.

It loads back with ``allow_pickle=False`` and re-plots without training again.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from .atomic import atomic_path
from .config import MLPConfig
from .errors import InputError

__all__ = ["FORMAT", "RunRecord", "load_record", "record_from_result", "save_record"]

FORMAT = "manual_vs_autograd.run/1"
SIDES = ("manual", "autograd")


@dataclass
class RunRecord:
    """Everything needed to re-plot a run."""

    meta: dict[str, Any]
    losses: dict[str, np.ndarray]  # side -> (steps,)
    params: dict[str, dict[str, np.ndarray]]  # side -> name -> (steps + 1, *shape)
    data: dict[str, np.ndarray]  # x_train, y_train, x_test, y_test

    @property
    def config(self) -> MLPConfig:
        n = self.meta["network"]
        return MLPConfig(tuple(n["sizes"]), n["activation"], n["loss"])

    @property
    def steps(self) -> int:
        return int(self.losses["manual"].shape[0])

    @property
    def steps_per_epoch(self) -> int:
        return int(self.meta["train"]["steps_per_epoch"])

    def params_at(self, step: int, side: str = "manual") -> dict[str, torch.Tensor]:
        """The parameters after ``step`` steps (0: the start), as float64 tensors."""
        return {name: torch.from_numpy(values[step]).to(torch.float64) for name, values in self.params[side].items()}


def record_from_result(result: Any) -> RunRecord:
    """A :class:`RunRecord` from a :class:`~manual_vs_autograd.compare.CompareResult`."""
    traj = result.trajectories
    meta = {
        "format": FORMAT,
        "network": {"sizes": list(result.config.sizes), "activation": result.config.activation, "loss": result.config.loss},
        "train": {**asdict(result.train), "steps_per_epoch": result.train.steps_per_epoch(result.data.x_train.shape[0])},
        "spec": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(result.spec).items()},
        "init": result.init,
        "dtype": str(result.dtype).removeprefix("torch."),
        "device": str(result.device),
        "steps": traj.steps,
        "stopped": traj.stopped,
        "accuracy": result.accuracy,
        "accuracy_autograd": result.accuracy_autograd,
        "summary": {k: v for k, v in result.to_json().items() if k in ("parity", "parameters", "max_loss_diff", "max_param_diff", "final_loss", "tolerance")},
    }
    as_np = lambda t: t.detach().cpu().numpy()  # noqa: E731
    return RunRecord(
        meta=meta,
        losses={side: np.asarray(getattr(traj, side).losses, dtype=np.float64) for side in SIDES},
        params={side: {n: as_np(v) for n, v in getattr(traj, side).stacked().items()} for side in SIDES},
        data={k: as_np(getattr(result.data, k)) for k in ("x_train", "y_train", "x_test", "y_test")},
    )


def save_record(record: RunRecord, path: str | os.PathLike) -> None:
    """Write ``record`` to ``path`` (``.npz``) atomically."""
    arrays: dict[str, np.ndarray] = {"meta": np.array(json.dumps(record.meta))}
    for side in SIDES:
        arrays[f"loss/{side}"] = record.losses[side]
        for name, values in record.params[side].items():
            arrays[f"param/{side}/{name}"] = values
    for name, values in record.data.items():
        arrays[f"data/{name}"] = values
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **arrays)


def load_record(path: str | os.PathLike) -> RunRecord:
    """Read a record written by :func:`save_record`; a missing, truncated or foreign file is an InputError."""
    try:
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as archive:
            files = {key: archive[key] for key in archive.files}
    except FileNotFoundError:
        raise InputError(f"run file {str(path)!r} does not exist") from None
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
        raise InputError(f"run file {str(path)!r} is not a readable .npz run record ({type(err).__name__}: {err})") from None
    try:
        meta = json.loads(str(files.pop("meta")))
    except (KeyError, json.JSONDecodeError):
        raise InputError(f"run file {str(path)!r} has no run metadata; expected a file written by 'mva compare --save'") from None
    if meta.get("format") != FORMAT:
        raise InputError(f"run file {str(path)!r} has format {meta.get('format')!r}; expected {FORMAT!r}")
    record = RunRecord(meta, {}, {side: {} for side in SIDES}, {})
    for key, values in files.items():
        kind, _, rest = key.partition("/")
        if kind == "loss":
            record.losses[rest] = values
        elif kind == "param":
            side, _, name = rest.partition("/")
            record.params[side][name] = values
        elif kind == "data":
            record.data[rest] = values
    try:
        expected = set(record.config.param_shapes())
    except (KeyError, TypeError):
        raise InputError(f"run file {str(path)!r} has no network description in its metadata") from None
    for side in SIDES:
        if side not in record.losses or set(record.params[side]) != expected:
            raise InputError(f"run file {str(path)!r} is incomplete: the {side} side's losses or parameters are missing")
    return record
