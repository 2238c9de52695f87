"""The blob data: the lecture's set by default, options honoured, tensors where asked."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs

from manual_vs_autograd import InputError, load_blobs, targets_for


def test_default_is_the_lecture_set():
    data = load_blobs()
    assert data.x_train.shape == (750, 2) and data.x_test.shape == (250, 2)
    assert data.n_classes == 2
    # stratified: the class balance of the 1000 points (500/500) holds in both parts
    assert int(data.y_train.sum()) == 375 and int(data.y_test.sum()) == 125
    # every point is one of make_blobs(1000, 4 centres, 2 features, random_state=0)'s, labels % 2
    points, clusters = make_blobs(n_samples=1000, centers=4, n_features=2, random_state=0)
    lookup = {tuple(p): c % 2 for p, c in zip(points.tolist(), clusters)}
    both = torch.cat([data.x_train, data.x_test]).tolist()
    labels = torch.cat([data.y_train, data.y_test]).tolist()
    assert sorted(map(tuple, both)) == sorted(lookup)
    assert all(lookup[tuple(p)] == label for p, label in zip(both, labels))


def test_four_class_and_options():
    data = load_blobs(n_samples=400, centers=3, n_features=5, seed=7, binary=False, dtype=torch.float32)
    assert data.x_train.shape == (300, 5) and data.x_train.dtype == torch.float32
    assert data.n_classes == 3 and set(data.y_train.tolist()) == {0, 1, 2}
    assert data.y_train.dtype == torch.int64
    again = load_blobs(n_samples=400, centers=3, n_features=5, seed=7, binary=False, dtype=torch.float32)
    assert torch.equal(data.x_train, again.x_train)
    other = load_blobs(n_samples=400, centers=3, n_features=5, seed=8, binary=False, dtype=torch.float32)
    assert not np.array_equal(data.x_train.numpy(), other.x_train.numpy())


def test_targets_for_each_loss():
    labels = torch.tensor([0, 1, 1])
    assert targets_for(labels, "ce", torch.float64) is labels
    t = targets_for(labels, "mse", torch.float32)
    assert t.shape == (3, 1) and t.dtype == torch.float32


def test_bad_sizes_are_one_line_errors():
    with pytest.raises(InputError, match="n_samples must be an integer >= 4, got 0"):
        load_blobs(n_samples=0)
    with pytest.raises(InputError, match="centers"):
        load_blobs(centers=1)


def test_data_lands_on_the_device(device):
    data = load_blobs(device=device)
    assert data.x_train.device.type == device.type and data.y_test.device.type == device.type
