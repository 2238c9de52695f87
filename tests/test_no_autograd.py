"""The manual path uses no autograd: it runs with autograd switched off and never calls into it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch

import manual_vs_autograd
from manual_vs_autograd import MLPConfig, init_params, load_blobs, loss_and_grads, sgd_step, targets_for

MANUAL_MODULES = ["layers.py", "losses.py", "norm.py", "manual.py"]
FORBIDDEN = {"grad", "requires_grad_", "requires_grad", "autograd", "enable_grad", "nn", "functional"}


@pytest.mark.parametrize("loss", ["mse", "bce", "ce"])
@pytest.mark.parametrize("norm", ["none", "layer"])
def test_manual_step_runs_under_inference_mode_and_without_autograd_entry_points(loss, norm, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("the manual path called into autograd")

    monkeypatch.setattr(torch.autograd, "backward", forbidden)
    monkeypatch.setattr(torch.autograd, "grad", forbidden)
    monkeypatch.setattr(torch.Tensor, "backward", forbidden)

    config = MLPConfig((2, 4, 4 if loss == "ce" else 1), "tanh", loss, norm)
    data = load_blobs(binary=loss != "ce")
    y = targets_for(data.y_train, loss, torch.float64)
    params = init_params(config)
    before = {k: v.clone() for k, v in params.items()}
    with torch.inference_mode():  # no graph can be recorded here at all
        L, grads = loss_and_grads(params, data.x_train, y, config)
        sgd_step(params, grads, 0.1)
    assert L.grad_fn is None and not L.requires_grad
    assert all(not g.requires_grad for g in grads.values())
    assert all(not torch.equal(before[k], params[k]) for k in params if k.startswith("W"))


@pytest.mark.parametrize("module", MANUAL_MODULES)
def test_manual_source_never_names_autograd(module):
    """Static check: the manual modules name no .grad, torch.autograd or torch.nn, and never call
    ``tensor.backward()`` (their own ``<layer>.backward(dout, cache)`` pairs take arguments)."""
    source = (Path(manual_vs_autograd.__file__).parent / module).read_text()
    tree = ast.parse(source)
    used = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    used |= {
        alias.name for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names
    }
    assert not used & FORBIDDEN, used & FORBIDDEN
    bare_backward = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "backward"
        and not node.args
        and not node.keywords
    ]
    assert bare_backward == []
