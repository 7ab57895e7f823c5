"""Memory: resident memory across 30 training steps (it must stay flat), and one LeNet-5 step beside PyTorch.

Each measurement runs in a fresh Python process, so that what it reports is that workload alone.
Resident memory (RSS) and its high-water mark come from ``/proc/self/status`` (Linux).

* **Flat across steps**: the demo's CNN (``models.digits_cnn``, conv-BN-ReLU-pool ×2 + linear,
  Adam, batches of 32 real 8×8 digits) and LeNet-5 (batches of 64 random 28×28 images, SGD with
  momentum), 30 training steps each. RSS after step 5 (warm-up: the optimiser's buffers and the
  allocator's caches exist by then) and after step 30; the growth between them must stay under 20 MiB.
  Backward frees each gate's saved arrays as it goes, and a graph has no reference cycles, so
  nothing of a step outlives it.
* **One step's peak**: LeNet-5 on (64, 1, 28, 28), SGD momentum, in a process holding only the
  imports, the model and the batch (so PyTorch's 300 MB of libraries hide nothing):

  - *first step* (the target's figure): the high-water mark of RSS during the first step minus
    the RSS just before it, default allocator: everything one step needs, one-time set-ups
    included (minigrad's column buffer, PyTorch's kernels' caches, the momentum buffers).
  - *steady state*: the same after a warm-up step, with ``MALLOC_MMAP_THRESHOLD_=65536`` for both
    processes, so glibc maps every block of 64 KiB or more on its own and unmaps it when freed and
    RSS follows the memory really held, not the allocator's cache from the step before (without
    it both peaks read ~1-3 MiB, the cache's slack). Reported as what training keeps between
    steps (RSS after the warm-up step minus before it) plus the step's own peak above that.

    python -m bench memory [--quick]
"""
from __future__ import annotations

from .common import MEMORY_PROBES, note, run_fresh, table

STEPS = MEMORY_PROBES + '''
import json
import numpy as np
import minigrad as mg
import minigrad.nn.functional as F
from minigrad import data, models, optim

model_name, steps = __MODEL__, __STEPS__
rng = np.random.default_rng(0)
if model_name == "digits_cnn":
    try:
        (x_all, y_all), _ = data.load_digits()
    except ImportError:  # scikit-learn (which bundles the digits) is missing: random 8×8 images, same shapes
        x_all, y_all = rng.standard_normal((1437, 1, 8, 8)).astype(np.float32), rng.integers(0, 10, 1437)
    model = models.digits_cnn()
    opt = optim.Adam(model.parameters(), lr=3e-3)
    loader = data.DataLoader(x_all, y_all, batch_size=32, shuffle=True, seed=0)
    batches = []
    while len(batches) < steps:
        batches.extend(loader)
else:
    model = models.lenet5()
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    batches = [(rng.standard_normal((64, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 64))
               for _ in range(4)] * steps
rss = {}
for step in range(1, steps + 1):
    x, y = batches[step - 1]
    opt.zero_grad()
    F.cross_entropy(model(mg.Tensor(x)), y).backward()
    opt.step()
    rss[step] = rss_mib()[0]
print(json.dumps({"rss": rss, "peak": rss_mib()[1]}))
'''

ONE_STEP = MEMORY_PROBES + '''
import json
import numpy as np
engine = __ENGINE__
rng = np.random.default_rng(0)
x0 = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
y0 = rng.integers(0, 10, 64)
if engine == "minigrad":
    import minigrad as mg
    import minigrad.nn.functional as F
    from minigrad import models, optim
    model = models.lenet5()
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    def step():
        opt.zero_grad()
        F.cross_entropy(model(mg.Tensor(x0)), y0).backward()
        opt.step()
else:
    import torch
    torch.set_num_threads(1)
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                          nn.Linear(84, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = torch.tensor(x0), torch.tensor(y0)
    def step():
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
warm = __WARM__
start = rss_mib()[0]
if warm:
    step()
    warm = reset_peak()
before = rss_mib()[0]
step()
after, peak = rss_mib()
print(json.dumps({"start": start, "before": before, "after": after, "peak": peak, "warm": warm}))
'''


def _fill(code, **values):
    for key, value in values.items():
        code = code.replace(f"__{key}__", repr(value))
    return code


def flat(quick=False):
    """RSS after step 5 and step 30 of two training loops."""
    steps = 12 if quick else 30
    rows = []
    for name, what in (("digits_cnn", "demo CNN, digits, batch 32, Adam"), ("lenet5", "LeNet-5, (64, 1, 28, 28), SGD momentum")):
        r = run_fresh(_fill(STEPS, MODEL=name, STEPS=steps))
        rss = {int(k): v for k, v in r["rss"].items()}
        growth = rss[steps] - rss[5]
        rows.append([f"{what}: {steps} steps", f"{rss[5]:.0f}", f"{rss[steps]:.0f}", f"{growth:+.1f}", f"{r['peak']:.0f}",
                     "≤ 20 MiB" if steps == 30 else "(quick)"])
    print(table(rows, ["training loop", "RSS step 5 MiB", f"RSS step {steps} MiB", "growth MiB", "peak MiB", "target"]))
    return rows


def one_step(quick=False):
    """Peak memory of one LeNet-5 training step, minigrad beside PyTorch, each in its own process."""
    engines = ["minigrad"]
    try:
        import torch  # noqa: F401 -- only to know whether the peer is there

        engines.append("torch")
    except ImportError:
        note("PyTorch is not installed (pip install torch==2.13.0): no PyTorch column")
    first = {e: run_fresh(_fill(ONE_STEP, ENGINE=e, WARM=False)) for e in engines}
    steady = {e: run_fresh(_fill(ONE_STEP, ENGINE=e, WARM=True), env={"MALLOC_MMAP_THRESHOLD_": "65536"}) for e in engines}
    rows, figures = [], {}
    for e in engines:
        f, s = first[e], steady[e]
        kept, live = s["before"] - s["start"], s["peak"] - s["before"]
        figures[e] = (f["peak"] - f["before"], kept + live)
        note_reset = "" if s["warm"] else " (no peak reset)"
        rows.append([e, f"{f['before']:.0f}", f"{figures[e][0]:.1f}", f"{kept:.1f} + {live:.1f} = {kept + live:.1f}{note_reset}"])
    if len(engines) == 2:
        ours, theirs = figures["minigrad"], figures["torch"]
        rows.append(["minigrad ÷ torch", "", f"{ours[0] / max(theirs[0], 0.1):.2f}× (target ≤ 2×)",
                     f"{ours[1] / max(theirs[1], 0.1):.2f}×"])
    print(table(rows, ["LeNet-5 step (64, 1, 28, 28)", "RSS before MiB", "first step's peak MiB",
                       "steady state: kept + step's peak MiB"]))
    return rows


def main(quick=False, threads=None):
    rows = flat(quick)
    print()
    rows += one_step(quick)
    return rows


if __name__ == "__main__":
    import sys

    main(quick="--quick" in sys.argv)
