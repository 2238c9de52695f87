"""Parameters as views of one buffer: the layout, the per-tensor maxima, the packed copies, the binding."""

from __future__ import annotations

import math

import pytest
import torch

from manual_vs_autograd import MLPConfig, TrainConfig, init_params, load_blobs, targets_for, train_side_by_side
from manual_vs_autograd.flat import ALIGN_BYTES, FlatParams
from manual_vs_autograd.optim import manual_step
from manual_vs_autograd.twin import TwinMLP

SHAPES = {"W1": (5, 3), "b1": (5,), "W2": (7, 5), "b2": (7,), "W3": (1, 7), "b3": (1,)}  # none a multiple of 16


def _params(device, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {name: torch.randn(shape, generator=g, dtype=dtype).to(device) for name, shape in SHAPES.items()}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_every_tensor_starts_aligned_and_the_gaps_stay_zero(device, dtype):
    flat = FlatParams.copy_of(_params(device, dtype))
    for name, view in flat.views.items():
        assert view.data_ptr() % ALIGN_BYTES[flat.buffer.device.type] == 0, name
        assert view.is_contiguous() and view.shape == SHAPES[name]
    in_views = sum(v.numel() for v in flat.views.values())
    assert int((flat.buffer != 0).sum()) == in_views  # randn gives no zeros: every nonzero is in a view


def test_the_maxima_per_tensor_equal_those_computed_tensor_by_tensor(device):
    p, q = _params(device, seed=1), _params(device, seed=2)
    P, Q = FlatParams.copy_of(p), FlatParams.copy_of(q)
    expected_diff = [float((p[n] - q[n]).abs().max()) for n in SHAPES]
    expected_abs = [float(p[n].abs().max()) for n in SHAPES]
    assert P.max_abs_diff(Q) == expected_diff
    assert P.max_abs() == expected_abs
    assert P.max_abs_diff(P) == [0.0] * len(SHAPES)


def test_equal_infinities_are_no_difference_and_nan_stays_one(device):
    inf, nan = math.inf, math.nan
    p = {"a": torch.tensor([inf, 1.0]), "b": torch.tensor([nan, 1.0]), "c": torch.tensor([-inf, 2.0])}
    q = {"a": torch.tensor([inf, 1.5]), "b": torch.tensor([nan, 1.0]), "c": torch.tensor([inf, 2.0])}
    same, nans, opposite = FlatParams.copy_of({k: v.to(device) for k, v in p.items()}).max_abs_diff(
        FlatParams.copy_of({k: v.to(device) for k, v in q.items()})
    )
    assert same == 0.5 and math.isnan(nans) and opposite == inf


def test_an_empty_tensor_has_maximum_zero_and_does_not_shift_the_others(device):
    p = {"a": torch.tensor([1.0, -3.0]), "e": torch.zeros(0, 4), "b": torch.tensor([2.0])}
    flat = FlatParams.copy_of({k: v.to(device) for k, v in p.items()})
    assert flat.max_abs() == [3.0, 0.0, 2.0]


def test_layouts_that_differ_are_refused():
    with pytest.raises(ValueError, match="layouts differ"):
        FlatParams.copy_of({"a": torch.ones(3)}).max_abs_diff(FlatParams.copy_of({"a": torch.ones(2, 2)}))


@pytest.mark.parametrize("names", [tuple(SHAPES), ("W1", "b2"), ()])
def test_packed_is_a_gapless_copy_of_the_names_asked(device, names):
    p = _params(device)
    flat = FlatParams.copy_of(p)
    row = flat.packed(names)
    assert torch.equal(row, torch.cat([p[n].reshape(-1) for n in names]) if names else torch.zeros(0, device=device))
    flat.buffer.add_(1.0)  # a copy: later steps do not change it
    assert row.numel() == 0 or not torch.equal(row, flat.packed(names))


@pytest.mark.parametrize(
    ("dtype", "shapes", "total"),
    [
        (torch.float32, ((4, 16), (16,)), 80),  # 64 and 16 floats: multiples of 64 bytes, no gap
        (torch.float32, ((3, 5), (5,)), 32),  # 15 and 5 floats, each padded to 16
        (torch.float64, ((3, 5), (5,)), 24),  # 15 and 5 doubles, padded to 16 and 8
    ],
)
def test_the_gaps_are_only_what_alignment_needs(dtype, shapes, total):
    flat = FlatParams.copy_of({"W": torch.ones(shapes[0], dtype=dtype), "b": torch.ones(shapes[1], dtype=dtype)})
    assert flat.buffer.numel() == total


def test_a_module_adopted_keeps_its_values_and_its_optimizer_writes_the_buffer(device):
    config = MLPConfig((3, 5, 7, 1), "tanh", "mse")
    params = init_params(config, 0, device=device)
    twin = TwinMLP(config, params)
    optimizer = torch.optim.SGD(twin.parameters(), lr=0.1)
    flat = FlatParams.adopt(twin.named_math_parameters())
    for name, p in twin.named_math_parameters().items():
        assert torch.equal(p.detach(), params[name]) and p.data_ptr() == flat.views[name].data_ptr()
    x = torch.randn(4, 3, device=device, dtype=params["W1"].dtype)
    twin.loss(x, torch.zeros(4, 1, device=device, dtype=x.dtype)).backward()
    optimizer.step()
    for name, p in twin.named_math_parameters().items():
        assert torch.equal(flat.views[name], p.detach())
        assert not torch.equal(p.detach(), params[name])  # it moved, in the buffer


def test_take_brings_back_a_tensor_a_rule_replaced():
    params = _params("cpu")
    flat = FlatParams.copy_of(params)
    live = dict(flat.views)
    live["W2"] = live["W2"] - 1.0  # a rule that assigned instead of writing in place
    flat.take(live)
    assert live["W2"] is flat.views["W2"]
    assert torch.equal(flat.views["W2"], params["W2"] - 1.0)


def test_a_rule_that_replaces_tensors_trains_as_the_in_place_one():
    def replacing(params, grads, state, spec):  # the same update as plain SGD, by assignment
        for name in list(params):
            params[name] = params[name] - spec.lr * grads[f"d{name}"]

    config = MLPConfig((2, 4, 4), "tanh", "ce")
    data = load_blobs(binary=False, dtype=torch.float64)
    y = targets_for(data.y_train, "ce", torch.float64)
    params = init_params(config, 0, scheme="scaled", dtype=torch.float64)
    runs = [
        train_side_by_side(config, params, data.x_train, y, TrainConfig(20, 0.5), rule=r, sensitivity=False)
        for r in (manual_step, replacing)
    ]
    (m1, _, t1), (m2, _, t2) = runs
    for name in m1:
        assert torch.equal(m1[name], m2[name]), name
    assert t1.trajectory.max_diff == t2.trajectory.max_diff
    assert torch.equal(t1.manual.stacked()["W1"], t2.manual.stacked()["W1"])


def test_a_run_hands_back_tensors_of_their_own():
    config = MLPConfig((2, 4, 4), "tanh", "ce")
    data = load_blobs(binary=False, dtype=torch.float64)
    y = targets_for(data.y_train, "ce", torch.float64)
    params = init_params(config, 0, scheme="scaled", dtype=torch.float64)
    manual, twin, _ = train_side_by_side(config, params, data.x_train, y, TrainConfig(3, 0.5), sensitivity=False)
    tensors = [*manual.values(), *(p.detach() for p in twin.named_math_parameters().values())]
    storages = {t.untyped_storage().data_ptr() for t in tensors}
    assert len(storages) == len(tensors)  # no two share memory (savers such as safetensors refuse that)
    for name, p in twin.named_math_parameters().items():
        assert p.numel() == p.untyped_storage().nbytes() // p.element_size(), name  # not a view of a larger buffer


def test_take_names_what_it_cannot_bring_back():
    flat = FlatParams.copy_of(_params("cpu"))
    live = dict(flat.views)
    live["b1"] = torch.zeros(1)  # copied back, it would broadcast silently
    assert flat.take(live) == "replaced b1 ((5,), float32, cpu) by a tensor of (1,), float32, cpu"
    live = dict(flat.views)
    del live["b2"]
    assert flat.take(live) == "removed b2"
    live = {**flat.views, "extra": torch.zeros(2)}
    assert flat.take(live) == "added extra"


def test_take_is_all_or_nothing_and_safe_for_swaps():
    square = {"W1": torch.tensor([[1.0, 2.0], [3.0, 4.0]]), "W2": torch.tensor([[5.0, 6.0], [7.0, 8.0]])}
    flat = FlatParams.copy_of({**square, "b": torch.zeros(3)})
    live = dict(flat.views)
    live["W1"], live["W2"], live["b"] = live["W2"], live["W1"].T, torch.zeros(2)  # b cannot be taken back
    assert flat.take(live) is not None
    assert torch.equal(flat.views["W1"], square["W1"]) and torch.equal(flat.views["W2"], square["W2"])  # untouched
    live["b"] = flat.views["b"]
    assert flat.take(live) is None  # a swap, and a transposed view of the buffer itself
    assert torch.equal(flat.views["W1"], square["W2"]) and torch.equal(flat.views["W2"], square["W1"].T)
    assert all(live[name] is flat.views[name] for name in live)


def _lecture_run(rule, epochs=4):
    from manual_vs_autograd.check_schedule import CheckSchedule

    config = MLPConfig((2, 2, 1), "sigmoid", "mse")
    data = load_blobs(binary=True, dtype=torch.float64)
    params = init_params(config, 0, dtype=torch.float64)
    y = targets_for(data.y_train, "mse", torch.float64)
    return train_side_by_side(
        config, params, data.x_train, y, TrainConfig(epochs, 5.0), rule=rule, check=CheckSchedule(every=1)
    )


def test_a_rule_that_replaces_a_tensor_by_another_dtype_stops_the_run_and_keeps_the_steps_before():
    main_updates = []  # the trainer's own updates share one state; the update check makes its own

    def late(params, grads, state, spec):
        manual_step(params, grads, state, spec)
        if not main_updates or state is main_updates[0]:
            main_updates.append(state)
            if len(main_updates) == 3:  # step 3
                params["b1"] = params["b1"].float()

    _, _, traj = _lecture_run(late)
    assert traj.stopped == (
        "the manual side's update rule replaced b1 ((2,), float64, cpu) by a tensor of (2,), float32, cpu "
        "at step 3 (a rule updates the parameters in place); the summaries and the record end before it"
    )
    assert traj.steps == 2 and traj.record.param_steps == [0, 1, 2] and traj.step_parity.holds


def test_a_rule_that_removes_a_tensor_stops_the_run_and_fails_the_update_check():
    def removing(params, grads, state, spec):
        manual_step(params, grads, state, spec)
        del params["b2"]

    _, _, traj = _lecture_run(removing)
    assert traj.stopped.startswith("the manual side's update rule removed b2 at step 1 ")
    assert traj.steps == 0 and traj.step_parity.first_bad_step == 1 and traj.step_parity.first_bad == ("update b2",)


def test_a_rule_that_assigns_a_view_of_the_buffer_itself_is_caught_by_the_update_check():
    def transposing(params, grads, state, spec):  # updates in place, then hands back W1's transpose
        manual_step(params, grads, state, spec)
        params["W1"] = params["W1"].T  # 2x2: the same shape, overlapping memory

    _, _, traj = _lecture_run(transposing)
    assert traj.stopped is None and traj.steps == 4
    assert traj.step_parity.first_bad_step == 1 and traj.step_parity.first_bad == ("update W1",)
