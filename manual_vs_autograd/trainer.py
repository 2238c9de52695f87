"""Side-by-side training: the manual network and its autograd twin, step for step.

Both sides start from identical parameters and see identical batches: the whole training set
(full batch), or shuffled mini-batches whose order comes from one seeded ``torch.Generator`` and is
fed to both. The comparison streams (memory O(parameters), see :mod:`.streaming`):

* **step parity** — each step's gradients and loss, from the same parameters, within the per-element
  bounds of :mod:`.bounds`. Free when the two sides' gradients are bitwise equal (checked at every
  step); otherwise bounded, on the steps the :class:`~.check_schedule.CheckSchedule` picks (default:
  step 1, then within a share of the run's own time; ``every=1``: every step). After the free runs
  have parted, the manual gradient is recomputed at autograd's parameters (teacher forcing).
* **trajectory parity** — the free runs within the rounding the steps may accumulate; the bounds it
  accumulates are refreshed on the checked steps (while bitwise equal, at most every
  :data:`TRAJECTORY_BOUND_EVERY` steps).
* **sensitivity** (:mod:`.sensitivity`) — a third run from a 1-ULP-perturbed start.

The update rule is :class:`~.optim.OptimizerSpec`'s (default plain SGD): the hand-written rule of
:mod:`.optim` on the manual side, ``torch.optim`` on the twin. For any rule but plain SGD (whose update
``p - lr·g`` is fixed by the gradient) step parity also checks the **update** on the same steps as the
gradients, teacher-forced: the manual rule runs from autograd's parameters, autograd's optimizer state
(:func:`~.optim.state_from_torch`) and autograd's gradients, on the checked steps, and every state buffer and parameter it
produces is compared with what ``torch.optim`` produced, within :data:`UPDATE_BOUND_EPS` eps of each
tensor's largest value (the optimizer package's bound for honest rounding; on the CPU the rules mirror
torch's single-tensor implementation op for op and are bitwise equal).

What is kept for pictures and ``--save`` is the :class:`~.recorder.Recorder`'s choice. Ctrl-C and
SIGTERM are held while a step's updates and summaries are written (:class:`~.held_signals.HeldSignals`),
so an interrupt finds both sides after the same step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

import torch
from torch import Tensor

from .batches import batches
from .bounds import mlp_grad_bounds, unit_roundoff
from .bounds_prob import samples_for
from .check_schedule import CheckSchedule
from .config import MLPConfig
from .errors import InputError, check_positive
from .flat import FlatParams
from .held_signals import HeldSignals
from .manual import loss_and_grads
from .optim import ManualOptimizer, OptimizerSpec, make_optimizers, manual_step, torch_optimizer
from .parity import ParamParity, compare_tensors
from .recorder import Recorder, RecordPolicy
from .sensitivity import Sensitivity
from .streaming import StepParity, TrajectoryParity
from .twin import TwinMLP
from .validation import check_inputs

__all__ = ["SideRecord", "TrainConfig", "Trajectories", "train_side_by_side"]

TRAJECTORY_BOUND_EVERY = 10  # while bitwise equal, the bounds that D_t accumulates are refreshed at most this often
UPDATE_BOUND_EPS = 64
"""Allowed |Δ| of a teacher-forced update (parameter or state buffer), in eps of the tensor's largest
value: each rule is ≤ 6 elementwise ops per element, so an honest re-implementation (other ops, another
kernel such as CUDA's foreach) differs by a few eps; 64 leaves room (``optim``'s ``honest_tolerance``)."""


@dataclass(frozen=True)
class TrainConfig:
    """How both sides are trained."""

    epochs: int = 2000  # passes over the training set
    lr: float = 5.0  # SGD learning rate
    batch_size: int | None = None  # None: full batch; else shuffled mini-batches of this size
    seed: int = 0  # seed of the generator that shuffles the mini-batches
    optimizer: OptimizerSpec | None = None  # the update rule and its settings; None: plain SGD. Its lr is ``lr``

    def __post_init__(self) -> None:
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or self.epochs <= 0:
            raise InputError(f"epochs must be a positive integer, got {self.epochs!r}")
        check_positive("learning rate", self.lr)
        if self.batch_size is not None and (
            isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size <= 0
        ):
            raise InputError(f"batch size must be a positive integer, got {self.batch_size!r}")

    def optimizer_spec(self) -> OptimizerSpec:
        """The update rule that runs: :attr:`optimizer` (default plain SGD) with the learning rate :attr:`lr`."""
        return (self.optimizer or OptimizerSpec("sgd")).with_lr(self.lr)

    def steps_per_epoch(self, n_samples: int) -> int:
        """Steps in one pass over ``n_samples``: 1 for full batch, else ceil(n / batch size)."""
        return 1 if self.batch_size is None else -(-n_samples // self.batch_size)


@dataclass
class SideRecord:
    """One side's kept steps: losses at ``Recorder.loss_steps``, parameters at ``Recorder.param_steps``."""

    losses: list[float] = field(default_factory=list)
    params: dict[str, list[Tensor]] = field(default_factory=dict)

    def stacked(self) -> dict[str, Tensor]:
        """``name -> (kept steps, *shape)`` tensor."""
        return {name: torch.stack(ps) for name, ps in self.params.items()}


@dataclass
class Trajectories:
    """A side-by-side run: its running summaries, what was recorded, and why it stopped (if early)."""

    record: Recorder
    step_parity: StepParity
    trajectory: TrajectoryParity
    sensitivity: Sensitivity | None
    dtype: torch.dtype
    steps: int = 0
    stopped: str | None = None  # why the run ended early (divergence, an exception, Ctrl-C), or None
    final_loss: tuple[float, float] = (math.nan, math.nan)  # manual, autograd: the last step's
    schedule: CheckSchedule = field(default_factory=CheckSchedule)  # which steps were checked, and their cost

    @property
    def manual(self) -> SideRecord:
        return SideRecord(self.record.losses["manual"], self.record.params["manual"])

    @property
    def autograd(self) -> SideRecord:
        return SideRecord(self.record.losses["autograd"], self.record.params["autograd"])

    def loss_parity(self) -> ParamParity:
        """The recorded losses of both sides, compared (no bound: exact or not, and by how much)."""
        m = torch.tensor(self.manual.losses, dtype=torch.float64)
        a = torch.tensor(self.autograd.losses, dtype=torch.float64)
        return compare_tensors("loss", m.to(self.dtype), a.to(self.dtype))

    def param_parity(self) -> tuple[ParamParity, ...]:
        """Per recorded parameter, the largest difference over the recorded steps."""
        m, a = self.manual.stacked(), self.autograd.stacked()
        return tuple(compare_tensors(name, m[name], a[name]) for name in m)

    @property
    def max_loss_diff(self) -> float:
        return self.trajectory.max_loss_diff

    @property
    def max_param_diff(self) -> float:
        return self.trajectory.max_param_diff

    @property
    def parity(self) -> bool:
        """The verdict: step parity (every checked step's gradients within their bounds)."""
        return self.step_parity.holds


def train_side_by_side(
    config: MLPConfig,
    params: dict[str, Tensor],
    x: Tensor,
    y: Tensor,
    train: TrainConfig,
    *,
    progress: Callable[[int, int], None] | None = None,
    record: RecordPolicy | None = None,
    sensitivity: bool = True,
    rule: Callable[..., None] | None = None,
    check: CheckSchedule | None = None,
) -> tuple[dict[str, Tensor], TwinMLP, Trajectories]:
    """Train a copy of ``params`` by hand and a :class:`TwinMLP` by autograd, on the same batches.

    Args:
        params: the shared starting point (not modified).
        x, y: the training set; targets as :func:`manual_vs_autograd.data.targets_for` makes them. Read at
            each step for mini-batches, once (at step 1) for the full batch; not modified.
        progress: called as ``progress(step, total_steps)`` after each step.
        record: what to keep (default :class:`RecordPolicy`: every step within its budget).
        sensitivity: run the 1-ULP-perturbed third network (:mod:`.sensitivity`).
        rule: the manual side's update rule, ``rule(params, grads, state, spec)`` (default
            :func:`~.optim.manual_step`, the rule of ``train.optimizer_spec()``; tests pass mutated ones). It
            updates ``params`` in place; one that assigns new tensors instead has them copied back, and one
            that removes or adds a tensor or changes a shape, dtype or device stops the run (``stopped`` says
            so; the summaries and the record end before that step, the parameters returned are as it left them).
        check: which steps get the bounded checks and how far the perturbed run goes (default
            :class:`~.check_schedule.CheckSchedule`: a share of the run's own time; ``CheckSchedule(every=1)``:
            every step).

    Returns:
        the manual side's final parameters, the trained twin, and the run's :class:`Trajectories`.
        A run whose loss turns NaN or infinite, or in which torch raises on either side, stops
        there, and Ctrl-C stops it after the last step both sides completed; either way
        ``Trajectories.stopped`` says where and on which side, and the record is kept.
    """
    check_inputs(config, params, x, y)
    if train.batch_size is not None and train.batch_size > x.shape[0]:
        raise InputError(f"batch size {train.batch_size} is larger than the {x.shape[0]} training samples")
    schedule = check or CheckSchedule()
    if x.device.type == "cuda" and schedule.sync is None:
        schedule.sync = partial(torch.cuda.synchronize, x.device)
    # each side's parameters are views of one buffer (:mod:`.flat`): a step's summaries and record in a few operations
    manual_flat = FlatParams.copy_of(params)
    manual = dict(manual_flat.views)
    twin = TwinMLP(config, params)
    named = twin.named_math_parameters()
    live_flat = FlatParams.adopt(named)
    live = {name: p.detach() for name, p in named.items()}  # views, no copies
    spec = train.optimizer_spec()
    manual_optimizer, optimizer = make_optimizers(spec, manual, twin, rule=rule or manual_step)
    check_update = spec.name != "sgd" or spec.weight_decay != 0 or rule is not None  # plain SGD: p - lr·g
    total = train.epochs * train.steps_per_epoch(x.shape[0])
    recorder = Recorder.for_run(
        record or RecordPolicy(),
        total,
        {n: p.numel() * p.element_size() for n, p in params.items()},
    )
    result = Trajectories(
        recorder,
        StepParity(),
        TrajectoryParity(unit_roundoff(x.dtype), train.lr),
        Sensitivity.start(config, params, train.lr, lambda ps: torch_optimizer(spec, ps)) if sensitivity else None,
        x.dtype,
        schedule=schedule,
    )
    recorder.add_params(0, manual_flat, live_flat)
    step = 0
    full_batch = train.steps_per_epoch(x.shape[0]) == 1
    grad_names = {n: f"d{n}" for n in named}
    last_refresh = -TRAJECTORY_BOUND_EVERY
    before = result.step_parity
    with HeldSignals() as held:  # Ctrl-C and SIGTERM: at once, but never inside held.hold()
        try:
            for step, index in enumerate(batches(x.shape[0], train.batch_size, train.epochs, train.seed, x.device), 1):
                before = result.step_parity  # restored if interrupted (a copy, below, if this step's checks change it)
                if step == 1 or not full_batch:  # full batch: the same batch every step, gathered once
                    xb, yb = x[index], y[index]
                side = "manual"
                schedule.start("plain")
                try:
                    L_manual, grads = loss_and_grads(manual, xb, yb, config)
                    side = "autograd"
                    optimizer.zero_grad(set_to_none=True)
                    L_auto = twin.loss(xb, yb)
                    L_auto.backward()
                except KeyboardInterrupt:
                    raise
                except Exception as err:  # noqa: BLE001  any torch error (e.g. BCE refusing NaN inputs) is divergence
                    result.stopped = (
                        f"the {side} side raised {type(err).__name__} at step {step}: {str(err).splitlines()[0]}"
                    )
                    break
                schedule.stop("plain", count=False)
                auto_grads: dict[str, Tensor] = {}
                for n, p in named.items():
                    g = p.grad
                    assert g is not None, f"{n} feeds the loss, so backward() gave it a gradient"
                    auto_grads[grad_names[n]] = g
                due = schedule.check_due(step, total)
                refresh = due and step - last_refresh >= TRAJECTORY_BOUND_EVERY
                samples = samples_for(config, xb.shape[0]) if due else 0  # 0 also: they would not fit, worst case alone
                sharp = due and samples > 0 and schedule.sharp_due(samples)
                schedule.start("checks")
                if due or result.trajectory.exact:  # the checks below count this step
                    before = replace(result.step_parity, worst=dict(result.step_parity.worst))
                    before.worst_step = dict(result.step_parity.worst_step)
                bounded_before = result.step_parity.bounded
                step_bounds = _check_step(result, step, due, refresh, sharp, config, manual, live, xb, yb, L_manual, grads,
                                          L_auto.detach(), auto_grads)  # fmt: skip
                schedule.stop("checks", bounded=result.step_parity.bounded > bounded_before, sharp=sharp)
                last_refresh = step if step_bounds is not None else last_refresh

                losses = (L_manual.item(), L_auto.item())
                bad = [s for s, value in zip(("manual", "autograd"), losses) if not math.isfinite(value)]
                with held.hold():  # both sides' updates and this step's summaries, or none of them
                    schedule.start("plain")
                    manual_optimizer.step(grads)
                    if not (check_update and due):
                        optimizer.step()
                    schedule.stop("plain")
                    if check_update and due:
                        schedule.start("checks")
                        _check_update(result.step_parity, step, manual_optimizer, optimizer, named, auto_grads)
                        schedule.stop("checks")
                    replaced = manual_flat.take(manual)  # a rule that assigned tensors instead of updating in place
                    if replaced is not None:  # this step is not kept: its summaries, record and steps end before it
                        result.stopped = (
                            f"the manual side's update rule {replaced} at step {step} (a rule updates the parameters "
                            f"in place); the summaries and the record end before it"
                        )
                        break
                    loss_diff = abs(losses[0] - losses[1]) if not bad else math.nan
                    result.trajectory.step(step, manual_flat, live_flat, loss_diff, step_bounds)
                    result.steps, result.final_loss = step, losses
                    if recorder.wants(step, last=step == total or bool(bad)):
                        recorder.add_loss(step, *losses)
                        recorder.add_params(step, manual_flat, live_flat)
                if bad:
                    result.stopped = (
                        f"the loss became {losses[0] if bad[0] == 'manual' else losses[1]} at step {step} "
                        f"on the {' and '.join(bad)} side{'s' if len(bad) == 2 else ''}"
                    )
                    break
                sens = result.sensitivity
                if sens is not None and sens.active:
                    if schedule.sensitivity_allowed(step, total):
                        schedule.start("sensitivity")
                        sens.step(step, xb, yb, live_flat, result.trajectory.allowed)
                        schedule.stop("sensitivity")
                    else:
                        sens.out_of_time(step - 1, schedule.follow)
                if progress is not None:
                    progress(step, total)
        except KeyboardInterrupt:
            # Keep what both sides completed: a step in flight is dropped, with what its checks counted.
            if result.stopped is None:  # else the rule's failure at this step, which the interrupt met: kept
                if result.steps < step:
                    result.step_parity = before
                when = f"during step {step}" if result.steps < step else f"after step {step}"
                result.stopped = f"interrupted {when}; kept the {result.steps} steps both sides completed"
                if result.steps:  # both sides' buffers hold that step: nothing after it was written
                    recorder.add_params(result.steps, manual_flat, live_flat)
    live_flat.release(named)  # the caller gets tensors of their own, as it gave them
    return {name: p.clone() for name, p in manual.items()}, twin, result


def _check_step(
    result: Trajectories,
    step: int,
    due: bool,
    refresh: bool,
    sharp: bool,
    config: MLPConfig,
    manual: dict[str, Tensor],
    live: dict[str, Tensor],
    xb: Tensor,
    yb: Tensor,
    L_manual: Tensor,
    grads: dict[str, Tensor],
    L_auto: Tensor,
    auto_grads: dict[str, Tensor],
) -> dict[str, float] | None:
    """Step parity for one step (see the module docstring); returns the bounds' maxima when computed.

    ``due``: the schedule picked this step for the bounded checks; ``refresh``: bitwise-equal steps
    compute the bounds too, for the trajectory's ``D_t``; ``sharp``: the bound is the smaller of the
    worst-case and the probabilistic one (:func:`~.bounds.mlp_grad_bounds`), else the worst case alone.
    """
    checks = result.step_parity
    if result.trajectory.exact:  # both sides still at the same parameters
        same_grads = all(torch.equal(grads[k], auto_grads[k]) for k in auto_grads)
        if same_grads and (torch.equal(L_manual, L_auto) or not due):
            checks.bitwise_step()
            if refresh:
                refreshed = mlp_grad_bounds(config, manual, xb, yb, probabilistic=False)  # D_t: the worst case
                return {k: float(b.max().item()) for k, b in refreshed.items()}
            return None
        if not due:
            return None
        bounds = mlp_grad_bounds(config, manual, xb, yb, probabilistic=sharp)
        checks.sharp += sharp
        return checks.bounded_step(step, {**grads, "loss": L_manual}, {**auto_grads, "loss": L_auto}, bounds)
    if not due:
        return None
    here = {n: p.clone() for n, p in live.items()}  # teacher forcing: the manual step from autograd's parameters
    L_forced, forced = loss_and_grads(here, xb, yb, config)
    bounds = mlp_grad_bounds(config, here, xb, yb, probabilistic=sharp)
    checks.sharp += sharp
    return checks.bounded_step(step, {**forced, "loss": L_forced}, {**auto_grads, "loss": L_auto}, bounds)


def _check_update(
    checks: StepParity,
    step: int,
    manual_optimizer: ManualOptimizer,
    optimizer: torch.optim.Optimizer,
    named: dict[str, torch.nn.Parameter],
    auto_grads: dict[str, Tensor],
) -> None:
    """Run ``optimizer.step()`` and, teacher-forced, the manual rule from the same parameters, state and gradients.

    Every state buffer and then every parameter the manual rule produces is compared with torch's, each
    element within :data:`UPDATE_BOUND_EPS` eps of the tensor's largest value; a difference outside it
    fails step parity at this step, named ``"update W1"`` (parameter) or ``"exp_avg W1"`` (state buffer).
    """
    from .optim import init_state, state_buffers, state_from_torch

    spec = manual_optimizer.spec
    params = {name: p.detach().clone() for name, p in named.items()}
    state = state_from_torch(spec, optimizer, named)
    if not any(state_buffers(state).values()):  # before torch's first step: the rule's own starting state
        state = init_state(spec, params)
    grads = {key: g.clone() for key, g in auto_grads.items()}
    optimizer.step()
    manual_optimizer.rule(params, grads, state, spec)
    after = state_from_torch(spec, optimizer, named)
    mine: dict[str, Tensor] = {}
    theirs: dict[str, Tensor] = {}
    for key, buffers in state_buffers(after).items():
        for name, reference in buffers.items():
            mine[f"{key} {name}"] = state_buffers(state)[key].get(name, torch.full_like(reference, math.nan))
            theirs[f"{key} {name}"] = reference
    for name, p in named.items():
        mine[f"update {name}"] = params.get(name, torch.full_like(p.detach(), math.nan))  # removed: NaN, a failure
        theirs[f"update {name}"] = p.detach()
    bounds = {
        key: torch.full_like(
            t, UPDATE_BOUND_EPS * torch.finfo(t.dtype).eps * (float(t.abs().max()) if t.numel() else 0.0)
        )
        for key, t in theirs.items()
    }
    checks.bounded_step(step, mine, theirs, bounds, count=False)
