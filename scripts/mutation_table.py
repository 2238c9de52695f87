"""Detection rates of injected gradient bugs and false alarms on honest differences.

For random networks (see ``manual_vs_autograd.mutations``) in float32 and float64: the share of each
kind of mutation that this package's per-element verdict catches, and the share of honest variants
it flags, beside ``torch.testing.assert_close`` with its default tolerances on the same cases; then,
per dtype, how much of its bound the honest variants use (the largest ``|difference| / bound`` of any
element, and the median over tensors of each tensor's largest).

    python scripts/mutation_table.py [--cases 40]
"""

from __future__ import annotations

import argparse
import statistics
from collections import Counter

import torch

from manual_vs_autograd.bounds import mlp_grad_bounds
from manual_vs_autograd.mutations import (
    assert_close_flags,
    honest_variants,
    make_case,
    mutants,
    package_flags,
)
from manual_vs_autograd.parity import compare_tensors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=40, help="random networks per dtype (default: 40)")
    args = parser.parse_args()
    print(f"{'dtype':<8} {'case':<36} {'n':>5} {'package':>9} {'assert_close':>13}")
    room = {}
    for dtype in (torch.float32, torch.float64):
        n, ours, theirs = Counter(), Counter(), Counter()
        ratios: list[float] = []
        for seed in range(args.cases):
            case = make_case(seed, dtype)
            for kind, grads in mutants(case):
                key = ("caught", kind)
                n[key] += 1
                ours[key] += package_flags(grads, case.reference, case.bounds)
                theirs[key] += assert_close_flags(grads, case.reference)
            for kind, cand, ref, bound_dtype in honest_variants(case):
                key = ("false alarm", kind)
                bounds = (
                    case.bounds
                    if bound_dtype == dtype
                    else mlp_grad_bounds(case.config, case.params, case.x, case.y, dtype=bound_dtype)
                )
                n[key] += 1
                ours[key] += package_flags(cand, ref, bounds)
                theirs[key] += assert_close_flags(cand, ref)
                ratios += [compare_tensors(k, cand[k], ref[k], bounds[k]).max_ratio for k in ref]
        name = str(dtype).removeprefix("torch.")
        room[name] = (max(ratios), statistics.median(ratios))
        for (what, kind), count in n.items():
            label = f"{what}: {kind}"
            print(
                f"{name:<8} {label:<36} {count:>5} {100 * ours[(what, kind)] / count:>8.1f}% {100 * theirs[(what, kind)] / count:>12.1f}%"
            )

    for name, (worst, median) in room.items():
        print(f"{name}: honest differences use at most {worst:.3f} of their bound (median per tensor {median:.4f})")


if __name__ == "__main__":
    main()
