"""The lectures' recipe for choosing hyperparameters, as functions you call on your own model and data.

    Step 1  check the initial loss ........................ check_initial_loss(model, data)
    Step 2  overfit a small sample ........................ overfit_small_sample(model, data, batches=5)
    Step 3  find a learning rate that makes the loss drop . lr_find(model_or_factory, data)
    Step 4  coarse grid / random search, ~1-5 epochs ...... search(space, train_fn, mode="random", trials=N)
    Step 5  refine, train longer .......................... search again, narrower, more epochs
    Step 6  look at the learning curves ................... validate_every + plot_learning_curves, read_curves

(lecture 004, "Choosing hyperparameters"). Steps 4-6 live in ``minigrad.search`` and
``minigrad.curves`` and are re-exported here, so ``from minigrad.recipes import ...`` reaches all.

Conventions shared by every step:

- ``data`` is a pair ``(x, y)`` of arrays (numpy or Tensor; x batched on its first axis, y integer
  class indices) **or** a ``DataLoader`` -- any re-iterable of ``(x_batch, y_batch)`` numpy batches.
  A pair is cut into batches of ``batch_size`` in order (``lr_find`` shuffles it with ``seed``).
- ``model`` is an ``nn.Module`` whose forward returns logits, or a tuple ``(logits, aux_logits, ...)``
  (an Inception-style net in training mode): the loss is then ``models.aux_loss`` and accuracy is
  read from the main logits. ``loss_fn(output, y)`` replaces the default.
- Steps 1-3 run ``evaluate`` or ``fit`` inside ``loop.snapshot``: afterwards the model's weights,
  buffers and modes are as they were, so one model can go through the whole recipe; ``lr_find``
  also accepts a factory ``lambda: make()``.
- Optimisers are given as factories ``lambda params: optim.SGD(params, lr=0.1, momentum=0.9)``,
  because each step needs a fresh one.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..nn import models
from .. import nn, optim
from .batches import check_batch_size, endless_batches, fixed_batches
from .curves import read_curves, validate_every  # step 6
from ..nn import functional as F
from .loop import History, NonFiniteLossError, _main, evaluate, fit, snapshot
from .search import LogUniform, SearchResult, Uniform, log_uniform, search, uniform  # steps 4-5

__all__ = [
    "check_initial_loss", "InitialLoss", "overfit_small_sample", "OverfitResult", "lr_find", "LRFind",
    "search", "SearchResult", "log_uniform", "uniform", "LogUniform", "Uniform", "validate_every", "read_curves",
]

# -- step 1: check the initial loss --


@dataclass
class InitialLoss:
    """What ``check_initial_loss`` measured; ``str()`` is the verdict."""

    loss: float
    expected: float
    ratio: float
    num_classes: int
    logit_std: float
    ok: bool
    verdict: str

    def __str__(self):
        return self.verdict


def check_initial_loss(model, data, num_classes=None, batch_size=256, max_samples=512, tolerance=0.25):
    """Step 1: the cross-entropy of an untrained classifier should be about log(C) for C classes.

    Small random weights give logits near 0, a near-uniform softmax, so each sample costs
    −log(1/C) = log(C) (2.30 for 10 classes). Far above means the logits are already large --
    weights initialised too large, or unscaled inputs; far below means the model is sure and right
    before learning anything -- already trained, or the labels leak into the inputs. The lectures
    also say to turn weight decay off here: this loss is the data term only.

    Measures the main head's mean cross-entropy over the first ``max_samples`` samples, in
    training mode (the loss ``fit`` starts from) without building a graph; batch-norm running
    statistics are put back. "ok" when |loss − log C| ≤ ``tolerance``·log C. ``num_classes``
    defaults to the width of the model's output. Returns an :class:`InitialLoss`.
    """
    check_batch_size("check_initial_loss", batch_size)
    if max_samples < 1:
        raise ValueError(f"check_initial_loss: max_samples must be a positive number of samples, got {max_samples!r}")
    sample, count = [], 0
    for xb, yb in fixed_batches(data, batch_size, -(-max_samples // batch_size), "check_initial_loss"):
        xb, yb = xb[: max_samples - count], yb[: max_samples - count]
        if len(xb) == 0:
            break
        sample.append((xb, yb))
        count += len(xb)
    logits, widths = [], []

    def keep(out, y):
        out = _main(out)
        widths.append(_check_classes("check_initial_loss", out, y, num_classes))
        logits.append(out.data)

    with snapshot(model):  # batch norm's running statistics go back
        loss, _ = evaluate(model, sample, train=True, on_batch=keep,
                           loss_fn=lambda out, y: F.cross_entropy(_main(out), y))
    c = num_classes or widths[-1]
    if c < 2:
        raise ValueError(f"check_initial_loss: the model outputs {c} score per sample; a softmax needs 2 or more "
                         f"classes")
    expected = math.log(c)
    std = float(np.std(np.concatenate(logits)))
    ratio = loss / expected
    ok = bool(np.isfinite(loss) and abs(loss - expected) <= tolerance * expected)
    head = f"initial loss {loss:.3g} vs log({c})={expected:.2f} (ratio {ratio:.2f}, logits' std {std:.3g})"
    if not np.isfinite(loss):
        verdict = (f"initial loss is {loss}: the forward pass already gives NaN/Inf before any training; check the "
                   f"inputs for NaN/Inf and find the first bad gate with `with minigrad.detect_anomaly():`")
    elif ok:
        verdict = f"ok: {head}: the softmax starts near uniform, as it should"
    elif loss > expected:
        verdict = (f"initial loss {loss:.3g} is far above log({c})={expected:.2f} (ratio {ratio:.1f}): the logits are "
                   f"too large at initialisation (std {std:.3g}; near 0 the softmax is uniform). The last layer's "
                   f"weights are too large: check the init scale (and that the inputs are scaled, e.g. to [0, 1])")
    else:
        verdict = (f"initial loss {loss:.3g} is far below log({c})={expected:.2f} (ratio {ratio:.2f}) before any "
                   f"training: the model is confident and right from the start. Was it already trained (or loaded "
                   f"from a checkpoint), do the labels leak into the inputs, or is num_classes wrong?")
    return InitialLoss(loss, expected, ratio, c, std, ok, verdict)


# -- step 2: overfit a small sample --


@dataclass
class OverfitResult:
    """What ``overfit_small_sample`` saw; ``str()`` is the verdict."""

    success: bool
    steps: int
    accuracy: float          # training accuracy over the last full pass through the sample
    loss: float              # mean loss over that pass
    initial_loss: float
    samples: int
    verdict: str
    losses: list = field(default_factory=list)        # per step
    accuracies: list = field(default_factory=list)    # per pass
    frozen: list = field(default_factory=list)        # parameter names with requires_grad False
    no_gradient: list = field(default_factory=list)   # trainable, but their gradient was always None or 0

    def __str__(self):
        return self.verdict


def overfit_small_sample(model, data, batches=5, batch_size=32, steps=300, optimizer=None, lr=3e-3, loss_fn=None,
                         target=1.0, restore=True):
    """Step 2: train on the first ``batches`` batches only, until ``target`` training accuracy or ``steps`` steps.

    The lectures: "try to train to 100% training accuracy on a small sample (~5-10 minibatches);
    turn off regularisation". A model that cannot memorise 160 samples has a bug, a learning rate
    that is too low ("loss not going down? LR too low, bad initialization") or too high ("loss
    explodes to Inf or NaN? LR too high, bad initialization"). The verdict says which it looks
    like and names the parameters that are frozen or never received a gradient (a dead or
    disconnected layer).

    Training accuracy is counted over each full pass through the sample (outputs before each
    step). ``optimizer``: a factory ``params -> Optimizer``; default Adam(lr=``lr``). With
    ``restore`` the weights and buffers are put back afterwards. Returns an :class:`OverfitResult`.
    """
    if not 0 < target <= 1:
        raise ValueError(f"overfit_small_sample: target is a training accuracy in (0, 1], got {target!r}")
    if steps < 1 or batches < 1:
        raise ValueError(f"overfit_small_sample: steps and batches must be positive, got steps={steps!r}, "
                         f"batches={batches!r}")
    sample = fixed_batches(data, batch_size, batches, "overfit_small_sample")
    loss_fn = loss_fn or _default_loss
    named = list(model.named_parameters())
    frozen = [n for n, p in named if not p.requires_grad]
    trainable = [p for _, p in named if p.requires_grad]
    if not trainable:
        raise ValueError(f"overfit_small_sample: every parameter of {type(model).__name__} is frozen "
                         f"(requires_grad False); unfreeze some with model.requires_grad_(True)")
    opt = optimizer(trainable) if optimizer else optim.Adam(trainable, lr=lr)
    rate = opt.param_groups[0]["lr"]
    n = sum(len(b[1]) for b in sample)
    peak = {id(p): 0.0 for p in trainable}
    history, accuracies, correct, blew_up = History(), [], 0, None

    def count(step, out, y, loss):  # the optimisers leave .grad as backward wrote it
        nonlocal correct
        correct += int((_main(out).data.argmax(axis=1) == y).sum())
        for p in trainable:
            if p.grad is not None:
                peak[id(p)] = max(peak[id(p)], float(np.abs(p.grad).max(initial=0.0)))

    def end_of_pass(epoch, step):
        nonlocal correct
        accuracies.append(correct / n)
        correct = 0
        return accuracies[-1] >= target

    with snapshot(model, weights=restore), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:  # whole passes until `steps` (the last may run past it), or the target accuracy
            fit(model, sample, opt, epochs=-(-steps // len(sample)), loss_fn=loss_fn, progress=False, history=history,
                metric=None, on_batch=count, on_epoch=end_of_pass)
        except NonFiniteLossError as exc:  # a blow-up is detected and reported, not warned about
            blew_up = (exc.step, exc.value)
    losses, step = history.train_loss, len(history.train_loss)
    no_grad = [n for n, p in named if p.requires_grad and peak[id(p)] == 0.0]
    acc = accuracies[-1] if accuracies else 0.0
    first = losses[0] if losses else float("nan")
    last = float(np.mean(losses[-len(sample):])) if losses else float("nan")
    success = blew_up is None and acc >= target
    where = f"{n} samples ({len(sample)} batches)"
    suspects = ""
    if no_grad:
        suspects += (f" These parameters never got a gradient: {', '.join(no_grad)} -- a dead layer (ReLUs that "
                     f"never fire), a zero weight blocking the path, or a part disconnected from the loss.")
    if frozen:
        suspects += f" Frozen (requires_grad False, never trained): {', '.join(frozen)}."
    dropout = [name for name, m in model.named_modules() if isinstance(m, nn.Dropout) and m.p > 0]
    if dropout:
        suspects += f" Turn regularisation off for this step: dropout is on in {', '.join(dropout)}."
    if success:
        verdict = (f"ok: {acc:.0%} training accuracy on {where} in {step} steps (loss {first:.3g} -> {last:.3g}): "
                   f"the model can learn; go on to lr_find")
    elif blew_up:
        verdict = (f"the loss exploded to {blew_up[1]} at step {blew_up[0]} (learning rate {rate:g}): the learning "
                   f"rate is too high or the initialisation is bad (lectures: 'Loss explodes to Inf or NaN? LR too "
                   f"high, bad initialization').{suspects}")
    elif not last < 0.9 * first and max(losses) > 1.5 * first:
        verdict = (f"the loss is not going down and jumped up to {max(losses):.3g} on the way ({first:.3g} -> "
                   f"{last:.3g} in {step} steps, learning rate {rate:g}): the learning rate is probably too high "
                   f"(lectures: 'LR too high, bad initialization').{suspects}")
    elif not last < 0.9 * first:
        verdict = (f"the loss is not going down ({first:.3g} -> {last:.3g} in {step} steps, learning rate {rate:g}): "
                   f"the learning rate is too low or the initialisation is bad (lectures: 'Loss not going down? LR "
                   f"too low, bad initialization'), or the model has a bug.{suspects}")
    else:
        verdict = (f"only {acc:.0%} training accuracy on {where} after {step} steps (loss {first:.3g} -> {last:.3g}, "
                   f"learning rate {rate:g}): train longer (steps=), raise the learning rate, or give the model more "
                   f"capacity; the lectures expect ~100% on 5-10 batches with regularisation off.{suspects}")
    return OverfitResult(success, step, acc, last, first, n, verdict, losses, accuracies, frozen, no_grad)


# -- step 3: the learning-rate range test --


@dataclass
class LRFind:
    """The sweep of ``lr_find``: the loss after each step at each learning rate; ``str()`` is the verdict."""

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggested: float          # a tenth of the learning rate at the lowest smoothed loss
    min_loss_lr: float        # where the smoothed loss was lowest
    steepest_lr: float        # where it fell fastest per decade (before the minimum)
    stopped_early: bool       # the loss blew up past ``diverge`` × its best and the sweep stopped
    verdict: str
    path: str | None = None   # the plot, if one was written

    def __str__(self):
        return self.verdict


def lr_find(model, data, lr_min=1e-5, lr_max=1.0, steps=100, batch_size=32, optimizer=None, loss_fn=None,
            smoothing=0.9, diverge=4.0, path=None, seed=0):
    """Step 3: one short run whose learning rate grows geometrically from ``lr_min`` to ``lr_max``.

    The lectures: "find a learning rate that makes the loss drop significantly within ~100
    iterations; good learning rates to try: 1e-1, 1e-2, 1e-3, 1e-4". Instead of one run per
    candidate, this range test (L. Smith, 2015) tries them all in one run of ``steps`` mini-batches:
    the loss stays flat while the rate is too small, falls once it is large enough, and blows up
    once it is too large (the sweep stops when the smoothed loss exceeds ``diverge`` × its best).

    Suggests a tenth of the rate at the lowest smoothed loss (there the rate is already about to
    blow up; a tenth sits in the steep part). ``steepest_lr`` -- where the loss fell fastest -- is
    reported too. ``model`` is a Module (its weights and buffers are restored afterwards) or a
    zero-argument factory. ``optimizer``: factory ``params -> Optimizer`` (its lr is overwritten
    every step); default SGD with momentum 0.9. ``path``: write the plot there (PNG, needs
    matplotlib). Returns an :class:`LRFind`.
    """
    if not (0 < lr_min < lr_max and np.isfinite(lr_max)):
        raise ValueError(f"lr_find: need 0 < lr_min < lr_max, got lr_min={lr_min!r}, lr_max={lr_max!r}")
    if not isinstance(steps, int) or steps < 5:
        raise ValueError(f"lr_find: steps must be an integer of at least 5 to draw a curve, got {steps!r}")
    if not 0 <= smoothing < 1:
        raise ValueError(f"lr_find: smoothing is an EMA factor in [0, 1), got {smoothing!r}")
    if not isinstance(model, nn.Module):
        if not callable(model):
            raise TypeError(f"lr_find: model must be an nn.Module or a factory returning one, "
                            f"got {type(model).__name__}")
        model = model()
    loss_fn = loss_fn or _default_loss
    params = [p for p in model.parameters() if p.requires_grad]
    opt = optimizer(params) if optimizer else optim.SGD(params, lr=lr_min, momentum=0.9)
    lrs = np.geomspace(lr_min, lr_max, steps)
    history, smoothed, avg, best = History(), [], 0.0, math.inf

    def set_lr(lr):
        for group in opt.param_groups:
            group["lr"] = float(lr)

    def follow(step, value):
        nonlocal avg, best
        avg = smoothing * avg + (1 - smoothing) * value
        smoothed.append(avg / (1 - smoothing ** step))  # bias-corrected, as Adam's moments
        best = min(best, smoothed[-1])
        if step < steps:
            set_lr(lrs[step])
        return smoothed[-1] > diverge * best  # blown up: stop the sweep

    set_lr(lrs[0])
    with snapshot(model), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            fit(model, endless_batches(data, batch_size, seed, "lr_find"), opt, max_steps=steps, loss_fn=loss_fn,
                progress=False, history=history, metric=None, on_step=follow)
        except NonFiniteLossError:  # the sweep ends at the first loss that is not finite
            pass
    losses = history.train_loss
    if len(losses) < 2:
        raise FloatingPointError(f"lr_find: the loss was not finite after {len(losses)} step(s) even at lr={lr_min:g}; "
                                 f"run check_initial_loss first")
    swept, losses, smoothed = lrs[: len(losses)], np.array(losses), np.array(smoothed)
    lowest = int(np.argmin(smoothed))
    slope = np.gradient(smoothed, np.log10(swept))
    skip = min(max(1, len(losses) // 10), lowest)  # the first smoothed points are still settling
    steepest = float(swept[skip + int(np.argmin(slope[skip : lowest + 1]))])
    suggested = max(float(swept[lowest]) / 10, lr_min)
    stopped = len(losses) < steps
    if lowest == 0 or smoothed[lowest] > 0.95 * smoothed[0]:
        verdict = (f"the loss hardly fell anywhere between lr {lr_min:.2g} and {swept[-1]:.2g} "
                   f"({smoothed[0]:.3g} -> best {smoothed[lowest]:.3g}): widen the range, use more steps, or go back "
                   f"to overfit_small_sample")
    else:
        verdict = (f"suggested learning rate {suggested:.2g}: the smoothed loss fell from {smoothed[0]:.3g} to "
                   f"{smoothed[lowest]:.3g} at lr {swept[lowest]:.2g} (fastest fall at lr {steepest:.2g})"
                   + (f", then blew up; sweep stopped at lr {swept[-1]:.2g}" if stopped else ""))
    result = LRFind(swept, losses, smoothed, suggested, float(swept[lowest]), steepest, stopped, verdict)
    if path is not None:
        from ..viz.recipe_plots import plot_lr_find

        result.path = plot_lr_find(result, path)
    return result


# -- outputs --


def _default_loss(out, y):
    return models.aux_loss(out, y) if isinstance(out, tuple) else F.cross_entropy(out, y)


def _check_classes(who, logits, y, num_classes):
    if logits.ndim != 2:
        raise ValueError(f"{who}: expected logits of shape (batch, classes), got {logits.shape}")
    width = logits.shape[1]
    if num_classes is not None and num_classes != width:
        raise ValueError(f"{who}: the model outputs {width} scores per sample but num_classes={num_classes}")
    if len(y) and (y.min() < 0 or y.max() >= width):
        raise ValueError(f"{who}: labels run from {y.min()} to {y.max()} but the model outputs {width} classes "
                         f"(labels must be in 0..{width - 1})")
    return width
