"""The copy gate (gradient adder): f = x·y + x uses x twice.

Backprop sends x one gradient from the mul gate (y = −2) and one from the add gate (1);
the copy step adds them: df/dx = −2 + 1 = −1.

    python examples/fanout.py --out pictures
"""
import argparse

from minigrad import lectures
from minigrad.viz.walkthrough import walkthrough

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", default="pictures")
parser.add_argument("--quick", action="store_true", help="(accepted for the smoke tests; this example is instant)")
args = parser.parse_args()

f, leaves = lectures.fanout()
walkthrough(f, leaves, args.out, "fanout", frames=True)
