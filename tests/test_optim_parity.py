"""Each hand-written update rule equals torch.optim's, bit for bit, step by step and over whole training runs.

The network is the lecture's 2-2-1 sigmoid/MSE net, whose hand-written gradients are bitwise equal to
autograd's (asserted below): so any difference in a run comes from the update rules alone. On the CPU
torch.optim runs its single-tensor implementation, which the rules mirror op for op: the claim is
``torch.equal`` at every step, no tolerance. On CUDA torch runs its foreach kernels (other rounding), so
there the claim is a bound, written beside the test.
"""

from __future__ import annotations

import pytest
import torch

from manual_vs_autograd import MLPConfig, init_params, load_blobs, loss_and_grads, targets_for
from manual_vs_autograd.optim import (
    OptimizerProblem,
    OptimizerSpec,
    check_update_rule,
    implementation,
    load_state_into_torch,
    make_optimizers,
    run_pair,
    state_buffers,
    state_from_torch,
    torch_optimizer,
)
from manual_vs_autograd.twin import TwinMLP

STEPS = 40  # enough for momentum and the moments to build up; short so the suite stays fast

SPECS = [
    OptimizerSpec("sgd", lr=2.5),
    OptimizerSpec("sgd", lr=1.0, weight_decay=1e-2),
    OptimizerSpec("momentum", lr=0.5),
    OptimizerSpec("momentum", lr=0.5, dampening=0.3, weight_decay=1e-2),
    OptimizerSpec("nesterov", lr=0.5, momentum=0.8, weight_decay=1e-2),
    OptimizerSpec("adam", lr=0.05),
    OptimizerSpec("adam", lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=1e-2),
    OptimizerSpec("adam", lr=0.05, amsgrad=True),
    OptimizerSpec("adamw", lr=0.05),
    OptimizerSpec("adamw", lr=0.05, weight_decay=0.1, amsgrad=True),
    OptimizerSpec("rmsprop", lr=0.01),
    OptimizerSpec("rmsprop", lr=0.01, momentum=0.5, centered=True, weight_decay=1e-2),
]
DTYPES = [torch.float64, torch.float32]
BATCHES = [None, 100]  # full batch (750 samples) and mini-batches (8 per epoch, the last one 50)


LECTURE = MLPConfig()  # 2-2-1 sigmoid, MSE


def lecture_problem(dtype, device, config=LECTURE):
    blobs = load_blobs(binary=config.loss != "ce", dtype=dtype, device=device)
    params = init_params(config, 0, dtype=dtype, device=device)
    return config, params, blobs.x_train, targets_for(blobs.y_train, config.loss, dtype)


def cuda_bound(dtype):
    # torch's foreach kernels on CUDA round each element's few ops (≤ 6 per rule) differently: a few
    # eps of the largest value per step; 64 eps leaves room for the reductions in the gradients too.
    return 64 * torch.finfo(dtype).eps


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_the_lecture_gradients_are_bitwise_autograds(dtype):
    """The premise of the whole-run tests on the CPU: any difference there comes from the update rules."""
    config, params, x, y = lecture_problem(dtype, "cpu")
    _, grads = loss_and_grads(params, x, y, config)
    twin = TwinMLP(config, params)
    twin.loss(x, y).backward()
    reference = twin.math_gradients()
    assert all(torch.equal(grads[k], reference[k]) for k in grads)


@pytest.mark.parametrize("batch_size", BATCHES, ids=["full", "mini"])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("spec", SPECS, ids=OptimizerSpec.describe)
def test_whole_run_matches_torch_optim(spec, dtype, batch_size, device):
    config, params, x, y = lecture_problem(dtype, device)
    run = run_pair(spec, OptimizerProblem(config, params, x, y, STEPS, batch_size))
    assert run.manual_params["W1"].shape[0] == STEPS + 1
    assert not torch.equal(run.autograd_params["W1"][0], run.autograd_params["W1"][-1])  # it did train
    if implementation(device) == "single-tensor":
        assert torch.equal(run.manual_losses, run.autograd_losses)
        for name in run.manual_params:
            assert torch.equal(run.manual_params[name], run.autograd_params[name]), name
    else:
        report = check_update_rule(spec, OptimizerProblem(config, params, x, y, STEPS, batch_size), tolerance=cuda_bound(dtype))  # fmt: skip
        assert report.ok, str(report.mismatch)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("spec", SPECS, ids=OptimizerSpec.describe)
def test_every_step_and_every_state_buffer_is_bitwise(spec, dtype, device):
    """Teacher forcing: same parameters, state and gradients in; parameters and every buffer out equal."""
    config, params, x, y = lecture_problem(dtype, device)
    tolerance = 0.0 if implementation(device) == "single-tensor" else cuda_bound(dtype)
    report = check_update_rule(spec, OptimizerProblem(config, params, x, y, STEPS, 100), tolerance=tolerance)
    assert report.ok, str(report.mismatch)
    assert report.steps == STEPS
    if tolerance == 0.0:
        assert report.bitwise
    else:
        assert report.max_rel_diff <= tolerance


@pytest.mark.parametrize("name", ["momentum", "adam", "adamw", "rmsprop"])
def test_softmax_network_updates_are_bitwise_given_the_same_gradients(name):
    """On the 4-class tanh/CE net the hand-written gradients differ from autograd's by an ULP; the rules do not."""
    config = MLPConfig((2, 5, 4), "tanh", "ce")
    config, params, x, y = lecture_problem(torch.float32, "cpu", config)
    spec = OptimizerSpec(name, lr=0.05)
    report = check_update_rule(spec, OptimizerProblem(config, params, x, y, STEPS, 100))
    assert report.bitwise, str(report.mismatch)


def test_the_default_implementation_on_the_cpu_is_single_tensor():
    """What `implementation` says is what torch.optim picks: its default chooser, asked for CPU parameters."""
    from torch.optim.optimizer import _default_to_fused_or_foreach

    cpu = [torch.zeros(2, requires_grad=True)]
    assert _default_to_fused_or_foreach(cpu, differentiable=False, use_fused=False) == (False, False)
    assert implementation("cpu") == "single-tensor"
    assert implementation("cuda") == "foreach"


@pytest.mark.parametrize("spec", [SPECS[3], SPECS[7], SPECS[9], SPECS[11]], ids=OptimizerSpec.describe)
def test_state_moves_between_the_sides_for_teacher_forcing(spec):
    """The manual state loaded into a fresh torch.optim continues exactly as the manual rule does, and back."""
    config, params, x, y = lecture_problem(torch.float64, "cpu")
    twin = TwinMLP(config, params)
    manual_optimizer, _ = make_optimizers(spec, {n: p.clone() for n, p in params.items()}, twin)
    for _ in range(5):
        manual_optimizer.step(loss_and_grads(manual_optimizer.params, x, y, config)[1])
    twin.load_math_parameters(manual_optimizer.params)
    named = twin.named_math_parameters()
    fresh = torch_optimizer(spec, named.values())
    load_state_into_torch(manual_optimizer.state, fresh, named)
    back = state_from_torch(spec, fresh, named)
    for key, buffers in state_buffers(manual_optimizer.state).items():
        assert buffers.keys() == state_buffers(back)[key].keys()
        assert all(torch.equal(buffers[n], state_buffers(back)[key][n]) for n in buffers), key
    twin.loss(x, y).backward()
    manual_optimizer.step(twin.math_gradients())
    fresh.step()
    assert all(torch.equal(manual_optimizer.params[n], p.detach()) for n, p in named.items())
