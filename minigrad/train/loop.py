"""A plain training loop: ``fit`` a model on batches, ``evaluate`` it, keep the learning curves.

Nothing here is magic: each step is forward, loss, ``zero_grad``, ``backward``, ``optimizer.step()``
-- the loop a PyTorch user writes by hand -- with a tqdm progress bar when tqdm is installed.
Everything in ``train/`` that trains goes through ``fit``, everything that measures goes through
``evaluate``, and everything that tries something on a model and puts it back uses ``snapshot``:
the recipe's steps and the multi-task heads add only callbacks.
"""
from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np

from ..core import engine
from ..nn import functional as F
from ..core.tensor import Tensor


class History:
    """Per-step training loss and accuracy, and per-epoch validation figures."""

    def __init__(self):
        self.train_loss, self.train_acc = [], []
        self.val_loss, self.val_acc, self.val_step = [], [], []
        self.seconds = 0.0

    def as_dict(self):
        return {k: list(v) for k, v in vars(self).items() if isinstance(v, list)} | {"seconds": self.seconds}


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or ±inf at ``step`` (counted from 1); ``fit`` raises it before that step moves a weight."""

    def __init__(self, message, step, value):
        super().__init__(message)
        self.step, self.value = step, value


def accuracy(logits, target):
    """Fraction of rows whose largest logit is at the target class (of the main head, for a tuple of outputs)."""
    logits = _main(logits)
    logits = logits.data if isinstance(logits, Tensor) else np.asarray(logits)
    return float(np.mean(logits.argmax(axis=1) == np.asarray(target)))


@contextmanager
def snapshot(model, optimizer=None, weights=True):
    """Try something on ``model`` (and ``optimizer``); when the block ends, even by an exception, they are as before.

    Saved on entry and put back on exit: the weights and buffers (``state_dict``; kept as the
    block leaves them with ``weights=False``), each module's train/eval mode, each parameter's
    ``requires_grad``, and the optimiser's ``state_dict`` (learning rates and other options, step
    counts, moments). Gradients are left as the block leaves them::

        with snapshot(model, opt):
            fit(model, loader, opt, epochs=1)   # a trial run; afterwards model and opt are as they were
    """
    state = model.state_dict() if weights else None
    modes = {m: m.training for m in model.modules()}
    flags = {p: p.requires_grad for p in model.parameters()}
    saved = optimizer.state_dict() if optimizer is not None else None
    try:
        yield
    finally:
        if state is not None:
            model.load_state_dict(state)
        for m, mode in modes.items():
            object.__setattr__(m, "training", mode)  # each module's own mode, as Module.train sets it
        for p, flag in flags.items():
            p.requires_grad_(flag)
        if saved is not None:
            optimizer.load_state_dict(saved)


def evaluate(model, x, y=None, batch_size=256, loss_fn=F.cross_entropy, *, train=False, on_batch=None):
    """Mean loss and accuracy of ``model`` on arrays ``x``, ``y`` in eval mode, without building a graph.

    ``x`` may instead be any iterable of ``(x_batch, y_batch)`` (a DataLoader), with ``y`` left
    out. ``on_batch(output, y_batch)`` sees each batch's output before the loss, to check it or
    keep the predictions; ``loss_fn=None`` computes no loss (the mean loss is then nan). Accuracy
    is read from the main head of a tuple of outputs. ``train=True`` runs in training mode
    instead (dropout on; batch norm normalises with each batch's statistics and updates its
    running ones -- put those back with :func:`snapshot`). The modules' modes are put back.
    """
    if y is not None:
        batches = ((x[i : i + batch_size], y[i : i + batch_size]) for i in range(0, len(x), batch_size))
    elif isinstance(x, (np.ndarray, Tensor)):
        raise TypeError("evaluate: x is an array but y is missing; pass evaluate(model, x, y), or x as an iterable "
                        "of (x_batch, y_batch) such as a DataLoader")
    else:
        batches = x
    total_loss, correct, count = 0.0, 0, 0
    with snapshot(model, weights=False), engine.no_grad():
        model.train(train)
        for xb, yb in batches:
            out = model(Tensor(xb))
            if on_batch is not None:
                on_batch(out, yb)
            if loss_fn is not None:
                total_loss += float(_first(loss_fn(out, yb)).item()) * len(xb)
            correct += int((_main(out).data.argmax(axis=1) == yb).sum())
            count += len(xb)
    return (total_loss / count if loss_fn is not None else float("nan")), correct / count


def fit(model, loader, optimizer, epochs=1, loss_fn=F.cross_entropy, val=None, scheduler=None, progress=True,
        history=None, on_step=None, *, max_steps=None, on_batch=None, on_epoch=None, metric=accuracy):
    """Train ``model`` for ``epochs`` passes over ``loader`` (batches of numpy arrays); returns a :class:`History`.

    ``val=(x, y)`` is evaluated after every epoch; ``scheduler.step()`` runs after every epoch;
    ``on_step(step, loss)`` is called after each optimisation step.

    Each step records the loss and ``metric(output, y)`` (accuracy; ``None`` records none, for
    outputs that are not class scores) in ``history``. ``loss_fn(output, y)`` returns the loss,
    or a tuple whose first item is the loss and the rest its parts. ``on_batch(step, output, y,
    loss)`` is called before ``on_step`` with the step's output and what ``loss_fn`` returned;
    ``on_epoch(epoch, step)`` after each epoch's validation and scheduler step.

    Stopping early: after ``max_steps`` steps, or when ``on_step``, ``on_batch`` or ``on_epoch``
    returns True. The epoch in progress ends there (validation, scheduler and ``on_epoch`` still
    run) and ``fit`` returns. A loss that is NaN or ±inf raises :class:`NonFiniteLossError` (a
    ``FloatingPointError``) before its step, so the weights are the last finite ones.
    """
    if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1):
        raise ValueError(f"fit: max_steps must be a positive integer (or None for every epoch), got {max_steps!r}")
    history = history or History()
    bar = _progress(_total(loader, epochs, max_steps)) if progress else None
    start, seen, step, stop = time.perf_counter(), 0, 0, False
    model.train()
    try:
        for epoch in range(epochs):
            for xb, yb in loader:
                out = model(Tensor(xb))
                returned = loss_fn(out, yb)
                loss = _first(returned)
                value = float(loss.item())
                if not np.isfinite(value):
                    raise NonFiniteLossError(
                        f"fit: the loss became {value} at epoch {epoch + 1}, step {step + 1}; lower the learning rate "
                        f"or look for the first NaN with `with minigrad.detect_anomaly():`", step + 1, value
                    )
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                step += 1
                seen += len(xb)
                history.train_loss.append(value)
                if metric is not None:
                    history.train_acc.append(metric(out, yb))
                if on_batch is not None:
                    stop |= bool(on_batch(step, out, yb, returned))
                if on_step is not None:
                    stop |= bool(on_step(step, value))
                if bar is not None:
                    rate = seen / max(time.perf_counter() - start, 1e-9)
                    shown = {"acc": f"{history.train_acc[-1]:.2f}"} if metric is not None else {}
                    bar.set_postfix(epoch=epoch + 1, loss=f"{value:.3f}", **shown, img_s=f"{rate:.0f}", refresh=False)
                    bar.update(1)
                if stop or step == max_steps:
                    break
            if val is not None:
                val_loss, val_acc = evaluate(model, *val, loss_fn=loss_fn)
                history.val_loss.append(val_loss)
                history.val_acc.append(val_acc)
                history.val_step.append(step)
            if scheduler is not None:
                scheduler.step()
            if on_epoch is not None:
                stop |= bool(on_epoch(epoch + 1, step))
            if stop or step == max_steps:
                break
    finally:
        if bar is not None:
            bar.close()
    history.seconds += time.perf_counter() - start
    return history


def _main(out):
    """The main head's output of a net that returns ``(logits, aux_logits, ...)`` in training mode."""
    return out[0] if isinstance(out, tuple) else out


def _first(returned):
    """The loss of what a loss function returned: the loss, or ``(loss, *parts)``."""
    return returned[0] if isinstance(returned, tuple) else returned


def _total(loader, epochs, max_steps):
    total = epochs * len(loader) if hasattr(loader, "__len__") else None  # a generator has no length
    if max_steps is None:
        return total
    return max_steps if total is None else min(total, max_steps)


def _progress(total):
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is an optional extra: train silently without it
        return None
    # disable=None: a bar in a terminal, nothing in logs and pipes
    return tqdm(total=total, unit="step", leave=False, dynamic_ncols=True, mininterval=0.25, disable=None)
