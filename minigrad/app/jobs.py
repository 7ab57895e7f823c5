"""The command line's jobs: ``minigrad demo`` (the whole framework at work) and ``minigrad train``."""
from __future__ import annotations

import shlex
import signal
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from .. import data, nn, optim
from ..core.creation import manual_seed
from ..core.tensor import Tensor
from ..nn import models
from ..train import checkpoint
from ..train.loop import History, NonFiniteLossError, evaluate, fit, snapshot
from ..viz import DotNotFound, draw, explore
from . import lectures


def run_demo(out, epochs=15, seed=0):
    """Train a small CNN on the real digits and write what shows it working; returns the test accuracy.

    ``out`` is made and checked first, as for ``run_train``; the checkpoint is saved after every epoch, and
    Ctrl-C saves what was trained and raises :class:`TrainingInterrupted`, saying where."""
    out = prepare_out(out)
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
    run = _Run("demo", out / CHECKPOINT, epochs, len(loader), history=History(), state=lambda: {
        "model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()})
    test_loss, test_acc = run.train(
        lambda: fit(model, loader, optimizer, epochs=epochs, val=(x_test, y_test), scheduler=scheduler,
                    history=run.history, on_step=run.on_step, on_epoch=run.on_epoch),
        lambda: evaluate(model, x_test, y_test),
        resume="The demo does not resume: run it again for the whole demo (minigrad.load of the checkpoint gives these "
               "weights)")
    history = run.history
    print(f"     {epochs} epochs, {len(loader) * epochs} steps in {history.seconds:.1f} s "
          f"({len(loader) * epochs * 32 / history.seconds:,.0f} images/s)")
    print(f"     test accuracy {test_acc:.2%} on {len(x_test)} held-out digits (test loss {test_loss:.4f})")
    run.save(test_accuracy=test_acc)  # the trained model first: the pictures take longer than the training did

    print("\n3. Writing what it did:")
    try:
        try:
            from ..viz.plots import plot_learning_curves

            written.append(("learning curves", plot_learning_curves(history, out / "learning_curves.png")))
        except ImportError as exc:
            print(f"     (no learning curves: {exc})")
        written += _draw_training_step(model, x_test[:4], y_test[:4], out)
        written += _stepper(out)
    except KeyboardInterrupt:
        raise TrainingInterrupted(f"interrupted while writing the pictures; the trained model ({epochs} epochs, test "
                                  f"accuracy {test_acc:.2%}) is saved in {run.path}", run.path) from None
    written.append(("checkpoint (model + optimizer + epoch; minigrad.load)", str(run.path)))
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
        try:  # before the snapshot puts the weights back: that counts as changing them (the page would say so)
            page = explore(loss, out / "explorer.html", title="One training step of the digits CNN")
        except DotNotFound as exc:
            page = exc
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
    if isinstance(page, DotNotFound):
        print(f"     (no explorer page: {page})")
    else:
        written.append((f"the explorer: open its layers, step through that backward, look at every tensor "
                        f"({page.views} views, {page.steps} steps)", str(out / "explorer.html")))
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


# --- minigrad train ---------------------------------------------------------------------------------

CLASSES = 10
"""The zoo models' classes, as built here: the digits 0..9, of the digits set and of MNIST."""
MODELS = {
    "digits_cnn": lambda c, size: models.digits_cnn(num_classes=CLASSES, in_channels=c),
    "lenet5": lambda c, size: models.lenet5(num_classes=CLASSES, in_channels=c),
    "resnet": lambda c, size: models.resnet(num_classes=CLASSES, in_channels=c),
    "vgg": lambda c, size: models.vgg(num_classes=CLASSES, in_channels=c, input_size=size),
    "googlenet": lambda c, size: models.googlenet(num_classes=CLASSES, in_channels=c),
}
NEEDS_SIZE = {"digits_cnn": 8, "lenet5": 28}
"""The input size (height = width) a model takes; the others (global pooling, vgg's input_size) take any."""
DEFAULT_MODEL = "digits_cnn"
CHECKPOINT = "checkpoint.npz"
ONNX_FILE = "model.onnx"


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped ``run_train``; the model and optimiser were saved first. ``str()`` says where, and how to
    resume."""

    def __init__(self, message, path):
        super().__init__(message)
        self.path = path

    def __str__(self):
        return self.args[0]


def load_data(spec):
    """``digits`` or ``mnist:PATH`` -> ((x_train, y_train), (x_test, y_test)), the labels checked to be classes
    0..9 (the zoo models' :data:`CLASSES`)."""
    if spec == "digits":
        splits = data.load_digits()
    elif spec.startswith("mnist:") and spec != "mnist:":
        splits = data.load_mnist(spec.split(":", 1)[1])
    else:
        raise ValueError(f"--data must be 'digits' or 'mnist:PATH' (a folder with the IDX files), got {spec!r}")
    for split, (_, labels) in zip(("training", "test"), splits):
        bad = labels[(labels < 0) | (labels >= CLASSES)]
        if bad.size:
            worst = bad.max() if bad.max() >= CLASSES else bad.min()
            raise ValueError(f"--data {spec}: the {split} labels hold class {worst} ({bad.size} of {labels.size} "
                             f"labels), but the models have {CLASSES} classes: labels must be 0..{CLASSES - 1}")
    return splits


def check_size(model_name, data_spec, size):
    """A model that takes one input size (:data:`NEEDS_SIZE`) on data of another: an error naming the models
    that fit."""
    need = NEEDS_SIZE.get(model_name, size)
    if need == size:
        return
    fits = [name for name in MODELS if NEEDS_SIZE.get(name, size) == size]
    default = " (the default --model)" if model_name == DEFAULT_MODEL else ""
    its_data = "the digits" if need == 8 else "mnist:PATH" if need == 28 else f"{need}×{need} images"
    raise ValueError(
        f"{model_name}{default} needs {need}×{need} inputs but {data_spec} has {size}×{size}; use it with {its_data}, "
        f"or for {size}×{size} inputs pick --model {', '.join(fits[:-1])} or {fits[-1]}"
    )


def prepare_out(out, flag="--out"):
    """Make the folder ``out`` and check that a file can be written there, before any work that would be lost."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{flag} {out}: it is a file, not a folder; give a folder to write into")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise type(exc)(f"{flag} {out}: cannot write there ({exc.strerror or exc})") from None
    return out


def run_train(model_name, data_spec, epochs=5, lr=1e-3, batch_size=64, optimizer="adam", out="minigrad-train", seed=0,
              resume=None, export_onnx=False):
    """Train a zoo model on a data set, print test accuracy, save curves and a checkpoint; returns the accuracy.

    ``out`` is made (and checked writable) first. After every epoch ``out/checkpoint.npz`` holds the model,
    the optimiser and the epochs done; ``resume`` (such a checkpoint) continues from there to ``epochs``.
    Ctrl-C finishes the current step (a second Ctrl-C stops at once), saves the checkpoint and raises
    :class:`TrainingInterrupted`, whose message says how to resume. With ``export_onnx`` the trained model
    is also written as ``out/model.onnx`` (dynamic batch; the onnx package is checked for before training).
    """
    if model_name not in MODELS:
        raise ValueError(f"unknown model {model_name!r}; choose from {', '.join(MODELS)}")
    if export_onnx:
        _require_onnx()
    out = prepare_out(out)
    state = checkpoint.load(resume) if resume is not None else None
    start = 0 if state is None else _check_resume(state, model_name, optimizer, epochs, resume)
    (x_train, y_train), (x_test, y_test) = load_data(data_spec)
    size = x_train.shape[-1]
    check_size(model_name, data_spec, size)
    manual_seed(seed)
    model = MODELS[model_name](x_train.shape[1], size)
    nn.summary(model, (1, *x_train.shape[1:]))
    params = model.parameters()
    opt = optim.Adam(params, lr=lr) if optimizer == "adam" else optim.SGD(params, lr=lr, momentum=0.9)
    loader = data.DataLoader(x_train, y_train, batch_size=batch_size, shuffle=True, seed=seed)
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        print(f"resuming from {resume}: {start} of {epochs} epochs done")
    loader.epoch = start  # the same order of batches as an uninterrupted run
    run = _Run("train", out / CHECKPOINT, epochs, len(loader), start=start, state=lambda: {
        "model": model.state_dict(), "optimizer": opt.state_dict(), "model_name": model_name,
        "optimizer_name": optimizer, "data": data_spec})
    command = " ".join(shlex.quote(str(a)) for a in (
        "minigrad", "train", "--model", model_name, "--data", data_spec, "--epochs", epochs, "--lr", lr,
        "--batch-size", batch_size, "--optimizer", optimizer, "--out", out, "--resume", run.path))
    try:
        test_loss, test_acc = run.train(
            lambda: fit(model, loader, opt, epochs=epochs - start, val=(x_test, y_test), history=run.history,
                        on_step=run.on_step, on_epoch=run.on_epoch),
            lambda: evaluate(model, x_test, y_test), resume=f"Resume with:\n  {command}")
    except NonFiniteLossError as exc:
        kept = f"; {run.path} holds the model after epoch {run.done}" if run.done > start else ""
        raise NonFiniteLossError(
            f"the loss became {exc.value} at step {exc.step} (epoch {run.done + 1}) with --lr {lr:g}: the run "
            f"diverged; try a lower --lr, e.g. --lr {lr / 10:g}{kept}", exc.step, exc.value) from None
    path, history = run.path, run.history
    this_run = f" ({epochs - start} in this run)" if start else ""
    print(f"{model_name} on {data_spec}: test accuracy {test_acc:.2%} (loss {test_loss:.4f}) "
          f"after {epochs} epochs{this_run} in {history.seconds:.1f} s")
    written = [path, out / "learning_curves.png"]
    try:
        _plot(history, out)
        if export_onnx:
            from .. import onnx

            written.append(onnx.export(model, x_test[:2], out / ONNX_FILE))
    except KeyboardInterrupt:
        raise TrainingInterrupted(f"interrupted after training: all {epochs} epochs are done and saved to {path}",
                                  path) from None
    print(f"wrote {', '.join(map(str, written[:-1]))} and {written[-1]}")
    return float(np.float64(test_acc))


def _require_onnx():
    """--export-onnx: fail before training, not after, when the onnx package is missing."""
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise ImportError("--export-onnx needs the onnx package, which is not installed: pip install onnx "
                          "(or pip install -e \".[onnx]\")") from None


def _check_resume(state, model_name, optimizer, epochs, path):
    """The epochs a checkpoint of ``minigrad train`` has done, once it is known to fit this run."""
    if not isinstance(state, dict) or not {"model", "optimizer", "epoch"} <= set(state):
        keys = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"--resume {path}: not a checkpoint of minigrad train (it has {keys}, not model, optimizer "
                         f"and epoch)")
    for what, saved, given in (("--model", state.get("model_name"), model_name),
                               ("--optimizer", state.get("optimizer_name"), optimizer)):
        if saved is not None and saved != given:
            raise ValueError(f"--resume {path}: the checkpoint was trained with {what} {saved}, not {given}; "
                             f"pass {what} {saved}")
    done = int(state["epoch"])
    if done >= epochs:
        raise ValueError(f"--resume {path}: the checkpoint has {done} epochs done and --epochs {epochs} asks for no "
                         f"more; pass --epochs {done + 5} for 5 more")
    return done


def _plot(history, out):
    try:
        from ..viz.plots import plot_learning_curves

        plot_learning_curves(history, out / "learning_curves.png")
    except ImportError:
        pass


class _Run:
    """One training run of ``demo`` or ``train`` that Ctrl-C stops without losing it.

    ``path`` gets the checkpoint (``state()``, with ``epoch``: the epochs done) after every epoch. The first
    Ctrl-C lets the step finish; a second one stops at once. Either way the checkpoint is then written with
    Ctrl-C held off (pressing it again cannot cut the write short), the learning curves are plotted unless
    Ctrl-C was pressed during the save, and :class:`TrainingInterrupted` says where the checkpoint is and how
    to go on.
    """

    def __init__(self, command, path, epochs, steps_per_epoch, state, start=0, history=None):
        self.command, self.path, self.epochs, self.per_epoch, self.state = command, path, epochs, steps_per_epoch, state
        self.start = self.done = start
        self.steps, self.history, self.ctrl_c = 0, history or History(), None

    def save(self, **extra):
        checkpoint.save({**self.state(), "epoch": self.done, **extra}, self.path)

    def on_step(self, step, loss):
        self.steps = step
        if self.ctrl_c.pressed:
            raise KeyboardInterrupt

    def on_epoch(self, epoch, step):
        self.done = self.start + epoch
        self.save()
        if self.ctrl_c.pressed:
            raise KeyboardInterrupt

    def train(self, fit, test, resume):
        """``fit()`` then ``test()`` (whose result is returned) under the Ctrl-C handling; ``resume`` tells how to
        go on after an interruption."""
        with _stop_at_ctrl_c(self.command) as self.ctrl_c:
            try:
                with np.errstate(all="ignore"):  # a diverging run: one line (NonFiniteLossError), no numpy warnings
                    fit()
                return test()
            except KeyboardInterrupt:
                self.ctrl_c.held = True  # from here a Ctrl-C is noted, not raised: the checkpoint is written whole
                if self.steps == 0:
                    raise TrainingInterrupted("interrupted before any training step; nothing to save", None) from None
                self.save()
                self._plot()
                raise TrainingInterrupted(self._message(resume), self.path) from None

    def _plot(self):
        """The curves so far, unless Ctrl-C was pressed again while saving. Still held: a Ctrl-C in the middle of
        importing matplotlib (half a second) can leave its C extensions half made and crash Python at exit."""
        if not self.ctrl_c.again:
            _plot(self.history, self.path.parent)

    def _message(self, resume):
        if self.done == self.epochs:
            return f"interrupted while testing: all {self.epochs} epochs are done and saved to {self.path}"
        extra = self.steps - (self.done - self.start) * self.per_epoch
        again = ", which runs again in full" if self.command == "train" else ""
        partial = f"; the weights also hold {extra} steps of epoch {self.done + 1}{again}" if extra else ""
        return (f"interrupted after {self.steps} steps: saved the model and optimiser to {self.path} ({self.done} of "
                f"{self.epochs} epochs done{partial}). {resume}")


@contextmanager
def _stop_at_ctrl_c(command="train"):
    """While training: the first Ctrl-C sets ``.pressed`` (the loop stops after its step), a second one stops at once;
    while ``.held`` (saving) a Ctrl-C only sets ``.again``.

    Only in the main thread and over Python's own SIGINT handler; otherwise Ctrl-C is a plain KeyboardInterrupt.
    """
    state = SimpleNamespace(pressed=False, held=False, again=False)
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield state
        return

    def handler(signum, frame):
        if state.held:
            state.again = True
            print(f"\nminigrad {command}: saving the checkpoint first (a moment)", file=sys.stderr, flush=True)
            return
        if state.pressed:
            raise KeyboardInterrupt
        state.pressed = True
        print(f"\nminigrad {command}: stopping after this step, then saving (Ctrl-C again to stop at once)",
              file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield state
    finally:
        signal.signal(signal.SIGINT, previous)
