"""The network's description, shared by the manual side and its autograd twin, and its initial weights."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from .errors import InputError, check_choice
from .layers import ACTIVATIONS
from .losses import LOSSES

__all__ = ["INIT_SCHEMES", "NORMS", "MLPConfig", "hidden_activations", "init_params", "normal_draws"]

INIT_SCHEMES = ("lecture", "scaled")
NORMS = ("none", "layer")


def hidden_activations() -> tuple[str, ...]:
    """The activations a hidden layer may use: every registered one but ``identity``."""
    return tuple(name for name in ACTIVATIONS if name != "identity")


@dataclass(frozen=True)
class MLPConfig:
    """A fully connected feed-forward network.

    Layer ``l`` (1-based) computes ``a_l = h_{l-1} W_lᵀ + b_l`` and ``h_l = act(a_l)`` with
    ``h_0 = x``; the last ``h`` is ``y_hat``. Parameters are named ``W1, b1, W2, b2, ...`` on both
    sides, ``W_l`` of shape ``(sizes[l], sizes[l-1])`` as in ``nn.Linear``.
    """

    sizes: tuple[int, ...] = (2, 2, 1)  # widths, input first, output last: the lecture's 2-2-1
    activation: str = "sigmoid"  # hidden layers: sigmoid | tanh | relu | any registered activation
    loss: str = "mse"  # mse | bce (sigmoid output, one unit) | ce (logits, softmax in the loss) | registered
    norm: str = "none"  # none | layer (layer normalisation between each hidden linear map and its activation)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", tuple(self.sizes))
        if len(self.sizes) < 2:
            raise InputError(f"sizes {self.sizes} needs at least an input and an output width")
        for s in self.sizes:
            if not isinstance(s, (int, np.integer)) or isinstance(s, bool) or s <= 0:
                raise InputError(f"layer width {s!r} in sizes {self.sizes} must be a positive integer")
        check_choice("activation", self.activation, hidden_activations())
        check_choice("loss", self.loss, LOSSES)
        check_choice("norm", self.norm, NORMS)
        if self.loss in ("mse", "bce") and self.sizes[-1] != 1:
            raise InputError(
                f"loss {self.loss!r} takes one output unit (binary labels), got output width {self.sizes[-1]}"
            )
        if self.loss == "ce" and self.sizes[-1] < 2:
            raise InputError(f"loss 'ce' needs at least 2 output classes, got output width {self.sizes[-1]}")

    @property
    def n_layers(self) -> int:
        """Number of linear layers (hidden layers + 1)."""
        return len(self.sizes) - 1

    @property
    def output_activation(self) -> str:
        """``sigmoid`` in front of MSE and BCE; ``identity`` (logits) in front of cross-entropy."""
        return LOSSES[self.loss].output_activation

    def layer_activation(self, layer: int) -> str:
        """The activation of 1-based ``layer``: the hidden one, or the output one for the last."""
        return self.output_activation if layer == self.n_layers else self.activation

    def normalises(self, layer: int) -> bool:
        """Whether 1-based ``layer`` normalises its pre-activations (hidden layers, with ``norm="layer"``)."""
        return self.norm == "layer" and layer < self.n_layers

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """``{"W1": (sizes[1], sizes[0]), "b1": (sizes[1],), ...}`` in layer order."""
        shapes: dict[str, tuple[int, ...]] = {}
        for layer in range(1, self.n_layers + 1):
            fan_in, fan_out = self.sizes[layer - 1], self.sizes[layer]
            shapes[f"W{layer}"] = (fan_out, fan_in)
            shapes[f"b{layer}"] = (fan_out,)
        return shapes

    def describe(self) -> str:
        """E.g. ``2-2-1 sigmoid, mse`` (``2-16-1 tanh + layer norm, mse`` with normalisation)."""
        norm = "" if self.norm == "none" else f" + {self.norm} norm"
        return f"{'-'.join(map(str, self.sizes))} {self.activation}{norm}, {self.loss}"


def normal_draws(seed: int, count: int) -> np.ndarray:
    """``count`` standard-normal draws from ``numpy.random.RandomState(seed)``, in order.

    The lecture's notebooks start with ``np.random.seed(seed)`` and one ``randn()`` per weight: these
    are those numbers (consecutive calls and one call of the total count give the same sequence).
    """
    return np.random.RandomState(seed).randn(count)


def init_params(
    config: MLPConfig,
    seed: int = 0,
    *,
    scheme: str = "lecture",
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
) -> dict[str, Tensor]:
    """Initial parameters, drawn from ``numpy.random.RandomState(seed)``; biases are zero.

    ``lecture``: one standard-normal draw per weight, in order ``W1`` row by row, then ``W2``, ...
    For the 2-2-1 network and seed 0 these are the notebook's ``w1..w6`` (1.764, 0.400, 0.979,
    2.241, 1.868, -0.977), since ``W1 = [[w1, w2], [w3, w4]]`` and ``W2 = [[w5, w6]]``.

    ``scaled``: the same draws times ``1/sqrt(fan_in)``, which keeps wide and deep networks out of
    saturation.
    """
    check_choice("init scheme", scheme, INIT_SCHEMES)
    shapes = config.param_shapes()
    draws = normal_draws(seed, sum(math.prod(s) for n, s in shapes.items() if n.startswith("W")))
    used = 0
    params: dict[str, Tensor] = {}
    for name, shape in shapes.items():
        if name.startswith("W"):
            scale = 1.0 if scheme == "lecture" else 1.0 / math.sqrt(shape[1])
            values = draws[used : used + math.prod(shape)].reshape(shape) * scale
            used += math.prod(shape)
        else:
            values = np.zeros(shape)
        params[name] = torch.tensor(values, dtype=dtype, device=device)
    return params
