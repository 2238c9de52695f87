"""The 2-2-1 network three ways: the lecture's scalar loop, the vectorised manual MLP, autograd.

All three start from the notebook's weights and train full batch on the same data. The scalar code
uses the notebook's learning rate on a gradient without MSE's factor 2; the other two use half that
rate on the true MSE gradient, which is the same step.

``resync=True`` restarts every epoch from the autograd side's parameters: it checks that each
epoch's update is the same, along the real trajectory, even where the dynamics would amplify
rounding differences between free-running copies (see the README, "Chaotic runs").
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..config import MLPConfig
from ..manual import loss_and_grads, mlp_forward, sgd_step
from ..twin import TwinMLP
from .names import from_matrices, to_matrices
from .scalar_net import LectureNet, epoch_update, lecture_init, scalar_mse

__all__ = ["ThreeWayReport", "compare_three_ways"]

CONFIG = MLPConfig((2, 2, 1), "sigmoid", "mse")


@dataclass(frozen=True)
class ThreeWayReport:
    """Largest differences, per epoch, against the autograd side."""

    epochs: int
    scalar_param_diff: tuple[float, ...]  # (epochs + 1,) max over the nine parameters, scalar vs autograd
    manual_param_diff: tuple[float, ...]  # (epochs + 1,) vectorised manual vs autograd
    scalar_loss_diff: tuple[float, ...]  # (epochs + 1,) MSE at that epoch's parameters
    manual_loss_diff: tuple[float, ...]
    losses: tuple[float, ...]  # (epochs + 1,) autograd's MSE
    param_scale: float  # largest |parameter| seen on the autograd side


def _max_diff(a: dict[str, float], b: dict[str, float]) -> float:
    return max(abs(a[k] - b[k]) for k in a)


def compare_three_ways(
    x: Tensor, labels: Tensor, epochs: int, notebook_lr: float, *, only_w1: bool = False, resync: bool = False
) -> ThreeWayReport:
    """Train the three implementations side by side; ``x`` (m, 2) float64, ``labels`` (m,) 0/1."""
    X, Y = x.tolist(), labels.tolist()
    y = labels.to(x.dtype)[:, None]  # (m, 1)
    lr = notebook_lr / 2
    scalar = lecture_init()
    manual = to_matrices(scalar.as_dict(), CONFIG)
    twin = TwinMLP(CONFIG, manual)
    optimizer = torch.optim.SGD(twin.parameters(), lr=lr)
    mask = {name: torch.zeros_like(p) for name, p in manual.items()}
    mask["W1"][0, 0] = 1.0  # the one weight FFNetworkW1 updates

    diffs: dict[str, list[float]] = {k: [] for k in ("sp", "mp", "sl", "ml", "loss")}
    scale = 0.0

    def record() -> None:
        nonlocal scale
        auto = from_matrices(twin.math_parameters(), CONFIG)
        scale = max(scale, *(abs(v) for v in auto.values()))
        with torch.no_grad():
            auto_loss = twin.loss(x, y).item()
        manual_loss = ((mlp_forward(manual, x, CONFIG)[0] - y) ** 2).mean().item()
        diffs["sp"].append(_max_diff(scalar.as_dict(), auto))
        diffs["mp"].append(_max_diff(from_matrices(manual, CONFIG), auto))
        diffs["sl"].append(abs(scalar_mse(scalar, X, Y) - auto_loss))
        diffs["ml"].append(abs(manual_loss - auto_loss))
        diffs["loss"].append(auto_loss)

    record()
    for _ in range(epochs):
        scalar, _ = epoch_update(scalar, X, Y, notebook_lr, only_w1=only_w1)

        _, grads = loss_and_grads(manual, x, y, CONFIG)
        if only_w1:
            grads = {g: grads[g] * mask[g[1:]] for g in grads}
        sgd_step(manual, grads, lr)

        optimizer.zero_grad()
        twin.loss(x, y).backward()
        if only_w1:
            for name, p in twin.named_math_parameters().items():
                assert p.grad is not None, f"{name} feeds the loss, so backward() gave it a gradient"
                p.grad.mul_(mask[name])
        optimizer.step()

        record()
        if resync:
            auto = twin.math_parameters()
            manual = {k: v.clone() for k, v in auto.items()}
            scalar = LectureNet(**from_matrices(auto, CONFIG))
    return ThreeWayReport(
        epochs,
        tuple(diffs["sp"]),
        tuple(diffs["mp"]),
        tuple(diffs["sl"]),
        tuple(diffs["ml"]),
        tuple(diffs["loss"]),
        scale,
    )
