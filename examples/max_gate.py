"""The max gate (gradient router): f = max(x, y)·z at x = 3, y = 1, z = 2.

The larger input takes the whole upstream gradient (df/dx = z = 2), the other gets 0;
on a tie, minigrad splits it evenly (½ each).

    python examples/max_gate.py --out pictures
"""
import argparse

from minigrad import Value, lectures
from minigrad.viz.walkthrough import walkthrough

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", default="pictures")
parser.add_argument("--quick", action="store_true", help="(accepted for the smoke tests; this example is instant)")
args = parser.parse_args()

f, leaves = lectures.max_gate()
walkthrough(f, leaves, args.out, "max-gate", frames=True)

print("a tie:")
a, b = Value(2.0, "a"), Value(2.0, "b")
m = a.max(b)
m.label = "m"
walkthrough(m, {"a": a, "b": b}, args.out, "max-tie")
