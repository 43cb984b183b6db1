"""Give memory freed after a big step back to the operating system.

After a 1M-run load (Arrow table -> pandas -> canonical table) or an analysis, the
freed temporaries stay in the allocators' free lists: glibc's ``malloc`` keeps them
in its arenas and Arrow's memory pool (mimalloc by default) in its pages, so the
process's resident set stays hundreds of MB above what it uses. :func:`release_memory`
asks both to return them: ``pyarrow.MemoryPool.release_unused()`` and glibc's
``malloc_trim(0)`` (man 3 malloc_trim). Elsewhere (macOS, Windows, musl) only the
Arrow call is made. Values are never touched; this is only about resident memory.

:func:`prefer_system_allocator` makes Arrow allocate with the C library's ``malloc``
instead of its bundled mimalloc: measured on the 1M-run screenshot process, mimalloc
kept ~65 MB more resident at the peak (it does not give pages back on
``release_unused``), and the load was no slower (issue 15 item 8; measured by
``python -m benchmarks engine``, its first row, and ``benchmarks load``). It also fixes glibc's
mmap threshold (:data:`MMAP_THRESHOLD`, ``mallopt(M_MMAP_THRESHOLD)``, man 3 mallopt): by default
glibc raises the threshold to the size of each large block freed (up to 32 MB), after which the
1M-run arrays (8 MB per column) come from the heap and stay resident after they are freed;
with a fixed threshold every block above it is its own mapping, returned to the OS when freed.
Measured on the 1M-run screenshot process: ~65 MB lower peak.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

__all__ = ["release_memory", "release_memory_later", "prefer_system_allocator"]

#: pyarrow reads this when it is first imported (its documented way to choose the default pool)
ARROW_POOL_ENV = "ARROW_DEFAULT_MEMORY_POOL"
#: Blocks at least this large get their own mapping (glibc ``M_MMAP_THRESHOLD``; its default starts
#: at 128 kB but grows with every large block freed, which keeps freed 1M-run arrays resident)
MMAP_THRESHOLD = 4 << 20
_M_MMAP_THRESHOLD = -3  # glibc's <malloc.h> parameter number
#: glibc reads its tunables from the environment at start: a user's own setting always wins
_GLIBC_MMAP_ENV = ("MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES")

_trim = None


def _malloc_trim():
    """glibc's ``malloc_trim`` as a ctypes function, or None where there is none."""
    global _trim
    if _trim is None:
        fn = False
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                fn = libc.malloc_trim  # AttributeError on musl and other C libraries
                fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
            except (OSError, AttributeError):
                fn = False
        _trim = fn
    return _trim or None


def release_memory_later() -> None:
    """:func:`release_memory` on a short-lived background thread, so the caller does not wait for the
    trim (~20 ms on the heap of a 1M-run load; glibc's ``malloc_trim`` is thread-safe). Never raises."""
    import threading

    try:
        threading.Thread(target=release_memory, name="etl-desk-release-memory", daemon=True).start()
    except RuntimeError:  # no thread to be had (interpreter shutting down): trim here
        release_memory()


def release_memory() -> bool:
    """Return freed heap pages to the OS; True when glibc's ``malloc_trim`` ran.

    Cheap (a few ms on a 1 GB heap); safe from any thread. Never raises.
    """
    if "pyarrow" in sys.modules:
        try:
            sys.modules["pyarrow"].default_memory_pool().release_unused()
        except Exception:  # noqa: BLE001 - an allocator that cannot release is not an error
            pass
    fn = _malloc_trim()
    if fn is None:
        return False
    fn(0)
    return True


def _fix_mmap_threshold() -> bool:
    """glibc: give every block of :data:`MMAP_THRESHOLD` bytes or more its own mapping (True when set)."""
    if not sys.platform.startswith("linux") or any(os.environ.get(k) for k in _GLIBC_MMAP_ENV):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        fn = libc.mallopt  # AttributeError on musl and other C libraries
        fn.argtypes, fn.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
        return bool(fn(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    except (OSError, AttributeError):
        return False


def prefer_system_allocator() -> None:
    """Make Arrow's default memory pool the system allocator and fix glibc's mmap threshold
    (call once at process start; see the module's docstring).

    Before pyarrow is imported this sets ``ARROW_DEFAULT_MEMORY_POOL=system`` unless the
    user set it; afterwards it switches the default pool for later allocations. A user's
    own ``ARROW_DEFAULT_MEMORY_POOL`` (or glibc ``MALLOC_MMAP_THRESHOLD_`` / ``GLIBC_TUNABLES``)
    always wins. Never raises.
    """
    _fix_mmap_threshold()
    if os.environ.get(ARROW_POOL_ENV):
        return
    if "pyarrow" not in sys.modules:
        os.environ[ARROW_POOL_ENV] = "system"
        return
    try:
        pa = sys.modules["pyarrow"]
        pa.set_memory_pool(pa.system_memory_pool())
    except Exception:  # noqa: BLE001 - keep the bundled pool
        pass
