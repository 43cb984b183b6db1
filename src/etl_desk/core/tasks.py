"""The progress/cancel protocol of long work (generators, imports, exports, the engine)."""
from __future__ import annotations

from typing import Callable

ProgressFn = Callable[[float], None]


CancelFn = Callable[[], bool]


class Cancelled(Exception):
    """Raised by long work when its cancel callback returns True."""
