"""``mva compare`` on every way out: bad outputs refused before any work; once training starts, the record is kept.

Signals are real: sent with ``os.kill`` to this process (handled by the command's guard), or to a
child process that says on stderr when it is training. Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import manual_vs_autograd.cli.compare as cli_compare
import manual_vs_autograd.record as record_module
from manual_vs_autograd.cli import main
from manual_vs_autograd.optim import ManualOptimizer
from manual_vs_autograd.record import load_record

ROOT = Path(__file__).resolve().parent.parent
WAIT_S = 600  # a bound on a hang only; never a speed claim
DIVERGING = ["--loss", "ce", "--activation", "relu", "--dtype", "float32", "--lr", "1e6"]  # the README's example


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mva: error: ") and len(lines[0]) <= 320, err
    return lines[0]


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if the command gets as far as training."""
    monkeypatch.setattr(cli_compare, "run_compare", lambda *a, **k: pytest.fail("the run started"))


@pytest.mark.parametrize(
    "make,option,match",
    [
        (lambda d: str(d), "--save", "is a folder; give a file name"),
        (lambda d: (d / "f").write_text("") or str(d / "f" / "run.npz"), "--save", "lies below a file"),
        (lambda d: "/dev/null", "--save", "is a character device"),
        (lambda d: os.mkfifo(d / "p") or str(d / "p"), "--save", "is a FIFO"),
        (lambda d: (d / "t").write_text("") or os.symlink(d / "t", d / "l") or str(d / "l"), "--save", "symbolic link"),
        (lambda d: "", "--save", "--save is empty"),
        (lambda d: "", "--plots", "--plots is empty"),
        (lambda d: (d / "f").write_text("") or str(d / "f"), "--plots", "is a file, not a folder"),
    ],
    ids=["folder", "under-a-file", "device", "fifo", "symlink", "empty-save", "empty-plots", "plots-is-a-file"],
)
def test_bad_output_paths_are_refused_before_training(tmp_path, capsys, no_training, make, option, match):
    assert main(["compare", "--quiet", option, make(tmp_path)]) == 2
    assert match in one_error_line(capsys)
    assert Path("/dev/null").is_char_device()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_folder_is_refused(tmp_path, capsys, no_training):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert main(["compare", "--quiet", "--save", str(locked / "run.npz")]) == 2
    assert "is not writable" in one_error_line(capsys)


@pytest.mark.parametrize(
    "argv,match",
    [
        (["--seed", "-1"], "seed -1 is outside \\[0, 2\\*\\*32 - 1\\]"),
        (["--seed", "5000000000"], "seed 5000000000 is outside"),
        (["--centers", "1000", "--loss", "ce"], "cannot split 1000 points over 1000 centres"),
        (
            ["--samples", "100000000000"],
            "the run needs about .* GiB .* but .* GiB is available",
        ),  # the pre-flight answers first
    ],
)
def test_arguments_the_libraries_refuse_are_one_short_line(capsys, argv, match):
    assert main(["compare", "--quiet", "--epochs", "1", *argv]) == 2
    assert re.search(match, one_error_line(capsys))


def test_help_and_version_return_instead_of_exiting(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("mva ")
    assert main(["--help"]) == 0
    assert "usage: mva" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["compare", "lecture", "plot", "bench"])
def test_every_command_prints_its_help(command, capsys):
    # argparse formats help texts with %: a literal percent sign in one crashes --help
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: mva {command}") and "options:" in out


def test_json_of_a_diverged_run_is_strict_and_says_what_was_replaced(tmp_path, capsys):
    assert main(["compare", "--quiet", "--json", *DIVERGING, "--save", str(tmp_path / "r")]) == 1
    out = capsys.readouterr().out
    result = json.loads(out, parse_constant=lambda word: pytest.fail(f"{word} is not JSON"))
    assert result["stopped"].startswith("the loss became") and result["final_loss"]["manual"] is None
    assert result["non_finite"]["final_loss.manual"] in ("inf", "nan")
    assert not np.isfinite(load_record(tmp_path / "r").losses["manual"][-1])


def test_ctrl_c_during_start_up_is_one_line(capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # the guard turns it into KeyboardInterrupt here
        pytest.fail("the signal did not interrupt")

    monkeypatch.setattr(cli_compare, "run_compare", interrupted)
    assert main(["compare", "--quiet"]) == 130
    assert capsys.readouterr().err == "mva: interrupted\n"


def test_ctrl_c_just_after_the_last_epoch_keeps_the_whole_run(tmp_path, capsys, monkeypatch):
    real = cli_compare.format_report

    def report_then_interrupt(result):
        os.kill(os.getpid(), signal.SIGINT)  # training is over: the guard defers it
        return real(result)

    monkeypatch.setattr(cli_compare, "format_report", report_then_interrupt)
    run = tmp_path / "run.safetensors"
    assert main(["compare", "--quiet", "--epochs", "20", "--save", str(run), "--plots", str(tmp_path / "p")]) == 130
    err = capsys.readouterr().err
    assert "mva: interrupted; after training had finished" in err and "pictures skipped" in err
    assert load_record(run).steps == 20 and not (tmp_path / "p").exists()


def test_a_second_ctrl_c_while_saving_waits_for_the_save(tmp_path, capsys, monkeypatch):
    real_step, real_save = ManualOptimizer.step, record_module.save_file
    calls = {"n": 0}

    def step(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 8:
            os.kill(os.getpid(), signal.SIGINT)  # the first Ctrl-C, during step 8's updates: they finish first
        return real_step(*args, **kwargs)

    def save(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # the second, during the save: must wait for it
        return real_save(*args, **kwargs)

    monkeypatch.setattr(ManualOptimizer, "step", step)  # the manual side's update, once per step
    monkeypatch.setattr(record_module, "save_file", save)
    run = tmp_path / "run.safetensors"
    assert main(["compare", "--quiet", "--save", str(run)]) == 130
    err = capsys.readouterr().err
    assert "still finishing: saving what was computed first; please wait" in err
    assert "with the 8 steps recorded" in err
    assert load_record(run).steps == 8
    assert [p.name for p in tmp_path.iterdir()] == ["run.safetensors"]


def test_an_error_while_drawing_keeps_the_record_and_is_one_line(tmp_path, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise IndexError("index 1 is out of bounds for axis 0 with size 1")

    monkeypatch.setattr(cli_compare, "write_pictures", broken)
    run = tmp_path / "run.safetensors"
    assert main(["compare", "--quiet", "--epochs", "5", "--save", str(run), "--plots", str(tmp_path / "p")]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("mva: error: drawing the pictures failed (IndexError: index 1")
    assert err[-1].endswith(f"the record is saved in {run}")
    assert load_record(run).steps == 5


def test_a_disk_error_while_saving_is_one_line(tmp_path, capsys, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(record_module, "save_file", full)
    assert main(["compare", "--quiet", "--epochs", "5", "--save", str(tmp_path / "run")]) == 3
    assert "could not save the run record" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_one_feature_does_not_crash_the_command(tmp_path, capsys):
    status = main(["compare", "--quiet", "--features", "1", "--epochs", "5", "--plots", str(tmp_path / "p")])
    err = capsys.readouterr().err
    assert status in (0, 3) and "Traceback" not in err  # 3: a picture failed, said in one line


# Child processes: the real command, real pipes, real signals.

CHILD = textwrap.dedent(
    """
    import sys
    from manual_vs_autograd.optim import ManualOptimizer
    from manual_vs_autograd.cli import main
    real, calls = ManualOptimizer.step, [0]
    def step(*args, **kwargs):
        calls[0] += 1
        if calls[0] == 3:
            print("TRAINING", file=sys.stderr, flush=True)
        return real(*args, **kwargs)
    ManualOptimizer.step = step
    sys.exit(main(sys.argv[1:]))
    """
)


def _child(args: list[str], **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    return subprocess.Popen([sys.executable, "-c", CHILD, *args], env=env, stderr=subprocess.PIPE, text=True, **kwargs)


@pytest.mark.parametrize(
    "signum,status,word", [(signal.SIGTERM, 143, "terminated (SIGTERM)"), (signal.SIGINT, 130, "interrupted")]
)
def test_a_signal_during_training_keeps_the_record(tmp_path, signum, status, word):
    run = tmp_path / "run.safetensors"
    child = _child(
        ["compare", "--quiet", "--hidden", "32", "--epochs", "1000000", "--save", str(run)], stdout=subprocess.PIPE
    )
    with child:
        try:
            assert child.stderr.readline().strip() == "TRAINING"  # printed at the start of step 3
            child.send_signal(signum)
            err = child.stderr.read()
            out = child.stdout.read()  # the report (a few kB: the pipe holds it while stderr is read)
            assert child.wait(timeout=WAIT_S) == status
        finally:
            child.kill()  # a no-op once it has exited; else no million-epoch run outlives a failure
    # during a step (dropped) or between two (while the progress line is drawn, say): both are honest
    assert re.search(rf"mva: {re.escape(word)}; interrupted (during|after) step", err) and "Traceback" not in err
    # an interrupted run has no verdict, only the steps it checked (all bitwise equal here)
    assert out.splitlines()[-1] == "parity: not established (interrupted; every checked step agreed so far)"
    record = load_record(run)
    assert 2 <= record.steps < 1000000
    assert [p.name for p in tmp_path.iterdir()] == ["run.safetensors"]


def test_a_reader_that_goes_away_loses_nothing(tmp_path):
    run = tmp_path / "run.safetensors"
    child = _child(["compare", "--quiet", "--epochs", "300", "--save", str(run)], stdout=subprocess.PIPE)
    with child:
        child.stdout.close()  # `| true`: the reader is gone before the report
        err = child.stderr.read()
        assert child.wait(timeout=WAIT_S) == 0
    assert "Traceback" not in err and "BrokenPipe" not in err
    assert load_record(run).steps == 300


def test_head_reading_one_line_gets_it_without_a_traceback(tmp_path):
    child = _child(["compare", "--quiet", "--epochs", "30"], stdout=subprocess.PIPE)
    with child:
        first = child.stdout.readline()
        child.stdout.close()
        err = child.stderr.read()
        assert child.wait(timeout=WAIT_S) == 0
    assert first.startswith("network 2-2-1 sigmoid, mse") and "Traceback" not in err


def test_a_file_name_too_long_for_the_file_system_is_one_line(tmp_path, capsys, no_training):
    assert main(["compare", "--quiet", "--save", str(tmp_path / ("x" * 300))]) == 2
    assert "cannot be used (File name too long)" in one_error_line(capsys)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_a_folder_that_refuses_new_entries_is_refused_before_training(capsys):
    # /proc passes every permission test for root, but no folder can be made in it
    assert main(["compare", "--quiet", "--epochs", "5", "--save", "/proc/mva-no-such/run.safetensors"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not take new entries" in err


def test_the_output_check_leaves_nothing_behind(tmp_path):
    from manual_vs_autograd.outputs import check_output_dir, check_output_file

    check_output_file(tmp_path / "new" / "run.safetensors", "--save")
    check_output_dir(tmp_path / "pictures", "--plots")
    assert list(tmp_path.iterdir()) == []  # the probe's folders are gone, and nothing was made early


def test_a_name_whose_temporary_file_would_be_too_long_is_refused_before_training(tmp_path, capsys):
    # the record is written as .NAME.XXXXXXXX.safetensors beside it: a 250-byte name fits, that does not
    name = "b" * 238 + ".safetensors"
    assert main(["compare", "--quiet", "--save", str(tmp_path / name)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "too long to be written safely" in err and len(err) <= 320


def test_a_batch_larger_than_the_training_set_is_refused_before_any_work(capsys):
    assert main(["compare", "--quiet", "--hidden", "4096,4096", "--batch-size", "100000"]) == 2
    assert capsys.readouterr().err == "mva: error: batch size 100000 is larger than the 750 training samples\n"
