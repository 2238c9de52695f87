"""Print, for each activation, loss and dtype, how close manual and autograd gradients and runs are.

The table in the README ("What is bitwise equal") is this script's output on the stated machine:

    python scripts/parity_table.py
"""

from __future__ import annotations

import sys

from manual_vs_autograd import CompareSpec, run_compare

RUNS = [
    # hidden, activation, loss, batch size, epochs
    ((2,), "sigmoid", "mse", None, 2000),
    ((2,), "sigmoid", "bce", None, 2000),
    ((2,), "sigmoid", "ce", None, 2000),
    ((16, 16), "tanh", "mse", 64, 200),
    ((16, 16), "relu", "bce", 64, 200),
    ((16, 16), "tanh", "ce", 64, 200),
]


def main(device: str = "cpu") -> int:
    print(
        f"{'network':<22} {'dtype':<8} {'batch':<6} {'steps':>6} {'grads exact':>11} {'max ULP':>8} "
        f"{'max |d|/bound':>13} {'max param diff':>14} {'step':>5} {'traj':>7} {'horizon':>7}  parity"
    )
    for hidden, activation, loss, batch, epochs in RUNS:
        for dtype in ("float64", "float32"):
            spec = CompareSpec(hidden, activation, loss, epochs, batch_size=batch, dtype=dtype, device=device)
            r = run_compare(spec)
            exact = sum(p.exact for p in r.gradients.params)
            ulp = max(p.max_ulp for p in r.gradients.params)
            t = r.trajectories
            ratio = max((w.max_ratio for w in t.step_parity.worst.values()), default=0.0)
            traj = (
                "bitwise"
                if t.trajectory.exact
                else ("yes" if t.trajectory.holds else f"@{t.trajectory.first_outside_step}")
            )
            horizon = t.sensitivity.horizon if t.sensitivity is not None and t.sensitivity.horizon is not None else "-"
            print(
                f"{r.config.describe():<22} {dtype:<8} {str(batch or 'full'):<6} {t.steps:>6} "
                f"{exact:>5}/{len(r.gradients.params):<5} {ulp:>8} {ratio:>13.3g} {t.max_param_diff:>14.3g} "
                f"{'yes' if t.step_parity.holds else 'NO':>5} {traj:>7} {horizon!s:>7}  {'yes' if r.parity else 'no'}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
