"""The data of the optimizer-paths picture: the lecture network's loss over two weights, and each rule's path.

The lecture run (2-2-1 sigmoid, MSE, the notebook's initial weights, full batch, 2000 epochs of SGD at
lr 2.5) gives the trained weights. Two of them (by the lecture's names ``w1..w6``: ``W1 = [[w1, w2],
[w3, w4]]``, ``W2 = [[w5, w6]]``) are then set free from a start point while every other parameter
stays at its trained value; the loss over the plane of those two weights is exact for every point
of the paths, since nothing else moves.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..config import MLPConfig, init_params
from ..data import load_blobs, targets_for
from ..errors import InputError
from ..lecture.names import lecture_names
from ..losses import LOSSES
from ..manual import loss_and_grads, mlp_forward, sgd_step
from .pair import OptimizerProblem, PairRun, run_pair
from .spec import OptimizerSpec

__all__ = ["PATH_SPECS", "LectureSurface", "lecture_surface", "optimizer_paths", "path_of", "trained_lecture_params"]

LECTURE = MLPConfig()  # 2-2-1 sigmoid, MSE
PATH_SPECS = (
    OptimizerSpec("sgd", lr=2.5),  # the lecture's rule and lr
    OptimizerSpec("momentum", lr=2.5, momentum=0.9),
    OptimizerSpec("adam", lr=0.1),
)


def trained_lecture_params(epochs: int = 2000, lr: float = 2.5) -> tuple[dict[str, Tensor], Tensor, Tensor]:
    """The lecture run's final parameters (float64, CPU) and its training data ``x`` (N, 2), ``y`` (N, 1)."""
    blobs = load_blobs()
    x, y = blobs.x_train, targets_for(blobs.y_train, "mse", torch.float64)
    params = init_params(LECTURE, 0, scheme="lecture")
    for _ in range(epochs):
        _, grads = loss_and_grads(params, x, y, LECTURE)
        sgd_step(params, grads, lr)
    return params, x, y


@dataclass(frozen=True)
class LectureSurface:
    """The loss over a grid of two weights, the others fixed."""

    weights: tuple[str, str]  # lecture names, e.g. ("w5", "w6")
    grid_a: Tensor  # (A,) values of weights[0]
    grid_b: Tensor  # (B,) values of weights[1]
    loss: Tensor  # (B, A): loss[j, i] at (grid_a[i], grid_b[j])
    trained: tuple[float, float]  # the two weights' trained values


def _where(weights: tuple[str, str]) -> list[tuple[str, tuple[int, ...]]]:
    names = lecture_names(LECTURE)
    for w in weights:
        if w not in names or not w.startswith("w"):
            raise InputError(
                f"unknown weight {w!r}; expected two of: {', '.join(n for n in names if n.startswith('w'))}"
            )
    if weights[0] == weights[1]:
        raise InputError(f"the two weights must differ, got {weights[0]!r} twice")
    return [names[w] for w in weights]


def lecture_surface(
    params: dict[str, Tensor], x: Tensor, y: Tensor, weights: tuple[str, str], span: tuple[tuple[float, float], ...], n: int = 61
) -> LectureSurface:  # fmt: skip
    """The loss on an ``n`` × ``n`` grid over ``span = ((a_min, a_max), (b_min, b_max))``, the other weights as in ``params``."""
    where = _where(weights)
    grid_a = torch.linspace(*span[0], n, dtype=torch.float64)
    grid_b = torch.linspace(*span[1], n, dtype=torch.float64)
    loss = torch.empty(n, n, dtype=torch.float64)
    point = {name: p.clone() for name, p in params.items()}
    for j, b in enumerate(grid_b):
        for i, a in enumerate(grid_a):
            point[where[0][0]][where[0][1]] = a
            point[where[1][0]][where[1][1]] = b
            y_hat, _ = mlp_forward(point, x, LECTURE)
            loss[j, i] = LOSSES[LECTURE.loss].forward(y_hat, y)[0]
    trained = tuple(float(params[m][i]) for m, i in where)
    return LectureSurface(weights, grid_a, grid_b, loss, trained)  # type: ignore[arg-type]


def optimizer_paths(
    params: dict[str, Tensor],
    x: Tensor,
    y: Tensor,
    weights: tuple[str, str],
    start: tuple[float, float],
    *,
    specs: tuple[OptimizerSpec, ...] = PATH_SPECS,
    steps: int = 100,
) -> dict[OptimizerSpec, PairRun]:
    """Each rule's run, manual and ``torch.optim``, with only ``weights`` free, from ``start``; full batch."""
    where = _where(weights)
    begin = {name: p.clone() for name, p in params.items()}
    trainable = {name: torch.zeros_like(p) for name, p in params.items()}
    for (matrix, index), value in zip(where, start):
        begin[matrix][index] = value
        trainable[matrix][index] = 1.0
    problem = OptimizerProblem(LECTURE, begin, x, y, steps)
    return {spec: run_pair(spec, problem, trainable=trainable) for spec in specs}


def path_of(run: PairRun, weights: tuple[str, str], side: str) -> Tensor:
    """(steps + 1, 2): the two free weights along one side's path (``side`` "manual" or "autograd")."""
    history = run.manual_params if side == "manual" else run.autograd_params
    return torch.stack([history[m].flatten(1)[:, _flat(history[m].shape[1:], i)] for m, i in _where(weights)], dim=1)


def _flat(shape: torch.Size, index: tuple[int, ...]) -> int:
    """The position of ``index`` in a tensor of ``shape`` flattened row by row."""
    position = 0
    for size, i in zip(shape, index):
        position = position * size + i
    return position
