"""Which update rule, with which settings: one frozen record for both sides.

The names follow ``torch.optim`` (2.13): ``sgd``, ``momentum`` and ``nesterov`` are
``torch.optim.SGD`` (plain, with momentum, with Nesterov momentum); ``adam`` is ``torch.optim.Adam``;
``adamw`` is ``torch.optim.AdamW``; ``rmsprop`` is ``torch.optim.RMSprop``. Every default is
``torch.optim``'s own, except the momentum of ``momentum`` and ``nesterov`` (0.9: torch's default of 0
would make them plain SGD).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

from ..errors import InputError, check_choice

__all__ = ["ADAPTIVE", "OPTIMIZERS", "SGD_FAMILY", "OptimizerSpec", "default_lr"]

SGD_FAMILY = ("sgd", "momentum", "nesterov")
ADAPTIVE = ("adam", "adamw", "rmsprop")
OPTIMIZERS = SGD_FAMILY + ADAPTIVE

ADAPTIVE_LR = 0.05
"""Default lr of Adam, AdamW and RMSprop in ``mva compare``: each step moves a weight by about lr, whatever
the gradient's size, so the SGD default (2.5 on the lecture net) would throw the weights far away."""


def default_lr(name: str, sgd_lr: float, momentum: float | None = None) -> float:
    """The learning rate ``mva compare`` uses for ``name`` when none is given.

    ``sgd_lr`` (the run's SGD default) for ``sgd``; ``sgd_lr · (1 - μ)`` for ``momentum`` and ``nesterov``
    (μ = 0.9 unless given), whose velocity sums about ``1/(1 - μ)`` gradients: the same step as SGD once
    the velocity has built up (on the lecture run lr 2.5 with μ = 0.9 overshoots; 0.25 ends where SGD
    does); :data:`ADAPTIVE_LR` for the adaptive rules.
    """
    check_choice("optimizer", name, OPTIMIZERS)
    if name == "sgd":
        return sgd_lr
    if name in SGD_FAMILY:
        mu = 0.9 if momentum is None else momentum
        return sgd_lr * (1 - mu) if 0 < mu < 1 else sgd_lr
    return ADAPTIVE_LR


def _check_number(what: str, value: Any, low: float, high: float = math.inf, *, low_open: bool = False, high_open: bool = True) -> None:  # fmt: skip
    """Raise unless ``value`` is a finite real number between ``low`` and ``high`` (ends open or closed)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise InputError(f"{what} must be a number in {interval}, got {value!r}")


@dataclass(frozen=True)
class OptimizerSpec:
    """An update rule and its settings, as ``torch.optim`` names them.

    ``None`` for ``momentum``, ``weight_decay`` or ``eps`` means "torch's default for this rule": it is
    replaced on construction, so a built spec always holds the floats that run (and that ``to_json``
    reports), and the fields are typed ``float`` for their readers.
    """

    name: str = "sgd"  # sgd | momentum | nesterov | adam | adamw | rmsprop
    lr: float = 2.5  # learning rate γ
    momentum: float = None  # type: ignore[assignment]  # μ: SGD family (0 / 0.9 / 0.9) and rmsprop (0)
    dampening: float = 0.0  # τ: SGD family only; the first step is never dampened (torch)
    weight_decay: float = None  # type: ignore[assignment]  # λ: 0, or 1e-2 for adamw (decoupled there, added to g elsewhere)
    betas: tuple[float, float] = (0.9, 0.999)  # β1, β2: adam, adamw
    eps: float = None  # type: ignore[assignment]  # ε: 1e-8 (adam, adamw, rmsprop)
    amsgrad: bool = False  # adam, adamw: divide by the running maximum of v
    alpha: float = 0.99  # rmsprop's smoothing constant of the squared gradient
    centered: bool = False  # rmsprop: divide by the variance estimate instead of the second moment

    def __post_init__(self) -> None:
        name = check_choice("optimizer", self.name, OPTIMIZERS)
        _check_number("learning rate", self.lr, 0.0, low_open=True)
        default_momentum = 0.9 if name in ("momentum", "nesterov") else 0.0
        object.__setattr__(self, "momentum", default_momentum if self.momentum is None else self.momentum)
        object.__setattr__(self, "weight_decay", (1e-2 if name == "adamw" else 0.0) if self.weight_decay is None else self.weight_decay)  # fmt: skip
        object.__setattr__(self, "eps", (0.0 if name in SGD_FAMILY else 1e-8) if self.eps is None else self.eps)
        _check_number("momentum", self.momentum, 0.0, 1.0)
        _check_number("dampening", self.dampening, 0.0, 1.0, high_open=False)
        _check_number("weight decay", self.weight_decay, 0.0)
        _check_number("eps", self.eps, 0.0)
        if name in ("momentum", "nesterov") and self.momentum == 0:
            raise InputError(f"optimizer {name!r} needs a momentum in (0, 1), got 0; use 'sgd' for plain SGD")
        if name == "nesterov" and self.dampening != 0:
            raise InputError(f"nesterov momentum needs dampening 0, got {self.dampening!r}")
        if name not in SGD_FAMILY and self.dampening != 0:
            raise InputError(f"dampening applies to sgd, momentum and nesterov, not to {name!r}")
        if name in ("adam", "adamw") and self.momentum != 0:
            raise InputError(f"momentum applies to sgd, momentum, nesterov and rmsprop, not to {name!r} (use betas)")
        if name in SGD_FAMILY and self.eps != 0:
            raise InputError(f"eps applies to adam, adamw and rmsprop, not to {name!r}")
        if name in ("adam", "adamw"):
            if not isinstance(self.betas, tuple) or len(self.betas) != 2:
                raise InputError(f"betas must be two numbers (beta1, beta2), got {self.betas!r}")
            for i, beta in enumerate(self.betas, start=1):
                _check_number(f"beta{i}", beta, 0.0, 1.0)
        elif self.betas != (0.9, 0.999):
            raise InputError(f"betas apply to adam and adamw, not to {name!r}")
        if self.amsgrad and name not in ("adam", "adamw"):
            raise InputError(f"amsgrad applies to adam and adamw, not to {name!r}")
        if name == "rmsprop":
            _check_number("alpha", self.alpha, 0.0, 1.0)
        elif self.alpha != 0.99 or self.centered:
            raise InputError(f"alpha and centered apply to rmsprop, not to {name!r}")

    @property
    def nesterov(self) -> bool:
        """Nesterov momentum (``torch.optim.SGD(nesterov=True)``)."""
        return self.name == "nesterov"

    @property
    def torch_class(self) -> str:
        """The ``torch.optim`` class that runs this rule on the autograd side."""
        return {"adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop"}.get(self.name, "SGD")

    def with_lr(self, lr: float) -> OptimizerSpec:
        """The same rule with another learning rate."""
        return replace(self, lr=lr)

    def settings(self) -> dict[str, Any]:
        """The keyword arguments this rule takes in ``torch.optim.<torch_class>`` (its own, not the others')."""
        if self.name in SGD_FAMILY:
            keys: tuple[str, ...] = ("lr", "momentum", "dampening", "weight_decay")
            return {**{k: getattr(self, k) for k in keys}, "nesterov": self.nesterov}
        if self.name == "rmsprop":
            keys = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered")
            return {k: getattr(self, k) for k in keys}
        return {k: getattr(self, k) for k in ("lr", "betas", "eps", "weight_decay", "amsgrad")}

    def describe(self) -> str:
        """E.g. ``adam (lr 0.05, betas (0.9, 0.999), eps 1e-08, weight_decay 0, amsgrad False)``."""
        return f"{self.name} ({', '.join(f'{k} {v:g}' if isinstance(v, float) else f'{k} {v}' for k, v in self.settings().items())})"

    def to_json(self) -> dict[str, Any]:
        """``{"name": ..., "torch": "torch.optim.Adam", <its settings>}``, JSON-ready (betas as a list)."""
        settings = {k: list(v) if isinstance(v, tuple) else v for k, v in self.settings().items()}
        return {"name": self.name, "torch": f"torch.optim.{self.torch_class}", **settings}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OptimizerSpec:
        """Inverse of :meth:`to_json` (for run records)."""
        fields = set(asdict(cls()))
        kwargs: dict[str, Any] = {k: tuple(v) if k == "betas" else v for k, v in data.items() if k in fields}
        return cls(**kwargs)
