"""ULP distance and the per-tensor comparison that the parity report is built from."""

from __future__ import annotations

import math

import pytest
import torch

from manual_vs_autograd.parity import compare_tensors, ulp_distance


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_ulp_distance_counts_representable_floats(dtype):
    x = torch.tensor([1.0, -2.5, 0.0, 1e-30, -1e-30], dtype=dtype)
    up = torch.nextafter(x, torch.full_like(x, float("inf")))
    up3 = torch.nextafter(torch.nextafter(up, torch.full_like(x, float("inf"))), torch.full_like(x, float("inf")))
    assert ulp_distance(x, x).tolist() == [0] * 5
    assert ulp_distance(x, up).tolist() == [1] * 5
    assert ulp_distance(up3, x).tolist() == [3] * 5
    # +0 and -0 are the same value; the smallest positive and negative subnormals are 2 apart.
    tiny = torch.nextafter(torch.zeros(1, dtype=dtype), torch.ones(1, dtype=dtype))
    assert ulp_distance(torch.zeros(1, dtype=dtype), -torch.zeros(1, dtype=dtype)).item() == 0
    assert ulp_distance(tiny, -tiny).item() == 2


def test_compare_tensors_reports_differences():
    a = torch.tensor([1.0, 2.0, -4.0], dtype=torch.float64)
    b = a.clone()
    same = compare_tensors("w", a, b)
    assert same.exact and same.max_abs_diff == 0 and same.max_ulp == 0
    b[2] = -4.0 * (1 + 1e-9)
    diff = compare_tensors("w", a, b)
    assert not diff.exact
    assert diff.max_abs_diff == pytest.approx(4e-9, rel=1e-6)
    assert diff.max_rel_diff == pytest.approx(1e-9, rel=1e-6)
    assert diff.scaled_diff == pytest.approx(4e-9 / 4.0, rel=1e-6)
    assert diff.max_ulp > 1000


@pytest.mark.parametrize("shape", [(), (7,), (3, 4), (2, 3, 5), (4, 0, 2)])
def test_unravel_agrees_with_torch(shape):
    from manual_vs_autograd.parity import unravel

    n = math.prod(shape)
    for flat in range(n):
        assert unravel(flat, shape) == tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), shape))
    if not shape:
        assert unravel(0, shape) == ()
