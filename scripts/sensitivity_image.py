"""The README's sensitivity picture: the lecture run (lr 2.5) against its 1-ULP-perturbed twin.

python scripts/sensitivity_image.py [--epochs 600] [--out docs/images/sensitivity.png]
"""

from __future__ import annotations

import argparse

from manual_vs_autograd import CompareSpec, run_compare
from manual_vs_autograd.check_schedule import CheckSchedule
from manual_vs_autograd.plots.common import save_figure
from manual_vs_autograd.plots.sensitivity import plot_sensitivity


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=600)
    parser.add_argument("--out", default="docs/images/sensitivity.png")
    args = parser.parse_args()
    # every step, so that the perturbed run follows the whole run (the default stops it after the first 10% of steps)
    result = run_compare(CompareSpec(epochs=args.epochs, device="cpu"), check=CheckSchedule(every=1))
    traj = result.trajectories
    sens = traj.sensitivity
    G, _, _ = sens.growth()
    fig = plot_sensitivity(
        sens.distance,
        sens.bound,
        traj.record.losses["autograd"],
        loss_steps=traj.record.loss_steps,
        horizon=sens.horizon,
        parted=traj.trajectory.first_outside_step,
        title=f"lecture 2-2-1 run, lr 2.5: a 1-ULP start grows x{G:.2f}/step, passes the bound at step {sens.horizon}",
    )
    save_figure(fig, args.out)
    print(f"wrote {args.out}; {result.diagnosis()}")


if __name__ == "__main__":
    main()
