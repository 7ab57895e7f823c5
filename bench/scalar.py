"""Scalar engine: a 2-16-16-1 MLP over 100 points beside micrograd, a 1,000,000-gate chain, and the
engine's own overhead (``backward()`` beside a bare loop doing the same gate arithmetic).

Both engines build the same graph from identical weights (each neuron is
``sum(w·x for ...) + b`` then relu, the loss a sum of squared errors), and the benchmark checks
that they agree on the loss and on every weight's gradient before timing them.
Times are medians of forward+backward; the ratio is micrograd's time over minigrad's.

Python's cyclic garbage collector is part of what a user pays, so the first figure keeps it on.
micrograd's closures form reference cycles (a node's ``_backward`` captures the node), so its
graphs wait for the collector and full collections grow with them; minigrad's graphs have no
cycles and are freed by reference counting. The second figure switches the collector off for
both, to show the engines' own cost.

The engine overhead: minigrad's one backprop loop also serves the Step stream (the debugger, the
drawings, the HTML stepper), hooks, retained gradients and anomaly mode. The benchmark runs
``backward()`` on a built graph beside :func:`bare_backward`, the few lines any autodiff engine
needs (an order, then each gate's rule and a sum per input), in alternating rounds on the same
graph: a ratio near 1.00 means those features cost nothing measurable when they are unused. For
contrast, one row consumes ``backward_steps()``, the stream itself.

    python -m bench scalar [--quick]
"""
from __future__ import annotations

import random

from .common import PEAK_RSS_MIB, gc_disabled, interleaved, run_fresh, table

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
import gc, json
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
    code = MLP_RUN
    for key, value in {
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


TARGETS = {"y.tanh()": "target < 5 s, < 1.5 GiB", "y + 1.0": "target < 3 s, < 600 MiB"}  # issues 7 and 18


def chain(quick=False):
    n = 100_000 if quick else 1_000_000
    rows = []
    gates = (("y.tanh()", "tanh gates"), ("y + 1.0", f"add gates, each with a plain number ({2 * n:,} nodes)"))
    for gate, what in gates:
        r = run_fresh(CHAIN.replace("__N__", str(n)).replace("__GATE__", gate))
        total = r["build"] + r["backward"]
        rows.append([
            f"chain of {n:,} {what}: build + backward",
            f"{total:.2f} s ({r['build']:.2f} + {r['backward']:.2f})",
            f"peak {r['peak_mib']:.0f} MiB",
            "(quick)" if n != 1_000_000 else TARGETS[gate],
        ])
    return rows


def bare_backward(root, seed):
    """Backprop with nothing but the arithmetic: the order, each gate's rule, a sum per input.

    No Steps, no hooks, no retained gradients, no anomaly checks, no waiting marks: the floor the
    engine's loop is measured against. Works for Values and (with ``retain_graph``) Tensors alike.
    """
    order, seen, stack = [root], {root}, [root]
    while stack:
        for parent in stack.pop()._inputs:
            if parent not in seen and parent.requires_grad:
                seen.add(parent)
                order.append(parent)
                stack.append(parent)
    order.sort(key=lambda node: node._id, reverse=True)
    grads = {root: seed}
    for node in order:
        g = grads.pop(node, None)
        if g is None:
            continue
        if node._gate is None:
            node.grad = node.grad + g if node.grad is not None else g.copy()
            continue
        for parent, d in zip(node._inputs, node._gate.send(node, g)):
            if d is not None:
                grads[parent] = grads[parent] + d if parent in grads else d


def engine_overhead(quick=False):
    """``backward()`` beside ``bare_backward`` on the same graphs: a scalar MLP and a small tensor MLP."""
    import numpy as np

    import minigrad
    from minigrad import nn

    rows = []
    # the scalar MLP's graph, built once; backward() may run on it again and again
    points = 20 if quick else 100
    weights, xs, ys = make_data(points=points)
    loss_fn, params = make_mlp(minigrad.Value, weights)
    loss = loss_fn(xs, ys)

    def scalar_engine():
        loss.backward()

    def scalar_bare():
        bare_backward(loss, 1.0)

    def scalar_steps():
        for _ in loss.backward_steps():
            pass

    # a tensor MLP (linear-relu ×3 on a batch of 8), graph retained so that it can be reused
    minigrad.manual_seed(0)
    net = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))
    out = (net(minigrad.Tensor(np.ones((8, 16), np.float32))) ** 2).sum()
    tensor_nodes = len(minigrad.core.engine.topological_order(out))

    def tensor_engine():
        out.backward(retain_graph=True)

    def tensor_bare():
        bare_backward(out, np.ones_like(out.data))  # backward() makes its starting gradient too

    def tensor_steps():
        for _ in out.backward_steps(retain_graph=True):
            pass

    nodes = len(minigrad.core.engine.topological_order(loss))
    rounds, repeat = (5, 5) if quick else (15, 9)
    with gc_disabled():
        for what, fns in ((f"scalar MLP graph ({nodes:,} nodes)", (scalar_engine, scalar_bare, scalar_steps)),
                          (f"tensor MLP graph (linear-relu ×3, {tensor_nodes} nodes)", (tensor_engine, tensor_bare, tensor_steps))):
            t_engine, t_bare, t_steps = interleaved(fns, rounds, repeat=repeat, idle=0)
            unit, scale = ("ms", 1e3) if t_bare > 1e-3 else ("µs", 1e6)
            rows.append([f"{what}: backward()", f"{t_engine * scale:.1f} {unit}", f"{t_bare * scale:.1f} {unit}",
                         f"{t_engine / t_bare:.2f}×"])
            rows.append([f"{what}: consuming backward_steps()", f"{t_steps * scale:.1f} {unit}", "",
                         f"{t_steps / t_bare:.2f}× (the stream, when used)"])
    return rows


def main(quick=False, threads=None):
    rows = mlp(quick) + chain(quick)
    print(table(rows, ["scalar engine", "minigrad", "micrograd / note", "micrograd ÷ minigrad"]))
    print()
    overhead = engine_overhead(quick)
    print(table(overhead, ["engine overhead", "minigrad", "bare loop", "minigrad ÷ bare"]))
    return rows + overhead


if __name__ == "__main__":
    import sys

    main(quick="--quick" in sys.argv)
