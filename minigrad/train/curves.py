"""Learning curves, the recipe's step 6: validation every few steps, and what the curves say.

The lectures: "look at learning curves! Losses may be noisy: use a scatter plot and also plot a
moving average to see trends better". ``validate_every`` adds validation points to a
``training.History`` during ``fit``; ``viz.plots.plot_learning_curves`` draws them with the
moving average; ``read_curves`` puts the usual readings into words.
"""
from __future__ import annotations

import numpy as np

from ..nn import functional as F
from .loop import evaluate


def moving_average(values, window):
    """Trailing mean over ``window`` points (shorter at the start), so the curve starts at step 1."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return values
    csum = np.cumsum(np.insert(values, 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    lo = np.maximum(idx - window, 0)
    return (csum[idx] - csum[lo]) / (idx - lo)


def validate_every(model, val, history, every=10, loss_fn=F.cross_entropy, batch_size=256):
    """An ``on_step`` callback for ``training.fit``: every ``every`` steps, validation loss and accuracy
    go into ``history`` (``val_loss``, ``val_acc``, ``val_step``), so the curves have a validation
    point per ``every`` steps rather than per epoch. Pass the same ``history`` to ``fit`` and
    ``val=None``::

        history = History()
        fit(model, loader, opt, epochs, history=history, on_step=validate_every(model, (xv, yv), history, 20))
        plot_learning_curves(history, "curves.png")
    """
    if every < 1:
        raise ValueError(f"validate_every: every must be a positive number of steps, got {every!r}")
    x, y = (np.asarray(a) for a in val)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"validate_every: val must be a non-empty pair (x, y) of equal length, "
                         f"got {len(x)} and {len(y)} samples")

    def on_step(step, loss):
        if step % every == 0:
            val_loss, val_acc = evaluate(model, x, y, batch_size=batch_size, loss_fn=loss_fn)
            history.val_loss.append(val_loss)
            history.val_acc.append(val_acc)
            history.val_step.append(step)

    return on_step


def read_curves(history, window=20, gap=0.05):
    """Step 6, in words: what the learning curves in ``history`` say (a list of sentences).

    Follows the lectures' reading of loss curves: a flat training loss (learning rate or bug), a
    loss still falling at the end (train longer), a train/validation accuracy gap over ``gap``
    (overfitting: more regularisation or data), validation accuracy past its peak (stop earlier),
    no gap at low accuracy (underfitting: bigger model or longer training).
    """
    loss = moving_average(history.train_loss, window)
    notes = []
    if len(loss) < 2 * window:
        return [f"only {len(loss)} steps recorded: too few to read trends with a {window}-step average"]
    start, end, tail = loss[window - 1], loss[-1], loss[-max(window, len(loss) // 5)]
    if end > 0.9 * start:
        notes.append(f"the training loss is flat ({start:.3g} -> {end:.3g}): learning rate too low, or a bug")
    elif end < 0.95 * tail:
        notes.append(f"the training loss is still falling at the end ({tail:.3g} -> {end:.3g}): train longer")
    else:
        notes.append(f"the training loss has levelled off ({start:.3g} -> {end:.3g})")
    if history.val_acc:
        train_acc = float(moving_average(history.train_acc, window)[-1])
        val_acc, peak = history.val_acc[-1], max(history.val_acc)
        if train_acc - val_acc > gap:
            notes.append(f"train accuracy {train_acc:.1%} is above validation {val_acc:.1%}: overfitting; add "
                         f"regularisation (weight decay, dropout, augmentation) or data")
        elif train_acc < 0.9:
            notes.append(f"train {train_acc:.1%} and validation {val_acc:.1%} accuracy are close but low: "
                         f"underfitting; train longer or use a bigger model")
        else:
            notes.append(f"no gap between train ({train_acc:.1%}) and validation ({val_acc:.1%}) accuracy")
        if peak - val_acc > gap / 2:
            at = history.val_step[int(np.argmax(history.val_acc))]
            notes.append(f"validation accuracy peaked at {peak:.1%} (step {at}) and fell to {val_acc:.1%}: "
                         f"stop earlier")
    return notes
