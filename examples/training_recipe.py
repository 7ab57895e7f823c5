"""The lectures' recipe for choosing hyperparameters, step by step, on the real 8×8 digits.

Step 1  check the initial loss: an untrained 10-class softmax should cost about log(10) = 2.30;
        the same CNN with its last layer 30× too large is flagged.
Step 2  overfit a small sample: 5 batches (160 digits) to 100% training accuracy; with learning
        rate 0 it cannot, and the verdict says so.
Step 3  the learning-rate range test: the loss against a learning rate growing from 1e-5 to 1 in
        one short run, a suggested rate, a plot.
Step 4  a coarse random search: learning rate and weight decay log-uniform on [1e-4, 1e-1] (the
        lectures' ranges), one epoch each, scored on a validation split carved from the training
        set; every finished trial is written to search.json at once.
Step 5  refine: the same search with more trials -- the finished ones are read back from the
        file, not recomputed (run the script again and nothing is recomputed at all).
Step 6  train the best setting longer with validation every 10 steps; the learning curves go to
        a PNG and ``read_curves`` says what they show. The test set is used once, at the end.

    python examples/training_recipe.py --out pictures
"""
import argparse
from pathlib import Path

import minigrad as mg
from minigrad import data, models, optim
from minigrad.train.recipes import (check_initial_loss, log_uniform, lr_find, overfit_small_sample, read_curves, search,
                              validate_every)
from minigrad.train import History, evaluate, fit

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", default="pictures")
parser.add_argument("--trials", type=int, default=8, help="random trials in the coarse search (step 4)")
parser.add_argument("--epochs", type=int, default=8, help="epochs of the final training (step 6)")
parser.add_argument("--quick", action="store_true", help="a tiny model and a few steps (for the smoke tests)")
args = parser.parse_args()
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)

(x_train, y_train), (x_test, y_test) = data.load_digits()
split = int(0.8 * len(x_train))  # hyperparameters are chosen on validation data, never on the test set
train, val = (x_train[:split], y_train[:split]), (x_train[split:], y_train[split:])
width, trials, epochs = (4, 2, 1) if args.quick else (16, args.trials, args.epochs)
if args.quick:
    train, val = (train[0][:320], train[1][:320]), (val[0][:160], val[1][:160])


def make_model():
    return models.digits_cnn(width=width)


print("step 1: check the initial loss")
mg.manual_seed(0)
model = make_model()
print("  ", check_initial_loss(model, train))
broken = make_model()
with mg.no_grad():
    broken[-1].weight.data *= 30  # a wrong init scale on the last layer
print("   last layer 30× too large:", check_initial_loss(broken, train))

print("step 2: overfit a small sample")
print("  ", overfit_small_sample(model, train, batches=5, steps=40 if args.quick else 300))
print("   learning rate 0:", overfit_small_sample(model, train, batches=5, lr=0.0, steps=10 if args.quick else 100))

print("step 3: find a learning rate that makes the loss go down")
momentum_sgd = lambda params: optim.SGD(params, lr=1e-5, momentum=0.9)  # noqa: E731
found = lr_find(make_model, train, steps=20 if args.quick else 100, optimizer=momentum_sgd,
                path=out / "recipe_lr_find.png")
print("  ", found, "->", found.path)

histories = {}


def train_fn(lr, weight_decay, epochs=1):
    mg.manual_seed(0)  # every trial starts from the same weights: only the hyperparameters differ
    model = make_model()
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay)
    histories[f"lr {lr:.1e}, wd {weight_decay:.1e}"] = fit(model, data.DataLoader(*train, 32, seed=0), opt, epochs,
                                                           progress=False)
    val_loss, val_acc = evaluate(model, *val)
    return {"score": val_acc, "val_loss": val_loss}


space = {"lr": log_uniform(1e-4, 1e-1), "weight_decay": log_uniform(1e-4, 1e-1)}
results = out / "search.json"
print(f"step 4: coarse random search, {trials} trials of one epoch -> {results}")
coarse = search(space, train_fn, mode="random", trials=trials, results_path=results, on_error="record", verbose=False)
print(coarse)
print(f"step 5: the same search with {trials + 2} trials: only the 2 new ones run")
result = search(space, train_fn, mode="random", trials=trials + 2, results_path=results, on_error="record")
best = result.best_params
try:
    from minigrad.viz.plots import plot_learning_curves
    from minigrad.viz.recipe_plots import plot_curves, plot_search

    print("   wrote", plot_search(result, out / "recipe_search.png"), "and",
          plot_curves(histories, out / "recipe_search_curves.png", window=5))
except ImportError:
    plot_learning_curves = None
    print("   (pip install matplotlib for the plots)")

print(f"step 6: train lr {best['lr']:.2g}, weight decay {best['weight_decay']:.2g} for {epochs} epoch(s)")
mg.manual_seed(0)
model = make_model()
opt = optim.SGD(model.parameters(), lr=best["lr"], momentum=0.9, weight_decay=best["weight_decay"])
history = History()
fit(model, data.DataLoader(*train, 32, seed=0), opt, epochs, history=history, progress=False,
    on_step=validate_every(model, val, history, every=10))
for note in read_curves(history, window=10):
    print("   -", note)
loss, acc = evaluate(model, x_test, y_test)
print(f"   test accuracy {acc:.2%} (loss {loss:.3f}), validation {history.val_acc[-1]:.2%}")
if plot_learning_curves is not None:
    print("   wrote", plot_learning_curves(history, out / "recipe_learning_curves.png", window=10))
