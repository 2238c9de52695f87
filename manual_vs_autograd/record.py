"""Run records: a side-by-side run saved as one file (arrays plus JSON metadata, no pickle).

Records are written as **safetensors** (format ``manual_vs_autograd.run/2``): a bounded JSON
header, then raw little-endian arrays; nothing in it can execute code, and each array is read on its
own. Records written before, as ``.npz`` (``manual_vs_autograd.run/1``), still load. The format is
recognised by content, whatever the file is called.

Entries (``/`` separates the parts of a name):

* metadata ``format`` and ``meta``: the format name, and a strict-JSON string: network, training
  settings, data settings, accuracies, the first-step gradient report, parity verdicts, why the run
  stopped early (if it did), ``steps`` (steps run in all) and ``record`` (how the record was thinned);
* ``loss_steps`` int64 (n_loss,): the 1-based step of each recorded loss;
  ``loss/manual``, ``loss/autograd`` float64 (n_loss,): those steps' batch losses;
* ``param_steps`` int64 (n_rec,): the step of each parameter row (0: before the first step);
  ``param/manual/W1``, ``param/autograd/W1``, ... (n_rec, *shape): the parameters after those steps
  (none when the record keeps only losses);
* ``data/x_train``, ``data/y_train``, ``data/x_test``, ``data/y_test``: the data the run used.

Loading treats the file as untrusted input (see :mod:`~manual_vs_autograd.record_check` and
:mod:`~manual_vs_autograd.record_files`): every failure is a one-line ``InputError``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from safetensors.numpy import save_file

from .atomic import atomic_path
from .config import MLPConfig
from .devices import dtype_name
from .errors import InputError, one_line
from .jsonsafe import to_strict
from .record_check import MAX_DATA_ABS, MAX_META_BYTES, Layout, check_entries, check_meta, expected_arrays
from .record_files import Archive, open_archive

__all__ = ["FORMAT", "LEGACY_FORMAT", "RunRecord", "load_record", "record_from_result", "save_record"]

FORMAT = "manual_vs_autograd.run/2"
LEGACY_FORMAT = "manual_vs_autograd.run/1"
SIDES = ("manual", "autograd")


@dataclass
class RunRecord:
    """Everything needed to re-plot a run; ``loss_steps``/``param_steps`` default to every step."""

    meta: dict[str, Any]
    losses: dict[str, np.ndarray]  # side -> (n_loss,)
    params: dict[str, dict[str, np.ndarray]]  # side -> name -> (n_rec, *shape); may be empty
    data: dict[str, np.ndarray]  # x_train, y_train, x_test, y_test
    loss_steps: np.ndarray | None = None  # (n_loss,) int64, 1-based; None: every step (set by __post_init__)
    param_steps: np.ndarray | None = None  # (n_rec,) int64, 0 = start; None: every step (set by __post_init__)

    def __post_init__(self) -> None:
        if self.loss_steps is None:
            self.loss_steps = np.arange(1, len(self.losses["manual"]) + 1, dtype=np.int64)
        if self.param_steps is None:
            rows = next((len(v) for v in self.params.get("manual", {}).values()), len(self.loss_steps) + 1)
            self.param_steps = np.arange(0, rows, dtype=np.int64)

    @property
    def config(self) -> MLPConfig:
        n = self.meta["network"]
        extra = {"norm": n["norm"]} if n.get("norm", "none") != "none" else {}
        return MLPConfig(tuple(n["sizes"]), n["activation"], n["loss"], **extra)

    @property
    def steps(self) -> int:
        """Steps run in all (``meta["steps"]``); more than the losses kept when the record is thinned."""
        if "steps" in self.meta:
            return int(self.meta["steps"])
        assert self.loss_steps is not None, "__post_init__ sets it"
        return int(self.loss_steps[-1]) if len(self.loss_steps) else 0

    @property
    def steps_per_epoch(self) -> int:
        return int(self.meta["train"]["steps_per_epoch"])

    def params_at(self, step: int, side: str = "manual") -> dict[str, torch.Tensor]:
        """The parameters after ``step`` steps (0: the start), as float64 tensors; the step must be recorded.

        A negative ``step`` counts recorded rows from the end, as in Python: ``-1`` is the last one kept.
        """
        assert self.param_steps is not None, "__post_init__ sets it"
        n_rec = len(self.param_steps)
        rows = [n_rec + step] if -n_rec <= step < 0 else np.flatnonzero(self.param_steps == step)
        if not self.params[side] or not len(rows):
            kept = f"{n_rec} recorded steps" if self.params[side] else "no parameters"
            raise InputError(f"the parameters after step {step} are not in this record ({kept})")
        row = int(rows[0])
        return {name: torch.from_numpy(np.asarray(v[row])).to(torch.float64) for name, v in self.params[side].items()}


def _side_record(traj: Any) -> tuple[list[int], dict[str, list[float]], list[int], dict[str, dict[str, Any]], dict]:
    """(loss_steps, losses, param_steps, params, policy) from the trainer's record.

    The streaming trainer exposes them as ``trajectories.record``; the older ``Trajectories`` kept
    every step in ``trajectories.manual`` / ``.autograd`` (``SideRecord``), read here as a full record.
    """
    rec = getattr(traj, "record", None)
    if rec is not None:
        return list(rec.loss_steps), dict(rec.losses), list(rec.param_steps), dict(rec.params), dict(rec.policy)
    losses = {side: list(getattr(traj, side).losses) for side in SIDES}
    params = {side: dict(getattr(traj, side).params) for side in SIDES}
    n_rec = len(next(iter(params["manual"].values()), []))
    policy = {"every": 1, "what": "all", "thinned": False}
    return list(range(1, len(losses["manual"]) + 1)), losses, list(range(n_rec)), params, policy


def record_from_result(result: Any) -> RunRecord:
    """A :class:`RunRecord` from a :class:`~manual_vs_autograd.compare.CompareResult`."""
    traj = result.trajectories
    loss_steps, losses, param_steps, params, policy = _side_record(traj)
    network = {"sizes": list(result.config.sizes), "activation": result.config.activation, "loss": result.config.loss}
    if getattr(result.config, "norm", "none") != "none":
        network["norm"] = result.config.norm
    summary_keys = ("parity", "parameters", "max_loss_diff", "max_param_diff", "final_loss", "tolerance")
    meta = {
        "format": FORMAT,
        "network": network,
        "train": {
            **asdict(result.train),
            "steps_per_epoch": result.train.steps_per_epoch(result.data.x_train.shape[0]),
        },
        "spec": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(result.spec).items()},
        "optimizer": result.train.optimizer_spec().to_json(),  # absent from older records (plain SGD)
        "init": result.init,
        "dtype": dtype_name(result.dtype),
        "device": str(result.device),
        "steps": int(traj.steps),
        "stopped": traj.stopped,
        "record": policy,
        "accuracy": result.accuracy,
        "accuracy_autograd": result.accuracy_autograd,
        "summary": {k: v for k, v in result.to_json().items() if k in summary_keys},
    }

    def as_np(t):
        return t.detach().cpu().numpy()

    def stack(ts):
        return np.stack([as_np(t) for t in ts])

    return RunRecord(
        meta=to_strict(meta),
        losses={side: np.asarray(losses[side], dtype=np.float64) for side in SIDES},
        params={side: {n: stack(v) for n, v in params[side].items() if len(v)} for side in SIDES},
        data={k: as_np(getattr(result.data, k)) for k in ("x_train", "y_train", "x_test", "y_test")},
        loss_steps=np.asarray(loss_steps, dtype=np.int64),
        param_steps=np.asarray(param_steps, dtype=np.int64),
    )


def save_record(record: RunRecord, path: str | os.PathLike) -> None:
    """Write ``record`` to ``path`` (safetensors) atomically; the file's mode is kept if it exists."""
    meta = json.dumps(to_strict({**record.meta, "format": FORMAT}), allow_nan=False)
    with atomic_path(path) as tmp:
        save_file(record_arrays(record), tmp, metadata={"format": FORMAT, "meta": meta})


def record_arrays(record: RunRecord) -> dict[str, np.ndarray]:
    """The arrays of ``record`` under the keys the format defines (``loss/manual``, ``param/autograd/W1``, ...)."""
    arrays: dict[str, np.ndarray] = {
        "loss_steps": np.asarray(record.loss_steps, dtype=np.int64),
        "param_steps": np.asarray(record.param_steps, dtype=np.int64),
    }
    for side in SIDES:
        arrays[f"loss/{side}"] = np.asarray(record.losses[side], dtype=np.float64)
        for name, values in record.params[side].items():
            arrays[f"param/{side}/{name}"] = values
    for name, values in record.data.items():
        arrays[f"data/{name}"] = values
    return {k: np.ascontiguousarray(v) for k, v in arrays.items()}


def _meta_text(archive: Archive, fail) -> tuple[str, bool]:
    """The JSON metadata text and whether the file is a legacy .npz."""
    if archive.kind == "safetensors":
        if archive.metadata.get("format") != FORMAT or "meta" not in archive.metadata:
            found = archive.metadata.get("format")
            raise fail(f"has format {one_line(repr(found), 60)}; expected {FORMAT!r} (or an .npz {LEGACY_FORMAT!r})")
        return archive.metadata["meta"], False
    if "meta" not in archive.names:
        raise fail("has no run metadata; expected a file written by 'mva compare --save'")
    entry = archive.header("meta")
    if entry.dtype.kind != "U" or entry.shape != () or entry.dtype.itemsize > 4 * MAX_META_BYTES:
        raise fail(f"has run metadata of dtype {entry.dtype.str} and shape {entry.shape}; expected one text")
    return str(archive.read("meta")), True


def _rows(archive: Archive, key: str, fail) -> int:
    if key not in archive.names:
        raise fail(f"lacks the array {key!r}")
    shape = archive.header(key).shape
    if len(shape) < 1:
        raise fail(f"has array {key!r} of shape {shape}; expected at least one dimension")
    return shape[0]


def _check_steps(record: RunRecord, layout: Layout, fail) -> None:
    kept = (
        ("loss_steps", record.loss_steps, 1, layout.keeps_loss),
        ("param_steps", record.param_steps, 0, bool(layout.recorded)),
    )
    for what, steps, least, keeps in kept:
        assert steps is not None, "RunRecord.__post_init__ sets it"
        if len(steps) and (steps[0] < least or steps[-1] > layout.steps or np.any(np.diff(steps) <= 0)):
            raise fail(f"has {what} that are not increasing steps in [{least}, {layout.steps}]")
        # a run keeps every K-th step it completed (and its last): none of them may be missing
        K = layout.every
        if keeps and int(np.count_nonzero(steps % K == 0)) != layout.steps // K + (least == 0):
            raise fail(
                f"declares {layout.steps} steps recorded every {K}, but its {what} hold "
                f"{len(steps)} row(s) up to step {int(steps[-1]) if len(steps) else 0}"
            )
    n_out = layout.config.sizes[-1] if layout.config.loss == "ce" else 2
    for key in ("y_train", "y_test"):
        labels = record.data[key]
        if len(labels) and (labels.min() < 0 or labels.max() >= n_out):
            raise fail(f"has labels {key} outside [0, {n_out})")
    for key in ("x_train", "x_test"):
        if not np.all(np.isfinite(record.data[key])):
            raise fail(f"has NaN or infinity in {key}")
        if len(record.data[key]) and float(np.abs(record.data[key]).max()) > MAX_DATA_ABS:
            raise fail(f"has values beyond ±{MAX_DATA_ABS:g} in {key}; expected blob data (within a few tens of 0)")


def load_record(path: str | os.PathLike) -> RunRecord:
    """Read a record written by :func:`save_record` (or an older ``.npz`` one), checking everything.

    A missing, truncated, foreign or inconsistent file is an :class:`InputError` with one line.
    """

    def fail(why):
        return InputError(one_line(f"run file {str(path)!r} {why}"))

    archive = open_archive(path)
    try:
        text, legacy = _meta_text(archive, fail)
        if len(text) > MAX_META_BYTES:
            raise fail(f"has {len(text)} characters of metadata; the limit is {MAX_META_BYTES}")
        try:
            meta = json.loads(text)
        except (ValueError, RecursionError):  # not JSON, or a number too long to parse
            raise fail("has run metadata that is not JSON") from None
        if legacy and (not isinstance(meta, dict) or meta.get("format") != LEGACY_FORMAT):
            found = meta.get("format") if isinstance(meta, dict) else None
            raise fail(f"has format {one_line(repr(found), 60)}; expected {LEGACY_FORMAT!r}")
        layout = check_meta(meta, fail, legacy=legacy)
        n_loss = layout.steps if legacy else _rows(archive, "loss_steps", fail)
        n_rec = layout.steps + 1 if legacy else _rows(archive, "param_steps", fail)
        n_train, n_test = _rows(archive, "data/x_train", fail), _rows(archive, "data/x_test", fail)
        if layout.recorded and n_rec == 0:
            raise fail("keeps its parameters but not one recorded row of them; expected at least the start")
        expected = expected_arrays(layout, n_loss, n_rec, n_train, n_test)
        if legacy:
            del expected["loss_steps"], expected["param_steps"]
        check_entries(expected, archive.header, archive.names, fail)
        native = {key: want.dtype.newbyteorder("=") for key, want in expected.items()}
        values = {key: np.asarray(archive.read(key)).astype(native[key], copy=False) for key in expected}
    finally:
        archive.close()
    record = RunRecord(
        meta=meta,
        losses={side: values[f"loss/{side}"] for side in SIDES},
        params={side: {n: values[f"param/{side}/{n}"] for n in layout.recorded} for side in SIDES},
        data={k: values[f"data/{k}"] for k in ("x_train", "y_train", "x_test", "y_test")},
        loss_steps=values.get("loss_steps"),
        param_steps=values.get("param_steps"),
    )
    _check_steps(record, layout, fail)
    return record
