"""The lecture's 2-2-1 network three ways, its recorded numbers, and the 2-2-4 network and its bugs."""

from __future__ import annotations

import pytest

from manual_vs_autograd import load_blobs
from manual_vs_autograd.lecture.experiments import run_lecture
from manual_vs_autograd.lecture.multiclass import fit_multiclass, multiclass_init
from manual_vs_autograd.lecture.multiclass_parity import check_multiclass
from manual_vs_autograd.lecture.scalar_net import lecture_init
from manual_vs_autograd.lecture.three_ways import compare_three_ways

EPS64 = 2.220446049250313e-16


@pytest.fixture(scope="module")
def binary():
    return load_blobs()


@pytest.fixture(scope="module")
def four():
    return load_blobs(binary=False)


@pytest.fixture(scope="module")
def lecture():
    return run_lecture()


def test_initial_weights_are_the_notebooks():
    net = lecture_init()
    assert [round(v, 3) for v in (net.w1, net.w2, net.w3, net.w4, net.w5, net.w6)] == [
        1.764, 0.400, 0.979, 2.241, 1.868, -0.977,
    ]  # fmt: skip
    assert (net.b1, net.b2, net.b3) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("only_w1", [False, True], ids=["all weights", "w1 only"])
def test_three_implementations_agree_at_every_epoch(binary, only_w1):
    """Free-running, 2000 epochs at the notebook's lr 1, where the dynamics are stable."""
    r = compare_three_ways(binary.x_train, binary.y_train, 2000, 1.0, only_w1=only_w1)
    # The scalar loop sums 750 samples in Python order, the matrix product in its own: each epoch
    # differs by a few ULPs; 2000 non-chaotic epochs stay within 1e5·eps of the weights' scale.
    bound = 1e5 * EPS64 * max(1.0, r.param_scale)
    assert max(r.scalar_param_diff) <= bound and max(r.scalar_loss_diff) <= 1e5 * EPS64
    # The vectorised manual network runs autograd's own kernels: identical.
    assert max(r.manual_param_diff) == 0.0 and max(r.manual_loss_diff) == 0.0
    assert r.losses[-1] < r.losses[0]


def test_three_implementations_take_the_same_step_at_every_epoch_of_the_lecture_run(binary):
    """lr 5 as in the lecture: each epoch from the same parameters gives the same update."""
    r = compare_three_ways(binary.x_train, binary.y_train, 2000, 5.0, resync=True)
    # One epoch: a sum over 750 samples in two orders, ≤ 1000·eps of the weights' scale.
    bound = 1000 * EPS64 * max(1.0, r.param_scale)
    assert max(r.scalar_param_diff) <= bound
    assert max(r.manual_param_diff) == 0.0
    assert max(r.losses[150:400]) > 0.3  # the run passes through the notebook's loss spike


def test_w1_only_reproduces_the_notebook(lecture):
    w = lecture.w1_only
    assert w["w1_start"] == pytest.approx(1.764, abs=5e-4)  # notebook prints 3 decimals
    assert w["w1_end"] == pytest.approx(1.245, abs=5e-4)
    assert w["mse_start"] == pytest.approx(0.2319, abs=5e-5)  # 4 decimals
    assert w["mse_end"] == pytest.approx(0.2284, abs=5e-5)


def test_full_network_reproduces_the_notebook(lecture):
    assert lecture.full["train_acc"] == pytest.approx(0.98, abs=0.01)
    assert lecture.full["test_acc"] == pytest.approx(0.94, abs=0.01)
    assert lecture.full["final_mse"] < 0.03  # "ends ~0.02"
    assert 0.3 < lecture.full["spike_mse"] < 0.4 and 150 <= lecture.full["spike_epoch"] <= 400


def test_multiclass_correct_and_original(lecture):
    assert lecture.multiclass["test_acc"] == pytest.approx(0.89, abs=0.03)
    assert 0.76 <= lecture.multiclass_original["train_acc"] <= 0.81
    assert 0.76 <= lecture.multiclass_original["test_acc"] <= 0.81
    assert lecture.multiclass["train_acc"] > lecture.multiclass_original["train_acc"] + 0.05


def test_parity_check_flags_exactly_the_parameters_the_bugs_corrupt(four):
    start = multiclass_init()
    original = check_multiclass(start, four.x_train, four.y_train, original=True)
    assert original.flagged == ("b1", "b2", "b3", "b4", "b5", "b6")
    correct = check_multiclass(start, four.x_train, four.y_train, original=False)
    assert correct.flagged == ()
    # The a6-uses-b5 bug is latent while b5 == b6 (the original never moves b4..b6); where they
    # differ, the original's forward pass itself is wrong and its loss disagrees with autograd.
    trained = fit_multiclass(start, four.x_train, four.y_train, 100).params
    assert trained["b5"] != trained["b6"]
    bugged = check_multiclass(trained, four.x_train, four.y_train, original=True)
    assert abs(bugged.loss_applied_side - bugged.loss_autograd) > 1e-3
    assert check_multiclass(trained, four.x_train, four.y_train, original=False).flagged == ()
