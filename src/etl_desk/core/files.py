"""Atomic file writes: a failed or cancelled write leaves any previous file untouched."""
from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Callable

from etl_desk.core.errors import DataError


def _umask() -> int:
    """The process's file-creation mask (read by setting and restoring it; there is no getter)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _final_mode(target: Path) -> int:
    """The mode the written file should have: the replaced file's, else what ``open()`` would give (0666 & ~umask)."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)`` on a temporary file beside *path*, then rename it into place.

    A failure (or cancellation raised as an exception) leaves any previous file untouched.
    The new file gets the replaced file's permissions, or the user's normal ones
    (``0666 & ~umask``) for a new file -- not the 0600 of a temporary file, so a colleague
    on a shared folder can open the report. Raises :class:`DataError` (naming the file)
    when the folder does not exist or cannot be written, or the target cannot be replaced;
    whatever *write* raises passes through.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.exists():
        raise DataError("the folder does not exist", file=str(target))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=target.suffix, dir=folder)
    except PermissionError:
        raise DataError("cannot write here: the folder is read-only or you lack permission",
                        file=str(target)) from None
    os.close(fd)
    try:
        write(tmp)
        try:
            os.chmod(tmp, _final_mode(target))
        except OSError:
            pass  # a file system without Unix modes (FAT, some network shares): keep what it gives
        try:
            os.replace(tmp, target)
        except PermissionError:
            raise DataError("cannot replace the file: it is read-only or open in another program "
                            "(close it and try again)", file=str(target)) from None
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
