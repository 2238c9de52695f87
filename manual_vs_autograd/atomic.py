"""Write files atomically: to a temporary file beside the target, then rename over it.

A crash or Ctrl-C mid-write leaves the old file (or none), never a half-written one; the temporary
file is removed on every way out that runs Python code (an error, ``KeyboardInterrupt``, and
SIGTERM when the command line turns it into an exception); only SIGKILL or a power cut can leave a
``.NAME.XXXX`` file behind.

What is at the path is respected:

* a device, FIFO or socket is refused (renaming over ``/dev/null`` would replace the device node
  with a regular file);
* a symbolic link is refused rather than written through: a rename replaces the link itself, and
  resolving it would let a link planted in a shared folder redirect the write elsewhere; the message
  says to give the link's target instead;
* a regular file that is replaced keeps its permission bits (a 0600 record stays 0600); a new file
  gets the usual ``0666 & ~umask``.

The data is flushed to disk (``fsync``) before the rename, so that a crash just after it cannot
leave an empty file under the target's name.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .outputs import check_output_file, check_replaceable

__all__ = ["atomic_path"]


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(target: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path in ``target``'s folder; on success rename it to ``target``.

    ``suffix`` defaults to the target's, so writers that pick a format by extension still do.
    Raises :class:`~manual_vs_autograd.errors.InputError` for a target that must not be replaced.
    """
    target = check_output_file(target, "output file")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_path: Path | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or target.suffix, dir=target.parent)
        tmp_path = Path(tmp)
        os.close(fd)
        existing = check_replaceable(target, "output file")
        if existing is not None:
            mode = stat.S_IMODE(existing.st_mode)
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask  # mkstemp makes 0600; give a new file the usual permissions
        yield tmp_path
        os.chmod(tmp_path, mode)  # after the writer, which may have recreated the file
        _fsync(tmp_path)
        check_replaceable(target, "output file")  # again: the path may have changed while we wrote
        os.replace(tmp_path, target)
    finally:
        if tmp_path is not None and tmp_path.exists():
            tmp_path.unlink()
