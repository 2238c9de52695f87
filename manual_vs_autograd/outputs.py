"""Checks of output paths, run before any work so that a bad path costs a second, not a finished run.

Each check raises :class:`~manual_vs_autograd.errors.InputError` with one line naming the path and
what is wrong with it. They look, and create nothing: a folder that does not exist yet is made when
the first file is written into it. The checks are repeated at write time by
:func:`~manual_vs_autograd.atomic.atomic_path` (the file system may change during a long run).

What is refused, and why:

* an empty path (``--save ""``): it used to be ignored silently;
* an existing folder where a file is wanted, or an existing file where a folder is wanted;
* a device, FIFO or socket (``/dev/null``, a named pipe): the write would replace the node with
  a regular file (atomic writes rename over the path), or block on a pipe;
* a symbolic link: the rename would replace the link itself, not the file it points to, so the
  target would silently not change; give the target's path instead;
* a file that is not writable, or a folder we may not write into;
* a path below a regular file (``results.txt/run.npz``).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import InputError, one_line

__all__ = ["check_output_dir", "check_output_file", "check_replaceable"]


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
        raise InputError(f"{what} {_show(path)} lies below a file that is not a folder") from None
    except OSError as err:
        raise InputError(f"{what} {_show(path)} cannot be examined ({err.strerror})") from None
    if stat.S_ISLNK(st.st_mode):
        raise InputError(
            f"{what} {_show(path)} is a symbolic link; give the path of the file it points to "
            "(writing would replace the link, not its target)"
        )
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{what} {_show(path)} is {_kind(st.st_mode)}; expected a regular file or a new path")
    if not os.access(path, os.W_OK):
        raise InputError(f"{what} {_show(path)} is not writable (mode {stat.filemode(st.st_mode)})")
    return st


def _check_folder_can_hold(folder: Path, what: str, path: str | os.PathLike) -> None:
    """``folder`` is a writable folder, or can be made: its nearest existing ancestor is a writable folder."""
    current = folder
    while True:
        try:
            st = current.stat()
        except FileNotFoundError:
            if current.parent == current:
                raise InputError(f"{what} {_show(path)}: no part of its folder exists") from None
            current = current.parent
            continue
        except NotADirectoryError:
            raise InputError(f"{what} {_show(path)} lies below a file that is not a folder") from None
        except OSError as err:
            raise InputError(
                f"{what} {_show(path)}: folder {_show(current)} cannot be examined ({err.strerror})"
            ) from None
        break
    if not stat.S_ISDIR(st.st_mode):
        raise InputError(
            f"{what} {_show(path)} lies below {_show(current)}, which is {_kind(st.st_mode)}, not a folder"
        )
    if not os.access(current, os.W_OK | os.X_OK):
        raise InputError(f"{what} {_show(path)}: folder {_show(current)} is not writable")


def check_output_file(path: str | os.PathLike, what: str = "output file") -> Path:
    """``path`` as a :class:`Path` if a file can be written there (atomically, by rename); else raise."""
    if not str(path):
        raise InputError(f"{what} is empty; give a file name")
    target = Path(path)
    try:
        if str(path).endswith(os.sep) or (target.exists() and target.is_dir() and not target.is_symlink()):
            raise InputError(
                f"{what} {_show(path)} is a folder; give a file name, e.g. {_show(target / 'run.safetensors')}"
            )
        check_replaceable(target, what)
        _check_folder_can_hold(target.parent, what, path)
    except OSError as err:  # e.g. a name longer than the file system allows
        raise InputError(f"{what} {_show(path)} cannot be used ({err.strerror or err})") from None
    return target


def check_output_dir(path: str | os.PathLike, what: str = "output folder") -> Path:
    """``path`` as a :class:`Path` if it is, or can be made, a writable folder; else raise."""
    if not str(path):
        raise InputError(f"{what} is empty; give a folder name")
    folder = Path(path)
    try:
        st = folder.stat()
    except FileNotFoundError:
        _check_folder_can_hold(folder.parent, what, path)
        return folder
    except NotADirectoryError:
        raise InputError(f"{what} {_show(path)} lies below a file that is not a folder") from None
    except OSError as err:
        raise InputError(f"{what} {_show(path)} cannot be examined ({err.strerror})") from None
    if not stat.S_ISDIR(st.st_mode):
        raise InputError(f"{what} {_show(path)} is {_kind(st.st_mode)}, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{what} {_show(path)} is a folder that is not writable")
    return folder
