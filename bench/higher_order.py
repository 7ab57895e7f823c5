"""A Hessian-vector product beside one forward + backward, for minigrad and PyTorch in the same run.

An MLP 784-128-10 (tanh, cross-entropy) on a batch of 64, float32: the ratio of one H·v (the gradient
with create_graph=True, its dot product with v, one more gradient) to one forward + backward. The
target is minigrad's ratio ≤ 4 (PyTorch's, measured here too, is the reference).

    python -m bench higher_order [--quick] [--threads N]
"""
from __future__ import annotations

import numpy as np

from .common import interleaved, ms, peer_torch, same_threads, table


def _minigrad(rng):
    import minigrad as mg
    import minigrad.nn.functional as F

    x = mg.Tensor(rng.standard_normal((64, 784)).astype(np.float32))
    y = rng.integers(0, 10, 64)
    w1 = mg.Tensor((rng.standard_normal((128, 784)) * 0.05).astype(np.float32), requires_grad=True)
    w2 = mg.Tensor((rng.standard_normal((10, 128)) * 0.1).astype(np.float32), requires_grad=True)
    v = [rng.standard_normal(w.shape).astype(np.float32) for w in (w1, w2)]

    def loss():
        return F.cross_entropy(F.linear(F.linear(x, w1).tanh(), w2), y)

    def step():
        w1.grad = w2.grad = None
        loss().backward()

    def hvp():
        g1, g2 = mg.autograd.grad(loss(), [w1, w2], create_graph=True)
        return mg.autograd.grad((g1 * v[0]).sum() + (g2 * v[1]).sum(), [w1, w2])

    return step, hvp


def _torch(torch, rng):
    x = torch.tensor(rng.standard_normal((64, 784)).astype(np.float32))
    y = torch.tensor(rng.integers(0, 10, 64))
    w1 = torch.tensor((rng.standard_normal((128, 784)) * 0.05).astype(np.float32), requires_grad=True)
    w2 = torch.tensor((rng.standard_normal((10, 128)) * 0.1).astype(np.float32), requires_grad=True)
    v = [torch.tensor(rng.standard_normal(w.shape).astype(np.float32)) for w in (w1, w2)]
    F = torch.nn.functional

    def loss():
        return F.cross_entropy(F.linear(torch.tanh(F.linear(x, w1)), w2), y)

    def step():
        w1.grad = w2.grad = None
        loss().backward()

    def hvp():
        g1, g2 = torch.autograd.grad(loss(), [w1, w2], create_graph=True)
        return torch.autograd.grad((g1 * v[0]).sum() + (g2 * v[1]).sum(), [w1, w2])

    return step, hvp


def main(quick=False, threads=None):
    rounds, repeat = (3, 5) if quick else (9, 9)
    torch = peer_torch()
    with same_threads(threads) as t:
        ours = _minigrad(np.random.default_rng(0))
        theirs = _torch(torch, np.random.default_rng(0)) if torch is not None else (None, None)
        times = interleaved([ours[0], ours[1], theirs[0], theirs[1]], rounds, repeat=repeat)
        print(f"float32, {t.count} thread(s); {rounds} alternating rounds × median of {repeat}\n")
    step, hvp, tstep, thvp = times
    rows = [["MLP 784-128-10 (64,) fwd+bwd", ms(step), ms(tstep), "", ""],
            ["Hessian-vector product", ms(hvp), ms(thvp), f"{hvp / step:.2f}×",
             f"{thvp / tstep:.2f}×" if thvp else "-"]]
    print(table(rows, ["work", "minigrad ms", "torch ms", "minigrad H·v ÷ its fwd+bwd (target ≤ 4)",
                       "torch H·v ÷ its fwd+bwd"]))
    return rows


if __name__ == "__main__":
    import sys

    args = sys.argv[1:]
    main(quick="--quick" in args, threads=int(args[args.index("--threads") + 1]) if "--threads" in args else None)
