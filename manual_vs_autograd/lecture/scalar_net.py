"""The lecture's 2-2-1 network written the lecture's way: scalar weights, a loop over samples.

    a1 = w1·x1 + w2·x2 + b1        h1 = σ(a1)
    a2 = w3·x1 + w4·x2 + b2        h2 = σ(a2)
    a3 = w5·h1 + w6·h2 + b3        h3 = σ(a3) = y_hat
    L  = (1/m) Σ (h3 - y)²

Per sample, with ``δ = (h3 - y)·h3·(1 - h3)`` (∂L/∂a3 without MSE's factor 2, as the notebook
writes it; the factor folds into the learning rate)::

    dw5, dw6, db3 = δ·h1, δ·h2, δ
    dw1, dw2, db1 = δ·w5·h1(1 - h1)·(x1, x2, 1)
    dw3, dw4, db2 = δ·w6·h2(1 - h2)·(x1, x2, 1)

Gradients are summed over the samples, then every parameter takes ``p -= lr·dp/m``. Plain Python
floats throughout: this is the code a learner checks against the derivation on paper.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace

from ..config import normal_draws

__all__ = [
    "LectureNet",
    "ScalarHistory",
    "epoch_update",
    "fit_scalar",
    "forward_scalar",
    "lecture_init",
    "scalar_accuracy",
    "scalar_mse",
    "sigmoid",
]

WEIGHTS = ("w1", "w2", "w3", "w4", "w5", "w6")


@dataclass(frozen=True)
class LectureNet:
    """The nine parameters of the 2-2-1 network."""

    w1: float
    w2: float
    w3: float
    w4: float
    w5: float
    w6: float
    b1: float = 0.0
    b2: float = 0.0
    b3: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def lecture_init(seed: int = 0) -> LectureNet:
    """The notebook's start: ``np.random.seed(seed)``, one ``randn()`` per weight in order, biases 0."""
    return LectureNet(*(float(w) for w in normal_draws(seed, len(WEIGHTS))))


def sigmoid(a: float) -> float:
    """``σ(a) = 1 / (1 + exp(-a))`` on one Python float (0.0 below a ≈ -709, where ``exp(-a)`` overflows)."""
    try:
        return 1.0 / (1.0 + math.exp(-a))
    except OverflowError:  # σ(a) < 1e-308: a diverged run's (or a hostile record's) weights
        return 0.0


def forward_scalar(net: LectureNet, x1: float, x2: float) -> tuple[float, float, float]:
    """``(h1, h2, h3)`` for one sample."""
    h1 = sigmoid(net.w1 * x1 + net.w2 * x2 + net.b1)
    h2 = sigmoid(net.w3 * x1 + net.w4 * x2 + net.b2)
    h3 = sigmoid(net.w5 * h1 + net.w6 * h2 + net.b3)
    return h1, h2, h3


def scalar_mse(net: LectureNet, X: Sequence[Sequence[float]], Y: Sequence[float]) -> float:
    """``(1/m) Σ (h3 - y)²``."""
    return sum((forward_scalar(net, x1, x2)[2] - y) ** 2 for (x1, x2), y in zip(X, Y)) / len(Y)


@dataclass(frozen=True)
class ScalarHistory:
    """Parameters before training and after each epoch; MSE after each epoch (as the notebook records it)."""

    params: tuple[LectureNet, ...]  # (epochs + 1,)
    mse: tuple[float, ...]  # (epochs,)
    mse_start: float  # before the first update


def epoch_update(
    net: LectureNet, X: Sequence[Sequence[float]], Y: Sequence[float], lr: float, *, only_w1: bool = False
) -> tuple[LectureNet, float]:
    """One epoch of the notebook's ``fit``: sum every sample's gradients, then ``p -= lr·dp/m``.

    Returns the updated network and the MSE before the update (from the same forward pass).

    Args:
        X: (m, 2) inputs as Python floats; Y: (m,) 0/1 labels.
        only_w1: the notebook's ``FFNetworkW1``: compute every gradient but update ``w1`` alone.
    """
    m = len(Y)
    dw1 = dw2 = dw3 = dw4 = dw5 = dw6 = db1 = db2 = db3 = 0.0
    squared_error = 0.0
    for (x1, x2), y in zip(X, Y):
        h1, h2, h3 = forward_scalar(net, x1, x2)
        squared_error += (h3 - y) ** 2
        delta = (h3 - y) * h3 * (1 - h3)  # ∂L/∂a3 per sample (MSE's factor 2 folded into lr)
        dw5 += delta * h1  # ∂a3/∂w5 = h1
        dw6 += delta * h2  # ∂a3/∂w6 = h2
        db3 += delta  # ∂a3/∂b3 = 1
        d1 = delta * net.w5 * h1 * (1 - h1)  # ∂L/∂a1 = δ·(∂a3/∂h1 = w5)·(∂h1/∂a1 = h1(1-h1))
        dw1 += d1 * x1  # ∂a1/∂w1 = x1
        dw2 += d1 * x2  # ∂a1/∂w2 = x2
        db1 += d1  # ∂a1/∂b1 = 1
        d2 = delta * net.w6 * h2 * (1 - h2)  # ∂L/∂a2 = δ·(∂a3/∂h2 = w6)·(∂h2/∂a2 = h2(1-h2))
        dw3 += d2 * x1  # ∂a2/∂w3 = x1
        dw4 += d2 * x2  # ∂a2/∂w4 = x2
        db2 += d2  # ∂a2/∂b2 = 1
    if only_w1:
        return replace(net, w1=net.w1 - lr * dw1 / m), squared_error / m
    updated = LectureNet(
        w1=net.w1 - lr * dw1 / m,
        w2=net.w2 - lr * dw2 / m,
        w3=net.w3 - lr * dw3 / m,
        w4=net.w4 - lr * dw4 / m,
        w5=net.w5 - lr * dw5 / m,
        w6=net.w6 - lr * dw6 / m,
        b1=net.b1 - lr * db1 / m,
        b2=net.b2 - lr * db2 / m,
        b3=net.b3 - lr * db3 / m,
    )
    return updated, squared_error / m


def fit_scalar(
    net: LectureNet,
    X: Sequence[Sequence[float]],
    Y: Sequence[float],
    epochs: int,
    lr: float,
    *,
    only_w1: bool = False,
) -> ScalarHistory:
    """Full-batch gradient descent for ``epochs`` epochs of :func:`epoch_update`; MSE after each."""
    history = [net]
    before = []  # MSE before each epoch's update
    for _ in range(epochs):
        net, mse_before = epoch_update(net, X, Y, lr, only_w1=only_w1)
        history.append(net)
        before.append(mse_before)
    mse_after = (*before[1:], scalar_mse(net, X, Y))  # after epoch e = before epoch e + 1
    return ScalarHistory(tuple(history), mse_after, before[0])


def scalar_accuracy(net: LectureNet, X: Sequence[Sequence[float]], Y: Sequence[float]) -> float:
    """Share of samples with ``(h3 >= 0.5) == y``, the notebook's binarisation."""
    """``(1/m) Σ (h3 - y)²``."""
    return sum((forward_scalar(net, x1, x2)[2] >= 0.5) == bool(y) for (x1, x2), y in zip(X, Y)) / len(Y)
