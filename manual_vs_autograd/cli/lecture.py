"""``mva lecture``: rerun the lecture's experiments; chain-rule, path-count and derivation tables."""

from __future__ import annotations

import argparse

import torch

from ..jsonsafe import dumps
from ..lecture.chain_rule import CHAINS, TORCH_FUNCTIONS, mse_chain, run_chain
from ..lecture.derivation import check_lecture_slip
from ..lecture.experiments import run_lecture
from ..lecture.paths import path_count_table
from .stdout import emit

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "lecture",
        help="rerun the lecture's experiments beside the notebook's numbers",
        description=(
            "Rerun the lecture notebook's experiments (w1 only, the full 2-2-1 network, the 2-2-4 network "
            "correct and as in the original notebook) and print each result beside the notebook's number. "
            "Extra tables: --chain-rule, --paths, --derivation (or --all)."
        ),
    )
    p.add_argument("--chain-rule", action="store_true", help="sigmoid, tanh and MSE split into steps, checked")
    p.add_argument("--x", type=float, default=1.0, help="the point for the chain-rule tables (default: 1.0)")
    p.add_argument("--paths", action="store_true", help="path enumeration against backprop: multiplication counts")
    p.add_argument("--derivation", action="store_true", help="check the lecture's slip and its correction")
    p.add_argument("--all", action="store_true", help="every table")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    return p


def _chain_rule(x: float) -> tuple[list[str], dict]:
    lines, data = [], {}
    grid = torch.linspace(-10, 10, 2001, dtype=torch.float64)
    chains = {**CHAINS, "mse (y = 0)": mse_chain(0.0)}
    for name, steps in chains.items():
        trace = run_chain(steps, torch.tensor([x], dtype=torch.float64))
        var = "y_hat" if name.startswith("mse") else "x"
        lines.append(f"{name} at {var} = {x:g}:")
        lines.append(f"  {'step':<6} {'formula':<12} {'value':>12}  {'local derivative':<18} {'at this point':>14}")
        for step, value, local in zip(steps, trace.values, trace.locals):
            lines.append(
                f"  {step.name:<6} {step.formula:<12} {value.item():>12.6g}  {step.local:<18} {local.item():>14.6g}"
            )
        leaf = torch.tensor([x], dtype=torch.float64, requires_grad=True)
        fn = TORCH_FUNCTIONS.get(name, lambda t: (0.0 - t) ** 2)  # the MSE chain: L = (y - y_hat)², y = 0
        fn(leaf).sum().backward()
        many = run_chain(steps, grid)
        g = grid.clone().requires_grad_()
        fn(g).sum().backward()
        # both are leaves that require grad and feed the sums that were just differentiated
        assert g.grad is not None and leaf.grad is not None
        worst = (many.derivative - g.grad).abs().max().item()
        lines.append(
            f"  product of local derivatives {trace.derivative.item():.12g}; autograd {leaf.grad.item():.12g}; "
            f"max |difference| over {grid.numel()} points in [-10, 10]: {worst:.2g}"
        )
        data[name] = {"product": trace.derivative.item(), "autograd": leaf.grad.item(), "max_diff_grid": worst}
    return lines, data


def _paths() -> tuple[list[str], list[dict]]:
    rows = path_count_table()
    lines = [
        "multiplications for the gradient: path enumeration (first-layer weights only) vs backprop (every weight)",
        f"  {'network':<22} {'paths/weight':>12} {'path mults':>12} {'backprop mults':>15} {'ratio':>10}",
    ]
    for r in rows:
        lines.append(
            f"  {'-'.join(map(str, r.sizes)):<22} {r.paths_per_first_layer_weight:>12} "
            f"{r.path_mults_first_layer:>12} {r.backprop_mults_all:>15} {r.ratio:>10.3g}"
        )
    data = [
        {"sizes": list(r.sizes), "paths": r.paths_per_first_layer_weight, "path_mults": r.path_mults_first_layer,
         "backprop_mults": r.backprop_mults_all}
        for r in rows
    ]  # fmt: skip
    return lines, data


def _derivation() -> tuple[list[str], list[dict]]:
    results = check_lecture_slip()
    lines = ["derivation check: L = (y1 - y1_hat)², y_hat = softmax(a21, a22); 256 random points"]
    data = []
    for r in results:
        verdict = "ok   " if r.ok else "WRONG"
        lines.append(f"  {verdict} dL/d{r.candidate.param} = {r.candidate.text}")
        lines.append(
            f"        max |error| vs autograd {r.max_abs_error:.3g} (relative {r.max_rel_error:.3g}); "
            f"autograd vs finite differences {r.autograd_vs_fd:.2g}"
        )
        if not r.ok:
            where = ", ".join(f"{k}={v:.3g}" for k, v in r.worst_point.items())
            lines.append(f"        worst at {where}")
        data.append({"param": r.candidate.param, "formula": r.candidate.text, "ok": r.ok,
                     "max_abs_error": r.max_abs_error, "worst_point": r.worst_point})  # fmt: skip
    return lines, data


def run(args: argparse.Namespace) -> int:
    results = run_lecture()
    out = results.to_json()
    lines = [f"{'experiment':<36} {'quantity':<20} {'ours':>10} {'notebook':>10}"]
    for row in results.rows():
        ours = f"{row.ours:>10.0f}" if row.quantity.endswith("epoch") else f"{row.ours:>10.4f}"
        lines.append(f"{row.experiment:<36} {row.quantity:<20} {ours} {row.notebook!s:>10}")
    flagged_names = results.multiclass_original["flagged"]
    assert isinstance(flagged_names, list), "run_lecture stores the parity check's flagged names as a list"
    flagged = ", ".join(flagged_names)
    lines.append(f"parity check of the original notebook's 2-2-4 updates against autograd flags: {flagged}")
    for wanted, make, key in (
        (args.chain_rule, lambda: _chain_rule(args.x), "chain_rule"),
        (args.paths, _paths, "paths"),
        (args.derivation, _derivation, "derivation"),
    ):
        if wanted or args.all:
            extra, data = make()
            lines += ["", *extra]
            out[key] = data
    emit(dumps(out, indent=2) if args.json else "\n".join(lines))
    return 0
