"""The lectures' first graph: f(x, y, z) = (x + y)·z at x = −2, y = 5, z = −4.

Forward: q = x + y = 3, f = q·z = −12. Backward, one gate at a time:
the mul gate swaps (df/dq = z = −4, df/dz = q = 3), the add gate distributes (df/dx = df/dy = −4).
Writes the drawing and one frame per backprop step into --out.

    python examples/simple.py --out pictures
"""
import argparse

from minigrad import lectures
from minigrad.viz.walkthrough import walkthrough

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", default="pictures")
parser.add_argument("--quick", action="store_true", help="(accepted for the smoke tests; this example is instant)")
args = parser.parse_args()

f, leaves = lectures.simple()
walkthrough(f, leaves, args.out, "simple", frames=True)
