"""Drawing real models: LeNet-5 gate by gate and layer by layer, a ResNet with folded blocks, a hook.

After a plain ``loss.backward()`` each drawing shows exactly what that backward sent -- every
gradient's shape and norm, every parameter's gradient -- without recomputing anything:

* ``lenet5.svg``: every gate of one training step (batch 4), top to bottom: each node names its
  tensor (a parameter, or the gate that made it), its shape and dtype, the norms of its value and its
  gradient; each edge reads ``downstream = local × upstream`` with the gate's rule for that input;
* ``lenet5_layers.svg``: the same step, ``depth=1``: one box per layer, ``0: Conv2d(1, 6, k=5, p=2)
  → (4, 6, 28, 28) · 156 parameters``, the gradients that cross between layers on the edges;
* ``resnet_blocks.svg``: a ResNet with two blocks per stage, ``depth=3``: identical neighbours fold
  into one box (``layers.0.0–1: 2 × BasicBlock``), ``fold=False`` would draw them one by one;
* ``swish.svg``: a gate written with ``mg.Function`` (swish), drawn like any built-in gate.

    python examples/drawings.py --out pictures
"""
import argparse
from pathlib import Path

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.viz import DotNotFound

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", default="pictures")
parser.add_argument("--quick", action="store_true", help="(accepted for the smoke tests; this example is quick)")
args = parser.parse_args()
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)


class Swish(mg.Function):
    """swish(x) = x·σ(x), a gate of our own: forward on arrays, its rule, and backward."""

    formula = "dL/dx = (σ(x) + x·σ(x)(1 − σ(x))) · dL/dy"

    @staticmethod
    def forward(ctx, x):
        s = 1 / (1 + np.exp(-x))
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        return (s + x * s * (1 - s)) * grad


def save(diagram, name):
    try:
        path = diagram.render(out / name, format="svg", cleanup=True)
    except DotNotFound as exc:
        print(f"  ({exc})")
        return
    print(f"  {path}")


mg.manual_seed(0)
rng = np.random.default_rng(0)
lenet = mg.models.lenet5()
loss = F.cross_entropy(lenet(mg.Tensor(rng.random((4, 1, 28, 28)).astype(np.float32))), np.array([1, 2, 3, 4]))
loss.label = "loss"
loss.backward()  # a plain backward: the drawings show what it recorded
print(f"LeNet-5, one training step: loss {loss.item():.4f}; conv1's weight gradient has norm "
      f"{np.linalg.norm(lenet[0].weight.grad):.4g}")
save(mg.draw(loss), "lenet5")
save(mg.draw(loss, depth=1), "lenet5_layers")

resnet = mg.models.resnet(blocks=(2, 2, 2))
loss = F.cross_entropy(resnet(mg.Tensor(rng.random((2, 1, 8, 8)).astype(np.float32))), np.array([1, 2]))
loss.backward()
print(f"ResNet, two blocks per stage: loss {loss.item():.4f}")
save(mg.draw(loss, depth=3), "resnet_blocks")

x = mg.Tensor(np.linspace(-2, 2, 5), requires_grad=True, label="x")
y = Swish.apply(x).sum()
y.label = "y"
y.backward()
print(f"swish: dy/dx = {np.round(x.grad, 4).tolist()}; gradcheck: {mg.gradcheck(lambda t: Swish.apply(t), [x.data])}")
save(mg.draw(y), "swish")
