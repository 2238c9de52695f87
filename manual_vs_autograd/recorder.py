"""What a side-by-side run keeps for pictures and ``--save``: a choice, with a memory budget.

The comparison itself streams (see :mod:`.streaming`); the record is only what the user asked to
keep: every ``K``-th step, the loss only, some parameters, or nothing. By default every step is
kept when both sides' parameters at every step fit :data:`DEFAULT_BUDGET_BYTES`; otherwise the
record is thinned to every ``K``-th step so that it fits, and its policy says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from .errors import InputError, summarise
from .flat import FlatParams

__all__ = ["DEFAULT_BUDGET_BYTES", "RecordPolicy", "Recorder"]

DEFAULT_BUDGET_BYTES = 256 * 2**20
"""256 MiB: the lecture's runs (a few kB per step) keep every step; a 0.4 M-parameter float32 run is thinned."""


@dataclass(frozen=True)
class RecordPolicy:
    """``every``: keep every K-th step (None: every step if it fits the budget, else thinned to fit).
    ``what``: ``"all"`` parameters, ``"loss"`` only, ``"none"``, or a tuple of parameter names."""

    every: int | None = None
    what: str | tuple[str, ...] = "all"
    budget_bytes: int = DEFAULT_BUDGET_BYTES

    def __post_init__(self) -> None:
        if self.every is not None and (
            isinstance(self.every, bool) or not isinstance(self.every, int) or self.every <= 0
        ):
            raise InputError(f"record every must be a positive integer, got {self.every!r}")
        if isinstance(self.what, str) and self.what not in ("all", "loss", "none"):
            raise InputError(f"record {self.what!r} is not one of all, loss, none or a list of parameter names")

    @staticmethod
    def parse(text: str) -> str | tuple[str, ...]:
        """``all``, ``loss``, ``none`` or ``W1,b2``: the ``--record`` option's value."""
        text = text.strip()
        if text in ("all", "loss", "none"):
            return text
        names = tuple(n.strip() for n in text.split(","))
        if not any(names):
            raise InputError(f"{text!r}: expected all, loss, none or parameter names like W1,b2")
        if not all(names):
            raise InputError(f"{text!r} has an empty name between its commas; expected names like W1,b2")
        return names

    def names(self, available: list[str]) -> list[str]:
        """The parameter names this policy keeps."""
        if self.what == "all":
            return list(available)
        if self.what in ("loss", "none"):
            return []
        unknown = [n for n in self.what if n not in available]
        if unknown:
            raise InputError(f"--record names {summarise(unknown)} not among the parameters {summarise(available)}")
        return [n for n in available if n in self.what]

    def bytes_per_step(self, param_bytes: dict[str, int]) -> int:
        """Bytes one kept step costs: both sides' kept parameters and two losses."""
        keep_loss = self.what != "none"
        return 2 * sum(param_bytes[n] for n in self.names(list(param_bytes))) + (16 if keep_loss else 0)

    def resolve(self, total_steps: int, param_bytes: dict[str, int]) -> tuple[int, bool, str]:
        """``(K, thinned, note)`` for a run of ``total_steps``."""
        per_step = self.bytes_per_step(param_bytes)
        if self.every is not None:
            return self.every, False, f"every {self.every} steps, as asked"
        need = per_step * (total_steps + 1)
        if need <= self.budget_bytes or per_step == 0:
            return 1, False, "every step"
        k = -(-need // self.budget_bytes)
        return (
            k,
            True,
            (
                f"thinned to one step in {k}: every step would take {need / 2**20:.0f} MiB, over the "
                f"{self.budget_bytes / 2**20:.0f} MiB record budget (--record-every or --record to choose)"
            ),
        )


@dataclass
class Recorder:
    """The kept steps (COORD contract B): ``loss_steps``, ``losses``, ``param_steps``, ``params``, ``policy``."""

    every: int
    param_names: list[str]
    keep_loss: bool
    policy: dict[str, Any]
    loss_steps: list[int] = field(default_factory=list)
    losses: dict[str, list[float]] = field(default_factory=lambda: {"manual": [], "autograd": []})
    param_steps: list[int] = field(default_factory=list)
    # each kept step's parameters of one side as one flat copy without gaps (one operation per side and
    # step, :meth:`.flat.FlatParams.packed`); :attr:`params` gives them back per name as views
    _rows: dict[str, list[Tensor]] = field(default_factory=lambda: {"manual": [], "autograd": []})
    _shapes: dict[str, torch.Size] = field(default_factory=dict)

    @property
    def params(self) -> dict[str, dict[str, list[Tensor]]]:
        """Per side, per kept parameter name: its value at each kept step (views into the flat copies)."""
        out: dict[str, dict[str, list[Tensor]]] = {}
        for side, rows in self._rows.items():
            out[side] = {}
            start = 0
            for name, shape in self._shapes.items():
                size = shape.numel()
                out[side][name] = [row[start : start + size].view(shape) for row in rows]
                start += size
        return out

    @classmethod
    def for_run(cls, policy: RecordPolicy, total_steps: int, param_bytes: dict[str, int]) -> Recorder:
        every, thinned, note = policy.resolve(total_steps, param_bytes)
        names = policy.names(list(param_bytes))
        what = policy.what if isinstance(policy.what, str) else list(policy.what)
        meta = {
            "every": every,
            "what": what,
            "thinned": thinned,
            "budget_bytes": policy.budget_bytes,
            "note": note,
        }
        return cls(every, names, policy.what != "none", meta)

    def wants(self, step: int, last: bool = False) -> bool:
        return step % self.every == 0 or last

    def add_params(self, step: int, manual: FlatParams, autograd: FlatParams) -> None:
        if not self.param_names or (self.param_steps and self.param_steps[-1] == step):
            return
        self.param_steps.append(step)
        names = tuple(self.param_names)
        if not self._shapes:
            self._shapes = {name: shape for name, shape in manual.shapes.items() if name in names}  # packed's order
        for side, values in (("manual", manual), ("autograd", autograd)):
            self._rows[side].append(values.packed(names))

    def add_loss(self, step: int, manual: float, autograd: float) -> None:
        if self.keep_loss and not (self.loss_steps and self.loss_steps[-1] == step):
            self.loss_steps.append(step)
            self.losses["manual"].append(manual)
            self.losses["autograd"].append(autograd)
