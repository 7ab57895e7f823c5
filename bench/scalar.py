"""Scalar engine: a 2-16-16-1 MLP over 100 points beside micrograd, and a 1,000,000-gate chain.

Both engines build the same graph from identical weights (each neuron is
``sum(w·x for ...) + b`` then relu, the loss a sum of squared errors), and the benchmark checks
that they agree on the loss and on every weight's gradient before timing them.
Times are medians of forward+backward; the ratio is micrograd's time over minigrad's.

Python's cyclic garbage collector is part of what a user pays, so the first figure keeps it on.
micrograd's closures form reference cycles (a node's ``_backward`` captures the node), so its
graphs wait for the collector and full collections grow with them; minigrad's graphs have no
cycles and are freed by reference counting. The second figure switches the collector off for
both, to show the engines' own cost.

    python -m bench scalar [--quick]
"""
from __future__ import annotations

import random

from .common import PEAK_RSS_MIB, gc_disabled, median_time, run_fresh, table

SIZES = (2, 16, 16, 1)


def make_data(seed=0, points=100):
    rng = random.Random(seed)
    weights = [
        [[rng.uniform(-1, 1) for _ in range(SIZES[i])] for _ in range(SIZES[i + 1])] for i in range(len(SIZES) - 1)
    ]
    xs = [[rng.uniform(-1, 1) for _ in range(SIZES[0])] for _ in range(points)]
    ys = [rng.choice([-1.0, 1.0]) for _ in range(points)]
    return weights, xs, ys


def make_mlp(value_cls, weights):
    """The MLP as a list of layers of (weights, bias) Values, and a function computing the loss."""
    layers = [[([value_cls(w) for w in row], value_cls(0.0)) for row in layer] for layer in weights]

    def loss(xs, ys):
        total = value_cls(0.0)
        for x, y in zip(xs, ys):
            h = x
            for depth, layer in enumerate(layers):
                last = depth == len(layers) - 1
                h = [sum((w * xi for w, xi in zip(ws, h)), b) for ws, b in layer]
                if not last:
                    h = [a.relu() for a in h]
            total = total + (h[0] - y) ** 2
        return total

    params = [p for layer in layers for ws, b in layer for p in (*ws, b)]
    return loss, params


MLP_RUN = """
import gc, json, sys
sys.path.insert(0, __ROOT__)
from bench.common import median_time
from bench.scalar import make_data, make_mlp
if __ENGINE__ == "minigrad":
    from minigrad import Value
else:
    from micrograd.engine import Value
weights, xs, ys = make_data(points=__POINTS__)
loss_fn, params = make_mlp(Value, weights)
def step():
    for p in params:
        p.grad = 0.0
    loss_fn(xs, ys).backward()
if __GC_OFF__:
    gc.disable()
print(json.dumps({"median": median_time(step, repeat=__REPEAT__, warmup=3)}))
"""


def _time_mlp(engine, gc_off, points, repeat):
    """Median seconds of one forward+backward, measured in a fresh process (so no engine inherits
    the other's garbage)."""
    import os

    code = MLP_RUN
    for key, value in {
        "__ROOT__": repr(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
        "__ENGINE__": repr(engine), "__POINTS__": str(points), "__GC_OFF__": str(gc_off), "__REPEAT__": str(repeat),
    }.items():
        code = code.replace(key, value)
    return run_fresh(code)["median"]


def mlp(quick=False):
    import minigrad

    points = 20 if quick else 100
    weights, xs, ys = make_data(points=points)
    engines = ["minigrad"]
    try:
        from micrograd.engine import Value as MicroValue

        engines.append("micrograd")
        _check_agreement({"minigrad": make_mlp(minigrad.Value, weights), "micrograd": make_mlp(MicroValue, weights)}, xs, ys)
    except ImportError:
        print("micrograd is not installed (pip install micrograd): timing minigrad alone")

    repeat = 3 if quick else 11
    rows = []
    for gc_off, mode in ((False, "gc on, as Python runs by default"), (True, "gc off: the engines' own cost")):
        times = {e: _time_mlp(e, gc_off, points, repeat) for e in engines}
        row = [f"MLP 2-16-16-1 x{points} fwd+bwd ({mode})", f"{times['minigrad'] * 1e3:.1f} ms"]
        if "micrograd" in times:
            row += [f"{times['micrograd'] * 1e3:.1f} ms", f"{times['micrograd'] / times['minigrad']:.1f}x"]
        else:
            row += ["skipped", "-"]
        rows.append(row)
    return rows


def _check_agreement(models, xs, ys):
    results = {}
    for name, (loss_fn, params) in models.items():
        loss = loss_fn(xs, ys)
        loss.backward()
        results[name] = (loss.data, [p.grad for p in params])
        for p in params:
            p.grad = 0.0
    (l1, g1), (l2, g2) = results.values()
    assert abs(l1 - l2) <= 1e-9 * max(1.0, abs(l1)), (l1, l2)
    assert all(abs(a - b) <= 1e-9 * max(1.0, abs(a)) for a, b in zip(g1, g2)), "gradients differ"


CHAIN = f"""
import json, time
import minigrad
n = __N__
start = time.perf_counter()
x = minigrad.Value(0.5)
y = x
for _ in range(n):
    y = __GATE__
built = time.perf_counter()
y.backward()
done = time.perf_counter()
assert x.grad != 0.0
{PEAK_RSS_MIB}
print(json.dumps({{"build": built - start, "backward": done - built, "peak_mib": peak_mib}}))
"""


def chain(quick=False):
    n = 100_000 if quick else 1_000_000
    rows = []
    for gate, what in (("y.tanh()", "tanh gates"), ("y * 1.0", "mul gates, each with a new constant leaf")):
        r = run_fresh(CHAIN.replace("__N__", str(n)).replace("__GATE__", gate))
        total = r["build"] + r["backward"]
        rows.append([
            f"chain of {n:,} {what}: build + backward",
            f"{total:.2f} s ({r['build']:.2f} + {r['backward']:.2f})",
            f"peak {r['peak_mib']:.0f} MiB",
            "target < 5 s, < 1.5 GiB" if n == 1_000_000 else "(quick)",
        ])
    return rows


def main(quick=False):
    rows = mlp(quick) + chain(quick)
    print(table(rows, ["scalar engine", "minigrad", "micrograd / note", "micrograd ÷ minigrad"]))
    return rows


if __name__ == "__main__":
    import sys

    main(quick="--quick" in sys.argv)
