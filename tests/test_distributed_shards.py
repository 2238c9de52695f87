"""Shards and their weights, without starting processes: disjoint, covering, and the uneven-shard mean."""

from __future__ import annotations

import pytest
import torch

from manual_vs_autograd import (
    MLPConfig,
    init_params,
    load_blobs,
    loss_and_grads,
    targets_for,
)
from manual_vs_autograd.bounds import mlp_grad_bounds
from manual_vs_autograd.distributed import (
    DistributedSpec,
    check_shardable,
    plan,
    shard,
    shard_sizes,
    shard_weight,
)
from manual_vs_autograd.distributed.report import tensor_parity
from manual_vs_autograd.errors import InputError
from manual_vs_autograd.optim import OptimizerSpec


@pytest.mark.parametrize("world_size", [1, 2, 3, 5])
@pytest.mark.parametrize("batch", [5, 7, 64, 375])
def test_shards_are_disjoint_and_cover_the_batch(batch, world_size):
    index = torch.randperm(1000, generator=torch.Generator().manual_seed(batch))[:batch]
    parts = [shard(index, world_size, r) for r in range(world_size)]
    assert torch.equal(torch.cat(parts), index)  # in order, so together exactly the batch
    assert len(set(torch.cat(parts).tolist())) == batch  # no sample twice
    assert tuple(len(p) for p in parts) == shard_sizes(batch, world_size)
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_weights_are_one_exactly_for_even_shards():
    assert all(shard_weight(n, 64, 2) == 1.0 for n in shard_sizes(64, 2))
    weights = [shard_weight(n, 7, 2) for n in shard_sizes(7, 2)]  # shards 4 and 3
    assert weights == [8 / 7, 6 / 7] and sum(weights) == pytest.approx(2)


def _shard_grads(loss: str, batch: int, world_size: int):
    data = load_blobs(40, binary=loss != "ce")
    config = MLPConfig((2, 3, 1 if loss != "ce" else 4), "tanh", loss)
    params = init_params(config, 0, scheme="scaled")
    x, y = data.x_train[:batch], targets_for(data.y_train, loss, torch.float64)[:batch]
    index = torch.arange(batch)
    full = loss_and_grads(params, x, y, config)[1]
    shards = [
        loss_and_grads(params, x[s], y[s], config)[1] for s in (shard(index, world_size, r) for r in range(world_size))
    ]
    return full, shards, mlp_grad_bounds(config, params, x, y)  # per element, at these parameters on the batch


@pytest.mark.parametrize("loss", ["mse", "ce"])
def test_weighted_average_of_uneven_shard_gradients_is_the_batch_gradient(loss):
    full, shards, bounds = _shard_grads(loss, batch=7, world_size=2)  # shards of 4 and 3
    weights = [shard_weight(n, 7, 2) for n in shard_sizes(7, 2)]
    for k in full:
        weighted = sum(w * g[k] for w, g in zip(weights, shards)) / 2
        plain = sum(g[k] for g in shards) / 2  # what DDP computes from unweighted shard means
        assert tensor_parity(k, weighted, full[k], bounds[k]).within, k
        # without the weights, the average of shard means is another number, far outside rounding
        assert not tensor_parity(k, plain, full[k], bounds[k]).within, k


def test_even_shards_need_no_weights():
    full, shards, bounds = _shard_grads("mse", batch=8, world_size=2)
    for k in full:
        assert tensor_parity(k, (shards[0][k] + shards[1][k]) / 2, full[k], bounds[k]).within, k


def test_a_batch_smaller_than_the_process_count_is_refused():
    check_shardable(750, 64, 2)  # batches of 64 and a last one of 46
    with pytest.raises(InputError, match="batch of 1 samples cannot give each of the 2 processes"):
        check_shardable(750, 749, 2)  # the last batch of each epoch holds 1
    with pytest.raises(InputError, match="batch of 2 samples .* 3 processes"):
        check_shardable(750, 2, 3)


def test_plan_refuses_bad_settings_in_one_line():
    with pytest.raises(InputError, match="number of processes must be a positive integer, got 0"):
        plan(DistributedSpec(), 0)
    with pytest.raises(InputError, match="batch size 5000 is larger than the 750 training samples"):
        plan(DistributedSpec(batch_size=5000), 2)
    with pytest.raises(InputError, match="unknown device 'tpu'"):
        plan(DistributedSpec(device="tpu"), 2)
    if torch.cuda.device_count() < 64:
        with pytest.raises(InputError, match="needs 64 GPUs"):
            plan(DistributedSpec(device="cuda"), 64)


def test_spec_refuses_what_a_distributed_run_does_not_train():
    with pytest.raises(InputError, match="without normalisation; expected norm 'none', got 'layer'"):
        DistributedSpec(norm="layer")
    with pytest.raises(InputError, match="plain SGD; expected no optimizer, got 'adam'"):
        DistributedSpec(optimizer=OptimizerSpec("adam"))


def test_plan_takes_compare_defaults():
    p = plan(DistributedSpec(), 2)
    assert p.config.sizes == (2, 2, 1) and p.init == "lecture" and p.lr == 2.5 and p.n_train == 750
    assert plan(DistributedSpec(hidden=(16, 16), loss="ce"), 2).init == "scaled"
    assert p.backend == ("nccl" if p.device_type == "cuda" else "gloo")
