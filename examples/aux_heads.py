"""Inception's auxiliary classifiers: a second, short path for the gradient to the early layers.

Lecture 17: in a deep network the gradient reaching the first layers is the product of many
local gradients and can fade away; GoogLeNet (Inception v1) attached small classifiers to
intermediate layers and trained on main loss + 0.3 × each auxiliary loss, so the early layers
also get the gradient of a loss only a few layers away.

Two networks, each built twice from the same seed -- with and without the auxiliary head, so
the shared weights are identical -- and one backward pass of the total loss on the same
batches:

- ``DeepCNN``: 8 plain 3×3 conv + ReLU layers (no batch norm, no skips, default init), an
  auxiliary classifier after layer 2. Layers 1-2 get a gradient tens of times larger; layers
  3-8 exactly the same (the auxiliary loss does not reach them).
- ``models.googlenet(aux=True)``: the zoo's small GoogLeNet, auxiliary head after the first
  inception block: its stem and first block get a larger gradient, the second block the same.

Prints per-layer gradient norms and their ratio (with / without) and plots them. A larger
gradient is not by itself faster learning: with ``--epochs 3`` both DeepCNNs are trained with
Adam (which rescales small gradients anyway); the early layers keep their ~100× larger gradient,
but the main head does not learn noticeably faster on these digits -- in line with the
Inception v3 paper's finding that the auxiliary heads mostly act as regularisers.

    python examples/aux_heads.py --out pictures
"""
import argparse
from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad import Tensor, data, models, optim
from minigrad.train.multitask import DeepCNN, grad_norms
from minigrad.train import evaluate, fit

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--depth", type=int, default=8)
parser.add_argument("--epochs", type=int, default=0, help="also train both DeepCNNs for this many epochs")
parser.add_argument("--out", default="pictures")
parser.add_argument("--quick", action="store_true", help="one batch, no training (for the smoke tests)")
args = parser.parse_args()
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)

(x_train, y_train), (x_test, y_test) = data.load_digits()
batches = [(x_train[i : i + 64], y_train[i : i + 64]) for i in range(0, 64 if args.quick else 320, 64)]


def mean_grad_norms(make):
    """Per-layer weight-gradient norms of a fresh model (seed 0), averaged over the batches."""
    mg.manual_seed(0)
    model = make()
    total = {}
    for xb, yb in batches:
        model.zero_grad()
        models.aux_loss(model(Tensor(xb)), yb, weight=0.3).backward()
        for name, norm in grad_norms(model):
            total[name] = total.get(name, 0.0) + norm / len(batches)
    return model, total


def compare(title, without, with_aux, keep):
    print(f"{title}: ‖∂loss/∂W‖ per layer, averaged over {len(batches)} batch(es) of 64")
    print(f"  {'layer':<34} {'without aux':>12} {'with aux':>12} {'ratio':>8}")
    rows = [name for name in without if keep(name)]
    for name in rows:
        print(f"  {name:<34} {without[name]:>12.3g} {with_aux[name]:>12.3g} {with_aux[name] / without[name]:>8.2f}")
    return {"without aux": [(n, without[n]) for n in rows], "with aux (weight 0.3)": [(n, with_aux[n]) for n in rows]}


_, plain = mean_grad_norms(lambda: DeepCNN(depth=args.depth))
_, helped = mean_grad_norms(lambda: DeepCNN(depth=args.depth, aux_after=(2,)))
deep = compare(f"DeepCNN, {args.depth} conv layers, auxiliary head after layer 2", plain, helped,
               lambda n: n.startswith("layers."))
first = "layers.0.0.weight"
print(f"  -> the first layer's gradient is {helped[first] / plain[first]:.0f}× larger with the auxiliary head")

_, g_plain = mean_grad_norms(lambda: models.googlenet(aux=False))
_, g_helped = mean_grad_norms(lambda: models.googlenet(aux=True))
inception = compare("GoogLeNet (zoo), auxiliary head after inception1", g_plain, g_helped,
                    lambda n: n.startswith(("stem", "inception1.branch1", "inception2.branch1", "fc")))
print(f"  -> the stem's gradient is {g_helped['stem.0.weight'] / g_plain['stem.0.weight']:.1f}× larger")

if args.epochs and not args.quick:
    print(f"training both DeepCNNs with Adam (lr 3e-3) for {args.epochs} epochs, loss = main + 0.3·aux:")
    for label, aux in (("without aux", ()), ("with aux", (2,))):
        mg.manual_seed(0)
        model = DeepCNN(depth=args.depth, aux_after=aux)
        norms = []
        history = fit(model, data.DataLoader(x_train, y_train, 32, seed=0), optim.Adam(model.parameters(), lr=3e-3),
                      args.epochs, loss_fn=models.aux_loss, progress=False,
                      on_step=lambda step, loss: norms.append(grad_norms(model)[0][1]))
        print(f"  {label:<12} first-layer ‖grad‖ median {np.median(norms):.3g}; main head's test accuracy "
              f"{evaluate(model, x_test, y_test)[1]:.1%} (train loss {np.mean(history.train_loss[-20:]):.3f})")

try:
    from minigrad.viz.recipe_plots import plot_grad_norms

    print("wrote", plot_grad_norms(deep, out / "aux_grad_norms_deepcnn.png", title="DeepCNN: gradient norm per layer"),
          "and", plot_grad_norms(inception, out / "aux_grad_norms_googlenet.png",
                                 title="GoogLeNet: gradient norm per layer"))
except ImportError:
    print("(pip install matplotlib for the plots)")
