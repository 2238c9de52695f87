"""The human-readable report of a side-by-side run: what ``mva compare`` prints, and notebooks show."""

from __future__ import annotations

from .compare import CompareResult
from .devices import dtype_name

__all__ = ["format_report"]


def _plain_sgd(train) -> bool:
    spec = train.optimizer_spec()
    return spec.name == "sgd" and spec.weight_decay == 0


def format_report(result: CompareResult) -> str:
    """The human-readable table."""
    tr, traj, grads = result.train, result.trajectories, result.gradients
    batch = "full batch" if tr.batch_size is None else f"batch {tr.batch_size}"
    n_train = result.data.x_train.shape[0]
    lines = [
        f"network {result.config.describe()} | {dtype_name(result.dtype)} on {result.device} | "
        f"{tr.epochs} epochs, lr {tr.lr:g}, {batch}, {n_train} training samples | init {result.init}, seed {result.spec.seed}",
        f"optimizer {tr.optimizer_spec().describe()}",
        "",
        "gradients at the first step, manual vs autograd, each element against its own bound:",
        f"  {'param':<6} {'shape':<10} {'max |diff|':>11} {'max ULP':>8} {'|diff|/bound':>12}  exact  verdict",
    ]
    for p in (*grads.params, grads.loss):
        lines.append(
            f"  {p.name:<6} {str(p.shape):<10} {p.max_abs_diff:>11.3g} {p.max_ulp:>8d} {p.max_ratio:>12.3g}  "
            f"{'yes' if p.exact else 'no ':<5}  {'within' if p.within else 'OUTSIDE'}"
        )
    sp, tp, sens = traj.step_parity, traj.trajectory, traj.sensitivity
    lines += [
        "",
        f"step parity over {traj.steps} steps (same parameters, each step's gradients and loss"
        + ("" if _plain_sgd(tr) else ", and the optimizer's update from the same state")
        + "):",
    ]
    lines.append(
        f"  {'holds' if sp.holds else 'FAILS'}: {sp.checked} steps checked, {sp.bitwise} bitwise equal"
        f" (bounds: {traj.schedule.describe()})"
        + ("" if sp.holds else f"; first bad step {sp.first_bad_step}: {', '.join(sp.first_bad)}")
    )
    worst = max(sp.worst.values(), key=lambda r: r.max_ratio, default=None)
    if worst is not None:
        lines.append(f"  worst: {worst.name} at step {sp.worst_step[worst.name]}, |diff|/bound {worst.max_ratio:.3g}")
    lines += [
        "trajectory parity (the free runs, within the rounding the steps may accumulate):",
        f"  {'bitwise equal' if tp.exact else ('holds' if tp.holds else f'parts at step {tp.first_outside_step} ({tp.first_outside})')}"
        f"   max |parameter diff| {tp.max_param_diff:.3g}   max |loss diff| {tp.max_loss_diff:.3g}",
    ]
    if sens is not None:
        G, first, last = sens.growth()
        followed = len(sens.distance) - 1
        horizon = f"passes the bound at step {sens.horizon}" if sens.horizon is not None else "stays within the bound"
        growth = f"x{G:.3g} per step over steps {first}-{last}" if G is not None else "growth not measurable"
        summary = f"{horizon}; {growth}" if followed >= 2 else f"not measured ({followed} step followed)"
        lines.append(
            f"sensitivity (autograd from a 1-ULP-perturbed start): {summary}"
            + (f"; {sens.reason}" if sens.reason else "")
        )
    lines.append(f"diagnosis: {result.diagnosis()}")
    policy = traj.record.policy
    if policy.get("thinned"):
        lines.append(f"record: {policy['note']}")
    if traj.stopped:
        lines.append(f"  stopped early: {traj.stopped}")
    lines += [
        "",
        f"final loss: manual {traj.final_loss[0]:.10g}   autograd {traj.final_loss[1]:.10g}",
        f"accuracy:   train {result.accuracy['train']:.3f}   test {result.accuracy['test']:.3f}"
        f"   (autograd: train {result.accuracy_autograd['train']:.3f}, test {result.accuracy_autograd['test']:.3f})",
        "",
        _verdict_line(result),
    ]
    return "\n".join(lines)


def _verdict_line(result: CompareResult) -> str:
    """``parity: yes`` or ``no``; an interrupted run has no verdict, only the steps it checked."""
    stopped = result.trajectories.stopped
    if (
        stopped is not None
        and stopped.startswith("interrupted")
        and result.gradients.parity
        and result.trajectories.parity
    ):
        return "parity: not established (interrupted; every checked step agreed so far)"
    return f"parity: {'yes' if result.parity else 'no'}"
