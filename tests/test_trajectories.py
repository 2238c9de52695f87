"""Whole training runs: the loss and every parameter at every step, manual against autograd."""

from __future__ import annotations

import pytest
import torch

from manual_vs_autograd import MLPConfig, TrainConfig, init_params, load_blobs, targets_for, train_side_by_side
from manual_vs_autograd.tolerance import tolerance_for

RUNS = [
    # (network, dtype, batch size, lr, epochs)
    (MLPConfig((2, 2, 1), "sigmoid", "mse"), torch.float64, None, 2.5, 300),
    (MLPConfig((2, 2, 1), "sigmoid", "mse"), torch.float32, None, 2.5, 300),
    (MLPConfig((2, 8, 8, 1), "relu", "bce"), torch.float64, 32, 1.0, 10),
    (MLPConfig((2, 16, 16, 4), "tanh", "ce"), torch.float32, 64, 0.1, 20),
    (MLPConfig((2, 6, 4), "sigmoid", "ce"), torch.float64, 100, 0.1, 20),
]


@pytest.mark.parametrize("config,dtype,batch_size,lr,epochs", RUNS, ids=lambda v: str(v).replace(" ", ""))
def test_trajectories_match(config, dtype, batch_size, lr, epochs, device):
    data = load_blobs(binary=config.loss != "ce", dtype=dtype, device=device)
    y = targets_for(data.y_train, config.loss, dtype)
    params = init_params(config, 0, scheme="scaled", dtype=dtype, device=device)
    _, twin, record = train_side_by_side(config, params, data.x_train, y, TrainConfig(epochs, lr, batch_size, seed=0))

    steps_per_epoch = 1 if batch_size is None else -(-750 // batch_size)
    assert record.steps == epochs * steps_per_epoch
    assert len(record.manual.losses) == len(record.autograd.losses) == record.steps
    # Trajectory tolerance: 1e5·eps of each tensor's scale over the run (tolerance.py says why).
    bound = tolerance_for(dtype).trajectory
    for row in (record.loss_parity(), *record.param_parity()):
        assert row.scaled_diff <= bound, row
    assert record.parity
    # Training did something: the parameters moved and the loss fell.
    assert record.manual.losses[-1] < record.manual.losses[0]
    for name, p in twin.math_parameters().items():
        if name.startswith("W"):
            assert not torch.equal(p, params[name])


def test_lecture_trajectory_is_bitwise_equal_on_cpu():
    """Full batch, 2-2-1 sigmoid/MSE, float64: every step's loss and parameters identical on the CPU."""
    config = MLPConfig()
    data = load_blobs()
    y = targets_for(data.y_train, "mse", torch.float64)
    _, _, record = train_side_by_side(config, init_params(config), data.x_train, y, TrainConfig(200, 2.5))
    assert record.manual.losses == record.autograd.losses
    assert all(row.exact for row in record.param_parity())


def test_mini_batches_cover_each_epoch_once_and_follow_the_seed():
    from manual_vs_autograd.batches import batches

    cpu = torch.device("cpu")
    epoch = list(batches(750, 64, 1, seed=3, device=cpu))
    assert [len(b) for b in epoch] == [64] * 11 + [46]
    assert torch.equal(torch.cat(epoch).sort().values, torch.arange(750))
    again = list(batches(750, 64, 1, seed=3, device=cpu))
    other = list(batches(750, 64, 1, seed=4, device=cpu))
    assert all(torch.equal(a, b) for a, b in zip(epoch, again))
    assert not torch.equal(epoch[0], other[0])


def test_a_diverging_run_stops_and_says_where():
    config = MLPConfig((2, 4, 4), "relu", "ce")
    data = load_blobs(binary=False)
    y = targets_for(data.y_train, "ce", torch.float64)
    params = init_params(config, 0)
    _, _, record = train_side_by_side(config, params, data.x_train, y, TrainConfig(50, 1e6))
    assert record.stopped is not None and "step" in record.stopped
    assert record.steps < 50
    assert len(record.manual.losses) == record.steps
