"""How cost grows with work, beside the peers in the same run: where per-gate Python overhead stops mattering.

* LeNet-5 training step (as in ``bench/models.py``) at batch 1, 8, 64, 256, beside PyTorch;
* conv2d (N=32, 16 → 32 channels, 3×3, pad 1) forward + backward on 8×8 … 64×64 images, beside PyTorch;
* the scalar 2-16-16-1 MLP (``bench/scalar.py``) over 10, 100, 1,000 points, beside micrograd.

The tensor rows run in this process, the two frameworks in alternating rounds (medians), on the
same thread count; the scalar rows in fresh processes, as ``bench/scalar.py`` does. Small batches
are where a framework's cost per gate (Python for minigrad, the dispatcher for PyTorch) is most of
the time; the ratio falls as the arithmetic grows.

    python -m bench scaling [--quick] [--threads N]
"""
from __future__ import annotations

import sys

import numpy as np

from .common import interleaved, peer_torch, same_threads, table

BATCHES = (1, 8, 64, 256)
IMAGES = (8, 16, 32, 64)
POINTS = (10, 100, 1000)


def main(quick=False, threads=None):
    with same_threads(threads) as t:
        rows = _tensor_rows(quick, t.count)
    rows += _scalar_rows(quick)
    print(table(rows, ["work", "minigrad ms", "peer ms", "minigrad ÷ peer"]))
    return rows


def _tensor_rows(quick, threads):
    from .cnn_ops import _pair
    from .models import lenet5_step

    torch = peer_torch()
    rounds = 3 if quick else 7
    print(f"float32, {threads} thread(s) for numpy's BLAS and PyTorch; medians of {rounds} "
          f"alternating rounds; the scalar MLP beside micrograd in fresh processes\n")
    rows = []
    for batch in BATCHES[:3] if quick else BATCHES:
        ours, theirs = lenet5_step(torch, np.random.default_rng(0), batch=batch)
        rows.append(_row(f"LeNet-5 train step, batch {batch}", *interleaved([ours, theirs], rounds), "PyTorch"))
    import minigrad.nn.functional as F

    TF = torch.nn.functional if torch is not None else None
    rng = np.random.default_rng(0)
    for size in IMAGES[:3] if quick else IMAGES:
        ours, theirs = _pair(lambda x, w: F.conv2d(x, w, padding=1),
                             (lambda x, w: TF.conv2d(x, w, padding=1)) if TF else None,
                             [(32, 16, size, size), (32, 16, 3, 3)], rng)
        times = interleaved([ours, theirs], rounds)
        rows.append(_row(f"conv2d 3×3 pad 1, (32, 16, {size}, {size})", *times, "PyTorch"))
    return rows


def _scalar_rows(quick):
    from .scalar import _time_mlp

    try:
        import micrograd  # noqa: F401

        peer = True
    except ImportError:
        peer = False
    rows = []
    for points in POINTS[:2] if quick else POINTS:
        repeat = 3 if points >= 1000 else 7
        ours = _time_mlp("minigrad", False, points, repeat)
        name = f"scalar MLP 2-16-16-1, {points} points (gc on)"
        try:
            theirs = _time_mlp("micrograd", False, points, repeat) if peer else None
        except RuntimeError as exc:  # micrograd's recursive topological sort: the loss is a chain of `points` adds
            if "RecursionError" not in str(exc):
                raise
            rows.append([name, f"{ours * 1e3:.2f}", "RecursionError (micrograd)", "-"])
            continue
        rows.append(_row(name, ours, theirs, "micrograd"))
    return rows


def _row(name, ours, theirs, peer):
    if theirs is None:
        return [name, f"{ours * 1e3:.2f}", f"({peer} not installed)", "-"]
    return [name, f"{ours * 1e3:.2f}", f"{theirs * 1e3:.2f} ({peer})", f"{ours / theirs:.2f}×"]


if __name__ == "__main__":
    args = sys.argv[1:]
    main(quick="--quick" in args, threads=int(args[args.index("--threads") + 1]) if "--threads" in args else None)
