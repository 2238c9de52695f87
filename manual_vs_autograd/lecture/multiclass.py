"""The lecture's 2-2-4 network: sigmoid hidden layer, softmax output, cross-entropy; w1..w12, b1..b6.

    a1 = w1·x1 + w2·x2 + b1           h1 = σ(a1)
    a2 = w3·x1 + w4·x2 + b2           h2 = σ(a2)
    a3 = w5·h1  + w6·h2  + b3    ┐
    a4 = w7·h1  + w8·h2  + b4    │    (h3, h4, h5, h6) = softmax(a3, a4, a5, a6)
    a5 = w9·h1  + w10·h2 + b5    │    L = -(1/m) Σ log h_{y+3}
    a6 = w11·h1 + w12·h2 + b6    ┘

With ``δk = h_{k+2} - y_k`` (softmax and cross-entropy together: ∂L/∂a_{k+2} = predicted - true),
each weight's gradient is its δ times its input; a hidden unit collects every output's δ through
its outgoing weight (the sum over paths)::

    dw5, dw6, db3 = δ1·h1, δ1·h2, δ1        ... dw11, dw12, db6 = δ4·h1, δ4·h2, δ4
    dh1 = δ1·w5 + δ2·w7 + δ3·w9 + δ4·w11     da1 = dh1·h1(1 - h1)     dw1, dw2, db1 = da1·(x1, x2, 1)
    dh2 = δ1·w6 + δ2·w8 + δ3·w10 + δ4·w12    da2 = dh2·h2(1 - h2)     dw3, dw4, db2 = da2·(x1, x2, 1)

Each name holds one number per sample (a tensor of shape (m,)), so the lines read as the scalar
derivation while running over the whole batch at once. ``original=True`` reproduces the original
notebook, with its two bugs: ``a6`` adds ``b5`` instead of ``b6``, and the fit loop adds ``db4,
db5, db6`` into ``b1, b2, b3`` (so ``b4..b6`` never change).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..config import normal_draws

__all__ = [
    "NAMES",
    "MulticlassRun",
    "applied_gradients",
    "cross_entropy",
    "fit_multiclass",
    "forward_multiclass",
    "multiclass_init",
    "predict_multiclass",
]

WEIGHT_NAMES = tuple(f"w{i}" for i in range(1, 13))
BIAS_NAMES = tuple(f"b{i}" for i in range(1, 7))
NAMES = WEIGHT_NAMES + BIAS_NAMES


def multiclass_init(seed: int = 0) -> dict[str, float]:
    """The notebook's start: ``np.random.seed(seed)``, one ``randn()`` per weight w1..w12, biases 0."""
    params = {name: float(w) for name, w in zip(WEIGHT_NAMES, normal_draws(seed, len(WEIGHT_NAMES)))}
    params.update({name: 0.0 for name in BIAS_NAMES})
    return params


def forward_multiclass(p: dict[str, float], x: Tensor, *, original: bool = False) -> dict[str, Tensor]:
    """Every intermediate, each (m,): ``a1, h1, a2, h2, a3..a6, h3..h6``; ``x`` is (m, 2)."""
    x1, x2 = x[:, 0], x[:, 1]
    v: dict[str, Tensor] = {}
    v["a1"] = p["w1"] * x1 + p["w2"] * x2 + p["b1"]
    v["h1"] = torch.sigmoid(v["a1"])
    v["a2"] = p["w3"] * x1 + p["w4"] * x2 + p["b2"]
    v["h2"] = torch.sigmoid(v["a2"])
    h1, h2 = v["h1"], v["h2"]
    v["a3"] = p["w5"] * h1 + p["w6"] * h2 + p["b3"]
    v["a4"] = p["w7"] * h1 + p["w8"] * h2 + p["b4"]
    v["a5"] = p["w9"] * h1 + p["w10"] * h2 + p["b5"]
    v["a6"] = p["w11"] * h1 + p["w12"] * h2 + (p["b5"] if original else p["b6"])  # the bug: b5 for b6
    softmax = torch.softmax(torch.stack([v["a3"], v["a4"], v["a5"], v["a6"]], dim=1), dim=1)  # (m, 4)
    for k in range(4):
        v[f"h{k + 3}"] = softmax[:, k]
    return v


def _gradients(p: dict[str, float], x: Tensor, labels: Tensor, original: bool) -> dict[str, float]:
    """``Σ_samples dp / m`` for every parameter: the derivation above, summed over the batch."""
    v = forward_multiclass(p, x, original=original)
    x1, x2, h1, h2 = x[:, 0], x[:, 1], v["h1"], v["h2"]
    y = torch.nn.functional.one_hot(labels, 4).to(x.dtype)  # (m, 4)
    d1, d2, d3, d4 = (v[f"h{k + 3}"] - y[:, k] for k in range(4))  # δk = ∂L/∂a_{k+2} per sample
    g = {
        "w5": d1 * h1, "w6": d1 * h2, "b3": d1,  # ∂a3/∂(w5, w6, b3) = (h1, h2, 1)
        "w7": d2 * h1, "w8": d2 * h2, "b4": d2,
        "w9": d3 * h1, "w10": d3 * h2, "b5": d3,
        "w11": d4 * h1, "w12": d4 * h2, "b6": d4,
    }  # fmt: skip
    da1 = (d1 * p["w5"] + d2 * p["w7"] + d3 * p["w9"] + d4 * p["w11"]) * h1 * (1 - h1)  # Σ over 4 paths
    da2 = (d1 * p["w6"] + d2 * p["w8"] + d3 * p["w10"] + d4 * p["w12"]) * h2 * (1 - h2)
    g.update({"w1": da1 * x1, "w2": da1 * x2, "b1": da1, "w3": da2 * x1, "w4": da2 * x2, "b2": da2})
    m = x.shape[0]
    return {name: g[name].sum().item() / m for name in NAMES}


def applied_gradients(p: dict[str, float], x: Tensor, labels: Tensor, *, original: bool = False) -> dict[str, float]:
    """What the fit loop subtracts (times lr) from each parameter.

    Correct: the gradient. Original notebook: ``db4..db6`` go into ``b1..b3`` and ``b4..b6`` get
    nothing.
    """
    g = _gradients(p, x, labels, original)
    if original:
        for low, high in (("b1", "b4"), ("b2", "b5"), ("b3", "b6")):
            g[low] += g[high]  # the bug: self.b1 -= lr * db4 / m, ...
            g[high] = 0.0
    return g


@dataclass(frozen=True)
class MulticlassRun:
    """Parameters after training and the cross-entropy after each epoch."""

    params: dict[str, float]
    losses: tuple[float, ...]


def cross_entropy(p: dict[str, float], x: Tensor, labels: Tensor, *, original: bool = False) -> float:
    """``-(1/m) Σ log h_{y+3}``."""
    v = forward_multiclass(p, x, original=original)
    probs = torch.stack([v[f"h{k + 3}"] for k in range(4)], dim=1)  # (m, 4)
    return -probs.gather(1, labels[:, None]).log().mean().item()


def fit_multiclass(
    p: dict[str, float], x: Tensor, labels: Tensor, epochs: int = 2000, lr: float = 1.0, *, original: bool = False
) -> MulticlassRun:
    """Full-batch gradient descent as in the notebook: ``p -= lr · applied_gradient``."""
    p = dict(p)
    losses = []
    for _ in range(epochs):
        g = applied_gradients(p, x, labels, original=original)
        p = {name: p[name] - lr * g[name] for name in NAMES}
        losses.append(cross_entropy(p, x, labels, original=original))
    return MulticlassRun(p, tuple(losses))


def predict_multiclass(p: dict[str, float], x: Tensor, *, original: bool = False) -> Tensor:
    """Class labels (m,): the largest of h3..h6."""
    v = forward_multiclass(p, x, original=original)
    return torch.stack([v[f"h{k + 3}"] for k in range(4)], dim=1).argmax(dim=1)
