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
    print(f"{'network':<22} {'dtype':<8} {'batch':<6} {'steps':>6} {'grads exact':>11} {'max ULP':>8} "
          f"{'max loss diff':>13} {'max param diff':>14}  parity")
    for hidden, activation, loss, batch, epochs in RUNS:
        for dtype in ("float64", "float32"):
            spec = CompareSpec(hidden, activation, loss, epochs, batch_size=batch, dtype=dtype, device=device)
            r = run_compare(spec)
            exact = sum(p.exact for p in r.gradients.params)
            ulp = max(p.max_ulp for p in r.gradients.params)
            t = r.trajectories
            print(f"{r.config.describe():<22} {dtype:<8} {str(batch or 'full'):<6} {t.steps:>6} "
                  f"{exact:>5}/{len(r.gradients.params):<5} {ulp:>8} {t.max_loss_diff:>13.3g} {t.max_param_diff:>14.3g}  "
                  f"{'yes' if r.parity else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
