"""The 2-D sigmoid neuron f = σ(w0·x0 + w1·x1 + w2) at w0=2, x0=−1, w1=−3, x1=−2, w2=−3.

Built twice: from primitive gates (·(−1), exp, +1, 1/x) and with the single sigmoid gate whose
local gradient is σ(1 − σ) = (1 − 0.73)·0.73 ≈ 0.2. The graph is not unique: both give
df/dw0 = −0.2, df/dx0 = 0.39, df/dw1 = −0.39, df/dx1 = −0.59, df/dw2 = 0.2.

    python examples/neuron.py --out pictures
"""
import argparse

from minigrad import lectures
from minigrad.viz.walkthrough import walkthrough

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", default="pictures")
parser.add_argument("--quick", action="store_true", help="(accepted for the smoke tests; this example is instant)")
args = parser.parse_args()

print("from primitive gates:")
f, leaves = lectures.neuron_gates()
walkthrough(f, leaves, args.out, "neuron-gates")
print("with one sigmoid gate:")
f, leaves = lectures.neuron_sigmoid()
walkthrough(f, leaves, args.out, "neuron-sigmoid", frames=True)
