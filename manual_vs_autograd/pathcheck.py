"""The output-path checks themselves, in the standard library alone (see :mod:`manual_vs_autograd.outputs`).

This module imports nothing from the package, nor anything but the standard library: the ``mva``
console script (``_mva_entry``) loads it by its file before torch is imported, so that a bad output
path is refused at once. Every failure is a :class:`PathError` with one line; the package's
:mod:`~manual_vs_autograd.outputs` turns it into an :class:`~manual_vs_autograd.errors.InputError`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["PathError", "check_output_dir", "check_output_file", "check_replaceable"]


class PathError(ValueError):
    """An output path that cannot be used; the message is one line naming the path and what is wrong."""


_DANGLING = "a symbolic link to something that does not exist"


def one_line(text: object, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters (as :func:`manual_vs_autograd.errors.one_line`)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 4].rstrip() + " ..."


def _show(path: str | os.PathLike) -> str:
    return one_line(repr(str(path)), 120)


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISREG, "a file"),
    ):
        if test(mode):
            return name
    return "neither a file nor a folder"


def check_replaceable(path: Path, what: str) -> os.stat_result | None:
    """The ``lstat`` of ``path`` if it is a regular file we may replace, ``None`` if nothing is there.

    Raises for a symbolic link, a folder, a device, FIFO or socket, and a read-only file.
    """
    try:
        st = path.lstat()
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise PathError(f"{what} {_show(path)} lies below a file that is not a folder") from None
    except OSError as err:
        raise PathError(f"{what} {_show(path)} cannot be examined ({err.strerror})") from None
    if stat.S_ISLNK(st.st_mode):
        raise PathError(
            f"{what} {_show(path)} is a symbolic link; give the path of the file it points to "
            "(writing would replace the link, not its target)"
        )
    if not stat.S_ISREG(st.st_mode):
        raise PathError(f"{what} {_show(path)} is {_kind(st.st_mode)}; expected a regular file or a new path")
    if not os.access(path, os.W_OK):
        raise PathError(f"{what} {_show(path)} is not writable (mode {stat.filemode(st.st_mode)})")
    return st


def _check_folder_can_hold(folder: Path, what: str, path: str | os.PathLike) -> None:
    """``folder`` is a writable folder, or can be made: its nearest existing ancestor is a writable folder."""
    current = folder
    while True:
        try:
            st = current.stat()
        except FileNotFoundError:
            if current.is_symlink():  # a dangling link: the folder could not be made there
                raise PathError(f"{what} {_show(path)} lies below {_show(current)}, {_DANGLING}") from None
            if current.parent == current:
                raise PathError(f"{what} {_show(path)}: no part of its folder exists") from None
            current = current.parent
            continue
        except NotADirectoryError:
            raise PathError(f"{what} {_show(path)} lies below a file that is not a folder") from None
        except OSError as err:
            raise PathError(
                f"{what} {_show(path)}: folder {_show(current)} cannot be examined ({err.strerror})"
            ) from None
        break
    if not stat.S_ISDIR(st.st_mode):
        raise PathError(f"{what} {_show(path)} lies below {_show(current)}, which is {_kind(st.st_mode)}, not a folder")
    if not os.access(current, os.W_OK | os.X_OK):
        raise PathError(f"{what} {_show(path)}: folder {_show(current)} is not writable")


NAME_MAX = 255
"""Bytes in one file name on Linux's and macOS's file systems (the folder may allow fewer: then the write says so)."""


def _check_temporary_name(target: Path, what: str, path: str | os.PathLike) -> None:
    """Atomic writes go through ``.NAME.XXXXXXXX.SUFFIX`` beside the target: that name must fit too."""
    temporary = f".{target.name}.XXXXXXXX{target.suffix}"
    if len(os.fsencode(target.name)) <= NAME_MAX < len(os.fsencode(temporary)):
        room = NAME_MAX - (len(os.fsencode(temporary)) - len(os.fsencode(target.name)))
        raise PathError(
            f"{what} {_show(path)}: the file name is too long to be written safely "
            f"(the temporary file beside it needs {len(os.fsencode(temporary))} bytes; keep the name within {room})"
        )


def check_output_file(path: str | os.PathLike, what: str = "output file") -> Path:
    """``path`` as a :class:`Path` if a file can be written there (atomically, by rename); else raise."""
    if not str(path):
        raise PathError(f"{what} is empty; give a file name")
    target = Path(path)
    try:
        if str(path).endswith(os.sep) or (target.exists() and target.is_dir() and not target.is_symlink()):
            raise PathError(
                f"{what} {_show(path)} is a folder; give a file name, e.g. {_show(target / 'run.safetensors')}"
            )
        check_replaceable(target, what)
        _check_folder_can_hold(target.parent, what, path)
        _check_temporary_name(target, what, path)
    except OSError as err:  # e.g. a name longer than the file system allows
        raise PathError(f"{what} {_show(path)} cannot be used ({err.strerror or err})") from None
    return target


def check_output_dir(path: str | os.PathLike, what: str = "output folder") -> Path:
    """``path`` as a :class:`Path` if it is, or can be made, a writable folder; else raise."""
    if not str(path):
        raise PathError(f"{what} is empty; give a folder name")
    folder = Path(path)
    try:
        st = folder.stat()
    except FileNotFoundError:
        if folder.is_symlink():  # a dangling link: making the folder there would fail after the run
            raise PathError(f"{what} {_show(path)} is {_DANGLING}; give an existing folder or a new path") from None
        _check_folder_can_hold(folder.parent, what, path)
        return folder
    except NotADirectoryError:
        raise PathError(f"{what} {_show(path)} lies below a file that is not a folder") from None
    except OSError as err:
        raise PathError(f"{what} {_show(path)} cannot be examined ({err.strerror})") from None
    if not stat.S_ISDIR(st.st_mode):
        raise PathError(f"{what} {_show(path)} is {_kind(st.st_mode)}, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PathError(f"{what} {_show(path)} is a folder that is not writable")
    return folder
