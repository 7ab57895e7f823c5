"""Tensor engine overhead: what a gate costs beyond the numpy call it wraps.

For small arrays (where overhead dominates) each op is timed three ways in the same run: the
bare numpy expression, the minigrad gate building a graph, and PyTorch CPU (when installed)
with requires_grad. Then a 100-gate chain, forward + backward, against numpy doing the same
forward and backward arithmetic by hand. Figures are medians of many repeats, in microseconds.

    python -m bench overhead [--quick]
"""
from __future__ import annotations

import timeit

import numpy as np

from .common import table


def _per_call(stmt, env, number):
    timer = timeit.Timer(stmt, globals=env)
    runs = timer.repeat(repeat=7, number=number)
    return sorted(runs)[3] / number * 1e6


def ops(quick=False):
    import minigrad as mg

    number = 200 if quick else 2000
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((16, 16)).astype(np.float32), rng.standard_normal((16, 16)).astype(np.float32)
    env = {"a": a, "b": b, "np": np, "x": mg.Tensor(a, requires_grad=True), "y": mg.Tensor(b, requires_grad=True)}
    cases = [
        ("add", "a + b", "x + y", "tx + ty"),
        ("mul", "a * b", "x * y", "tx * ty"),
        ("matmul 16x16", "a @ b", "x @ y", "tx @ ty"),
        ("relu", "np.maximum(a, 0)", "x.relu()", "tx.relu()"),
        ("exp", "np.exp(a)", "x.exp()", "tx.exp()"),
        ("sum", "a.sum()", "x.sum()", "tx.sum()"),
        ("reshape", "a.reshape(4, 64)", "x.reshape(4, 64)", "tx.reshape(4, 64)"),
    ]
    try:
        import torch

        torch.set_num_threads(1)
        env.update(tx=torch.tensor(a, requires_grad=True), ty=torch.tensor(b, requires_grad=True))
    except ImportError:
        torch = None
        print("PyTorch is not installed (pip install torch==2.13.0): no PyTorch column")
    rows = []
    for name, bare, ours, theirs in cases:
        t_np, t_mg = _per_call(bare, env, number), _per_call(ours, env, number)
        row = [name, f"{t_np:.2f}", f"{t_mg:.2f}", f"+{t_mg - t_np:.2f}"]
        if torch is not None:
            t_torch = _per_call(theirs, env, number)
            row += [f"{t_torch:.2f}", f"+{t_torch - t_np:.2f}"]
        rows.append(row)
    headers = ["gate on (16, 16) float32, forward", "numpy µs", "minigrad µs", "overhead", "torch µs", "overhead"]
    return rows, headers[: len(rows[0])]


def chain(quick=False):
    """100 mul gates forward + backward, against numpy doing that arithmetic by hand."""
    import minigrad as mg

    n, number = 100, 20 if quick else 200
    rng = np.random.default_rng(0)
    a = rng.standard_normal((16, 16)).astype(np.float32)
    ws = [rng.uniform(0.9, 1.1, (16, 16)).astype(np.float32) for _ in range(n)]
    consts = [mg.Tensor(w) for w in ws]

    def by_hand():
        values = [a]
        for w in ws:
            values.append(values[-1] * w)
        g = np.ones_like(a)
        for w in reversed(ws):
            g = g * w
        return g

    def with_minigrad():
        x = mg.Tensor(a, requires_grad=True)
        y = x
        for c in consts:
            y = y * c
        y.backward(np.ones_like(a))
        return x.grad

    np.testing.assert_allclose(with_minigrad(), by_hand(), rtol=1e-5)
    t_hand = _per_call("f()", {"f": by_hand}, number) / n
    t_mg = _per_call("f()", {"f": with_minigrad}, number) / n
    return [["100-gate chain, forward + backward, per gate", f"{t_hand:.2f}", f"{t_mg:.2f}", f"+{t_mg - t_hand:.2f}"]]


def main(quick=False, threads=None):
    rows, headers = ops(quick)
    print(table(rows, headers))
    print()
    print(table(chain(quick), ["", "numpy by hand µs", "minigrad µs", "overhead"]))


if __name__ == "__main__":
    import sys

    main(quick="--quick" in sys.argv)
