"""A second Ctrl-C (or SIGTERM) after the first: it waits for the record, and never becomes a traceback.

The command runs in a child process through the console script's entry (``_mva_entry.main()``, the
process's own command line), with real signals. The child sends the first one itself at a known step
and, in most tests, the second at a known moment (during the save; while the interpreter shuts down);
one test sends both from outside, 0.3 s apart, as a user would. Every wait is bounded; nothing is timed.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from manual_vs_autograd.record import load_record

ROOT = Path(__file__).resolve().parent.parent
WAIT_S = 600  # a bound on a hang only; never a speed claim
RUN = ["compare", "--quiet", "--hidden", "32", "--epochs", "1000000"]

CHILD = textwrap.dedent(
    """
    import atexit, os, signal, sys, time
    import manual_vs_autograd.record as record_module
    from manual_vs_autograd.optim import ManualOptimizer
    import _mva_entry

    first, second = getattr(signal, sys.argv.pop(1)), sys.argv.pop(1)  # e.g. SIGINT, "save"
    real_step, real_save, calls = ManualOptimizer.step, record_module.save_file, [0]

    def step(*args, **kwargs):
        calls[0] += 1
        if calls[0] == 3:
            print("TRAINING", file=sys.stderr, flush=True)
            if second != "outside":
                os.kill(os.getpid(), first)
        return real_step(*args, **kwargs)

    def save(*args, **kwargs):
        if second == "save":
            os.kill(os.getpid(), signal.SIGINT)  # arrives while the record is being written
        return real_save(*args, **kwargs)

    def at_exit():
        if second == "exit":
            os.kill(os.getpid(), signal.SIGINT)  # arrives while the interpreter shuts down
            time.sleep(0.2)  # the handler, if any, runs here

    ManualOptimizer.step, record_module.save_file = step, save
    atexit.register(at_exit)
    sys.exit(_mva_entry.main())
    """
)


def child(tmp_path: Path, first: str, second: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    argv = [sys.executable, "-c", CHILD, first, second, *RUN, "--save", str(tmp_path / "run.safetensors")]
    return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen, after_training=None) -> tuple[int, str]:
    with process:
        try:
            assert process.stderr.readline().strip() == "TRAINING"
            if after_training is not None:
                after_training(process)
            err = process.stderr.read()
            return process.wait(timeout=WAIT_S), err
        finally:
            process.kill()  # a no-op once it has exited; else no million-epoch run outlives a failure


def kept(tmp_path: Path) -> int:
    assert [p.name for p in tmp_path.iterdir()] == ["run.safetensors"]  # no temporary left behind
    return load_record(tmp_path / "run.safetensors").steps


def test_a_second_ctrl_c_during_the_save_waits_for_it(tmp_path):
    status, err = finish(child(tmp_path, "SIGINT", "save"))
    assert status == 130 and "Traceback" not in err, err
    lines = err.splitlines()
    assert lines.index("mva: still finishing: saving what was computed first; please wait") < next(
        i for i, line in enumerate(lines) if line.startswith("run record saved to")
    )
    assert kept(tmp_path) >= 2


@pytest.mark.parametrize("first,status", [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_second_signal_during_shutdown_changes_nothing(tmp_path, first, status):
    code, err = finish(child(tmp_path, first, "exit"))
    assert code == status and "Traceback" not in err and "Exception ignored" not in err, err
    assert kept(tmp_path) >= 2


def test_two_ctrl_c_from_outside_a_third_of_a_second_apart(tmp_path):
    def interrupt_twice(process):
        process.send_signal(signal.SIGINT)
        time.sleep(0.3)  # the user's second press; whenever it lands, the outcome must be the same
        if process.poll() is None:
            process.send_signal(signal.SIGINT)

    status, err = finish(child(tmp_path, "SIGINT", "outside"), interrupt_twice)
    assert status == 130 and "Traceback" not in err, err
    assert re.search(r"mva: interrupted; interrupted (during|after) step", err)  # within a step or between two
    assert kept(tmp_path) >= 2
