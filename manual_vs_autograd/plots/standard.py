"""The standard set of pictures for a run record, written to a folder."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from matplotlib.figure import Figure

from ..errors import InputError
from ..record import RunRecord
from .common import has_every_param, require_params, save_figure
from .heatmap import plot_heatmap, save_heatmap_gif
from .regions import plot_regions, save_regions_gif
from .scatter import plot_data, plot_predictions
from .trajectories import plot_loss_curves, plot_weight_trajectories
from .w1_only import plot_w1_only

__all__ = ["KINDS", "applicable", "write_pictures"]


def _figure(make: Callable[[RunRecord], Figure], name: str) -> Callable[[RunRecord, Path], Path]:
    def write(record: RunRecord, out: Path) -> Path:
        return save_figure(make(record), out / name)

    return write


def _w1_only(record: RunRecord, out: Path) -> Path:
    """The lecture's w1-only experiment from this run's data and starting weights (500 epochs, notebook lr 1)."""
    from ..lecture.names import from_matrices
    from ..lecture.scalar_net import LectureNet, fit_scalar

    if record.config.sizes != (2, 2, 1) or record.config.loss != "mse":
        raise InputError("the w1-only picture is for the lecture's 2-2-1 MSE network")
    require_params(record, "w1-only")
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


def applicable(record: RunRecord) -> list[str]:
    """The kinds that make sense for this run (regions need 2-D inputs; w1-only the lecture's network;
    all but the loss and the data need recorded parameters, and all but the trajectories every one)."""
    kinds = list(KINDS)
    if record.data["x_train"].ndim != 2 or record.data["x_train"].shape[1] != 2:
        kinds = [k for k in kinds if not k.startswith("regions")]
    if not all(record.params.get(side) for side in ("manual", "autograd")):
        kinds = [k for k in kinds if k not in NEEDS_PARAMETERS]
    elif not has_every_param(record):  # some parameters kept (--record W1): their trajectories only
        kinds = [k for k in kinds if k not in NEEDS_PARAMETERS or k == "trajectories"]
    if (record.config.sizes != (2, 2, 1) or record.config.loss != "mse") and "w1-only" in kinds:
        kinds.remove("w1-only")
    return kinds


def write_pictures(
    record: RunRecord,
    out: str | os.PathLike,
    kinds: Sequence[str] = ("all",),
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write the pictures of ``kinds`` (``all``: every applicable one) into ``out``; return their paths."""
    wanted = applicable(record) if "all" in kinds else list(kinds)
    for kind in wanted:
        if kind not in KINDS:
            raise InputError(f"unknown picture kind {kind!r}; expected one of: all, {', '.join(KINDS)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in wanted:
        if progress:
            progress(kind)
        written.append(KINDS[kind](record, out))
    return written
