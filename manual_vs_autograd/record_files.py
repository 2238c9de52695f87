"""The two containers a run record may come in, read lazily and defensively.

A record is untrusted input: these readers learn every entry's dtype and shape from the file's
headers *without* reading its data, so that :mod:`~manual_vs_autograd.record_check` can compare
them with the metadata before anything is allocated; they then read only the entries asked for.

* **safetensors** (written today): an 8-byte little-endian header length, a JSON header (each
  tensor's dtype, shape and byte range; string metadata), then the raw bytes. The header length is
  bounded and checked against the file size, every byte range must lie inside the file and match
  its dtype and shape, and nothing can execute code.
* **.npz** (``manual_vs_autograd.run/1``, written before): a zip archive of ``.npy`` files. Each
  member's ``.npy`` header is parsed on its own (numpy's parser, with a bounded header size);
  object dtypes are refused (they would need pickle); members that are not asked for are never
  decompressed — an archive hiding a 4 GB array under another name costs nothing.

Every failure is an :class:`~manual_vs_autograd.errors.InputError` naming the file.
"""

from __future__ import annotations

import io
import json
import math
import os
import stat
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

import numpy as np
import numpy.lib.format as npy

from .errors import InputError, one_line

__all__ = ["MAX_FILE_BYTES", "MAX_HEADER_BYTES", "Archive", "open_archive"]

MAX_HEADER_BYTES = 16 * 2**20
"""The largest header (safetensors' JSON header, or the JSON metadata of an .npz) accepted: 16 MiB."""
MAX_FILE_BYTES = 8 * 2**30
"""The largest record file accepted: 8 GiB (the arrays themselves are bounded by the metadata check)."""

SAFETENSORS_DTYPES: dict[str, np.dtype] = {"F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "I64": np.dtype("<i8")}
_NPY_HEADER_LIMIT = 10_000  # numpy's own default bound on one .npy header


@dataclass(frozen=True)
class Entry:
    """What a header declares about one array."""

    dtype: np.dtype
    shape: tuple[int, ...]

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize  # Python ints: no overflow


@dataclass
class Archive:
    """A record file opened lazily: the metadata text, each entry's header, and a reader per entry."""

    kind: str  # "safetensors" | "npz"
    metadata: dict[str, str]  # safetensors' string metadata; empty for .npz (its metadata is entry "meta")
    names: frozenset[str]  # every entry the file holds
    header: Callable[[str], Entry]  # the declared dtype and shape of one entry, its data unread
    read: Callable[[str], np.ndarray]  # the data of one entry (call header first and check it)
    close: Callable[[], None]


def _fail(path: Path, why: str) -> InputError:
    return InputError(one_line(f"run file {str(path)!r} {why}"))


def open_archive(path: str | os.PathLike) -> Archive:
    """Open ``path`` as a safetensors or .npz record (recognised by content, not by name)."""
    if not os.fspath(path):  # Path("") would be ".", the current folder
        raise InputError("run file path is empty; expected the path of a run record file")
    path = Path(path)
    try:  # non-blocking, so that a FIFO given as the record cannot hang us before the check below
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise _fail(path, "does not exist") from None
    except IsADirectoryError:
        raise _fail(path, "is a folder; expected a run record file") from None
    except OSError as err:
        raise _fail(path, f"cannot be opened ({err.strerror})") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        if stat.S_ISDIR(st.st_mode):
            raise _fail(path, "is a folder; expected a run record file")
        raise _fail(path, "is not a regular file (a device, FIFO or socket); expected a run record file")
    handle = os.fdopen(fd, "rb")
    try:
        size = st.st_size
        if size > MAX_FILE_BYTES:
            raise _fail(path, f"is {size / 2**30:.3g} GiB; records are limited to {MAX_FILE_BYTES / 2**30:.3g} GiB")
        start = handle.read(8)
        if start[:4] == b"PK\x03\x04" or start[:4] == b"PK\x05\x06":
            return _open_npz(path, handle)
        return _open_safetensors(path, handle, start, size)
    except OSError as err:  # a regular file the kernel will not read, e.g. /proc/self/mem
        handle.close()
        raise _fail(path, f"cannot be read ({err.strerror or err}); expected a run record file") from None
    except BaseException:
        handle.close()
        raise


def _open_safetensors(path: Path, handle: io.BufferedReader, start: bytes, size: int) -> Archive:
    bad = "is not a readable run record (neither safetensors nor .npz)"
    if len(start) < 8:
        raise _fail(path, f"{bad}: only {size} bytes")
    n = int.from_bytes(start, "little")
    if n > MAX_HEADER_BYTES or 8 + n > size:
        raise _fail(path, f"{bad}: its header claims {n} bytes in a file of {size}")
    try:
        header = json.loads(handle.read(n))
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or a number too long to parse
        raise _fail(path, f"{bad}: its header is not JSON") from None
    if not isinstance(header, dict):
        raise _fail(path, f"{bad}: its header is a {type(header).__name__}, not an object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _fail(path, "has safetensors metadata that is not a map of strings")
    body, data_bytes = 8 + n, size - 8 - n
    entries: dict[str, Entry] = {}
    spans: dict[str, tuple[int, int]] = {}
    for key, info in header.items():
        what = f"entry {one_line(repr(key), 60)}"
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise _fail(path, f"has a malformed header {what}")
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if not (isinstance(shape, list) and all(type(s) is int and s >= 0 for s in shape) and len(shape) <= 8):
            raise _fail(path, f"has {what} with shape {one_line(repr(shape), 60)}; expected up to 8 sizes >= 0")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int for o in offsets)):
            raise _fail(path, f"has {what} with byte range {one_line(repr(offsets), 60)}")
        begin, end = offsets
        if not 0 <= begin <= end <= data_bytes:
            raise _fail(path, f"has {what} declaring bytes {begin}..{end}, beyond the file's {data_bytes} data bytes")
        if dtype not in SAFETENSORS_DTYPES:
            # Another dtype is not one of ours; keep the entry so that the check can name it.
            entries[key] = Entry(np.dtype("V1"), tuple(shape))
            continue
        entry = Entry(SAFETENSORS_DTYPES[dtype], tuple(shape))
        if entry.nbytes != end - begin:
            raise _fail(path, f"has {what} whose shape {tuple(shape)} needs {entry.nbytes} bytes, not {end - begin}")
        entries[key], spans[key] = entry, (body + begin, end - begin)

    def read(key: str) -> np.ndarray:
        offset, count = spans[key]
        buffer = bytearray(count)
        try:
            handle.seek(offset)
            got = handle.readinto(buffer)
        except OSError as err:
            raise _fail(path, f"cannot be read inside entry {key!r} ({err.strerror or err})") from None
        if got != count:
            raise _fail(path, f"is truncated inside entry {key!r}")
        return np.frombuffer(buffer, dtype=entries[key].dtype).reshape(entries[key].shape)

    return Archive("safetensors", dict(metadata), frozenset(entries), entries.__getitem__, read, handle.close)


def _npy_header(stream: IO[bytes]) -> Entry:
    version = npy.read_magic(stream)
    reader = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
    shape, _fortran, dtype = reader(stream, max_header_size=_NPY_HEADER_LIMIT)
    return Entry(np.dtype(dtype), tuple(int(s) for s in shape))


def _open_npz(path: Path, handle: BinaryIO) -> Archive:
    handle.seek(0)
    try:
        archive = zipfile.ZipFile(handle)
        members = {info.filename[:-4]: info for info in archive.infolist() if info.filename.endswith(".npy")}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as err:
        raise _fail(path, f"is not a readable .npz run record ({type(err).__name__}: {err})") from None
    entries: dict[str, Entry] = {}

    def entry(key: str) -> Entry:
        if key not in entries:
            try:
                with archive.open(members[key]) as stream:
                    entries[key] = _npy_header(stream)
            except (zipfile.BadZipFile, ValueError, OSError, EOFError, zlib.error, SyntaxError) as err:
                raise _fail(path, f"has an unreadable entry {key!r} ({type(err).__name__}: {err})") from None
        return entries[key]

    def read(key: str) -> np.ndarray:
        declared = entry(key)
        if declared.dtype.hasobject:
            raise _fail(path, f"has entry {key!r} of dtype object, which would need pickle; refused")
        try:
            with archive.open(members[key]) as stream:
                values = npy.read_array(stream, allow_pickle=False, max_header_size=_NPY_HEADER_LIMIT)
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, zlib.error) as err:
            raise _fail(path, f"is not a readable .npz run record ({type(err).__name__}: {err})") from None
        return values

    def close() -> None:
        archive.close()
        handle.close()

    return Archive("npz", {}, frozenset(members), entry, read, close)
