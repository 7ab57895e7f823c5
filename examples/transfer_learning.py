"""Transfer learning as the lectures describe it: freeze the features, retrain the head.

Train a CNN on digits 0-4, then reuse its convolutional layers for digits 5-9: freeze them with
requires_grad_(False) (they get no gradient, and the optimiser only sees the new head), replace
the last linear layer, and train only that. Compare with fine-tuning everything at a lower rate,
and with training from scratch on the same 100 images.

    python examples/transfer_learning.py
"""
import argparse

import numpy as np

import minigrad as mg
from minigrad import data, models, nn, optim
from minigrad.train import evaluate, fit

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--out", default="pictures", help="(unused; for the examples' common interface)")
parser.add_argument("--quick", action="store_true", help="one epoch each (for the smoke tests)")
args = parser.parse_args()
epochs = 1 if args.quick else args.epochs

(x_train, y_train), (x_test, y_test) = data.load_digits()


def subset(x, y, digits):
    keep = np.isin(y, digits)
    return x[keep], (y[keep] - digits[0]).astype(np.int64)


first, second = [0, 1, 2, 3, 4], [5, 6, 7, 8, 9]
(xa, ya), (xa_test, ya_test) = subset(x_train, y_train, first), subset(x_test, y_test, first)
(xb, yb), (xb_test, yb_test) = subset(x_train, y_train, second), subset(x_test, y_test, second)
xb, yb = xb[:100], yb[:100]  # little data for the new task: where transfer helps

mg.manual_seed(0)
model = models.digits_cnn(num_classes=5)
fit(model, data.DataLoader(xa, ya, 32, seed=0), optim.Adam(model.parameters(), lr=3e-3), epochs, progress=False)
print(f"trained on digits 0-4: test accuracy {evaluate(model, xa_test, ya_test)[1]:.2%}")
features = model.state_dict()

for mode in ("from scratch (no transfer)", "frozen features, new head", "fine-tune everything"):
    model.load_state_dict(features)
    model[9] = nn.Linear(128, 5)  # a new head for digits 5-9
    if mode.startswith("from scratch"):
        model = models.digits_cnn(num_classes=5)
        params = list(model.parameters())
        opt = optim.Adam(params, lr=3e-3)
    elif mode.startswith("frozen"):
        model[:9].requires_grad_(False)
        params = [p for p in model.parameters() if p.requires_grad]
        opt = optim.Adam(params, lr=1e-2)
    else:
        model.requires_grad_(True)
        params = list(model.parameters())
        opt = optim.Adam(params, lr=1e-3)
    fit(model, data.DataLoader(xb, yb, 20, seed=0), opt, 4 * epochs, progress=False)
    trained = sum(p.numel() for p in params)
    loss, acc = evaluate(model, xb_test, yb_test)
    print(f"{mode:<27} on 100 images of digits 5-9: test accuracy {acc:.2%}, loss {loss:.3f} "
          f"({trained:,} parameters trained)")
