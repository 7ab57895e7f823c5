"""Batch norm and cross-entropy, forward + backward, beside PyTorch CPU in the same run.

* batch_norm in training mode on x (32, 64, 16, 16) float32 with the affine γ, β (all three
  require grad) and running statistics updated, then backward with a fixed upstream gradient;
* cross_entropy on logits (64, 10) float32 with integer targets, mean reduction, then backward.

Each figure is the median of alternating rounds (see ``common.interleaved``); the ratio is
minigrad's time over PyTorch's. Both get the same thread count (numpy's elementwise kernels use
one thread whatever the count; PyTorch's batch norm uses them all). Before timing, the two are
checked to agree.

    python -m bench.norm [--quick] [--threads N]
"""
from __future__ import annotations

import numpy as np

from .common import interleaved, ms, peer_torch, ratio, same_threads, table


def _batch_norm_case(rng, torch):
    import minigrad as mg
    from minigrad.ops.norm import batch_norm

    shape, c = (32, 64, 16, 16), 64
    x0 = rng.standard_normal(shape).astype(np.float32)
    up = rng.standard_normal(shape).astype(np.float32)
    w0, b0 = rng.uniform(0.5, 2, c).astype(np.float32), rng.standard_normal(c).astype(np.float32)
    x, w, b = (mg.Tensor(a.copy(), requires_grad=True) for a in (x0, w0, b0))
    stats = (np.zeros(c, np.float32), np.ones(c, np.float32))

    def ours():
        x.grad = w.grad = b.grad = None
        batch_norm(x, *stats, w, b, training=True).backward(up)
        return x.grad

    theirs = None
    if torch is not None:
        tx, tw, tb = (torch.tensor(a.copy(), requires_grad=True) for a in (x0, w0, b0))
        tstats, tup = (torch.zeros(c), torch.ones(c)), torch.tensor(up)

        def theirs():
            tx.grad = tw.grad = tb.grad = None
            torch.nn.functional.batch_norm(tx, *tstats, tw, tb, training=True).backward(tup)
            return tx.grad

        np.testing.assert_allclose(ours(), theirs().numpy(), rtol=1e-3, atol=1e-4)
    return "batch_norm train fwd+bwd (32, 64, 16, 16) f32", ours, theirs


def _cross_entropy_case(rng, torch):
    import minigrad as mg
    from minigrad.ops.loss import cross_entropy

    z0 = rng.standard_normal((64, 10)).astype(np.float32)
    target = rng.integers(0, 10, 64)
    z = mg.Tensor(z0.copy(), requires_grad=True)

    def ours():
        z.grad = None
        cross_entropy(z, target).backward()
        return z.grad

    theirs = None
    if torch is not None:
        tz, tt = torch.tensor(z0.copy(), requires_grad=True), torch.tensor(target)

        def theirs():
            tz.grad = None
            torch.nn.functional.cross_entropy(tz, tt).backward()
            return tz.grad

        np.testing.assert_allclose(ours(), theirs().numpy(), rtol=1e-4, atol=1e-6)
    return "cross_entropy fwd+bwd (64, 10) f32", ours, theirs


def main(quick=False, threads=None):
    torch = peer_torch()
    rng = np.random.default_rng(0)
    rows = []
    with same_threads(threads) as t:
        print(f"float32, {t.count} thread(s) for PyTorch (numpy's elementwise kernels: 1)\n")
        for case, repeat in ((_batch_norm_case, 5), (_cross_entropy_case, 51)):
            name, ours, theirs = case(rng, torch)
            t_ours, t_theirs = interleaved([ours, theirs], 3 if quick else 9, repeat=repeat, idle=0)
            rows.append([name, ms(t_ours), ms(t_theirs), ratio(t_ours, t_theirs)])
    print(table(rows, ["median of rounds", "minigrad ms", "torch ms", "minigrad ÷ torch"]))
    return rows


if __name__ == "__main__":
    import sys

    args = sys.argv[1:]
    main(quick="--quick" in args, threads=int(args[args.index("--threads") + 1]) if "--threads" in args else None)
