"""``mva bench``: time and memory of a training step, manual against autograd, side by side."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..atomic import atomic_path
from ..bench import CONFIGS, run_bench
from ..errors import one_line
from ..jsonsafe import dumps
from ..outputs import check_output_dir, check_output_file
from ..plots.bench_chart import plot_bench
from ..plots.common import save_figure
from .stdout import emit, say

__all__ = ["add_parser", "format_table", "run"]


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "bench",
        help="time and memory of one training step, manual against autograd",
        description=(
            "Median time of one training step (forward, backward, update) of the manual path and of autograd, "
            "alternating in one process, for: " + "; ".join(c.name for c in CONFIGS) + ". Also the same-shaped "
            "matrix products alone, the peak memory of each side, the cost of checking (a side-by-side step "
            "over a plain manual plus a plain autograd step, and the peak memory of a long checked run over a "
            "short one), and the lecture's scalar loop against the vectorised path. Prints a table; writes "
            "bench.json and bench.png into --out."
        ),
    )
    p.add_argument("--quick", action="store_true", help="a reduced run (under a minute)")
    p.add_argument("--compile", action="store_true", help="also time autograd under torch.compile (slow to compile)")
    p.add_argument("--no-checked", action="store_true", help="skip the checked side-by-side runs")
    p.add_argument("--device", default="auto", help="auto (CPU, and CUDA when present), cpu, cuda (default: auto)")
    p.add_argument("--out", default="bench-results", metavar="DIR", help="where to write bench.json and bench.png")
    p.add_argument("--json", action="store_true", help="print the JSON object instead of the table")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return p


def _mib(n: int) -> str:
    return f"{n / 2**20:.2f}"


def _checked(c: dict) -> str:
    if c.get("checked_overhead") is None:
        return f"{'-':>15} {'-':>9} {'-':>15}"
    ratio = c["checked_memory_ratio"]
    memory = f"{ratio:.2f} ({c['checked_long_steps']}/{c['checked_short_steps']})" if ratio is not None else "-"
    startup = c.get("checked_startup_s")
    startup_text = f"{startup * 1e3:.0f}ms" if startup is not None else "-"
    apart = c.get("checked_overhead_apart")
    checked = f"{c['checked_overhead']:.2f}x ({apart:.2f})" if apart is not None else f"{c['checked_overhead']:.2f}x"
    return f"{checked:>15} {startup_text:>9} {memory:>15}"


def format_table(result: dict) -> str:
    m = result["machine"]
    lines = [
        f"machine: {m['cpu']}, {m['cpu_threads']} torch threads, torch {m['torch']}"
        + (f", GPU {m['gpu']}" if "gpu" in m else ""),
        "",
        f"{'configuration':<24} {'device':<6} {'manual':>10} {'autograd':>10} {'ratio':>6} {'compiled':>10} "
        f"{'matmul %':>8} {'GFLOP/s':>8} {'peak MiB man/auto':>18} {'checked (apart)':>15} {'start-up':>9} {'mem long/short':>15}",
    ]
    for c in result["configs"]:
        compiled = f"{c['compiled_s'] * 1e3:.3f}ms" if c["compiled_s"] else "-"
        lines.append(
            f"{c['name']:<24} {c['device']:<6} {c['manual_s'] * 1e3:>8.3f}ms {c['autograd_s'] * 1e3:>8.3f}ms "
            f"{c['ratio']:>6.2f} {compiled:>10} {100 * c['matmul_fraction']:>7.0f}% {c['manual_gflops']:>8.2f} "
            f"{_mib(c['manual_peak_bytes']):>8} / {_mib(c['autograd_peak_bytes']):<8} {_checked(c)}"
        )
    s = result["scalar"]
    lines += [
        "",
        f"2-2-1, 750 points: lecture-style scalar loop {s['scalar_epochs_per_s']:.0f} epochs/s, vectorised manual "
        f"{s['vectorised_epochs_per_s']:.0f} epochs/s: {result['scalar_speedup']:.1f}x",
        "ratio = manual / autograd step time; matmul % = time of the same matrix products alone / manual step time",
        "checked = checked side-by-side step (steady pace after step 1) / (manual step + autograd step), both timed "
        "in the same run (apart: the plain steps timed on their own, minutes away); start-up = a checked run's set-up "
        "and first step (always bound-checked)",
        "mem long/short = peak of a checked run of the long over the short number of steps (1: memory does not grow "
        "with the run)",
    ]
    return "\n".join(lines)


def _progress(what: str) -> None:
    say(f"bench: {what} ...")


def run(args: argparse.Namespace) -> int:
    for name in ("bench.json", "bench.png"):  # before the minutes of timing, not after
        check_output_file(Path(check_output_dir(args.out, "--out")) / name, "--out file")
    progress = None if args.quiet else _progress
    result = run_bench(
        quick=args.quick,
        device=args.device,
        compile_autograd=args.compile,
        checked=not args.no_checked,
        progress=progress,
    )
    out = Path(args.out)
    emit(dumps(result, indent=2) if args.json else format_table(result))  # first: the minutes of timing are shown
    try:
        with atomic_path(out / "bench.json") as tmp:
            tmp.write_text(dumps(result, indent=2))
        save_figure(plot_bench(result), out / "bench.png")
    except OSError as err:
        say(one_line(f"mva: error: could not write the bench results into {str(out)!r}: {err}", 300))
        return 3
    say(f"wrote {out / 'bench.json'} and {out / 'bench.png'}")
    return 0
