"""The standard set of pictures for a run record, written to a folder."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from matplotlib.figure import Figure

from ..errors import InputError
from ..record import RunRecord
from .common import require_params, save_figure
from .heatmap import plot_heatmap, save_heatmap_gif
from .regions import plot_regions, save_regions_gif
from .scatter import plot_data, plot_predictions
from .trajectories import plot_loss_curves, plot_weight_trajectories
from .w1_only import plot_w1_only

__all__ = ["KINDS", "applicable", "check_drawable", "skipped", "write_pictures"]


def _figure(make: Callable[[RunRecord], Figure], name: str) -> Callable[[RunRecord, Path], Path]:
    def write(record: RunRecord, out: Path) -> Path:
        return save_figure(make(record), out / name)

    return write


def _w1_only(record: RunRecord, out: Path) -> Path:
    """The lecture's w1-only experiment from this run's data and starting weights (500 epochs, notebook lr 1)."""
    from ..lecture.names import from_matrices
    from ..lecture.scalar_net import LectureNet, fit_scalar

    check_drawable(record, "w1-only")
    start = LectureNet(**from_matrices(record.params_at(0), record.config))
    history = fit_scalar(
        start, record.data["x_train"].tolist(), record.data["y_train"].tolist(), 500, 1.0, only_w1=True
    )
    return save_figure(plot_w1_only(history, lr=1.0), out / "w1_only.png")


KINDS: dict[str, Callable[[RunRecord, Path], Path]] = {
    "trajectories": _figure(plot_weight_trajectories, "trajectories.png"),
    "loss": _figure(plot_loss_curves, "loss.png"),
    "heatmap": _figure(plot_heatmap, "heatmap.png"),
    "heatmap-gif": lambda record, out: save_heatmap_gif(record, out / "heatmap.gif"),
    "regions": _figure(plot_regions, "regions.png"),
    "regions-gif": lambda record, out: save_regions_gif(record, out / "regions.gif"),
    "data": _figure(plot_data, "data.png"),
    "predictions": _figure(plot_predictions, "predictions.png"),
    "w1-only": _w1_only,
}
"""Each picture kind and the function that writes it into a folder."""


NEEDS_PARAMETERS = ("trajectories", "heatmap", "heatmap-gif", "regions", "regions-gif", "predictions", "w1-only")


PICTURE_NAMES = {"trajectories": "weight trajectories", "heatmap": "heat map", "heatmap-gif": "heat map",
                 "regions": "decision regions", "regions-gif": "decision regions", "predictions": "predictions",
                 "w1-only": "w1-only"}  # fmt: skip
"""How a picture that needs parameters names itself when it cannot be drawn."""


def check_drawable(record: RunRecord, kind: str) -> None:
    """An InputError, in one line, when picture ``kind`` cannot be drawn from this record: an unknown kind,
    one that does not fit the network (:func:`_check_fits`), or what it needs not recorded (the losses; the
    parameters, all of them but for the trajectories)."""
    _check_fits(record, kind)
    if kind == "loss" and not len(record.losses["manual"]):
        raise InputError("the loss picture needs the losses, but this record kept none (--record none); "
                         "record them when training (--record loss or all)")  # fmt: skip
    if kind in NEEDS_PARAMETERS:
        require_params(record, PICTURE_NAMES[kind], every=kind != "trajectories")


def _check_fits(record: RunRecord, kind: str) -> None:
    """An InputError when ``kind`` is unknown or does not fit this network: regions need 2 input features,
    w1-only is the lecture's 2-2-1 MSE network."""
    if kind not in KINDS:
        raise InputError(f"unknown picture kind {kind!r}; expected one of: all, {', '.join(KINDS)}")
    x = record.data["x_train"]
    if kind.startswith("regions") and (x.ndim != 2 or x.shape[1] != 2):
        raise InputError(
            f"decision regions need 2 input features, this run has {x.shape[1] if x.ndim == 2 else x.shape}"
        )
    if kind == "w1-only" and (record.config.sizes != (2, 2, 1) or record.config.loss != "mse"):
        raise InputError("the w1-only picture is for the lecture's 2-2-1 MSE network")


def _fits(record: RunRecord, kind: str) -> bool:
    try:
        _check_fits(record, kind)
    except InputError:
        return False
    return True


def skipped(record: RunRecord) -> dict[str, str]:
    """``kind -> why``: the pictures of this network that ``all`` leaves out because the record did not keep
    what they need (``--record none``, ``loss``, ``W1``), each with the reason, worded alike for alike kinds."""
    kept = list(record.params.get("manual", {})) if all(record.params.get(s) for s in ("manual", "autograd")) else []
    every = set(record.config.param_shapes()) <= set(kept)
    reasons = {}
    for kind in (k for k in KINDS if _fits(record, k)):
        if kind == "loss" and not len(record.losses["manual"]):
            reasons[kind] = "this record kept no losses (--record none)"
        elif kind in NEEDS_PARAMETERS and not kept:
            reasons[kind] = "this record kept no parameters; record them when training (--record all)"
        elif kind in NEEDS_PARAMETERS and kind != "trajectories" and not every:
            reasons[kind] = f"this record kept only {', '.join(kept)}; these need every parameter (--record all)"
    return reasons


def applicable(record: RunRecord) -> list[str]:
    """The kinds that make sense for this run (regions need 2-D inputs; w1-only the lecture's network;
    all but the loss and the data need recorded parameters, and all but the trajectories every one)."""
    left_out = skipped(record)
    return [kind for kind in KINDS if _fits(record, kind) and kind not in left_out]


def write_pictures(
    record: RunRecord,
    out: str | os.PathLike,
    kinds: Sequence[str] = ("all",),
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write the pictures of ``kinds`` (``all``: every applicable one; :func:`skipped` says which the record
    leaves out) into ``out``; return their paths. Every kind asked for by name is checked before any is drawn."""
    named = [kind for kind in dict.fromkeys(kinds) if kind != "all"]
    wanted = list(dict.fromkeys([*applicable(record), *named])) if "all" in kinds else named
    for kind in wanted:
        check_drawable(record, kind)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in wanted:
        if progress:
            progress(kind)
        written.append(KINDS[kind](record, out))
    return written
