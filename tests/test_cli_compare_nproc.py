"""``mva compare --nproc 2``: the compare command hands over to the 2-process run (gloo on the CPU).

The distributed run itself is tested in ``test_distributed_run.py``; here: the handover, that the JSON
reports the three comparisons within their per-element bounds, and what ``--nproc`` refuses.
"""

from __future__ import annotations

import json

import pytest

from manual_vs_autograd.cli import main

pytestmark = pytest.mark.skipif(
    not __import__("torch").distributed.is_available(), reason="torch.distributed is not available"
)


def test_compare_nproc_2_reports_parity_against_ddp_and_the_whole_batch(capsys):
    status = main(["compare", "--nproc", "2", "--epochs", "3", "--device", "cpu", "--json", "--quiet"])
    out = json.loads(capsys.readouterr().out)
    assert status == 0 and out["parity"] is True and out["nproc"] == 2 and out["backend"] == "gloo"
    assert out["steps"] == 3 and out["checked_steps"] == 3
    for name in ("manual_vs_ddp", "manual_vs_full_batch", "ddp_vs_full_batch"):
        pair = out["pairs"][name]
        assert pair["within_bound"] and 0 <= pair["max_grad_ratio"] <= 1, name
    assert "per element" in out["bound"]["grad"]
    assert set(out["single_process_drift"]) >= {"max_param_diff", "final_param_diff"}  # measured, no verdict


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--optimizer", "adam"], "--nproc 2 trains with plain SGD"),
        (["--norm", "layer"], "--norm layer is not supported with --nproc 2"),
        (["--check-every", "5"], "--check-every is not supported with --nproc 2"),
    ],
)
def test_options_the_distributed_run_does_not_take_are_refused(capsys, argv, message):
    assert main(["compare", "--nproc", "2", *argv, "--epochs", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mva: error: ") and message in err
