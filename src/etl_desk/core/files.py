"""Atomic file writes: a failed or cancelled write leaves any previous file untouched."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

from etl_desk.core.errors import DataError


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)`` on a temporary file beside *path*, then rename it into place.

    A failure (or cancellation raised as an exception) leaves any previous file untouched.
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
