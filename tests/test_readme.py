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


def test_the_assert_grads_close_example_runs_and_catches_its_slip(capsys):
    readme = (ROOT / "README.md").read_text()
    start = readme.index(
        "```python\nimport torch\nfrom manual_vs_autograd import MLPConfig, TwinMLP, assert_grads_close"
    )
    block = readme[start + len("```python\n") : readme.index("```", start + 3)]
    exec(compile(block, "README.md", "exec"), {})
    assert capsys.readouterr().out.startswith("1 of 4 gradients outside their bounds (dW1)")
