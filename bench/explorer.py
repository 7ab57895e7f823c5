"""What the explorer's page costs: the time to write it and its size, on real models and on growing chains.

Issue 14's targets: a LeNet-5 training step (batch 8) in < 3 s and < 2 MiB; a ResNet-18-sized model (batch
2, 32×32 input) in < 20 s and < 15 MiB. The page holds one SVG per module view and one JSON blob of steps
and tensors, so it should grow with the graph -- the stepper draws one SVG per step, each of the whole graph,
and grows with the square of the steps (measured here on a chain of 60 steps, beside the explorer on chains
of 60, 180 and 540) -- and ResNets of three stages of n blocks (n = 15, 30, 60: 608 to 2,363 nodes, 242 to
917 views) show that building many views grows with the graph too. Each model is measured after a plain ``backward()`` (inner gradients kept as norms; the
parameters' ``.grad`` whole) and after ``backward(retain_graph=True)`` (every value, for the pictures). The
time is ``explore(loss, path)`` alone, median of a few writes, not the forward and backward before it.

    python -m bench explorer [--quick]
"""
from __future__ import annotations

import os
import tempfile
import time

import numpy as np

from .common import table


def lenet5_loss(retain):
    import minigrad as mg
    import minigrad.nn.functional as F

    mg.manual_seed(0)
    model = mg.models.lenet5()
    x = mg.Tensor(np.random.default_rng(0).random((8, 1, 28, 28)).astype(np.float32))
    loss = F.cross_entropy(model(x), np.arange(8))
    loss.backward(retain_graph=retain)
    return loss


def resnet18_loss(retain):
    """ResNet-18's stages (2, 2, 2, 2 basic blocks of 64, 128, 256, 512 channels; 11.2 M parameters) on the
    zoo's 3×3 stem, batch 2 of 3×32×32."""
    import minigrad as mg
    import minigrad.nn.functional as F

    mg.manual_seed(0)
    model = mg.models.resnet(in_channels=3, widths=(64, 128, 256, 512), blocks=(2, 2, 2, 2))
    x = mg.Tensor(np.random.default_rng(0).random((2, 3, 32, 32)).astype(np.float32))
    loss = F.cross_entropy(model(x), np.array([1, 2]))
    loss.backward(retain_graph=retain)
    return loss


def resnet_blocks_loss(blocks):
    """The zoo's ResNet with three stages of ``blocks`` basic blocks of 4 channels, one 1×8×8 sample: about 40
    nodes and 15 module views per block, so the number of views grows with the graph."""
    import minigrad as mg
    import minigrad.nn.functional as F

    mg.manual_seed(0)
    model = mg.models.resnet(widths=(4, 4, 4), blocks=(blocks,) * 3)
    x = mg.Tensor(np.random.default_rng(1).random((1, 1, 8, 8)).astype(np.float32))
    loss = F.cross_entropy(model(x), np.array([3]))
    loss.backward()
    return loss


def chain_loss(steps):
    """A chain of ``steps - 1`` tanh gates and a sum on a (4, 4) tensor: ``steps`` backprop steps, no modules."""
    import minigrad as mg

    x = mg.Tensor(np.linspace(-1, 1, 16).reshape(4, 4), requires_grad=True, label="x")
    y = x
    for _ in range(steps - 1):
        y = y.tanh()
    loss = y.sum()
    loss.backward()
    return loss


def write(fn, loss, repeat):
    """Median seconds of ``fn(loss, path)`` and the size of what it wrote (bytes)."""
    times = []
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "page.html")
        for _ in range(repeat):
            start = time.perf_counter()
            fn(loss, path)
            times.append(time.perf_counter() - start)
        return sorted(times)[len(times) // 2], os.path.getsize(path)


def main(quick=False, threads=None):
    from minigrad.core import records
    from minigrad.viz import explore, stepper
    from minigrad.viz.frames import collect

    repeat = 1 if quick else 3
    rows = []
    cases = [("LeNet-5, batch 8", lenet5_loss, 3, 2), ("ResNet-18-sized, batch 2, 32×32", resnet18_loss, 20, 15)]
    for name, make, seconds, mib in cases:
        for retain in (False, True):
            loss = make(retain)
            took, size = write(lambda root, path: explore(root, path), loss, repeat)
            steps, nodes = len(records.replay(loss)), len(collect(loss)[0])
            met = "yes" if took < seconds and size < mib * 2**20 else "NO"
            rows.append([name, "retain_graph" if retain else "plain", f"{nodes:,}", f"{steps:,}", f"{took:.2f}",
                         f"{size / 2**20:.2f}", f"< {seconds} s, < {mib} MiB", met])
    for blocks in (15, 30) if quick else (15, 30, 60):
        loss = resnet_blocks_loss(blocks)
        took, size = write(lambda root, path: explore(root, path), loss, repeat)
        page = explore(loss)
        rows.append([f"ResNet, 3 stages of {blocks} blocks, {page.views:,} views", "plain", f"{len(collect(loss)[0]):,}",
                     f"{page.steps:,}", f"{took:.2f}", f"{size / 2**20:.2f}", "linear in the nodes", ""])
    for steps in (60, 180) if quick else (60, 180, 540):
        loss = chain_loss(steps)
        took, size = write(lambda root, path, n=steps: explore(root, path, max_view=n + 10), loss, repeat)
        rows.append(["tanh chain, (4, 4)", "plain", f"{len(collect(loss)[0]):,}", f"{steps:,}", f"{took:.2f}",
                     f"{size / 2**20:.2f}", "linear in the steps", ""])
    if not quick:
        loss = chain_loss(60)
        took, size = write(lambda root, path: stepper(root, path), loss, 1)
        rows.append(["(the stepper) tanh chain, (4, 4)", "plain", "61", "60", f"{took:.2f}", f"{size / 2**20:.2f}",
                     "grows with steps²", ""])
    print(f"explore(loss, path): median of {repeat} write(s); sizes of the written file\n")
    print(table(rows, ["graph", "backward", "nodes", "steps", "write s", "MiB", "target", "met?"]))
    return rows


if __name__ == "__main__":
    import sys

    main(quick="--quick" in sys.argv[1:])
