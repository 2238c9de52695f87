"""The optimizer spec: torch's defaults, one-line errors for bad settings, JSON round trip, the CLI options."""

from __future__ import annotations

import argparse
import json

import pytest
import torch

from manual_vs_autograd.cli.optimizer_options import add_optimizer_arguments, optimizer_from_args
from manual_vs_autograd.errors import InputError
from manual_vs_autograd.optim import OPTIMIZERS, OptimizerSpec, torch_optimizer
from manual_vs_autograd.optim.spec import ADAPTIVE_LR


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_defaults_are_torch_optims_own(name):
    """Every setting torch takes is the spec's value, and torch's default where the spec left it unset."""
    spec = OptimizerSpec(name, lr=0.1)
    optimizer = torch_optimizer(spec, [torch.nn.Parameter(torch.zeros(3))])
    group = optimizer.param_groups[0]
    for key, value in spec.settings().items():
        assert group[key] == value, key
    reference = getattr(torch.optim, spec.torch_class)([torch.nn.Parameter(torch.zeros(3))], lr=0.1).param_groups[0]
    for key, value in spec.settings().items():
        if not (name in ("momentum", "nesterov") and key in ("momentum", "nesterov")):  # the two named variants
            assert reference[key] == value, key
    assert type(optimizer).__name__ == spec.torch_class


def test_momentum_and_nesterov_default_to_momentum_09():
    assert OptimizerSpec("momentum").momentum == 0.9
    assert OptimizerSpec("nesterov").nesterov and OptimizerSpec("nesterov").momentum == 0.9
    assert OptimizerSpec("adamw").weight_decay == 1e-2 and OptimizerSpec("adam").weight_decay == 0.0


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"name": "adagrad"}, ["adagrad", "sgd, momentum"]),
        ({"lr": 0.0}, ["learning rate", "0.0"]),
        ({"lr": float("nan")}, ["learning rate", "nan"]),
        ({"name": "momentum", "momentum": 1.0}, ["momentum", "[0, 1)", "1.0"]),
        ({"name": "momentum", "momentum": 0.0}, ["momentum", "sgd"]),
        ({"name": "nesterov", "dampening": 0.1}, ["nesterov", "dampening", "0.1"]),
        ({"name": "adam", "dampening": 0.1}, ["dampening", "adam"]),
        ({"name": "adam", "betas": (0.9, 1.0)}, ["beta2", "1.0"]),
        ({"name": "adam", "betas": (0.9,)}, ["betas", "two numbers"]),
        ({"name": "adam", "eps": -1e-8}, ["eps", "-1e-08"]),
        ({"name": "adam", "momentum": 0.9}, ["momentum", "adam", "betas"]),
        ({"name": "sgd", "eps": 1e-8}, ["eps", "sgd"]),
        ({"name": "sgd", "betas": (0.8, 0.9)}, ["betas", "sgd"]),
        ({"name": "sgd", "amsgrad": True}, ["amsgrad", "sgd"]),
        ({"name": "adam", "centered": True}, ["centered", "adam"]),
        ({"weight_decay": -0.1}, ["weight decay", "-0.1"]),
    ],
)
def test_bad_settings_raise_one_line_naming_the_value(kwargs, words):
    with pytest.raises(InputError) as err:
        OptimizerSpec(**kwargs)
    message = str(err.value)
    assert "\n" not in message
    for word in words:
        assert word in message


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_json_round_trip(name):
    spec = OptimizerSpec(name, lr=0.01, weight_decay=0.5)
    data = json.loads(json.dumps(spec.to_json(), allow_nan=False))
    assert data["name"] == name and data["torch"] == f"torch.optim.{spec.torch_class}"
    assert data["weight_decay"] == 0.5
    assert OptimizerSpec.from_json(data) == spec


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # as mva's parser: one line, through InputError
        raise InputError(message)


def parse(*argv):
    parser = _Parser()
    parser.add_argument("--lr", type=float, default=None)
    add_optimizer_arguments(parser)
    return optimizer_from_args(parser.parse_args(list(argv)), sgd_lr=2.5)


def test_cli_options_build_the_spec():
    assert parse() == OptimizerSpec("sgd", lr=2.5)
    assert parse("--optimizer", "adam") == OptimizerSpec("adam", lr=ADAPTIVE_LR)
    spec = parse("--optimizer", "adamw", "--lr", "0.01", "--betas", "0.8,0.99", "--eps", "1e-6", "--weight-decay", "0.1", "--amsgrad")  # fmt: skip
    assert spec == OptimizerSpec("adamw", lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, amsgrad=True)
    assert parse("--optimizer", "nesterov", "--momentum", "0.5") == OptimizerSpec("nesterov", lr=1.25, momentum=0.5)
    assert parse("--optimizer", "momentum").lr == pytest.approx(0.25)  # 2.5 · (1 - 0.9): SGD's step once b builds up
    assert parse("--optimizer", "rmsprop", "--alpha", "0.9", "--centered").centered


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--betas", "0.9"], ["--betas", "two numbers", "'0.9'"]),
        (["--betas", "0.9,x"], ["--betas", "'x'"]),
        (["--eps", "tiny"], ["--eps", "'tiny'"]),
        (["--momentum", "inf"], ["--momentum", "'inf'"]),
        (["--optimizer", "adam", "--betas", "0.9,1.5"], ["beta2", "1.5"]),
        (["--optimizer", "sgd", "--betas", "0.9,0.99"], ["betas", "sgd"]),
        (["--optimizer", "lbfgs"], ["lbfgs", "adamw"]),
    ],
)
def test_cli_bad_values_are_one_line_errors(argv, words):
    with pytest.raises(InputError) as err:
        parse(*argv)
    assert "\n" not in str(err.value)
    for word in words:
        assert word in str(err.value)
