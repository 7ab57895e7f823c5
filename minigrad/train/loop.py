"""A plain training loop: ``fit`` a model on batches, ``evaluate`` it, keep the learning curves.

Nothing here is magic: each step is forward, loss, ``zero_grad``, ``backward``, ``optimizer.step()``
-- the loop a PyTorch user writes by hand -- with a tqdm progress bar when tqdm is installed.
"""
from __future__ import annotations

import time

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


def accuracy(logits, target):
    """Fraction of rows whose largest logit is at the target class (of the main head, for a tuple of outputs)."""
    if isinstance(logits, tuple):  # (logits, aux_logits, ...) of a net with auxiliary heads in training mode
        logits = logits[0]
    logits = logits.data if isinstance(logits, Tensor) else np.asarray(logits)
    return float(np.mean(logits.argmax(axis=1) == np.asarray(target)))


def evaluate(model, x, y, batch_size=256, loss_fn=F.cross_entropy):
    """Mean loss and accuracy of ``model`` on arrays ``x``, ``y`` in eval mode, without building a graph."""
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    try:
        with engine.no_grad():
            for start in range(0, len(x), batch_size):
                xb, yb = x[start : start + batch_size], y[start : start + batch_size]
                out = model(Tensor(xb))
                total_loss += float(loss_fn(out, yb).item()) * len(xb)
                correct += int((out.data.argmax(axis=1) == yb).sum())
    finally:
        model.train(was_training)
    return total_loss / len(x), correct / len(x)


def fit(model, loader, optimizer, epochs=1, loss_fn=F.cross_entropy, val=None, scheduler=None, progress=True,
        history=None, on_step=None):
    """Train ``model`` for ``epochs`` passes over ``loader`` (batches of numpy arrays); returns a :class:`History`.

    ``val=(x, y)`` is evaluated after every epoch; ``scheduler.step()`` runs after every epoch;
    ``on_step(step, loss)`` is called after each optimisation step.
    """
    history = history or History()
    bar = _progress(epochs * len(loader)) if progress else None
    start, seen, step = time.perf_counter(), 0, 0
    model.train()
    try:
        for epoch in range(epochs):
            for xb, yb in loader:
                out = model(Tensor(xb))
                loss = loss_fn(out, yb)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                step += 1
                seen += len(xb)
                value = float(loss.item())
                if not np.isfinite(value):
                    raise FloatingPointError(
                        f"fit: the loss became {value} at epoch {epoch + 1}, step {step}; lower the learning rate "
                        f"or look for the first NaN with `with minigrad.detect_anomaly():`"
                    )
                history.train_loss.append(value)
                history.train_acc.append(accuracy(out, yb))
                if on_step is not None:
                    on_step(step, value)
                if bar is not None:
                    rate = seen / max(time.perf_counter() - start, 1e-9)
                    bar.set_postfix(epoch=epoch + 1, loss=f"{value:.3f}", acc=f"{history.train_acc[-1]:.2f}",
                                    img_s=f"{rate:.0f}", refresh=False)
                    bar.update(1)
            if val is not None:
                val_loss, val_acc = evaluate(model, *val, loss_fn=loss_fn)
                history.val_loss.append(val_loss)
                history.val_acc.append(val_acc)
                history.val_step.append(step)
            if scheduler is not None:
                scheduler.step()
    finally:
        if bar is not None:
            bar.close()
    history.seconds += time.perf_counter() - start
    return history


def _progress(total):
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is an optional extra: train silently without it
        return None
    # disable=None: a bar in a terminal, nothing in logs and pipes
    return tqdm(total=total, unit="step", leave=False, dynamic_ncols=True, mininterval=0.25, disable=None)
