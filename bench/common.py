"""Timing helpers shared by the benchmarks: medians of repeated runs, peak memory in a fresh process."""
from __future__ import annotations

import gc
import json
import statistics
import subprocess
import sys
import time


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


class gc_disabled:
    """Switch Python's cyclic garbage collector off inside the block (and collect on the way out)."""

    def __enter__(self):
        gc.collect()
        gc.disable()

    def __exit__(self, *exc):
        gc.enable()
        gc.collect()


def run_fresh(code):
    """Run ``code`` in a new Python process; it must print one JSON object as its last line.

    A fresh process makes peak RSS (``ru_maxrss``) mean this measurement alone.
    """
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark subprocess failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


PEAK_RSS_MIB = "import resource; peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024"


def table(rows, headers):
    """Rows of strings as an aligned text table."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths))  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])
