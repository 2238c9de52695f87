"""The schema of a run record's metadata, and the arrays it implies: checked before anything is read.

:func:`check_meta` turns the JSON metadata into the network and the sizes it declares, refusing
wrong types, missing keys and sizes beyond the limits; :func:`expected_arrays` lists every array the
record must hold with its dtype and exact shape, and :func:`check_entries` compares them with what
the file's headers declare, and bounds their total size, before a single array is read.

Limits (see the README, "When things go wrong"): at most :data:`MAX_ARRAY_BYTES` (4 GiB) of arrays,
:data:`MAX_STEPS` steps, :data:`MAX_LAYERS` layers, :data:`MAX_META_BYTES` of JSON metadata.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import MLPConfig
from .errors import InputError, one_line, summarise
from .record_files import Entry

__all__ = [
    "MAX_ARRAY_BYTES",
    "MAX_DATA_ABS",
    "MAX_LAYERS",
    "MAX_META_BYTES",
    "MAX_PARAMETERS",
    "MAX_STEPS",
    "Layout",
    "check_entries",
    "check_meta",
]

MAX_ARRAY_BYTES = 4 * 2**30
"""The most array data a record may hold: 4 GiB (a 64-64 network's 1500-epoch full record is ~0.1 GiB)."""
MAX_STEPS = 10**9
MAX_LAYERS = 64
MAX_META_BYTES = 2**20
MAX_DATA_ABS = 1e100
"""The largest input magnitude a record's data may hold: blob data lie within a few tens of the origin, and
the pictures draw the input plane around the points (a plane spanning ±1e308 overflows)."""
MAX_PARAMETERS = 2**26
"""Parameters of the declared network: the pictures rebuild it (forward passes over a grid), so a record
declaring a huge network is refused before anything is allocated for it, even if it kept no rows."""
SIDES = ("manual", "autograd")
DATA = ("x_train", "y_train", "x_test", "y_test")
FLOATS: dict[str, np.dtype] = {"float32": np.dtype("<f4"), "float64": np.dtype("<f8")}
INT64 = np.dtype("<i8")


@dataclass(frozen=True)
class Layout:
    """What the metadata declares: the network, the run's dtype, the steps and the recorded parameters."""

    config: MLPConfig
    dtype: np.dtype
    steps: int  # steps run in all
    recorded: tuple[str, ...]  # the parameter names recorded per side (may be empty)
    every: int = 1  # the record keeps every K-th step (and the last)
    keeps_loss: bool = True


def _int(value: Any, least: int, most: int) -> bool:
    return type(value) is int and least <= value <= most


def _as_float(value: int | float) -> float:
    """``value`` as a float; an integer too large for one is infinite."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _need(meta: dict, key: str, kind: type | tuple[type, ...], fail: Callable[[str], InputError]) -> Any:
    if key not in meta:
        raise fail(f"lacks the metadata field {key!r}")
    value = meta[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise fail(f"has metadata field {key!r} = {one_line(repr(value), 60)}; expected {names}")
    return value


def check_meta(meta: Any, fail: Callable[[str], InputError], *, legacy: bool) -> Layout:
    """The :class:`Layout` the metadata declares; raises ``fail(why)`` on any deviation from the schema."""
    if not isinstance(meta, dict):
        raise fail(f"has metadata of type {type(meta).__name__}; expected a JSON object")
    network = _need(meta, "network", dict, fail)
    train = _need(meta, "train", dict, fail)
    _need(meta, "spec", dict, fail)  # the data's settings, which the pictures name
    sizes = _need(network, "sizes", list, fail)
    if not 2 <= len(sizes) <= MAX_LAYERS + 1 or not all(_int(s, 1, 2**31) for s in sizes):
        raise fail(
            f"declares layer sizes {one_line(summarise(sizes), 80)}; expected 2 to {MAX_LAYERS + 1} positive integers"
        )
    activation, loss = _need(network, "activation", str, fail), _need(network, "loss", str, fail)
    extra = {"norm": network["norm"]} if network.get("norm", "none") != "none" else {}
    try:
        config = MLPConfig(tuple(sizes), activation, loss, **extra)
    except (InputError, TypeError) as err:
        raise fail(f"declares a network that cannot be built ({one_line(err, 120)})") from None
    n_params = sum(math.prod(shape) for shape in config.param_shapes().values())
    if n_params > MAX_PARAMETERS:
        raise fail(f"declares a network of {n_params:,} parameters; records are limited to {MAX_PARAMETERS:,}")
    dtype = _need(meta, "dtype", str, fail)
    if dtype not in FLOATS:
        raise fail(f"has dtype {one_line(repr(dtype), 40)}; expected one of: {', '.join(FLOATS)}")
    spe = train.get("steps_per_epoch")
    if not _int(spe, 1, MAX_STEPS):
        raise fail(f"has steps_per_epoch {one_line(repr(spe), 40)}; expected a positive integer")
    lr = _need(train, "lr", (int, float), fail)
    if not 0 < _as_float(lr) < math.inf:  # an integer beyond float's range (10**400) is not a learning rate
        raise fail(f"has learning rate {one_line(repr(lr), 40)}; expected a positive finite number")
    if "batch_size" not in train:
        raise fail("lacks the metadata field 'train.batch_size'")
    batch = train["batch_size"]
    if batch is not None and not _int(batch, 1, 2**62):
        raise fail(f"has batch_size {one_line(repr(batch), 40)}; expected a positive integer or null")
    spec = meta["spec"]
    for key in ("n_samples", "centers", "seed"):
        if not _int(spec.get(key), 0, 2**64):
            raise fail(f"has spec field {key!r} = {one_line(repr(spec.get(key)), 40)}; expected an integer >= 0")
    _need(meta, "device", str, fail)
    steps = _need(meta, "steps", int, fail)
    if not 0 <= steps <= MAX_STEPS:
        raise fail(f"declares {steps} steps; expected 0 to {MAX_STEPS}")
    stopped = meta.get("stopped")
    if stopped is not None and not isinstance(stopped, str):
        raise fail(f"has metadata field 'stopped' = {one_line(repr(stopped), 60)}; expected text or null")
    names = tuple(config.param_shapes())
    recorded, every, keeps_loss = names, 1, True
    policy = meta.get("record")
    if policy is not None and not legacy:
        if not isinstance(policy, dict):
            raise fail(f"has a record policy of type {type(policy).__name__}; expected an object")
        every = policy.get("every", 1)
        if not _int(every, 1, MAX_STEPS):
            raise fail(f"records every {one_line(repr(every), 40)} steps; expected a positive integer")
        what = policy.get("what", "all")
        keeps_loss = what != "none"
        if what in ("loss", "none"):
            recorded = ()
        elif isinstance(what, list) and all(isinstance(n, str) for n in what) and set(what) <= set(names):
            recorded = tuple(n for n in names if n in what)
        elif what != "all":
            raise fail(f"records {one_line(repr(what), 60)}; expected all, loss, none or names from {summarise(names)}")
    return Layout(config, FLOATS[dtype], steps, recorded, every, keeps_loss)


def expected_arrays(layout: Layout, n_loss: int, n_rec: int, n_train: int, n_test: int) -> dict[str, Entry]:
    """Every array the record must hold, with its dtype and exact shape."""
    shapes = layout.config.param_shapes()
    features = layout.config.sizes[0]
    arrays = {"loss_steps": Entry(INT64, (n_loss,)), "param_steps": Entry(INT64, (n_rec,))}
    for side in SIDES:
        arrays[f"loss/{side}"] = Entry(np.dtype("<f8"), (n_loss,))
        for name in layout.recorded:
            arrays[f"param/{side}/{name}"] = Entry(layout.dtype, (n_rec, *shapes[name]))
    arrays["data/x_train"] = Entry(layout.dtype, (n_train, features))
    arrays["data/y_train"] = Entry(INT64, (n_train,))
    arrays["data/x_test"] = Entry(layout.dtype, (n_test, features))
    arrays["data/y_test"] = Entry(INT64, (n_test,))
    return arrays


def check_entries(expected: dict[str, Entry], header: Callable[[str], Entry], names: frozenset[str], fail) -> None:
    """Each expected array present, of the expected dtype and shape; their total within the limit."""
    missing = [key for key in expected if key not in names]
    if missing:
        raise fail(f"lacks the array(s) {summarise(missing, 4)}")
    total = 0
    for key, want in expected.items():
        got = header(key)
        if got.dtype.newbyteorder("<") != want.dtype or got.shape != want.shape:
            raise fail(
                f"has array {key!r} of {got.dtype.str} {one_line(str(got.shape), 60)}; "
                f"the metadata implies {want.dtype.str} {want.shape}"
            )
        total += want.nbytes
    if total > MAX_ARRAY_BYTES:
        raise fail(
            f"declares {total / 2**30:.3g} GiB of arrays; records are limited to {MAX_ARRAY_BYTES / 2**30:.3g} GiB"
        )
