"""The command line's jobs: ``minigrad demo`` (the whole framework at work) and ``minigrad train``."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .. import data, nn, optim
from ..core.creation import manual_seed
from ..core.tensor import Tensor
from ..nn import models
from ..train import checkpoint
from ..train.loop import evaluate, fit, snapshot
from ..viz import DotNotFound, draw, explore
from . import lectures


def run_demo(out, epochs=15, seed=0):
    """Train a small CNN on the real digits and write what shows it working; returns the test accuracy."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    start = time.perf_counter()

    print("1. The lectures' first graph, f = (x + y)·z at x = −2, y = 5, z = −4, backprop one gate at a time:")
    f, leaves = lectures.simple()
    for step in f.backward_steps():
        print(f"     {step}")
    print("     " + ", ".join(f"df/d{k} = {v.grad:g}" for k, v in leaves.items()))

    print("\n2. A CNN (conv-BN-ReLU-pool ×2 + linear) on 1,797 real 8×8 handwritten digits:")
    (x_train, y_train), (x_test, y_test) = data.load_digits()
    manual_seed(seed)
    model = models.digits_cnn()
    nn.summary(model, (1, 1, 8, 8), print_fn=lambda text: print("     " + text.replace("\n", "\n     ")))
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loader = data.DataLoader(x_train, y_train, batch_size=32, shuffle=True, seed=seed)
    history = fit(model, loader, optimizer, epochs=epochs, val=(x_test, y_test), scheduler=scheduler)
    test_loss, test_acc = evaluate(model, x_test, y_test)
    print(f"     {epochs} epochs, {len(loader) * epochs} steps in {history.seconds:.1f} s "
          f"({len(loader) * epochs * 32 / history.seconds:,.0f} images/s)")
    print(f"     test accuracy {test_acc:.2%} on {len(x_test)} held-out digits (test loss {test_loss:.4f})")

    print("\n3. Writing what it did:")
    try:
        from ..viz.plots import plot_learning_curves

        written.append(("learning curves", plot_learning_curves(history, out / "learning_curves.png")))
    except ImportError as exc:
        print(f"     (no learning curves: {exc})")
    written += _draw_training_step(model, x_test[:4], y_test[:4], out)
    written += _stepper(out)
    checkpoint.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                     "scheduler": scheduler.state_dict(), "epoch": epochs, "test_accuracy": test_acc},
                    out / "checkpoint.npz")
    written.append(("checkpoint (model + optimizer + epoch; minigrad.load)", str(out / "checkpoint.npz")))
    for what, path in written:
        print(f"     {path}  — {what}")
    print(f"\ndone in {time.perf_counter() - start:.1f} s; open {(out / 'explorer.html').resolve().as_uri()} in a "
          f"browser (it needs no network) to explore that training step's backprop layer by layer, and "
          f"{out / 'backprop_stepper.html'} to step through the lectures' neuron frame by frame; in Jupyter, "
          f"mg.viz.explore(loss) shows the same page inline")
    return test_acc


def _draw_training_step(model, x, y, out):
    """The graph of one training step (4 digits), gradients coloured by size, the same collapsed by module, and
    the explorer's page of it.

    In a snapshot of the model: the step's forward in training mode moves batch norm's running statistics,
    and the checkpoint must be the model that was evaluated."""
    with snapshot(model):
        model.train()
        loss = nn.functional.cross_entropy(model(Tensor(x)), y)
        loss.label = "loss"
        loss.backward(retain_graph=True)
        model.zero_grad()
    pictures = [("one training step: every gate, gradients coloured by size", "training_step",
                 draw(loss, grad_colors=True)),
                ("the same step with each layer collapsed to a box", "training_step_layers",
                 draw(loss, depth=1, grad_colors=True))]
    written = []
    for what, stem, diagram in pictures:
        try:
            written.append((what, diagram.render(out / stem, format="svg", cleanup=True)))
        except DotNotFound as exc:
            print(f"     ({exc})")
    try:
        page = explore(loss, out / "explorer.html", title="One training step of the digits CNN")
        written.append((f"the explorer: open its layers, step through that backward, look at every tensor "
                        f"({page.views} views, {page.steps} steps)", str(out / "explorer.html")))
    except DotNotFound as exc:
        print(f"     (no explorer page: {exc})")
    return written


def _stepper(out):
    from ..viz import stepper

    f, _ = lectures.neuron_gates()
    try:
        path = stepper(f, out / "backprop_stepper.html", title="The sigmoid neuron of the lectures, gate by gate")
    except DotNotFound as exc:
        print(f"     (no stepper page: {exc})")
        return []
    return [("HTML stepper: the lectures' sigmoid neuron, one frame per backprop step", str(path))]


# --- minigrad train -------------------------------------------------------------------------------

MODELS = {
    "digits_cnn": lambda c, size: models.digits_cnn(in_channels=c),
    "lenet5": lambda c, size: models.lenet5(in_channels=c),
    "resnet": lambda c, size: models.resnet(in_channels=c),
    "vgg": lambda c, size: models.vgg(in_channels=c, input_size=size),
    "googlenet": lambda c, size: models.googlenet(in_channels=c),
}
NEEDS_SIZE = {"lenet5": 28}


def load_data(spec):
    """``digits`` or ``mnist:PATH`` -> ((x_train, y_train), (x_test, y_test))."""
    if spec == "digits":
        return data.load_digits()
    if spec.startswith("mnist:"):
        return data.load_mnist(spec.split(":", 1)[1])
    raise ValueError(f"train: --data must be 'digits' or 'mnist:PATH' (a folder with the IDX files), got {spec!r}")


def run_train(model_name, data_spec, epochs=5, lr=1e-3, batch_size=64, optimizer="adam", out="minigrad-train", seed=0):
    """Train a zoo model on a data set, print test accuracy, save curves and a checkpoint; returns the accuracy."""
    if model_name not in MODELS:
        raise ValueError(f"train: unknown model {model_name!r}; choose from {', '.join(MODELS)}")
    (x_train, y_train), (x_test, y_test) = load_data(data_spec)
    size = x_train.shape[-1]
    if NEEDS_SIZE.get(model_name, size) != size:
        raise ValueError(
            f"train: {model_name} needs {NEEDS_SIZE[model_name]}×{NEEDS_SIZE[model_name]} inputs but {data_spec} has "
            f"{size}×{size}; use it with mnist:PATH, or pick digits_cnn, resnet, vgg or googlenet"
        )
    manual_seed(seed)
    model = MODELS[model_name](x_train.shape[1], size)
    nn.summary(model, (1, *x_train.shape[1:]))
    params = model.parameters()
    opt = optim.Adam(params, lr=lr) if optimizer == "adam" else optim.SGD(params, lr=lr, momentum=0.9)
    loader = data.DataLoader(x_train, y_train, batch_size=batch_size, shuffle=True, seed=seed)
    history = fit(model, loader, opt, epochs=epochs, val=(x_test, y_test))
    test_loss, test_acc = evaluate(model, x_test, y_test)
    print(f"{model_name} on {data_spec}: test accuracy {test_acc:.2%} (loss {test_loss:.4f}) "
          f"after {epochs} epochs in {history.seconds:.1f} s")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epochs}, out / "checkpoint.npz")
    try:
        from ..viz.plots import plot_learning_curves

        plot_learning_curves(history, out / "learning_curves.png")
    except ImportError:
        pass
    print(f"wrote {out / 'checkpoint.npz'} and {out / 'learning_curves.png'}")
    return float(np.float64(test_acc))
