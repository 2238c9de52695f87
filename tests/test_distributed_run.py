"""Two processes on this machine: the hand-written all-reduce against DDP and against one process.

Each test starts real processes (``spawn``, gloo on the CPU) and so takes tens of seconds on a busy
machine; the runs are kept to a few dozen steps. Skipped where torch has no gloo or Python no spawn.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist

from manual_vs_autograd.cli.distributed_options import build_parser, main, run
from manual_vs_autograd.distributed import DistributedFailure, DistributedSpec, run_distributed
from manual_vs_autograd.distributed.launcher import GRACE_S, STARTUP_S
from manual_vs_autograd.errors import InputError

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not (dist.is_available() and dist.is_gloo_available() and "spawn" in multiprocessing.get_all_start_methods()),
    reason="torch.distributed with gloo, or multiprocessing spawn, is not available here",
)

HANG_GUARD_S = 300.0
"""Only a guard against a hung test: how fast the launcher gives up is stated in launcher.py and measured
by running the command, not asserted here (a busy machine must not fail the suite)."""


def test_full_batch_two_processes_manual_is_bitwise_ddp_and_close_to_one_process(tmp_path):
    result = run_distributed(DistributedSpec(epochs=20, device="cpu"), 2, timeout_s=60, workdir=tmp_path)
    j = result.to_json()
    assert j["nproc"] == 2 and j["backend"] == "gloo" and j["steps"] == 20 and j["shard_sizes"] == [375, 375]
    # Even shards and DDP's own order (x 1/W, then SUM): the same floating-point operations, so the same bits.
    assert result.manual_ddp_bitwise_every_step and result.pairs["manual_vs_ddp"].bitwise
    # Against one process on the whole batch, at the same parameters, only the order of the sums differs.
    for name in ("manual_vs_full_batch", "ddp_vs_full_batch"):
        assert result.pairs[name].within, name
    assert result.checked_steps == 20  # every step checked: the record fits its budget
    assert result.replicas_agree and result.parity and result.stopped is None
    # Only rank 0 wrote a result; every rank marked that it joined.
    written = {p.name for p in tmp_path.iterdir()}
    assert {n for n in written if n.startswith("result")} == {"result.rank0.pt"}
    assert {"ready.0", "ready.1"} <= written


def test_uneven_mini_batches_through_the_command(capsys):
    # 40 samples -> 30 training points; batch 7 -> four batches split 4/3 and a last one of 2 split 1/1.
    argv = ["--nproc", "2", "--samples", "40", "--batch-size", "7", "--epochs", "3", "--loss", "ce"]
    status = main([*argv, "--hidden", "4", "--device", "cpu", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert status == 0 and out["parity"] is True
    assert out["steps"] == 15 and out["uneven_steps"] == 12 and out["shard_sizes"] == [4, 3]
    for name in ("manual_vs_ddp", "manual_vs_full_batch", "ddp_vs_full_batch"):
        assert out["pairs"][name]["within_bound"], name
    assert out["replicas_agree"] is True


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"  # a zombie is dead too, if not reaped


def test_a_killed_worker_ends_the_run_in_one_line_and_leaves_no_process():
    seen: dict[str, object] = {}

    def kill_rank_1(pids: list[int]) -> None:
        seen["pids"] = pids
        os.kill(pids[1], signal.SIGKILL)  # mid-run: both ranks have joined, the run would take hours

    with pytest.raises(DistributedFailure) as caught:
        run_distributed(DistributedSpec(epochs=10**6, device="cpu"), 2, timeout_s=60, on_ready=kill_rank_1)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("distributed run failed: rank 1 was killed by SIGKILL")
    assert all(_gone(pid) for pid in seen["pids"]) and multiprocessing.active_children() == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_rendezvous_that_never_forms_exits_2_in_one_line():
    # One process of a world of two, as torchrun would start it: the second never comes.
    env = {**os.environ, "RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1"}
    env.update(MASTER_PORT=str(_free_port()), PYTHONPATH=str(ROOT))
    timeout = 2.0
    proc = subprocess.run(
        [sys.executable, "-m", "manual_vs_autograd.distributed", "--epochs", "3", "--rdzv-timeout", str(timeout)],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=STARTUP_S + timeout + 2 * GRACE_S + HANG_GUARD_S,  # a hang guard, not a timing claim
    )
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mva: error: rank 0: the 2 processes did not rendezvous within 2 s")


def test_bad_input_is_refused_before_any_process_starts(capsys):
    assert main(["--nproc", "2", "--samples", "8", "--batch-size", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mva: error: a batch of 1 samples cannot give each of the 2 processes")
    assert multiprocessing.active_children() == []


def test_save_and_plots_are_refused_with_nproc():
    args = build_parser().parse_args(["--nproc", "2"])
    args.save, args.plots = "run.npz", None  # as mva compare's parser would set them
    with pytest.raises(InputError, match="--save is not supported with --nproc 2"):
        run(args)
    assert multiprocessing.active_children() == []


@pytest.mark.skipif(
    not (torch.cuda.is_available() and torch.cuda.device_count() >= 2 and dist.is_nccl_available()),
    reason="nccl needs at least two CUDA GPUs",
)
def test_nccl_two_gpus_manual_matches_ddp():
    result = run_distributed(DistributedSpec(epochs=20, device="cuda"), 2, timeout_s=120)
    assert result.plan.backend == "nccl" and result.device.startswith("cuda")
    assert result.pairs["manual_vs_ddp"].within and result.pairs["manual_vs_single"].within
    assert result.replicas_agree and result.parity
