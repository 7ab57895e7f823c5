"""glibc's malloc, set for training loops: a step's temporaries reuse freed memory instead of fresh pages.

A training step allocates and frees the same arrays every step: activations, their gradients,
im2col's columns. With glibc's default settings (Linux), an allocation at least as large as the
*mmap threshold* (128 KiB at start) is given newly mapped pages and unmapped when freed, the
threshold rising only to the largest block freed so far; and when more than the *trim threshold*
(twice that) lies free at the top of the heap, it is handed back to the system. Either way the
next step's arrays land on fresh pages, and the first touch of each 4 KiB page is a page fault
(dearer with several threads, which must all forget the unmapped pages): in a CNN training step
they take a large part of the time (the counts: bench/README.md, "glibc's allocator").

So importing minigrad fixes the two thresholds, as ``MALLOC_MMAP_THRESHOLD_`` and
``MALLOC_TRIM_THRESHOLD_`` would: blocks up to ``MMAP_THRESHOLD`` come from the heap, and up to
``TRIM_THRESHOLD`` of freed heap stays with the process for the next step. The cost: a process
keeps up to 64 MiB it no longer uses (a program that needs it back can call ``malloc_trim(0)``).
Nothing changes when

* ``MINIGRAD_MALLOC=default`` is set before minigrad is imported (glibc's own behaviour), or
* the user has set either ``MALLOC_*_THRESHOLD_`` variable or a ``glibc.malloc`` tunable
  (their choice wins), or
* the C library is not glibc (macOS, Windows, musl).

``status()`` says which of these happened.
"""
from __future__ import annotations

import ctypes
import os
import platform

MMAP_THRESHOLD = 32 << 20  # glibc's ceiling for this threshold on 64-bit systems
TRIM_THRESHOLD = 64 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)

_status = "not set up yet"


def _users_choice(environ):
    """The environment variable that already sets glibc's thresholds, or None."""
    for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
        if name in environ:
            return name
    if "glibc.malloc." in environ.get("GLIBC_TUNABLES", ""):
        return "GLIBC_TUNABLES"
    return None


def tune(environ=None):
    """Fix glibc's mmap and trim thresholds for training loops, unless the environment says otherwise.

    Called once when minigrad is imported; returns ``status()``. Calling it again is harmless.
    """
    global _status
    environ = os.environ if environ is None else environ
    choice = environ.get("MINIGRAD_MALLOC", "tuned")
    if choice not in ("tuned", "default"):
        raise ValueError(f"MINIGRAD_MALLOC={choice!r}: expected 'tuned' (the default) or 'default' (glibc's own settings)")
    if choice == "default":
        _status = "glibc's defaults (MINIGRAD_MALLOC=default)"
    elif _users_choice(environ):
        _status = f"left as the environment sets it ({_users_choice(environ)})"
    elif platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        _status = "unchanged (the C library is not glibc)"
    else:
        mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
        if mallopt is not None and mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1:
            _status = f"tuned: mmap threshold {MMAP_THRESHOLD >> 20} MiB, trim threshold {TRIM_THRESHOLD >> 20} MiB"
        else:
            _status = "unchanged (mallopt refused the thresholds)"
    return _status


def status():
    """What ``tune`` did: ``"tuned: …"``, or why glibc's settings were left alone."""
    return _status
