"""Batch norm and cross-entropy, forward + backward, beside PyTorch CPU in the same run.

* batch_norm in training mode on x (32, 64, 16, 16) float32 with the affine γ, β (all three
  require grad) and running statistics updated, then backward with a fixed upstream gradient;
* cross_entropy on logits (64, 10) float32 with integer targets, mean reduction, then backward.

Each figure is the median of many runs; the ratio is minigrad's time over PyTorch's. PyTorch runs
on 1 thread, as numpy's elementwise kernels do. Before timing, the two are checked to agree.

    python -m bench.norm [--quick]
"""
from __future__ import annotations

import numpy as np

from .common import median_time, table


def _torch():
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed (pip install torch==2.13.0): no PyTorch column")
        return None
    return torch


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


def main(quick=False):
    torch = _torch()
    threads = None
    if torch is not None:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
    try:
        rng = np.random.default_rng(0)
        rows = []
        for case, repeat in ((_batch_norm_case, 9 if quick else 51), (_cross_entropy_case, 51 if quick else 501)):
            name, ours, theirs = case(rng, torch)
            t_ours = median_time(ours, repeat=repeat, warmup=3)
            row = [name, f"{t_ours * 1e3:.3f}"]
            if theirs is not None:
                t_theirs = median_time(theirs, repeat=repeat, warmup=3)
                row += [f"{t_theirs * 1e3:.3f}", f"{t_ours / t_theirs:.2f}×"]
            rows.append(row)
    finally:
        if threads is not None:
            torch.set_num_threads(threads)
    headers = ["median of runs", "minigrad ms", "torch ms (1 thread)", "minigrad ÷ torch"]
    print(table(rows, headers[: len(rows[0])]))
    if torch is not None:
        print(f"\nPyTorch {torch.__version__} on 1 of its {threads} default threads; numpy {np.__version__} "
              f"(elementwise kernels single-threaded)")


if __name__ == "__main__":
    import sys

    main(quick="--quick" in sys.argv)
