"""The README's example test file, run by pytest with the package's plugin: it passes, and a wrong backward fails readably."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_test_file() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("```python", readme.index("### The pytest plugin")) + len("```python\n")
    return readme[start : readme.index("```", start)]


def _run_pytest(path: Path) -> subprocess.CompletedProcess:
    # -p loads the plugin by its module name, the name its pytest11 entry point registers it under,
    # so this works whether or not the package is installed with its entry point
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "manual_vs_autograd.pytest_plugin",
        str(path),
    ]
    return subprocess.run(command, check=False, capture_output=True, text=True, cwd=path.parent, timeout=600)


def test_readme_example_passes_and_a_wrong_backward_fails_with_the_report(tmp_path):
    source = _readme_test_file()
    good = tmp_path / "test_softplus.py"
    good.write_text(source)
    result = _run_pytest(good)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout  # cpu-float32 and cpu-float64 (cuda ones pass or skip)

    assert "torch.sigmoid(a)  #" in source
    wrong = tmp_path / "test_softplus_wrong.py"
    wrong.write_text(source.replace("torch.sigmoid(a)  #", "torch.sigmoid(-a)  #"))
    result = _run_pytest(wrong)
    assert result.returncode == 1
    assert "softplus_backward against softplus (out (8, 5), seed 0): MISMATCH" in result.stdout
    assert "MISMATCH vs autograd and FD" in result.stdout
