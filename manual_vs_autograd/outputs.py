"""Checks of output paths, run before any work so that a bad path costs a second, not a finished run.

Each check raises :class:`~manual_vs_autograd.errors.InputError` with one line naming the path and
what is wrong with it. They look, and then try: a temporary folder is made and removed at once in
the nearest folder that exists on the way to the path (permissions alone do not tell that ``/proc``
or a read-only file system refuses new entries); nothing is left behind, and a folder that does not
exist yet is made when the first file is written into it. The checks are repeated at write time by
:func:`~manual_vs_autograd.atomic.atomic_path` (the file system may change during a long run).

What is refused, and why:

* an empty path (``--save ""``): it used to be ignored silently;
* an existing folder where a file is wanted, or an existing file where a folder is wanted;
* a device, FIFO or socket (``/dev/null``, a named pipe): the write would replace the node with
  a regular file (atomic writes rename over the path), or block on a pipe;
* a symbolic link: the rename would replace the link itself, not the file it points to, so the
  target would silently not change; give the target's path instead;
* a file that is not writable, or a folder we may not write into;
* a path below a regular file (``results.txt/run.npz``);
* a symbolic link to nothing, where a folder is wanted (or on the way to one): it could not be made.

The checks live in :mod:`.pathcheck`, which needs only the standard library, so that the ``mva``
console script runs the same checks, with the same messages, before it imports torch.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from . import pathcheck
from .errors import InputError

__all__ = ["check_output_dir", "check_output_file", "check_replaceable"]


def check_replaceable(path: Path, what: str) -> os.stat_result | None:
    """The ``lstat`` of ``path`` if it is a regular file we may replace, ``None`` if nothing is there.

    Raises for a symbolic link, a folder, a device, FIFO or socket, and a read-only file.
    """
    try:
        return pathcheck.check_replaceable(path, what)
    except pathcheck.PathError as err:
        raise InputError(str(err)) from None


def check_output_file(path: str | os.PathLike, what: str = "output file") -> Path:
    """``path`` as a :class:`Path` if a file can be written there (atomically, by rename); else raise."""
    try:
        target = pathcheck.check_output_file(path, what)
    except pathcheck.PathError as err:
        raise InputError(str(err)) from None
    _try_making_entries(target.parent, what, path)
    return target


def check_output_dir(path: str | os.PathLike, what: str = "output folder") -> Path:
    """``path`` as a :class:`Path` if it is, or can be made, a writable folder; else raise."""
    try:
        folder = pathcheck.check_output_dir(path, what)
    except pathcheck.PathError as err:
        raise InputError(str(err)) from None
    _try_making_entries(folder, what, path)
    return folder


def _try_making_entries(folder: Path, what: str, path: str | os.PathLike) -> None:
    """Make and remove a temporary folder in ``folder``, or in its nearest existing ancestor."""
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".mva-probe-", dir=existing))
    except OSError as err:
        raise InputError(
            f"{what} {str(path)!r}: folder {str(existing)!r} does not take new entries ({err.strerror or err})"
        ) from None
