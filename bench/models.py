"""Whole models beside PyTorch CPU: a LeNet-5 training step and a ResNet basic block.

* LeNet-5 (``minigrad.nn.models.lenet5``) on a (64, 1, 28, 28) batch: zero_grad, forward,
  cross-entropy, backward and an SGD step with momentum 0.9 -- one full training step;
* ResNet's basic block (``minigrad.nn.models.BasicBlock(64, 64)``: conv-BN-ReLU-conv-BN, identity
  shortcut, ReLU) on x (32, 64, 16, 16) in training mode, forward + backward with a fixed
  upstream gradient (x requires grad, as inside a network).

PyTorch builds the identical model and loads minigrad's ``state_dict`` (the keys are PyTorch's),
so both start from the same weights; before timing, one step of each is checked to agree (loss,
every parameter after the update, or every gradient).

Each framework is then timed **alone in a fresh process**, as a user runs it, minigrad's and
PyTorch's processes alternating round after round (a busy machine slows both alike), on the same
thread count; a figure is the median over rounds of each process's median step. Fresh processes
matter here because glibc's allocator has a memory: with its default settings an allocation of at
least its *mmap threshold* gets newly mapped pages, whose first touch page-faults (~2.5 µs per
4 KiB here), the threshold rises to the largest block freed so far, and freed memory beyond the
*trim threshold* goes back to the system. So a step's temporaries fault in afresh every step, more
or less of them depending on what the process freed before. Importing minigrad fixes both
thresholds (minigrad/core/allocator.py); PyTorch leaves glibc's. The table reports the page faults per
step beside each time, for three settings:

* *as installed*: minigrad with its thresholds, PyTorch with glibc's (what users of each get);
* *glibc's for both* (``MINIGRAD_MALLOC=default``);
* *minigrad's for both* (``MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=67108864``).

    python -m bench models [--quick] [--threads N]
"""
from __future__ import annotations

import statistics

import numpy as np

from .common import ms, peer_torch, ratio, run_fresh, same_threads, table

GLIBC = {"MINIGRAD_MALLOC": "default"}
"""glibc's own settings, also in a process that imports minigrad (the PyTorch processes do, for the weights)."""
FIXED = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(64 << 20)}
"""minigrad's thresholds (minigrad/core/allocator.py) set through the environment, so that PyTorch gets them too."""
ALLOCATORS = (
    ("as installed", {"minigrad": {}, "torch": GLIBC}),  # what a user of each gets
    ("glibc's for both", {"minigrad": GLIBC, "torch": GLIBC}),
    ("minigrad's for both", {"minigrad": FIXED, "torch": FIXED}),
)


def _agree(what, ours, theirs, rtol=1e-3):
    """Relative error in norm: float32 rounding may flip a ReLU whose input is ~1e-7 from zero, which
    changes a handful of the 524,288 gradients entirely -- an elementwise check would call that a bug."""
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    err = float(np.linalg.norm(ours - theirs)) / (float(np.linalg.norm(theirs)) or 1.0)
    if err > rtol:
        raise AssertionError(f"{what}: minigrad and PyTorch differ (relative error {err:.2e}); the benchmark is void")


def lenet5_step(torch, rng, only=None, batch=64):
    """One training step of LeNet-5 in each framework, from the same weights on the same batch (of ``batch``).

    Returns the two step functions (checked to agree); ``only`` builds just one of them (the other is None).
    """
    import minigrad as mg
    import minigrad.nn.functional as F
    from minigrad import models, optim

    mg.manual_seed(0)
    model = models.lenet5()
    x = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def ours():
        opt.zero_grad()
        loss = F.cross_entropy(model(mg.Tensor(x)), y)
        loss.backward()
        opt.step()
        return loss.item()

    if torch is None or only == "minigrad":
        return ours, None
    nn = torch.nn
    tmodel = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )
    tmodel.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.01, momentum=0.9)
    tx, ty = torch.tensor(x), torch.tensor(y)

    def theirs():
        topt.zero_grad()
        loss = nn.functional.cross_entropy(tmodel(tx), ty)
        loss.backward()
        topt.step()
        return loss.item()

    if only == "torch":
        return None, theirs
    for _ in range(2):  # the second step uses the momentum buffers
        _agree("LeNet-5 loss", np.float32(ours()), np.float32(theirs()))
    for name, p in tmodel.state_dict().items():
        _agree(f"LeNet-5 {name} after two steps", model.state_dict()[name], p.numpy())
    return ours, theirs


def torch_basic_block(torch, channels):
    nn = torch.nn

    class BasicBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(channels)
            self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(channels)

        def forward(self, x):
            out = torch.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return torch.relu(out + x)

    return BasicBlock()


def basic_block(torch, rng, only=None):
    """ResNet's basic block, training mode, forward + backward in each framework (``only``: as lenet5_step)."""
    import minigrad as mg
    from minigrad import models

    mg.manual_seed(0)
    block = models.BasicBlock(64, 64)
    x0 = rng.standard_normal((32, 64, 16, 16)).astype(np.float32)
    up = rng.standard_normal((32, 64, 16, 16)).astype(np.float32)
    x = mg.Tensor(x0, requires_grad=True)

    def ours():
        x.grad = None
        block.zero_grad()
        block(x).backward(up)
        return x.grad

    if torch is None or only == "minigrad":
        return ours, None
    tblock = torch_basic_block(torch, 64)
    tblock.load_state_dict({k: torch.tensor(v) for k, v in block.state_dict().items()})
    tx, tup = torch.tensor(x0, requires_grad=True), torch.tensor(up)

    def theirs():
        tx.grad = None
        tblock.zero_grad()
        tblock(tx).backward(tup)
        return tx.grad

    if only == "torch":
        return None, theirs
    _agree("basic block dL/dx", ours(), theirs().numpy())
    params = dict(block.named_parameters())
    for name, p in tblock.named_parameters():
        _agree(f"basic block dL/d{name}", params[name].grad, p.grad.numpy())
    return ours, theirs


CASES = {
    "lenet5": ("LeNet-5 train step (64, 1, 28, 28), SGD momentum", lenet5_step, "≤ 1.5×"),
    "block": ("ResNet basic block (32, 64, 16, 16) + BN, fwd+bwd", basic_block, "≤ 2×"),
}

STEPS = """
import json, resource, statistics, time
import numpy as np
engine, case, repeat, threads = __ENGINE__, __CASE__, __REPEAT__, __THREADS__
torch = None
if engine == "torch":
    import torch
    torch.set_num_threads(threads)
from bench.models import CASES
ours, theirs = CASES[case][1](torch, np.random.default_rng(0), only=engine)
step = ours if engine == "minigrad" else theirs
for _ in range(3):
    step()
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
times = []
for _ in range(repeat):
    start = time.perf_counter()
    step()
    times.append(time.perf_counter() - start)
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
print(json.dumps({"median": statistics.median(times), "faults": faults / repeat}))
"""


def time_alone(engine, case, threads, repeat, env):
    """Median step time and page faults per step of ``engine`` alone in a fresh process."""
    code = STEPS
    for key, value in {"__ENGINE__": engine, "__CASE__": case, "__REPEAT__": repeat, "__THREADS__": threads}.items():
        code = code.replace(key, repr(value))
    thread_env = {name: str(threads) for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    return run_fresh(code, env={**thread_env, **env})


def main(quick=False, threads=None):
    torch = peer_torch()
    rounds, repeat = (2, 5) if quick else (6, 15)
    with same_threads(threads) as t:
        count = t.count
    if torch is not None:
        for _, case, _ in CASES.values():  # the same numbers first, or the times mean nothing
            case(torch, np.random.default_rng(0))
    engines = ["minigrad"] + (["torch"] if torch is not None else [])
    print(f"float32, {count} thread(s) for numpy's BLAS and PyTorch; each framework alone in fresh processes, "
          f"alternating, {rounds} rounds × median of {repeat} steps\n")
    rows = []
    for allocator, envs in ALLOCATORS:
        for key, (name, _, target) in CASES.items():
            runs = {e: [] for e in engines}
            for _ in range(rounds):
                for e in engines:
                    runs[e].append(time_alone(e, key, count, repeat, envs[e]))
            t = {e: statistics.median(r["median"] for r in runs[e]) for e in engines}
            faults = {e: statistics.median(r["faults"] for r in runs[e]) for e in engines}
            spread = " / ".join(f"{r['median'] * 1e3:.0f}" for r in runs["minigrad"])
            rows.append([name, allocator, f"{ms(t['minigrad'])} ({spread})", f"{faults['minigrad']:.0f}",
                         ms(t.get("torch")), f"{faults['torch']:.0f}" if "torch" in faults else "-",
                         ratio(t["minigrad"], t.get("torch")), target])
    print(table(rows, ["model", "malloc settings", "minigrad ms (each process)", "faults/step", "torch ms", "faults/step",
                       "minigrad ÷ torch", "target"]))
    return rows


if __name__ == "__main__":
    import sys

    args = sys.argv[1:]
    main(quick="--quick" in args, threads=int(args[args.index("--threads") + 1]) if "--threads" in args else None)
