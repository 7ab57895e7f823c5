"""One small pool of threads for the copy-bound work inside the gates.

numpy's BLAS multiplies matrices on several threads, but its copies, ufuncs and reductions run on
the calling thread only. Inside a convolution the copies (padding, im2col, col2im, the layout
changes around the GEMMs), and all of pooling and batch norm, are such work; numpy releases the
GIL while it copies or computes a ufunc on numbers, so Python threads that each take a slice of the
batch (or of the channels) run them in parallel. ``run(fn, n, nbytes)`` does that: ``fn(part)`` for
parts of ``range(n)``, the caller taking the first part itself.

The pool is one per process and as large as the cores numpy's BLAS uses (``OPENBLAS_NUM_THREADS``,
``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS`` when set, else the CPUs this process may run on); the
GEMMs stay on BLAS's own threads, between the parallel copies, so the two never run at once.
``MINIGRAD_NUM_THREADS`` or :func:`set_num_threads` sets it (1: everything on the calling thread,
the plain numpy code). Work smaller than ``MIN_BYTES`` per thread is not split: handing a part to
another thread costs tens of microseconds.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

MIN_BYTES = 256 << 10
"""Bytes a part must touch (read + written) to be worth handing to another thread (bench/README.md)."""

_ENV = ("MINIGRAD_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _default_threads():
    for name in _ENV:
        text = os.environ.get(name, "").strip()
        if text:
            try:
                count = int(text.split(",")[0])
            except ValueError:
                if name == _ENV[0]:
                    raise ValueError(f"{name} must be a positive integer, got {text!r}") from None
                continue
            if count >= 1:
                return count
            if name == _ENV[0]:
                raise ValueError(f"{name} must be a positive integer, got {text!r}")
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class _Pool:
    def __init__(self):
        self.size = None  # threads, the caller's included (read lazily, so the environment can be set after import)
        self.executor = None
        self.lock = threading.Lock()

    def threads(self):
        if self.size is None:
            self.size = _default_threads()
        return self.size

    def workers(self):
        with self.lock:
            if self.executor is None:
                self.executor = ThreadPoolExecutor(self.threads() - 1, thread_name_prefix="minigrad",
                                                   initializer=_mark_worker)
            return self.executor

    def reset(self, size=None):
        with self.lock:
            if self.executor is not None:
                self.executor.shutdown(wait=True)
            self.executor, self.size = None, size


_pool = _Pool()
_local = threading.local()


def _mark_worker():
    _local.worker = True


def _forget_after_fork():
    """A forked child has none of the parent's threads: it starts a pool of its own when it needs one."""
    _pool.executor = None
    _pool.lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def get_num_threads():
    """How many threads the gates' copies use (the caller's included), as ``torch.get_num_threads``."""
    return _pool.threads()


def set_num_threads(n):
    """Use ``n`` threads (the caller's included) for the gates' copies; 1 runs them on the calling thread.

    As ``torch.set_num_threads``, except that numpy's BLAS keeps its own thread count (set it with
    ``OPENBLAS_NUM_THREADS`` before numpy is imported, or with threadpoolctl).
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    _pool.reset(n)


def parts(n, count):
    """``range(n)`` as ``count`` slices of nearly equal length (the first ones one longer), none empty."""
    count = max(1, min(count, n))
    step, extra = divmod(n, count)
    out, start = [], 0
    for k in range(count):
        stop = start + step + (k < extra)
        out.append(slice(start, stop))
        start = stop
    return out


def split(n, nbytes):
    """How many threads ``n`` items touching ``nbytes`` in all should use."""
    threads = _pool.threads()
    if threads == 1 or n < 2 or getattr(_local, "worker", False):
        return 1
    return max(1, min(threads, n, nbytes // MIN_BYTES))


def run(fn, n, nbytes):
    """``[fn(part) for part in parts(n, k)]`` with the k parts on k threads (k from :func:`split`).

    The caller runs the first part; the results come back in order. If a part raises, the others are
    still waited for (they may be writing into the same arrays) and the first error is raised.
    """
    k = split(n, nbytes)
    if k == 1:
        return [fn(slice(0, n))]
    pieces = parts(n, k)
    futures = [_pool.workers().submit(fn, piece) for piece in pieces[1:]]
    results, error = [], None
    try:
        results.append(fn(pieces[0]))
    except BaseException as exc:  # noqa: BLE001 -- re-raised below, after the other threads are done
        error = exc
    for future in futures:
        try:
            results.append(future.result())
        except BaseException as exc:  # noqa: BLE001
            error = error or exc
    if error is not None:
        raise error
    return results


def run_split(fn, lengths, nbytes):
    """``fn(k, part)`` over parts of one of several axes: the first of ``lengths`` with a part for every
    thread (else the longest); ``k`` says which. For work that can be cut along the batch or the
    channels: ``run_split(fn, (N, C), nbytes)``. Returns the results in order."""
    threads = split(max(lengths), nbytes)
    if threads == 1:
        return [fn(0, slice(None))]
    k = next((i for i, n in enumerate(lengths) if n >= threads), max(range(len(lengths)), key=lengths.__getitem__))
    return run(lambda part: fn(k, part), lengths[k], nbytes)


def zeros(shape, dtype):
    """``np.zeros(shape, dtype)``, the zeroing split over the threads along the first axis."""

    out = np.empty(shape, dtype)
    if out.ndim == 0 or split(shape[0], out.nbytes) == 1:
        out.fill(0)
        return out
    run(lambda part: out[part].fill(0), shape[0], out.nbytes)
    return out


BLOCK_BYTES = 8 << 20
"""The most one tile of :func:`tiles` covers: it bounds what a tile allocates (pooling's padded copy of its
planes). Tiles small enough for L2 (128 KiB) were 1.5-2× slower on one thread for pooling and batch norm
of (32, 32, 32, 32) float32 (numpy's cost per call outweighs the cache; bench/README.md), so they are large."""


def tiles(fn, lengths, item_bytes, nbytes):
    """``fn(a, b)`` for tiles -- a slice ``a`` of range(A), ``b`` of range(B), ``lengths`` = (A, B) -- that
    cover A × B, each at most ``BLOCK_BYTES`` (``item_bytes`` per (a, b) element) when it can be, split
    over the threads along A, or along B when A is too short."""
    A, B = lengths

    def work(k, part):
        rows, cols = (part, slice(0, B)) if k == 0 else (slice(0, A), part)
        (a0, a1, _), (b0, b1, _) = rows.indices(A), cols.indices(B)
        row_bytes = (b1 - b0) * item_bytes
        if row_bytes <= BLOCK_BYTES:
            step = max(1, BLOCK_BYTES // max(1, row_bytes))
            for a in range(a0, a1, step):
                fn(slice(a, min(a + step, a1)), slice(b0, b1))
            return
        step = max(1, BLOCK_BYTES // max(1, item_bytes))
        for a in range(a0, a1):
            for b in range(b0, b1, step):
                fn(slice(a, a + 1), slice(b, min(b + step, b1)))

    run_split(work, (A, B), nbytes)
