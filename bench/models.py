"""Whole models beside PyTorch CPU: a LeNet-5 training step and a ResNet basic block.

* LeNet-5 (``minigrad.models.lenet5``) on a (64, 1, 28, 28) batch: zero_grad, forward,
  cross-entropy, backward and an SGD step with momentum 0.9 -- one full training step;
* ResNet's basic block (``minigrad.models.BasicBlock(64, 64)``: conv-BN-ReLU-conv-BN, identity
  shortcut, ReLU) on x (32, 64, 16, 16) in training mode, forward + backward with a fixed
  upstream gradient (x requires grad, as inside a network).

PyTorch builds the identical model and loads minigrad's ``state_dict`` (the keys are PyTorch's),
so both start from the same weights; before timing, one step of each is checked to agree (loss,
every parameter after the update, or every gradient). Both use the same thread count; they run
in alternating rounds (see ``common.interleaved``).

    python -m bench models [--quick] [--threads N]
"""
from __future__ import annotations

import numpy as np

from .common import interleaved, ms, peer_torch, ratio, same_threads, table


def _agree(what, ours, theirs, rtol=1e-3):
    """Relative error in norm: float32 rounding may flip a ReLU whose input is ~1e-7 from zero, which
    changes a handful of the 524,288 gradients entirely -- an elementwise check would call that a bug."""
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    err = float(np.linalg.norm(ours - theirs)) / (float(np.linalg.norm(theirs)) or 1.0)
    if err > rtol:
        raise AssertionError(f"{what}: minigrad and PyTorch differ (relative error {err:.2e}); the benchmark is void")


def lenet5_step(torch, rng):
    """One training step of LeNet-5 in each framework, from the same weights on the same batch."""
    import minigrad as mg
    import minigrad.nn.functional as F
    from minigrad import models, optim

    mg.manual_seed(0)
    model = models.lenet5()
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def ours():
        opt.zero_grad()
        loss = F.cross_entropy(model(mg.Tensor(x)), y)
        loss.backward()
        opt.step()
        return loss.item()

    if torch is None:
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


def basic_block(torch, rng):
    """ResNet's basic block, training mode, forward + backward in each framework."""
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

    if torch is None:
        return ours, None
    tblock = torch_basic_block(torch, 64)
    tblock.load_state_dict({k: torch.tensor(v) for k, v in block.state_dict().items()})
    tx, tup = torch.tensor(x0, requires_grad=True), torch.tensor(up)

    def theirs():
        tx.grad = None
        tblock.zero_grad()
        tblock(tx).backward(tup)
        return tx.grad

    _agree("basic block dL/dx", ours(), theirs().numpy())
    params = dict(block.named_parameters())
    for name, p in tblock.named_parameters():
        _agree(f"basic block dL/d{name}", params[name].grad, p.grad.numpy())
    return ours, theirs


CASES = [
    ("LeNet-5 train step (64, 1, 28, 28), SGD momentum", lenet5_step, "≤ 1.5×"),
    ("ResNet basic block (32, 64, 16, 16) + BN, fwd+bwd", basic_block, "≤ 2×"),
]


def main(quick=False, threads=None):
    torch = peer_torch()
    rounds = 3 if quick else 9
    rng = np.random.default_rng(0)
    rows = []
    with same_threads(threads) as t:
        print(f"float32, {t.count} thread(s) for numpy's BLAS and PyTorch; medians of {rounds} alternating rounds × 3 runs\n")
        for name, case, target in CASES:
            ours, theirs = case(torch, rng)
            t_ours, t_theirs = interleaved([ours, theirs], rounds)
            rows.append([name, ms(t_ours), ms(t_theirs), ratio(t_ours, t_theirs), target])
    print(table(rows, ["model", "minigrad ms", "torch ms", "minigrad ÷ torch", "target"]))
    return rows


if __name__ == "__main__":
    import sys

    args = sys.argv[1:]
    main(quick="--quick" in args, threads=int(args[args.index("--threads") + 1]) if "--threads" in args else None)
