"""``mva bench`` reports what it claims, checked against values the tests control (no timing is asserted:
speed belongs in the benchmark, not in the tests)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from manual_vs_autograd import bench_checked
from manual_vs_autograd.bench import _alternate, run_bench, scalar_summary, summarise
from manual_vs_autograd.bench_checked import CheckedCost, checked_cost
from manual_vs_autograd.bench_memory import peak_bytes, replay_peak
from manual_vs_autograd.cli import main
from manual_vs_autograd.config import MLPConfig, init_params
from manual_vs_autograd.plots.bench_chart import plot_bench

MiB = 2**20
CPU = torch.device("cpu")


def _mib(n: int) -> torch.Tensor:
    return torch.empty(n * MiB // 4, dtype=torch.float32)  # n MiB of float32


# --- memory: one method, checked on known allocation patterns ---------------------------------------


def test_replay_peak_of_a_hand_made_event_list():
    # before the window: +5 (baseline 5); in it: +3 (8), -4 (4), +6 (10), -6; after it: +100 (ignored)
    events = [(1, 5), (10, 3), (11, -4), (12, 6), (13, -6), (30, 100)]
    assert replay_peak(events, 10, 20) == 5  # 10 - 5
    assert replay_peak([(10, -7)], 10, 20) == 0  # a step that only frees allocates nothing


def test_peak_of_a_known_allocation_pattern():
    def pattern() -> None:
        a = _mib(1)
        b = _mib(2)  # 3 MiB live: the peak
        del a
        c = _mib(1)  # back to 3, not above
        del b, c

    assert peak_bytes(pattern, CPU) == 3 * MiB


def test_the_free_of_what_the_previous_call_left_is_seen():
    # Like autograd's .grad: each call frees the block the previous call left, then allocates anew.
    # The CPU allocator reports the size of a free only for blocks allocated while the profiler runs;
    # unseen, this free would make the peak 1 + 2 = 3 MiB instead of 2.
    held = [_mib(1)]

    def step() -> None:
        held[0] = None  # frees 1 MiB left by the previous call
        held[0] = _mib(1)  # back to the start
        scratch = _mib(2)  # + 2 MiB: the peak above the start
        del scratch

    assert peak_bytes(step, CPU) == 2 * MiB
    # ``before`` brings the state to "nothing held" first: then the step's own block counts too
    assert peak_bytes(step, CPU, before=lambda: held.__setitem__(0, None)) == 3 * MiB


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_peak_equals_the_caching_allocators_own_count():
    device = torch.device("cuda")

    def pattern() -> None:
        a = torch.empty(MiB, dtype=torch.uint8, device=device)
        b = torch.empty(2 * MiB, dtype=torch.uint8, device=device)
        del a
        del b

    assert peak_bytes(pattern, device) == 3 * MiB
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    pattern()
    torch.cuda.synchronize()
    assert torch.cuda.max_memory_allocated(device) - base == 3 * MiB


# --- timing and aggregation, fed with values the test controls ----------------------------------------


class FakeClock:
    """A clock that functions advance by set amounts: a call of ``fns[i]`` takes ``costs[i][k]`` seconds."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def step(self, costs: list[float]):
        it = iter(costs * 1000)
        return lambda: setattr(self, "now", self.now + next(it))


def test_alternate_reports_each_functions_median():
    clock = FakeClock()
    a = clock.step([0.1])  # always 0.1 s
    b = clock.step([0.5, 0.2, 0.2, 0.9, 0.2])  # median 0.2 s whatever the number of rounds
    medians = _alternate([a, b], CPU, budget_s=5.0, clock=clock)
    assert medians == pytest.approx([0.1, 0.2], abs=1e-12)


def test_summarise_from_controlled_medians():
    config = MLPConfig((2, 2, 1), "sigmoid", "mse")
    # matrix products of a 750-sample step: layer 1 forward + dW (2 products of 2·750·2·2 FLOPs),
    # layer 2 forward + dW + dh (3 products of 2·750·2·1): 12000 + 9000
    from manual_vs_autograd.bench import _matmul_flops

    assert _matmul_flops(config, 750) == 21_000
    checked = CheckedCost(
        seconds=0.009,
        in_run_ratio=1.2,
        steps=100,
        startup_seconds=0.05,
        short_steps=5,
        long_steps=50,
        short_peak_bytes=4000,
        long_peak_bytes=10000,
    )
    r = summarise(
        "t", "cpu", torch.float64, 750, 21_000, {"manual": 0.002, "autograd": 0.004, "matmul": 0.0005},
        {"manual": 3000, "autograd": 4000}, checked=checked,
    )  # fmt: skip
    assert (r.ratio, r.matmul_fraction, r.dtype) == (0.5, 0.25, "float64")
    assert r.manual_gflops == pytest.approx(0.0105)  # 21000 FLOPs / 0.002 s = 1.05e7 FLOP/s
    assert r.checked_overhead_apart == pytest.approx(1.5)  # 0.009 / (0.002 + 0.004)
    assert r.checked_overhead == 1.2  # timed on the same steps: the trainer's own figure
    assert r.checked_memory_ratio == 2.5
    assert r.compiled_s is None and "not run" in r.compiled_note
    with_compiled = summarise(
        "t",
        "cpu",
        torch.float32,
        1,
        1,
        {"manual": 1, "autograd": 2, "matmul": 1, "compiled": 3},
        {"manual": 1, "autograd": 1},
    )
    assert (
        with_compiled.compiled_s == 3 and with_compiled.compiled_note == "" and with_compiled.checked_overhead is None
    )


def test_scalar_summary():
    assert scalar_summary(0.01, 0.0005) == pytest.approx(
        {"scalar_epochs_per_s": 100, "vectorised_epochs_per_s": 2000, "scalar_speedup": 20}
    )


def test_checked_cost_times_the_steady_pace_after_step_one_and_measures_each_run(monkeypatch):
    clock = FakeClock()
    startups = iter([0.5, 0.7, 0.6])  # set-up and step 1 of each timed run: median 0.6 s
    paces = iter([3.0, 1.0, 2.0])  # the other 39 steps of each: median 2.0 s
    own = iter([1.5, 0.9, 1.0])  # of which the two sides' own steps took these: ratios 2, 1.11, 2 -> median 2

    def fake_run(config, params, x, y, lr, steps, record="all", progress=None):
        if steps == 40:  # a timed run: start-up, then steps 2..40 at a steady pace
            clock.now += next(startups)
            progress(1, steps)
            pace = next(paces)
            for step in range(2, steps + 1):
                clock.now += pace / (steps - 1)
                progress(step, steps)
            return next(own) / (steps - 1)
        if steps != 2:  # not the warm-up: a run that keeps 1 MiB per step until it returns
            held = [_mib(1) for _ in range(steps)]
            del held
        return None

    monkeypatch.setattr(bench_checked, "_run", fake_run)
    cost = checked_cost(None, {}, torch.zeros(1), None, lr=0.1, steps=40, memory_steps=(3, 12), clock=clock)
    assert cost.seconds == pytest.approx(2.0 / 39)
    assert cost.in_run_ratio == pytest.approx(2.0)  # per run, then the median: not the ratio of two medians
    assert cost.startup_seconds == pytest.approx(0.6)
    assert (cost.short_peak_bytes, cost.long_peak_bytes) == (3 * MiB, 12 * MiB)


def test_checked_cost_runs_the_real_trainer():
    config = MLPConfig((2, 3, 1), "sigmoid", "mse")
    params = init_params(config, 0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 2, generator=g, dtype=torch.float64)
    y = (x[:, :1] > 0).to(torch.float64)
    cost = checked_cost(config, params, x, y, lr=0.1, steps=10, memory_steps=(2, 6), repeats=1)
    assert cost.seconds > 0 and cost.steps == 10 and cost.startup_seconds > 0
    # the run's pace includes its own manual and autograd steps, so it is slower than those alone
    assert cost.in_run_ratio > 1
    # a step holds at least its activations: 64 samples × (3 + 1) float64 values per side
    assert cost.short_peak_bytes >= 64 * 4 * 8


def test_run_bench_end_to_end():
    result = run_bench(quick=True, device="cpu", names=("lecture 2-2-1",))
    (c,) = result["configs"]
    assert (c["name"], c["device"], c["dtype"]) == ("lecture 2-2-1", "cpu", "float64")
    # a step allocates at least its activations: 750 samples × (2 + 1) values after the input, float64
    assert c["manual_peak_bytes"] >= 750 * 3 * 8 and c["autograd_peak_bytes"] >= 750 * 3 * 8
    assert c["checked_overhead"] > 0 and c["checked_memory_ratio"] > 0
    assert (c["checked_short_steps"], c["checked_long_steps"]) == (3, 15)
    assert set(result["scalar"]) == {"scalar_epochs_per_s", "vectorised_epochs_per_s"}
    json.dumps(result, allow_nan=False)  # strict JSON


# --- the chart, from known inputs ---------------------------------------------------------------------


def _result(ratios, mems, overheads=None):
    configs = []
    for i, (r, m) in enumerate(zip(ratios, mems)):
        c = {"name": f"net {i}", "device": "cpu", "dtype": "float32", "manual_s": r, "autograd_s": 1.0,
             "manual_peak_bytes": int(m * 1000), "autograd_peak_bytes": 1000, "compiled_s": None}  # fmt: skip
        if overheads is not None:
            c |= {"checked_overhead": overheads[i], "checked_memory_ratio": 1.5}
        configs.append(c)
    return {"machine": {"cpu": "test cpu", "cpu_threads": 2, "torch": "x"}, "configs": configs}


def test_chart_bars_are_the_given_ratios():
    fig = plot_bench(_result([0.5, 0.97, 2.0], [1.0, 0.8, 1.0], overheads=[1.2, 3.0, 17.0]))
    speed, memory, cost = fig.axes
    assert [p.get_width() for p in speed.patches] == pytest.approx([0.5, 0.97, 2.0])
    assert [p.get_width() for p in memory.patches] == pytest.approx([1.0, 0.8, 1.0])
    assert [p.get_width() for p in cost.patches] == pytest.approx([1.2, 3.0, 17.0, 1.5, 1.5, 1.5])


def test_chart_keeps_numbers_and_bars_clear_of_the_line_and_legend():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = plot_bench(_result([0.5, 0.97, 1.02, 0.1], [1.0, 0.99, 0.4, 0.9], overheads=[1.01, 0.9, 6.0, 0.2]))
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    legend_box = fig.legends[0].get_window_extent(renderer)
    for ax in fig.axes:
        (line,) = [line for line in ax.lines if line.get_linestyle() == "--"]
        line_x = ax.transData.transform((1.0, 0))[0]
        bars = [p.get_window_extent(renderer) for p in ax.patches]
        for text in ax.texts:
            box = text.get_window_extent(renderer)
            inside_a_bar = any(b.x0 <= box.x0 and box.x1 <= b.x1 and b.y0 <= box.y0 and box.y1 <= b.y1 for b in bars)
            crossed = box.x0 < line_x < box.x1
            # a number is either clear of the dashed line, or written inside a bar drawn over the line
            assert not crossed or (inside_a_bar and line.get_zorder() < min(p.get_zorder() for p in ax.patches)), (
                text.get_text()
            )
        assert not any(legend_box.overlaps(b) for b in bars)


def test_chart_says_what_was_not_measured():
    result = _result([0.5], [1.0])
    result["configs"][0]["autograd_peak_bytes"] = 0
    fig = plot_bench(result)
    assert len(fig.axes) == 2  # no checked numbers: no cost panel
    assert any(t.get_text() == "not measured" for t in fig.axes[1].texts)
    assert np.isnan(fig.axes[1].patches[0].get_width())


def test_cli_writes_json_and_chart(tmp_path, capsys, monkeypatch):
    import manual_vs_autograd.cli.bench as cli_bench

    monkeypatch.setattr(cli_bench, "run_bench", lambda **kw: run_bench(**kw, names=("lecture 2-2-1", "lecture 2-2-4")))
    assert main(["bench", "--quick", "--quiet", "--device", "cpu", "--out", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "lecture 2-2-1" in table and "epochs/s" in table and "(15/3)" in table
    written = json.loads((tmp_path / "bench.json").read_text())
    assert [c["name"] for c in written["configs"]] == ["lecture 2-2-1", "lecture 2-2-4"]
    assert all(c["checked_overhead"] > 0 for c in written["configs"])
    assert (tmp_path / "bench.png").stat().st_size > 10_000
