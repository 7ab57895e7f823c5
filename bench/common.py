"""Helpers shared by the benchmarks: medians, interleaved rounds, thread counts, peers, fresh processes.

The machine a benchmark runs on is usually busy with something else, so no figure is ever a lone
absolute time: each is a median, measured in rounds that alternate with its peer's, and reported
beside the peer's as a ratio.
"""
from __future__ import annotations

import gc
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
"""The repository: fresh processes put it first on sys.path, so they time this checkout's minigrad."""


def median_time(fn, repeat=7, warmup=1):
    """Median wall time of ``fn()`` in seconds over ``repeat`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


IDLE = 0.25
"""Seconds to wait before timing the other library: OpenBLAS's worker threads keep spinning about
0.1 s after a matrix product (2**28 cycles), holding a core that PyTorch's threads then lack (PyTorch
measured right after minigrad ran twice as slow); OpenMP's threads spin after PyTorch's calls too."""


def interleaved(fns, rounds, repeat=3, idle=IDLE):
    """Median seconds of each function, measured in alternating rounds (a busy machine slows all alike).

    Each round times every function ``repeat`` times after one warm-up call and keeps the median;
    the result is the median over rounds. ``None`` entries are skipped (and give ``None``).
    """
    samples = [[] for _ in fns]
    for _ in range(rounds):
        for k, fn in enumerate(fns):
            if fn is None:
                continue
            if idle:
                time.sleep(idle)
            samples[k].append(median_time(fn, repeat=repeat, warmup=1))
    return [statistics.median(s) if s else None for s in samples]


class gc_disabled:
    """Switch Python's cyclic garbage collector off inside the block (and collect on the way out)."""

    def __enter__(self):
        gc.collect()
        gc.disable()

    def __exit__(self, *exc):
        gc.enable()
        gc.collect()


# -- peers and threads --------------------------------------------------------------------------

_notes = set()


def note(text):
    """Print a note once per run (e.g. that a peer is missing)."""
    if text not in _notes:
        _notes.add(text)
        print(f"note: {text}")


def peer_torch():
    """PyTorch if installed, else None (with a note): a missing peer never fails the suite."""
    try:
        import torch
    except ImportError:
        note("PyTorch is not installed (pip install torch==2.13.0): no PyTorch column")
        return None
    return torch


def blas_threads():
    """How many threads numpy's BLAS uses (threadpoolctl when installed, else the CPU count)."""
    try:
        from threadpoolctl import threadpool_info

        counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
        if counts:
            return counts[0]
    except ImportError:
        pass
    return os.cpu_count() or 1


class same_threads:
    """Inside the block numpy's BLAS and PyTorch use the same number of threads (``None``: BLAS's own).

    ``.count`` is the number in force. Limits are put back on the way out.
    """

    def __init__(self, threads=None):
        self.requested = threads

    def __enter__(self):
        self._blas = self._torch = None
        self.count = self.requested or blas_threads()
        if self.requested is not None:
            try:
                from threadpoolctl import threadpool_limits

                self._blas = threadpool_limits(self.requested, user_api="blas")
            except ImportError:
                note(f"threadpoolctl is not installed: numpy's BLAS keeps its own thread count, not {self.requested}")
        torch = sys.modules.get("torch") or peer_torch()
        if torch is not None:
            self._torch = (torch, torch.get_num_threads())
            torch.set_num_threads(self.count)
        return self

    def __exit__(self, *exc):
        if self._blas is not None:
            self._blas.restore_original_limits()
        if self._torch is not None:
            torch, count = self._torch
            torch.set_num_threads(count)


# -- fresh processes and memory -------------------------------------------------------------------


def run_fresh(code, env=None):
    """Run ``code`` in a new Python process; it must print one JSON object as its last line.

    A fresh process makes peak RSS (``ru_maxrss``) mean this measurement alone. The repository
    is first on its sys.path.
    """
    code = f"import sys; sys.path.insert(0, {ROOT!r})\n" + code
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=None if env is None else {**os.environ, **env})
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark subprocess failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


PEAK_RSS_MIB = "import resource; peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024"

MEMORY_PROBES = '''
def rss_mib():
    """Resident memory now and its high-water mark since start (or since reset_peak), in MiB."""
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024

def reset_peak():
    """Reset the high-water mark to the current RSS (Linux: write 5 to clear_refs); False if not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False
'''
"""Source for fresh processes: current and peak RSS from /proc (Linux), and resetting the peak."""


# -- printing -------------------------------------------------------------------------------------


def ratio(ours, theirs):
    """``ours / theirs`` as text ("1.23×"), or "-" when a figure is missing."""
    if ours is None or theirs is None:
        return "-"
    return f"{ours / theirs:.2f}×"


def ms(seconds):
    return "skipped" if seconds is None else f"{seconds * 1e3:.2f}"


def table(rows, headers):
    """Rows of strings as an aligned text table."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths))  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])
