"""Vanishing gradients, measured: a 12-layer sigmoid MLP beside the same depth with ReLU, BatchNorm and skips.

Both networks classify the 8×8 digits (flattened to 64 inputs) with 12 Linear layers of 32
units and PyTorch's default initialisation. After ONE backward on a batch, minigrad.debug.grad_flow
gives each parameter's gradient norm. By the chain rule the gradient reaching layer l is a product
of one factor per later layer, ∇_{o^l} f = Π_{i>l} (W^i)ᵀ Diag(σ'(a^i)) · ∇_{o^L} f; σ' ≤ 1/4 for
the sigmoid, so eleven such factors shrink the first layer's gradient to about 1e-9 of the last's:
it would not learn. In the other network each hidden layer is x + relu(BN(Wx)): the add gate
distributes the upstream gradient unchanged down the skip path, BatchNorm keeps the activations
at a healthy scale, and relu' is 1 where the unit is on, so the first layer's gradient stays
within a factor of a few of the last's.

Writes into --out: the gradient-flow bar charts (plot_grad_flow, log scale) and each graph drawn
with one box per layer, coloured by gradient size (draw(loss, grad_colors=True, depth=1)).

    python examples/vanishing_gradients.py --out pictures
"""
import argparse
from pathlib import Path

import minigrad as mg
from minigrad import Tensor, data, nn
from minigrad.nn import functional as F
from minigrad.viz import DotNotFound, draw, plot_grad_flow

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--depth", type=int, default=12, help="Linear layers in each network")
parser.add_argument("--width", type=int, default=32, help="units per hidden layer")
parser.add_argument("--out", default="pictures")
parser.add_argument("--quick", action="store_true", help="a smaller batch (for the smoke tests); same depth")
args = parser.parse_args()


class Residual(nn.Module):
    """x + relu(BN(Wx)): the skip path carries the gradient past the layer unchanged."""

    def __init__(self, width):
        super().__init__()
        self.linear = nn.Linear(width, width, bias=False)  # BN subtracts the mean: a bias here would get no gradient
        self.bn = nn.BatchNorm1d(width)

    def forward(self, x):
        return x + self.bn(self.linear(x)).relu()


def sigmoid_mlp(depth, width):
    layers = [nn.Linear(64, width), nn.Sigmoid()]
    for _ in range(depth - 2):
        layers += [nn.Linear(width, width), nn.Sigmoid()]
    return nn.Sequential(*layers, nn.Linear(width, 10))


def residual_mlp(depth, width):
    return nn.Sequential(nn.Linear(64, width), *[Residual(width) for _ in range(depth - 2)], nn.Linear(width, 10))


(x_train, y_train), _ = data.load_digits()
batch = 32 if args.quick else 128
x, y = Tensor(x_train[:batch].reshape(batch, 64)), y_train[:batch]
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)

for name, make in (("sigmoid", sigmoid_mlp), ("relu_bn_skip", residual_mlp)):
    mg.manual_seed(0)
    model = make(args.depth, args.width)
    loss = F.cross_entropy(model(x), y)
    loss.label = "loss"
    loss.backward(retain_graph=True)  # retained so the drawing can show every edge's gradient

    rows = mg.debug.grad_flow(model)
    weights = [r for r in rows if r["name"].endswith("weight") and len(r["shape"]) == 2]  # the Linear layers
    first, last = weights[0], weights[-1]
    ratio = first["grad_norm"] / last["grad_norm"]
    print(f"\n{name}: {args.depth} Linear layers, loss {loss.item():.4f}, one backward on {batch} digits")
    print(mg.debug.grad_flow_report(model))
    verdict = "vanishing" if ratio < 1e-3 else "healthy"
    print(f"first layer ({first['name']}) ‖grad‖ {first['grad_norm']:.3e} / last layer ({last['name']}) "
          f"‖grad‖ {last['grad_norm']:.3e} = {ratio:.3e}  -> {verdict}")

    try:
        written = [plot_grad_flow(model, out / f"vanishing_{name}_grad_flow.png",
                                  title=f"{name}: gradient norm per parameter after one backward")]
    except ImportError as exc:
        written = []
        print(f"  (no plot: {exc})")
    try:
        written.append(draw(loss, grad_colors=True, depth=1).render(out / f"vanishing_{name}_graph", format="svg",
                                                                     cleanup=True))
    except DotNotFound as exc:
        print(f"  (no drawing: {exc})")
    print("wrote", ", ".join(str(w) for w in written))
