"""Streaming summaries, thinned records and the pre-flight refusal."""

from __future__ import annotations

import pytest
import torch

from manual_vs_autograd import (
    MLPConfig,
    TrainConfig,
    init_params,
    load_blobs,
    targets_for,
    train_side_by_side,
)
from manual_vs_autograd.cli import main
from manual_vs_autograd.errors import InputError
from manual_vs_autograd.preflight import check_fits, estimate
from manual_vs_autograd.recorder import RecordPolicy


def _run(policy=None, epochs=6):
    config = MLPConfig((2, 6, 4), "tanh", "ce")
    data = load_blobs(binary=False, dtype=torch.float32)
    y = targets_for(data.y_train, "ce", torch.float32)
    params = init_params(config, 0, scheme="scaled", dtype=torch.float32)
    return train_side_by_side(
        config,
        params,
        data.x_train,
        y,
        TrainConfig(epochs, 0.5, 100, seed=1),
        record=policy,
    )


def test_streaming_summaries_equal_those_from_the_full_record():
    _, _, traj = _run()
    assert traj.record.param_steps == list(range(traj.steps + 1))  # small run: every step kept
    m, a = traj.manual.stacked(), traj.autograd.stacked()
    for name in m:
        from_record = (m[name].double() - a[name].double()).abs().max().item()
        assert traj.trajectory.max_diff[name] == from_record
    losses = torch.tensor(traj.manual.losses, dtype=torch.float64) - torch.tensor(
        traj.autograd.losses, dtype=torch.float64
    )
    assert traj.max_loss_diff == losses.abs().max().item()


def test_thinned_and_selected_records_keep_what_was_asked():
    _, _, full = _run()
    _, _, thin = _run(RecordPolicy(every=5, what=("W1", "b2")))
    steps = full.steps
    assert thin.record.param_steps == sorted({0, *range(5, steps + 1, 5), steps})
    assert set(thin.record.params["manual"]) == {"W1", "b2"}
    for i, step in enumerate(thin.record.param_steps):
        assert torch.equal(
            thin.record.params["manual"]["W1"][i],
            full.record.params["manual"]["W1"][step],
        )
    assert thin.record.policy["every"] == 5 and not thin.record.policy["thinned"]
    # the summaries do not depend on what is recorded
    assert thin.trajectory.max_diff == full.trajectory.max_diff
    _, _, budget = _run(RecordPolicy(budget_bytes=2000))
    assert budget.record.policy["thinned"] and budget.record.policy["every"] > 1
    assert "thinned" in budget.record.policy["note"]
    _, _, none = _run(RecordPolicy(what="none"))
    assert none.record.loss_steps == [] and none.record.params["manual"] == {}


def test_preflight_refuses_with_the_estimate_and_an_option():
    est = estimate((2, 100_000, 100_000, 1), 1000, None, 8, 2000, RecordPolicy())
    with pytest.raises(InputError, match=r"needs about .* GiB .* available; try smaller --hidden"):
        check_fits(est, batch_size=None, n_samples=1000, available=16 * 2**30)
    small = estimate((2, 2, 1), 1000, None, 8, 2000, RecordPolicy())
    check_fits(small, batch_size=None, n_samples=1000, available=16 * 2**30)
    big_batch = estimate((2, 4096, 4), 10_000_000, None, 4, 1, RecordPolicy(what="none"))
    with pytest.raises(InputError, match="--batch-size"):
        check_fits(big_batch, batch_size=None, n_samples=10_000_000, available=16 * 2**30)


@pytest.mark.parametrize(
    "args",
    [
        ["--samples", "100000000000"],
        ["--hidden", "100000,100000"],
        ["--features", "10000000"],
    ],
)
def test_cli_refuses_before_allocating(args, capsys):
    assert main(["compare", *args, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mva: error: the run needs about") and err.count("\n") == 1


def test_progress_is_a_plain_line_off_a_terminal_and_silent_when_quiet(capsys):
    from manual_vs_autograd.cli.progress import step_progress

    assert step_progress("mva compare", quiet=True) is None
    progress = step_progress("mva compare", quiet=False)  # pytest's stderr is not a terminal
    for step in range(1, 11):
        progress(step, 10)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "step 10/10" in err and "steps/s" in err and "ETA" in err


@pytest.mark.parametrize(("spec", "buffers"), [("sgd", 0), ("momentum", 1), ("adam", 2), ("rmsprop", 1)])
def test_preflight_counts_the_optimizers_state(spec, buffers):
    from manual_vs_autograd.optim import OptimizerSpec, buffers_per_parameter

    sizes = (2, 64, 64, 4)
    P = sum(a * b + b for a, b in zip(sizes, sizes[1:]))
    assert buffers_per_parameter(OptimizerSpec(spec)) == buffers
    plain = estimate(sizes, 1000, None, 4, 10, RecordPolicy(what="none"))
    with_state = estimate(
        sizes, 1000, None, 4, 10, RecordPolicy(what="none"), buffers_per_parameter(OptimizerSpec(spec))
    )
    # three networks each keep the buffers, and the update check copies them once more: 4 float32 copies each
    assert with_state.parameters - plain.parameters == 4 * buffers * 4 * P
