"""Make the small pictures shown in the README (docs/images/), from runs of the package itself.

    python scripts/readme_images.py

``docs/images/bench.png`` comes from ``mva bench`` (``bench-results/bench.png``), not from here.
"""

from __future__ import annotations

from pathlib import Path

from manual_vs_autograd import CompareSpec, run_compare
from manual_vs_autograd.lecture.names import from_matrices
from manual_vs_autograd.lecture.scalar_net import LectureNet, fit_scalar
from manual_vs_autograd.plots import plot_regions, plot_w1_only, plot_weight_trajectories, save_heatmap_gif
from manual_vs_autograd.plots.common import save_figure
from manual_vs_autograd.record import record_from_result

OUT = Path(__file__).resolve().parent.parent / "docs" / "images"


def main() -> int:
    lecture = record_from_result(run_compare(CompareSpec(device="cpu")))
    for name, fig in (("trajectories.png", plot_weight_trajectories(lecture)), ("regions.png", plot_regions(lecture))):
        save_figure(fig, OUT / name, dpi=60)
    save_heatmap_gif(lecture, OUT / "heatmap.gif", frames=25, fps=4, dpi=55)
    start = LectureNet(**from_matrices(lecture.params_at(0), lecture.config))
    x, y = lecture.data["x_train"].tolist(), lecture.data["y_train"].tolist()
    save_figure(plot_w1_only(fit_scalar(start, x, y, 500, 1.0, only_w1=True), lr=1.0), OUT / "w1_only.png", dpi=60)
    chaotic = record_from_result(run_compare(CompareSpec(loss="ce", epochs=300, lr=1.0, device="cpu")))
    save_figure(plot_weight_trajectories(chaotic, max_lines=6), OUT / "chaos_ce.png", dpi=60)
    for path in sorted(OUT.iterdir()):
        print(f"{path.relative_to(OUT.parent.parent)}: {path.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
