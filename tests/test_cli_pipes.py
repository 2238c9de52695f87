"""A reader that goes away (``mva compare 2>&1 | head -1``) changes nothing: not the exit status, not the record.

Every line the command writes, on stdout or stderr, goes through the guarded writer
(:mod:`manual_vs_autograd.cli.stdout`). The child process waits, at a known point, until the reader has
closed the pipe, so that what it writes next meets a broken pipe for certain.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import _mva_entry
from manual_vs_autograd.cli import main
from manual_vs_autograd.cli.stdout import emit, say
from manual_vs_autograd.record import load_record

ROOT = Path(__file__).resolve().parent.parent
WAIT_S = 600  # a bound on a hang only

CHILD = textwrap.dedent(
    """
    import os, sys, time
    import manual_vs_autograd.cli.compare as cli_compare
    import _mva_entry

    closed, real = sys.argv.pop(1), cli_compare.record_from_result

    def after_the_report(result):  # between the report (stdout) and "saving the run record" (stderr)
        for _ in range(6000):
            if os.path.exists(closed):
                break
            time.sleep(0.1)
        return real(result)

    cli_compare.record_from_result = after_the_report
    sys.exit(_mva_entry.main())
    """
)


def run_child(tmp_path: Path, argv: list[str], *, head: bool) -> tuple[int, str]:
    """The command's status and first line, with stdout and stderr on one pipe closed after that line (``head``)
    or read to the end."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    closed = tmp_path / "reader-closed"
    if not head:
        closed.write_text("")
    command = [sys.executable, "-c", CHILD, str(closed), *argv]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as child:
        try:
            first = child.stdout.readline()
            if head:
                child.stdout.close()  # `| head -1`: the reader is gone
                closed.write_text("")
            else:
                first += child.stdout.read()
            return child.wait(timeout=WAIT_S), first
        finally:
            child.kill()


@pytest.mark.parametrize("quiet", [[], ["--quiet"]], ids=["progress", "quiet"])
def test_head_one_line_of_both_streams_keeps_the_status_and_the_record(tmp_path, quiet):
    argv = ["compare", *quiet, "--epochs", "20", "--save", str(tmp_path / "run.safetensors")]
    status, everything = run_child(tmp_path, argv, head=False)
    assert "Traceback" not in everything and "run record saved" in everything
    (tmp_path / "run.safetensors").unlink()
    (tmp_path / "reader-closed").unlink()
    piped, first = run_child(tmp_path, argv, head=True)
    assert piped == status == 0  # the verdict's status, with the pipe as without it
    assert first.strip() and "Traceback" not in first
    assert load_record(tmp_path / "run.safetensors").steps == 20


class _Gone(io.TextIOBase):
    """A stream whose reader has gone: every write or flush raises BrokenPipeError."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


def test_the_guarded_writers_report_a_gone_reader_instead_of_raising(monkeypatch):
    monkeypatch.setattr(sys, "stdout", _Gone())
    monkeypatch.setattr(sys, "stderr", _Gone())
    assert emit("report") is False and say("mva: error: ...") is False


def test_error_lines_to_a_gone_reader_keep_their_status(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "stderr", _Gone())
    assert main(["compare", "--hidden", "16,0"]) == 2  # parse error: its line cannot be written
    assert main(["plot", str(tmp_path / "missing.safetensors"), "--out", str(tmp_path / "o")]) == 2
    assert _mva_entry.main(["compare", "--save", str(tmp_path)]) == 2  # refused before the import
