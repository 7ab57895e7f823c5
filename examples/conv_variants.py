"""Three variants of convolution from the lectures: locally connected, tiled and transform-invariant.

A convolution slides one filter over every position: weights are shared, so a feature is detected
wherever it appears, and the parameters do not depend on the image size. The variants change what
is shared:

* **Locally connected** (``nn.LocallyConnected2d``): every output position has its own filter. Same
  windows, nothing shared: out_h·out_w times conv2d's parameters, useful when the image is aligned
  (faces, digits centred in a box) and each region needs its own detectors.
* **Tiled** (``nn.TiledConv2d``, tile size t): t×t filters rotate through neighbouring positions,
  position (r, q) using filter (r mod t, q mod t). Neighbours use different filters, as in a locally
  connected layer, but the parameters grow only by t², whatever the image size.
* **Transform-invariant** (``nn.TransformInvariantConv2d``): one filter applied in every rotated /
  mirrored version, the responses max-pooled over the versions. The parameters are conv2d's; the
  response of a rotated image is the rotated response (and after global pooling, the same), and
  backprop routes each gradient through the transform that won the max back to the one filter.

The script prints the parameter counts for the same shape, checks the rotation property numerically,
and trains a one-layer model of each kind on the 8×8 digits (results also written to OUT/conv_variants.txt).

    python examples/conv_variants.py --out results [--quick]
"""
import argparse
from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad import Tensor, nn
from minigrad.nn import functional as F

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", default="conv-variants", help="directory for conv_variants.txt")
parser.add_argument("--quick", action="store_true", help="fewer training steps (for the smoke tests)")
parser.add_argument("--steps", type=int, default=300, help="training steps per model")
args = parser.parse_args()
steps = 15 if args.quick else args.steps
report = []


def say(line=""):
    print(line)
    report.append(line)


def count(module):
    return sum(p.numel() for p in module.parameters())


# -- 1. parameters for the same shape ---------------------------------------------------------------

C, O, K, size = 3, 16, 3, 32
layers = {
    "Conv2d": nn.Conv2d(C, O, K, padding=1),
    "LocallyConnected2d": nn.LocallyConnected2d(C, O, size, K, padding=1),
    "TiledConv2d (t=2)": nn.TiledConv2d(C, O, K, tile_size=2, padding=1),
    "TiledConv2d (t=4)": nn.TiledConv2d(C, O, K, tile_size=4, padding=1),
    "TransformInvariantConv2d (8 transforms)": nn.TransformInvariantConv2d(C, O, K, padding=1),
}
base = count(layers["Conv2d"])
say(f"parameters for {C} -> {O} channels, {K}x{K} kernel, padding 1, on a {size}x{size} input:")
for name, layer in layers.items():
    say(f"  {name:<42} {count(layer):>9,}  ({count(layer) / base:g} x conv)")
say(f"  (conv2d: {O}·{C}·{K}·{K} + {O} = {base}; locally connected: {size}·{size} positions times that)")

# -- 2. rotating the input rotates the transform-pooled response -------------------------------------

mg.manual_seed(0)
x = np.random.default_rng(0).standard_normal((1, 1, 9, 9))
rot = lambda a: np.ascontiguousarray(np.rot90(a, 1, axes=(2, 3)))   # noqa: E731
say("\nrotate a 9x9 input by 90°: max |f(rot x) − rot f(x)| (0 means the response rotates with the input)")
for name, layer in (("Conv2d", nn.Conv2d(1, 4, 3, padding=1)),
                    ("TransformInvariantConv2d rot90+flip", nn.TransformInvariantConv2d(1, 4, 3, padding=1)),
                    ("TransformInvariantConv2d flip only", nn.TransformInvariantConv2d(1, 4, 3, padding=1, transforms="flip"))):
    layer.double()
    y, y_rot = layer(Tensor(x)).data, layer(Tensor(rot(x))).data
    pooled = np.abs(y_rot.mean(axis=(2, 3)) - y.mean(axis=(2, 3))).max()
    say(f"  {name:<38} {np.abs(y_rot - rot(y)).max():.2e}   after global average pooling: {pooled:.2e}")
say("  (the flip-only group is not closed under rotation, so nothing guarantees the property there)")

# the gradient reaches the one shared filter through every transform that won a max somewhere
layer = nn.TransformInvariantConv2d(1, 1, 3, padding=1, transforms=("rot90",)).double()
layer(Tensor(x)).sum().backward()
say(f"\ndL/dW of the shared 3x3 filter (sum over the 4 rotated copies, each rotated back):\n{np.round(layer.weight.grad[0, 0], 3)}")

# -- 3. one layer of each kind on the digits ----------------------------------------------------------

try:
    (x_train, y_train), (x_test, y_test) = mg.data.load_digits()
except ImportError as exc:
    say(f"\n(skipping the digits comparison: {exc})")
else:
    say(f"\none layer (8 channels, 3x3, padding 1) + ReLU + Linear on the 8x8 digits, {steps} SGD steps of 64:")
    makers = {
        "Conv2d": lambda: nn.Conv2d(1, 8, 3, padding=1),
        "LocallyConnected2d": lambda: nn.LocallyConnected2d(1, 8, 8, 3, padding=1),
        "TiledConv2d (t=2)": lambda: nn.TiledConv2d(1, 8, 3, tile_size=2, padding=1),
        "TransformInvariantConv2d": lambda: nn.TransformInvariantConv2d(1, 8, 3, padding=1),
    }
    for name, make in makers.items():
        mg.manual_seed(0)
        model = nn.Sequential(make(), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 8 * 8, 10))
        opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        batches = mg.data.DataLoader(x_train, y_train, batch_size=64, shuffle=True, seed=0)
        done = 0
        while done < steps:
            for xb, yb in batches:
                loss = F.cross_entropy(model(Tensor(xb)), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
                done += 1
                if done == steps:
                    break
        with mg.no_grad():
            accuracy = float((model(Tensor(x_test)).data.argmax(axis=1) == y_test).mean())
        say(f"  {name:<26} {count(model):>7,} parameters   test accuracy {accuracy:.1%}")

out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)
(out / "conv_variants.txt").write_text("\n".join(report) + "\n")
print(f"\nwrote {out / 'conv_variants.txt'}")
