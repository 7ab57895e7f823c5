"""What backward's records cost: a training step with them (the default) and without.

Every backward records, on each node, the gradient it got and what its gate sent on each edge
(``minigrad/core/records.py``), so that ``loss.backward(); mg.draw(loss)`` shows that step's gradient
flow. After a plain ``backward()`` the arrays are freed and the records keep each one's shape and
norm: one norm per edge. This times a LeNet-5 training step (batch 64, SGD with momentum) and a ResNet
basic block's forward + backward with recording on and off (``minigrad.core.engine.recording``), in
alternating rounds in one process; the target is ≤ 5 % more with recording.

    python -m bench recording [--quick] [--threads N]
"""
from __future__ import annotations

import numpy as np

from .common import gc_disabled, interleaved, ms, same_threads, table
from .models import basic_block, lenet5_step


def main(quick=False, threads=None):
    from minigrad.core.engine import recording

    rounds, repeat = (5, 5) if quick else (15, 9)
    rows = []
    with same_threads(threads) as t:
        for name, make in (("LeNet-5 train step (64, 1, 28, 28), SGD momentum", lenet5_step),
                           ("ResNet basic block (32, 64, 16, 16) + BN, fwd+bwd", basic_block)):
            step, _ = make(None, np.random.default_rng(0), only="minigrad")

            def without():
                with recording(False):
                    step()

            with gc_disabled():
                t_with, t_without = interleaved([step, without], rounds, repeat=repeat, idle=0)
            rows.append([name, ms(t_with), ms(t_without), f"{(t_with / t_without - 1) * 100:+.1f} %", "≤ +5 %"])
        print(f"float32, {t.count} thread(s); {rounds} alternating rounds × median of {repeat} steps, one process\n")
    print(table(rows, ["work", "with records (default)", "without", "cost of recording", "target"]))
    return rows


if __name__ == "__main__":
    import sys

    args = sys.argv[1:]
    main(quick="--quick" in args, threads=int(args[args.index("--threads") + 1]) if "--threads" in args else None)
