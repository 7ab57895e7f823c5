"""CNN gates beside PyTorch CPU: conv2d (3×3 pad 1, stride 2, depthwise) and pooling, forward + backward.

Every op runs on the same float32 arrays in both frameworks, after a check that the gradients
agree. Times are medians; minigrad and PyTorch alternate in rounds, so a busy machine slows both
alike and the ratio stays meaningful, with a pause between them so that neither library's idle
worker threads (which spin for a while after each call) steal the other's cores. Both use the same number of threads: numpy's BLAS
thread count by default (PyTorch is set to match), or ``--threads N`` for both.

The conv's achieved GFLOP/s (2·N·O·oh·ow·C/groups·kH·kW multiply-adds forward, twice that backward
for dL/dX and dL/dW) is compared with numpy's own float32 matmul measured in the same run: on a
GEMM of the size the conv's forward performs (out × in·kH·kW) @ (in·kH·kW × N·oh·ow), and on a square
1024 GEMM for reference.

    python -m bench.cnn_ops [--quick] [--threads N]
"""
from __future__ import annotations

import sys

import numpy as np

from .common import interleaved, peer_torch, same_threads, table

CONVS = [
    # (name, x shape, weight shape, options)
    ("conv2d 3×3 pad 1", (32, 16, 32, 32), (32, 16, 3, 3), dict(padding=1)),
    ("conv2d 3×3 pad 1 stride 2", (32, 16, 32, 32), (32, 16, 3, 3), dict(padding=1, stride=2)),
    ("conv2d depthwise 3×3 (groups=16)", (32, 16, 32, 32), (16, 1, 3, 3), dict(padding=1, groups=16)),
]
POOLS = [
    # (name, minigrad function name, x shape, options)
    ("max_pool2d 2×2", "max_pool2d", (32, 32, 32, 32), dict(kernel_size=2)),
    ("max_pool2d 3×3 stride 2 pad 1", "max_pool2d", (32, 32, 32, 32), dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool2d 2×2", "avg_pool2d", (32, 32, 32, 32), dict(kernel_size=2)),
]


def _pair(ours, theirs, shapes, rng):
    """Forward + backward closures for both frameworks on the same float32 data, checked to agree."""
    import minigrad as mg

    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    xs = [mg.Tensor(a, requires_grad=True) for a in arrays]
    upstream = rng.standard_normal(ours(*xs).shape).astype(np.float32)

    def run_ours():
        for x in xs:
            x.grad = None
        ours(*xs).backward(upstream)

    run_ours()
    if theirs is None:
        return run_ours, None
    import torch

    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    t_up = torch.tensor(upstream)

    def run_theirs():
        for t in ts:
            t.grad = None
        theirs(*ts).backward(t_up)

    run_theirs()
    for x, t in zip(xs, ts):
        scale = float(np.abs(t.grad.numpy()).max()) or 1.0
        err = float(np.abs(x.grad - t.grad.numpy()).max()) / scale
        if err > 1e-4:
            raise AssertionError(f"gradients differ from PyTorch's (max relative error {err:.2e}); the benchmark is void")
    return run_ours, run_theirs


def main(quick=False, threads=None):
    with same_threads(threads) as t:
        return _main(quick, t.count)


def _main(quick, threads):
    from minigrad.ops import conv, pool

    torch = peer_torch()
    F = torch.nn.functional if torch is not None else None
    rounds = 3 if quick else 7
    rng = np.random.default_rng(0)
    print(f"float32, {threads} thread(s) for numpy's BLAS and PyTorch; medians of {rounds} rounds × 3 runs, forward + backward\n")

    rows, conv_rates = [], []
    for name, xs, ws, opts in CONVS:
        ours, theirs = _pair(lambda x, w: conv.conv2d(x, w, **opts),
                             (lambda x, w: F.conv2d(x, w, **opts)) if F else None, [xs, ws], rng)
        t_ours, *t_theirs = interleaved([ours] + ([theirs] if theirs else []), rounds)
        oh = (xs[2] + 2 * opts["padding"] - ws[2]) // opts.get("stride", 1) + 1
        flops = 3 * 2 * xs[0] * ws[0] * oh * oh * ws[1] * ws[2] * ws[3]  # forward, dL/dX and dL/dW
        rate = flops / t_ours / 1e9
        conv_rates.append(rate)
        rows.append(_row(name, t_ours, t_theirs, f"{rate:.1f}"))
    for name, fn, xs, opts in POOLS:
        ours, theirs = _pair(lambda x: getattr(pool, fn)(x, **opts),
                             (lambda x: getattr(F, fn)(x, **opts)) if F else None, [xs], rng)
        t_ours, *t_theirs = interleaved([ours] + ([theirs] if theirs else []), rounds)
        rows.append(_row(name, t_ours, t_theirs, ""))
    headers = ["op, forward + backward", "minigrad ms", "torch ms", "minigrad ÷ torch", "conv GFLOP/s"]
    if torch is None:
        headers, rows = [headers[0], headers[1], headers[4]], [[r[0], r[1], r[4]] for r in rows]
    print(table(rows, headers))

    # numpy's own float32 GEMM, in the same run: the forward's shape, and a square one
    _, xs, ws, opts = CONVS[0]
    k = ws[1] * ws[2] * ws[3]
    a, b = rng.standard_normal((ws[0], k)).astype(np.float32), rng.standard_normal((k, xs[0] * xs[2] * xs[3])).astype(np.float32)
    sq = rng.standard_normal((1024, 1024)).astype(np.float32)
    t_gemm, t_square = interleaved([lambda: a @ b, lambda: sq @ sq], rounds)
    gemm_rate, square_rate = 2 * a.shape[0] * k * b.shape[1] / t_gemm / 1e9, 2 * 1024**3 / t_square / 1e9
    print()
    print(table(
        [[f"conv's forward GEMM ({a.shape[0]}×{k}) @ ({k}×{b.shape[1]})", f"{gemm_rate:.1f}", f"{100 * conv_rates[0] / gemm_rate:.0f}%"],
         ["square GEMM (1024×1024) @ (1024×1024)", f"{square_rate:.1f}", f"{100 * conv_rates[0] / square_rate:.0f}%"]],
        ["numpy float32 matmul", "GFLOP/s", f"conv 3×3 pad 1 ({conv_rates[0]:.1f} GFLOP/s) as a share"],
    ))
    return rows


def _row(name, t_ours, t_theirs, rate):
    if not t_theirs:
        return [name, f"{t_ours * 1e3:.2f}", "", "", rate]
    return [name, f"{t_ours * 1e3:.2f}", f"{t_theirs[0] * 1e3:.2f}", f"{t_ours / t_theirs[0]:.2f}×", rate]


if __name__ == "__main__":
    args = sys.argv[1:]
    n = int(args[args.index("--threads") + 1]) if "--threads" in args else None
    main(quick="--quick" in args, threads=n)
