"""Bad output paths are refused by the console script before it imports the package (and torch).

Each case runs the real entry point in a child process and checks three things: exit status 2, the
same single line the full check (after the import) gives, and that neither the package nor torch nor
numpy was imported. No timing is measured: not importing is what makes the answer immediate.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import _mva_entry
import manual_vs_autograd.cli.bench as cli_bench
import manual_vs_autograd.cli.compare as cli_compare
from manual_vs_autograd.cli import main
from manual_vs_autograd.cli.main import build_parser
from manual_vs_autograd.errors import one_line
from manual_vs_autograd.pathcheck import one_line as stdlib_one_line

ROOT = Path(__file__).resolve().parent.parent
WAIT_S = 120  # a bound on a hang only
HARNESS = textwrap.dedent(
    """
    import sys
    import _mva_entry
    status = _mva_entry.main()
    print([name for name in ("manual_vs_autograd", "torch", "numpy") if name in sys.modules])
    sys.exit(status)
    """
)


def entry(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-c", HARNESS, *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=WAIT_S
    )


def full_check(argv: list[str], capsys, monkeypatch) -> str:
    """The line ``mva`` gives after the import (the command never gets as far as any work)."""
    monkeypatch.setattr(cli_compare, "run_compare", lambda *a, **k: pytest.fail("the run started"))
    monkeypatch.setattr(cli_bench, "run_bench", lambda *a, **k: pytest.fail("the bench started"))
    capsys.readouterr()
    assert main(argv) == 2
    return capsys.readouterr().err


def _layout(d: Path) -> None:
    (d / "folder").mkdir()
    (d / "file").write_text("")
    os.mkfifo(d / "fifo")
    os.symlink(d / "nowhere", d / "dangling")
    (d / "out").mkdir()
    (d / "out" / "bench.json").mkdir()  # mva bench would write a file there


CASES = [
    ["compare", "--save", "folder"],
    ["compare", "--save=folder"],
    ["compare", "--sav", "folder"],  # a prefix argparse accepts
    ["compare", "--save", "file/run.safetensors"],
    ["compare", "--save", "/dev/null"],
    ["compare", "--save", "fifo"],
    ["compare", "--save", "dangling"],
    ["compare", "--save", ""],
    ["compare", "--save="],
    ["compare", "--quiet", "--plots", "file"],
    ["compare", "--plots", "dangling"],
    ["compare", "--pl=dangling/pictures"],
    ["compare", "--plots", ""],
    ["compare", "--save", "ok.safetensors", "--save", "folder"],  # the last one counts, as in argparse
    ["plot", "run.safetensors", "--out", "file"],
    ["plot", "--out", "dangling", "run.safetensors"],
    ["bench", "--out", "file"],
    ["bench", "--out", "out"],
]


@pytest.mark.parametrize("argv", CASES, ids=[" ".join(a) for a in CASES])
def test_a_bad_output_path_is_refused_before_the_import(tmp_path, capsys, monkeypatch, argv):
    _layout(tmp_path)
    done = entry(argv, tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stdout == "[]\n"  # neither the package, nor torch, nor numpy was imported
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mva: error: ") and "Traceback" not in done.stderr
    monkeypatch.chdir(tmp_path)
    assert done.stderr == full_check(argv, capsys, monkeypatch)  # the same line as after the import


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_folder_is_refused_before_the_import(tmp_path):
    (tmp_path / "locked").mkdir(mode=0o500)
    done = entry(["compare", "--save", "locked/run.safetensors"], tmp_path)
    assert done.returncode == 2 and done.stdout == "[]\n"
    assert done.stderr == "mva: error: --save 'locked/run.safetensors': folder 'locked' is not writable\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["compare", "--save", "folder", "--save", "ok.safetensors"],  # argparse keeps the last
        ["compare", "--s", "folder"],  # ambiguous: argparse says so
        ["compare", "--save", "folder", "--help"],  # help is printed, nothing checked
        ["compare", "--save", "folder", "-h"],
        ["compare", "--save", "folder", "--nproc", "2"],  # that run refuses --save in its own words
        ["compare", "--unknown", "--save", "folder"],
        ["compare", "--", "--save", "folder"],
        ["lecture", "--save", "folder"],
        ["--version"],
        [],
    ],
)
def test_what_argparse_answers_otherwise_is_left_to_it(tmp_path, monkeypatch, argv):
    _layout(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert _mva_entry.refuse_bad_outputs(argv) is None


def test_python_dash_m_entry_refuses_in_one_line(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "_mva_entry", "compare", "--save", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert (
        done.stderr
        == f"mva: error: --save {str(tmp_path)!r} is a folder; give a file name, e.g. "
        + repr(str(tmp_path / "run.safetensors"))
        + "\n"
    )


def test_the_option_tables_match_the_parsers():
    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for command, options in _mva_entry.OPTIONS.items():
        parser = subparsers.choices[command]
        assert parser.allow_abbrev  # the prefixes the pre-check honours are argparse's
        real = {s for action in parser._actions for s in action.option_strings if s.startswith("--")}
        assert set(options) == real, command
        for option, _kind in _mva_entry.OUTPUTS[command]:
            assert option in real
    assert build_parser().allow_abbrev


def test_the_stdlib_one_line_is_the_packages():
    for text in ["short", "a\nb  c", "x" * 500, "--save '" + "y" * 400 + "' is a folder"]:
        for limit in (120, 300):
            assert stdlib_one_line(text, limit) == one_line(text, limit)


def test_python_dash_m_package_refuses_before_torch(tmp_path):
    # `python -m manual_vs_autograd` runs the package's __init__ (names loaded on first use: no torch) and
    # then __main__, which hands over to _mva_entry: the bad path is refused before torch or numpy load.
    harness = textwrap.dedent(
        """
        import runpy, sys
        sys.argv = ["manual_vs_autograd", *sys.argv[1:]]
        try:
            runpy.run_module("manual_vs_autograd", run_name="__main__", alter_sys=True)
        finally:
            print([name for name in ("torch", "numpy") if name in sys.modules])
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, "-c", harness, "compare", "--save", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )
    assert done.returncode == 2 and done.stdout == "[]\n", done.stderr
    assert done.stderr.startswith(f"mva: error: --save {str(tmp_path)!r} is a folder") and done.stderr.count("\n") == 1


def test_the_package_exports_what_it_lists():
    import manual_vs_autograd as package

    assert sorted(package._EXPORTS) == package.__all__
    assert all(getattr(package, name).__name__ == name for name in package.__all__)
