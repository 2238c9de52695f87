"""The lecture's blob data: 2-D Gaussian clusters from ``sklearn.datasets.make_blobs``.

The default is the notebook's set: 1000 points, 4 centres, 2 features, ``random_state=0``; binary
labels are the cluster index modulo 2; a stratified 750/250 train/test split with
``random_state=0``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from sklearn.datasets import make_blobs
from sklearn.model_selection import train_test_split
from torch import Tensor

from .errors import InputError, one_line

__all__ = ["Blobs", "MAX_SEED", "MAX_VALUES", "load_blobs", "targets_for"]

MAX_SEED = 2**32 - 1
"""The largest seed: ``make_blobs`` and ``train_test_split`` take seeds in [0, 2**32 - 1]."""
MAX_VALUES = 2**31
"""The most values (samples x features) :func:`load_blobs` makes: ~16 GiB as float64, a bound on
absurd requests only (whether a run fits in memory is the command line's pre-flight)."""
_BYTES_PER_VALUE = 8 * 3  # make_blobs' float64 array, the split's copies and the tensors


@dataclass(frozen=True)
class Blobs:
    """A train/test split of blob data; labels are class indices (int64)."""

    x_train: Tensor  # (N_train, F) features
    y_train: Tensor  # (N_train,) class labels in [0, n_classes)
    x_test: Tensor  # (N_test, F)
    y_test: Tensor  # (N_test,)
    n_classes: int  # 2 for the binary labels, the number of centres otherwise


def load_blobs(
    n_samples: int = 1000,
    centers: int = 4,
    n_features: int = 2,
    seed: int = 0,
    *,
    binary: bool = True,
    test_fraction: float = 0.25,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
) -> Blobs:
    """Blob data as tensors on ``device`` in ``dtype``.

    Args:
        n_samples, centers, n_features: passed to ``make_blobs``.
        seed: ``random_state`` of both ``make_blobs`` and ``train_test_split``, in [0, 2**32 - 1].
        binary: labels ``cluster % 2`` (two classes) instead of the cluster index.
        test_fraction: share of the points held out, stratified by label.
    """
    for what, value, least in (("n_samples", n_samples, 4), ("centers", centers, 2), ("n_features", n_features, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise InputError(f"{what} must be an integer >= {least}, got {one_line(repr(value), 60)}")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InputError(
            f"seed must be an integer in [0, 2**32 - 1] (numpy's and sklearn's range), got {one_line(repr(seed), 60)}"
        )
    if not isinstance(test_fraction, float | int) or not 0 < test_fraction < 1:
        raise InputError(f"test_fraction must lie strictly between 0 and 1, got {one_line(repr(test_fraction), 60)}")
    if n_samples * n_features > MAX_VALUES:
        raise InputError(
            f"{n_samples} samples x {n_features} features = {n_samples * n_features:.3g} values "
            f"(~{_BYTES_PER_VALUE * n_samples * n_features / 2**30:.3g} GiB while generating); "
            f"load_blobs makes at most {MAX_VALUES:.3g}"
        )
    n_classes = 2 if binary else centers
    if not binary and n_samples < 2 * centers:  # make_blobs deals n_samples // centers points to each centre
        raise InputError(
            f"cannot split {n_samples} points over {centers} centres into stratified train and test sets; "
            f"give at least {2 * centers} points (two per centre) or fewer centres"
        )
    data, clusters = make_blobs(n_samples=n_samples, centers=centers, n_features=n_features, random_state=seed)
    labels = clusters % 2 if binary else clusters
    try:
        x_tr, x_te, y_tr, y_te = train_test_split(
            data, labels, stratify=labels, test_size=test_fraction, random_state=seed
        )
    except ValueError as err:  # too few points per class, or per split, for a stratified split
        raise InputError(one_line(f"cannot split {n_samples} points over {centers} centres: {err}")) from None
    as_x = lambda a: torch.as_tensor(a, dtype=dtype, device=device)  # noqa: E731
    as_y = lambda a: torch.as_tensor(a, dtype=torch.int64, device=device)  # noqa: E731
    return Blobs(as_x(x_tr), as_y(y_tr), as_x(x_te), as_y(y_te), n_classes)


def targets_for(labels: Tensor, loss: str, dtype: torch.dtype) -> Tensor:
    """What the loss compares against: (N, 1) floats for ``mse``/``bce``, the (N,) labels for ``ce``."""
    if loss == "ce":
        return labels
    return labels.to(dtype)[:, None]
