"""Many paths, and why backprop reuses work.

A first-layer weight ``W1[j, i]`` reaches the loss through every chain of neurons
``j → k2 → k3 → … → m`` (one neuron per later layer, ending at an output). Its gradient is the sum,
over all those paths, of the product of local derivatives along the path::

    ∂L/∂W1[j,i] = Σ_paths  x_i · σ'(a1_j) · W2[k2,j] · σ'(a2_k2) · … · W_L[m,k_{L-1}] · σ'(a_L_m) · ∂L/∂y_m

Enumerating paths costs a product per path, and the number of paths is the product of the later
layers' widths: exponential in depth. Backprop computes ``∂L/∂a`` of each layer once and reuses it
for every weight below, so its cost is one pass over the weights: linear in depth.

The network here is the lecture's kind: sigmoid on every layer, squared error summed over the
outputs, one sample, in plain Python floats with every multiplication counted.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from .scalar_net import sigmoid

__all__ = [
    "Counter",
    "PathCountRow",
    "backprop_gradients",
    "backprop_mults",
    "path_count_table",
    "path_gradient",
    "path_mults",
]

Matrix = list[list[float]]


class Counter:
    """Counts multiplications."""

    def __init__(self) -> None:
        self.mults = 0

    def mul(self, a: float, b: float) -> float:
        self.mults += 1
        return a * b


def _forward(Ws: Sequence[Matrix], bs: Sequence[list[float]], x: list[float]) -> list[list[float]]:
    """Activations ``[x, h1, …, y]`` (not counted: both methods need the same forward pass)."""
    hs = [x]
    for W, b in zip(Ws, bs):
        hs.append([sigmoid(sum(w * h for w, h in zip(row, hs[-1])) + bo) for row, bo in zip(W, b)])
    return hs


def path_gradient(
    Ws: Sequence[Matrix], bs: Sequence[list[float]], x: list[float], y: list[float], j: int, i: int, counter: Counter
) -> float:
    """``∂L/∂W1[j, i]`` with ``L = Σ_m (y_hat_m - y_m)²``, as an explicit sum over every path."""
    hs = _forward(Ws, bs, x)
    slopes = [[h * (1 - h) for h in layer] for layer in hs[1:]]  # σ'(a) = h(1 - h), per layer
    dL_dy = [2 * (yh - yt) for yh, yt in zip(hs[-1], y)]
    widths = [len(layer) for layer in hs[2:]]
    total = 0.0
    for path in itertools.product(*(range(w) for w in widths)):  # one neuron in each later layer
        product = counter.mul(x[i], slopes[0][j])  # ∂a1_j/∂W1[j,i] · ∂h1_j/∂a1_j
        previous = j
        for layer, k in enumerate(path, start=1):
            product = counter.mul(product, Ws[layer][k][previous])  # ∂a_k/∂h_prev = W[k, prev]
            product = counter.mul(product, slopes[layer][k])  # ∂h_k/∂a_k = σ'(a_k)
            previous = k
        total += counter.mul(product, dL_dy[previous])  # ∂L/∂y_m at the path's end
    return total


def backprop_gradients(
    Ws: Sequence[Matrix], bs: Sequence[list[float]], x: list[float], y: list[float], counter: Counter
) -> list[Matrix]:
    """Every ``∂L/∂W_l`` by backprop: ``∂L/∂a`` per layer computed once, from the output backwards."""
    hs = _forward(Ws, bs, x)
    dh = [2 * (yh - yt) for yh, yt in zip(hs[-1], y)]  # ∂L/∂y
    grads: list[Matrix] = [[] for _ in Ws]
    for layer in range(len(Ws) - 1, -1, -1):
        h_out, h_in = hs[layer + 1], hs[layer]
        da = [counter.mul(d, h * (1 - h)) for d, h in zip(dh, h_out)]  # ∂L/∂a = ∂L/∂h · σ'(a)
        grads[layer] = [[counter.mul(d, h) for h in h_in] for d in da]  # ∂L/∂W[k,i] = ∂L/∂a_k · h_i
        if layer:  # ∂L/∂h_in[i] = Σ_k W[k,i] · ∂L/∂a_k: reused by every weight below
            W = Ws[layer]
            dh = [sum(counter.mul(W[k][i], da[k]) for k in range(len(da))) for i in range(len(h_in))]
    return grads


def path_mults(sizes: Sequence[int]) -> int:
    """Multiplications :func:`path_gradient` spends on every first-layer weight.

    Per path ``2 + 2·(L - 1)`` (x·σ', then W·σ' per later layer, then ·∂L/∂y), one path per choice
    of a neuron in each of the ``L - 1`` later layers.
    """
    depth = len(sizes) - 1
    paths = math.prod(sizes[2:])
    return sizes[0] * sizes[1] * paths * 2 * depth


def backprop_mults(sizes: Sequence[int]) -> int:
    """Multiplications :func:`backprop_gradients` spends on every weight of every layer."""
    total = 0
    for layer in range(len(sizes) - 1, 0, -1):
        n_out, n_in = sizes[layer], sizes[layer - 1]
        total += n_out + n_out * n_in  # ∂L/∂a, then ∂L/∂W
        if layer > 1:
            total += n_out * n_in  # ∂L/∂h of the layer below
    return total


@dataclass(frozen=True)
class PathCountRow:
    """One network shape: how many paths and multiplications each method needs."""

    sizes: tuple[int, ...]
    paths_per_first_layer_weight: int
    path_mults_first_layer: int  # path enumeration, first-layer weights only
    backprop_mults_all: int  # backprop, every weight

    @property
    def ratio(self) -> float:
        return self.path_mults_first_layer / self.backprop_mults_all


def path_count_table(depths: Sequence[int] = (1, 2, 4, 8), widths: Sequence[int] = (2, 4, 8)) -> list[PathCountRow]:
    """Rows for networks ``2 - width × depth hidden layers - 1``."""
    rows = []
    for width in widths:
        for depth in depths:
            sizes = (2, *([width] * depth), 1)
            rows.append(PathCountRow(sizes, math.prod(sizes[2:]), path_mults(sizes), backprop_mults(sizes)))
    return rows
