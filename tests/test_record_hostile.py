"""Records are untrusted input: every malformed or hostile file is one line, refused before allocating.

The hostile files are built here, in the test, from a real record (nothing binary is committed).
"""

from __future__ import annotations

import json
import os
import struct
import zipfile

import numpy as np
import numpy.lib.format as npy
import pytest
from safetensors.numpy import save_file

from manual_vs_autograd import CompareSpec, InputError, run_compare
from manual_vs_autograd.record import FORMAT, LEGACY_FORMAT, load_record, record_arrays, record_from_result, save_record
from manual_vs_autograd.record_check import MAX_ARRAY_BYTES


@pytest.fixture(scope="module")
def record():
    return record_from_result(run_compare(CompareSpec(hidden=(3,), epochs=5, device="cpu")))


def write(path, meta, arrays) -> None:
    text = meta if isinstance(meta, str) else json.dumps(meta)
    save_file(
        {k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(path), metadata={"format": FORMAT, "meta": text}
    )


def refused(path, match: str) -> str:
    with pytest.raises(InputError, match=match) as info:
        load_record(path)
    message = str(info.value)
    assert "\n" not in message and len(message) <= 300, message
    return message


@pytest.mark.parametrize(
    "change,match",
    [
        (lambda m: [], "has metadata of type list"),
        (lambda m: None, "has metadata of type NoneType"),
        (lambda m: 3, "has metadata of type int"),
        (lambda m: {k: v for k, v in m.items() if k != "train"}, "lacks the metadata field 'train'"),
        (lambda m: {k: v for k, v in m.items() if k != "spec"}, "lacks the metadata field 'spec'"),
        (lambda m: {**m, "train": {**m["train"], "steps_per_epoch": 0}}, "steps_per_epoch 0; expected a positive"),
        (lambda m: {**m, "train": {**m["train"], "steps_per_epoch": "1"}}, "steps_per_epoch '1'"),
        (lambda m: {**m, "train": {**m["train"], "steps_per_epoch": True}}, "steps_per_epoch True"),
        (lambda m: {**m, "network": {**m["network"], "sizes": "2-3-1"}}, "'sizes' = '2-3-1'; expected list"),
        (lambda m: {**m, "network": {**m["network"], "sizes": [2, 0, 1]}}, "declares layer sizes 2, 0, 1"),
        (lambda m: {**m, "network": {**m["network"], "loss": "hinge"}}, "cannot be built .unknown loss 'hinge'"),
        (lambda m: {**m, "dtype": "float16"}, "has dtype 'float16'"),
        (lambda m: {**m, "steps": -1}, "declares -1 steps"),
        (lambda m: {**m, "train": {**m["train"], "lr": "fast"}}, "'lr' = 'fast'; expected int or float"),
        (lambda m: {**m, "train": {**m["train"], "lr": 10**400}}, "learning rate 10000.*; expected a positive finite"),
        (lambda m: {**m, "train": {**m["train"], "batch_size": 0}}, "batch_size 0"),
        (lambda m: {**m, "spec": {**m["spec"], "centers": None}}, "spec field 'centers' = None"),
        (lambda m: {k: v for k, v in m.items() if k != "device"}, "lacks the metadata field 'device'"),
        (lambda m: {**m, "steps": 2.5}, "'steps' = 2.5; expected int"),
        (lambda m: {**m, "record": {"what": ["W7"]}}, "records \\['W7'\\]"),
        (lambda m: {**m, "record": {**m["record"], "every": 0}}, "records every 0 steps"),
        # more steps than the arrays hold (the record keeps every step here: 5 epochs of 1 step)
        (lambda m: {**m, "steps": 1000}, "declares 1000 steps recorded every 1, but its loss_steps hold 5 row"),
        (lambda m: {**m, "steps": 10, "record": {**m["record"], "every": 2}}, "declares 10 steps recorded every 2"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_malformed_metadata(record, tmp_path, change, match):
    path = tmp_path / "bad.safetensors"
    write(path, change(json.loads(json.dumps(record.meta))), record_arrays(record))
    refused(path, match)


def test_metadata_that_is_not_json_or_of_another_format(record, tmp_path):
    write(tmp_path / "a", "{not json", record_arrays(record))
    refused(tmp_path / "a", "metadata that is not JSON")
    save_file({"x": np.zeros(2)}, str(tmp_path / "b"), metadata={"format": "something/else"})
    refused(tmp_path / "b", "has format 'something/else'")
    save_file({"x": np.zeros(2)}, str(tmp_path / "c"))
    refused(tmp_path / "c", "has format None")


@pytest.mark.parametrize(
    "change,match",
    [
        (lambda a: {k: v for k, v in a.items() if k != "data/x_train"}, "lacks the array 'data/x_train'"),
        (lambda a: {k: v for k, v in a.items() if k != "param/autograd/b2"}, "lacks the array.s. param/autograd/b2"),
        (lambda a: {**a, "param/manual/W1": a["param/manual/W1"][:, :2]}, "'param/manual/W1' of <f8 \\(6, 2, 2\\)"),
        (lambda a: {**a, "loss/manual": a["loss/manual"][:-1]}, "'loss/manual' of <f8 \\(4,\\)"),
        (lambda a: {**a, "param/manual/W1": a["param/manual/W1"].astype(np.float32)}, "'param/manual/W1' of <f4"),
        (lambda a: {**a, "data/y_train": a["data/y_train"] + 5}, "labels y_train outside \\[0, 2\\)"),
        (lambda a: {**a, "loss_steps": a["loss_steps"][::-1].copy()}, "loss_steps that are not increasing"),
        (lambda a: {**a, "data/x_test": np.full_like(a["data/x_test"], np.nan)}, "NaN or infinity in x_test"),
        (lambda a: {**a, "data/x_train": a["data/x_train"] * 1e300}, "values beyond ±1e\\+100 in x_train"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_arrays_that_do_not_match_the_metadata(record, tmp_path, change, match):
    path = tmp_path / "bad.safetensors"
    write(path, record.meta, change(record_arrays(record)))
    refused(path, match)


def test_huge_declared_layers_are_refused_before_allocating(record, tmp_path):
    meta = {**record.meta, "network": {**record.meta["network"], "sizes": [2, 100000, 1]}}
    path = tmp_path / "huge.safetensors"
    write(path, meta, record_arrays(record))
    assert path.stat().st_size < 100_000
    refused(path, "has array 'param/manual/W1' of <f8 \\(6, 3, 2\\); the metadata implies <f8 \\(6, 100000, 2\\)")


def test_a_header_declaring_terabytes_is_refused(record, tmp_path):
    path = tmp_path / "tb.safetensors"
    path.write_bytes(struct.pack("<Q", 8 * 10**12) + b"{}")
    refused(path, "its header claims 8000000000000 bytes in a file of 10")
    header = json.dumps({"data/x_train": {"dtype": "F64", "shape": [10**12], "data_offsets": [0, 8 * 10**12]}}).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header)
    refused(path, "declaring bytes 0..8000000000000, beyond the file's 0 data bytes")


def test_arrays_beyond_the_size_limit_are_refused(record, tmp_path):
    steps = MAX_ARRAY_BYTES // 240 + 1000  # 240 bytes a step: 2 step numbers, 2 losses, 2 x 13 parameters
    meta = {**record.meta, "steps": steps}
    header = {"__metadata__": {"format": FORMAT, "meta": json.dumps(meta)}}
    shapes = {"param_steps": ([steps + 1], "I64"), "loss_steps": ([steps], "I64")}
    for side in ("manual", "autograd"):
        shapes[f"loss/{side}"] = ([steps], "F64")
        for name, values in record.params[side].items():
            shapes[f"param/{side}/{name}"] = ([steps + 1, *values.shape[1:]], "F64")
    for name, values in record.data.items():
        shapes[f"data/{name}"] = (list(values.shape), "I64" if values.dtype == np.int64 else "F64")
    offset = 0
    for key, (shape, dtype) in shapes.items():
        size = int(np.prod(shape)) * 8
        header[key] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header).encode()
    path = tmp_path / "big.safetensors"
    with open(path, "wb") as f:  # a sparse file: the declared bytes exist, but occupy no disk
        f.write(struct.pack("<Q", len(text)) + text)
        f.truncate(8 + len(text) + offset)
    refused(path, "GiB of arrays; records are limited to 4 GiB")


def test_a_truncated_record_is_refused(record, tmp_path):
    good = tmp_path / "run.safetensors"
    save_record(record, good)
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    refused(cut, "beyond the file's")
    (tmp_path / "empty").write_bytes(b"")
    refused(tmp_path / "empty", "neither safetensors nor .npz.: only 0 bytes")
    refused(tmp_path, "is a folder")
    os.mkfifo(tmp_path / "fifo")
    refused(tmp_path / "fifo", "is not a regular file")  # and does not wait for a writer
    write(tmp_path / "long", '{"steps": ' + "9" * 5000 + "}", record_arrays(record))
    refused(tmp_path / "long", "metadata that is not JSON")
    refused(tmp_path / "nope", "does not exist")


def _legacy(record, path, extra: dict[str, bytes] | None = None, meta=None) -> None:
    arrays = {"meta": np.array(json.dumps(meta if meta is not None else {**record.meta, "format": LEGACY_FORMAT}))}
    for side in ("manual", "autograd"):
        arrays[f"loss/{side}"] = record.losses[side]
        arrays.update({f"param/{side}/{n}": v for n, v in record.params[side].items()})
    arrays.update({f"data/{n}": v for n, v in record.data.items()})
    np.savez_compressed(path, **arrays)
    with zipfile.ZipFile(path, "a") as archive:
        for name, content in (extra or {}).items():
            archive.writestr(name, content)


def _npy_header(shape, dtype="<f8") -> bytes:
    """The bytes of an .npy header declaring ``shape`` (the data is not there)."""
    import io

    stream = io.BytesIO()
    npy.write_array_header_1_0(stream, {"descr": dtype, "fortran_order": False, "shape": shape})
    return stream.getvalue()  # the magic string, then the header


def test_unknown_npz_members_are_never_read(record, tmp_path):
    path = tmp_path / "old.npz"
    hidden = {
        "junk.npy": b"not even an npy file",
        "zeros.npy": _npy_header((2**29,)),  # declares 4 GiB, holds none of it: never opened
        "pickled.npy": _npy_header((3,), "|O"),
    }
    _legacy(record, path, hidden)
    loaded = load_record(path)
    assert loaded.steps == 5 and set(loaded.params["manual"]) == {"W1", "b1", "W2", "b2"}


def test_legacy_members_declaring_terabytes_or_objects_are_refused(record, tmp_path):
    path = tmp_path / "old.npz"
    _legacy(record, path)
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members["param/manual/W1.npy"] = _npy_header((10**12,))
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    refused(path, "'param/manual/W1' of <f8 \\(1000000000000,\\)")
    members["param/manual/W1.npy"] = _npy_header((6, 3, 2), "|O")
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    refused(path, "'param/manual/W1' of \\|O")


def test_legacy_files_without_metadata_or_of_another_format(record, tmp_path):
    np.savez(tmp_path / "foreign.npz", weights=np.ones(3))
    refused(tmp_path / "foreign.npz", "has no run metadata")
    np.savez(tmp_path / "other.npz", meta=np.array(json.dumps({"format": "something/else"})))
    refused(tmp_path / "other.npz", "has format 'something/else'; expected 'manual_vs_autograd.run/1'")
    np.savez(tmp_path / "list.npz", meta=np.array("[1, 2]"))
    refused(tmp_path / "list.npz", "has format None")
    np.savez(tmp_path / "nums.npz", meta=np.arange(3))
    refused(tmp_path / "nums.npz", "run metadata of dtype <i8")
    (tmp_path / "zip.npz").write_bytes(b"PK\x03\x04 and then nothing")
    refused(tmp_path / "zip.npz", "is not a readable .npz run record")


def _no_rows(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The same arrays with every parameter row (and step number) removed."""
    out = dict(arrays)
    out["param_steps"] = arrays["param_steps"][:0]
    for key in [k for k in arrays if k.startswith("param/")]:
        out[key] = arrays[key][:0]
    return out


def test_parameters_kept_without_a_single_row_are_refused(tmp_path, record):
    path = tmp_path / "norows.safetensors"
    write(path, record.meta, _no_rows(record_arrays(record)))
    refused(path, "keeps its parameters but not one recorded row")


def test_a_huge_declared_network_is_refused_before_anything_is_built(tmp_path, record):
    # 2-100000-100000-1 declared, with zero rows: a few kB on disk, 1e10 parameters if the pictures rebuilt it.
    meta = {**record.meta, "network": {**record.meta["network"], "sizes": [2, 100000, 100000, 1]}}
    arrays = {k: v for k, v in _no_rows(record_arrays(record)).items() if not k.startswith("param/")}
    path = tmp_path / "bignet.safetensors"
    write(path, meta, arrays)
    refused(path, "declares a network of 10,000,500,001 parameters; records are limited to")
