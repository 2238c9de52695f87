"""Both sides trained together: the manual network with a hand-written rule, the twin with ``torch.optim``.

This is the optimizer's side-by-side loop, free running (each side steps from its own parameters):
the whole-run parity tests and the optimizer-paths picture use it. The package's trainer
(:func:`manual_vs_autograd.train_side_by_side`) is the full version with records and verdicts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import torch
from torch import Tensor

from ..batches import batches
from ..config import MLPConfig
from ..manual import loss_and_grads
from ..twin import TwinMLP
from .rules import manual_step
from .spec import OptimizerSpec
from .state import OptimizerState, init_state
from .torch_side import torch_optimizer

__all__ = ["ManualOptimizer", "OptimizerProblem", "PairRun", "Rule", "make_optimizers", "run_pair", "step_batches"]

Rule = Callable[[dict[str, Tensor], dict[str, Tensor], OptimizerState, OptimizerSpec], None]
"""An update rule's signature: ``rule(params, grads, state, spec)``, in place (as :func:`manual_step`)."""


@dataclass(frozen=True)
class ManualOptimizer:
    """The manual side's ``optimizer.step()``: a rule, the parameters it updates and its state, all in view."""

    spec: OptimizerSpec
    params: dict[str, Tensor]  # updated in place
    state: OptimizerState  # updated in place
    rule: Rule = manual_step

    def step(self, grads: dict[str, Tensor]) -> None:
        """One update from ``{"dW1": ..., "db1": ...}`` (in place of ``manual.sgd_step(params, grads, lr)``)."""
        self.rule(self.params, grads, self.state, self.spec)


@dataclass(frozen=True)
class OptimizerProblem:
    """What both sides train on: the network, its starting parameters, the data and ``steps`` steps of its batches.

    The batches are the trainer's (:func:`manual_vs_autograd.batches.batches`): the whole set when
    ``batch_size`` is None, else seeded shuffled mini-batches, epoch after epoch.
    """

    config: MLPConfig
    params: dict[str, Tensor]  # not modified
    x: Tensor
    y: Tensor
    steps: int
    batch_size: int | None = None
    seed: int = 0

    def batches(self) -> Iterator[tuple[int, Tensor]]:
        """``(step, index)`` for steps 1 … ``steps``."""
        return step_batches(self.x, self.steps, self.batch_size, self.seed)


def step_batches(x: Tensor, steps: int, batch_size: int | None, seed: int) -> Iterator[tuple[int, Tensor]]:
    """``(step, index)`` for steps 1 … ``steps``: the trainer's mini-batches of the rows of ``x``
    (:func:`manual_vs_autograd.trainer.batches`), epoch after epoch, cut off after ``steps``."""
    per_epoch = 1 if batch_size is None else -(-x.shape[0] // batch_size)  # ⌈N / B⌉
    epochs = -(-steps // per_epoch)  # ⌈steps / per_epoch⌉: enough epochs to make ``steps``
    return zip(range(1, steps + 1), batches(x.shape[0], batch_size, epochs, seed, x.device))


def make_optimizers(
    spec: OptimizerSpec, manual: dict[str, Tensor], twin: TwinMLP, *, rule: Rule = manual_step
) -> tuple[ManualOptimizer, torch.optim.Optimizer]:
    """Both sides' optimizers for one run: the hand-written rule on ``manual`` and ``torch.optim`` on the twin.

    The drop-in for the trainer's ``sgd_step(manual, grads, lr)`` / ``torch.optim.SGD(twin.parameters(), lr=lr)``.
    """
    manual_optimizer = ManualOptimizer(spec, manual, init_state(spec, manual), rule)
    return manual_optimizer, torch_optimizer(spec, twin.named_math_parameters().values())


@dataclass(frozen=True)
class PairRun:
    """Both sides' losses (steps,) and parameters (steps + 1, *shape), step 0 being the start."""

    spec: OptimizerSpec
    manual_losses: Tensor  # (steps,) float64
    autograd_losses: Tensor  # (steps,) float64
    manual_params: dict[str, Tensor]  # name -> (steps + 1, *shape)
    autograd_params: dict[str, Tensor]  # name -> (steps + 1, *shape)


def run_pair(
    spec: OptimizerSpec,
    problem: OptimizerProblem,
    *,
    trainable: dict[str, Tensor] | None = None,
    rule: Rule = manual_step,
) -> PairRun:
    """Train a copy of ``problem.params`` by ``loss_and_grads`` + ``rule`` and a twin by ``backward()`` + ``torch.optim``.

    Args:
        problem: the network, its start, the data and the steps (:class:`OptimizerProblem`).
        trainable: optional 0/1 masks by parameter name: gradients are multiplied by them on both sides
            before the step, so masked entries stay where they are (with weight decay 0).
        rule: the manual update (default :func:`manual_step`; the tests pass mutated ones).
    """
    config, params, x, y = problem.config, problem.params, problem.x, problem.y
    manual = {name: p.detach().clone() for name, p in params.items()}
    twin = TwinMLP(config, params)
    named = twin.named_math_parameters()
    manual_optimizer, optimizer = make_optimizers(spec, manual, twin, rule=rule)
    losses: tuple[list[float], list[float]] = ([], [])
    history: tuple[list[dict[str, Tensor]], list[dict[str, Tensor]]] = ([_copy(manual)], [_copy(named)])
    for _, index in problem.batches():
        xb, yb = x[index], y[index]
        L_manual, grads = loss_and_grads(manual, xb, yb, config)
        if trainable is not None:
            grads = {key: g * trainable[key[1:]] for key, g in grads.items()}
        manual_optimizer.step(grads)

        optimizer.zero_grad(set_to_none=True)
        L_auto = twin.loss(xb, yb)
        L_auto.backward()
        if trainable is not None:
            for name, p in named.items():
                assert p.grad is not None, f"{name} got no gradient"
                p.grad.mul_(trainable[name])
        optimizer.step()

        losses[0].append(L_manual.item())
        losses[1].append(L_auto.item())
        history[0].append(_copy(manual))
        history[1].append(_copy(named))

    def stack(h):
        return {name: torch.stack([row[name] for row in h]) for name in h[0]}

    def as_tensor(v):
        return torch.tensor(v, dtype=torch.float64)

    return PairRun(spec, as_tensor(losses[0]), as_tensor(losses[1]), stack(history[0]), stack(history[1]))


def _copy(params: Mapping[str, Tensor]) -> dict[str, Tensor]:
    return {name: p.detach().clone() for name, p in params.items()}
