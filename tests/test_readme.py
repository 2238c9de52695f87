"""The README's quick start is what CI runs."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = "pip install -e '.[dev]' && python -m pytest"
    assert command in readme
    assert command in ci.splitlines()[-1]


def test_readme_run_command_is_mva_compare():
    assert "pip install -e . && mva compare" in (ROOT / "README.md").read_text()
