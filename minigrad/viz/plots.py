"""Plots with matplotlib (an optional extra): learning curves and gradient flow, saved as PNG."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError("plots need matplotlib: pip install matplotlib (or pip install -e \".[demo]\")") from None
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def moving_average(values, window):
    """Trailing mean over ``window`` points (shorter at the start), so the curve starts at step 1."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return values
    csum = np.cumsum(np.insert(values, 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    lo = np.maximum(idx - window, 0)
    return (csum[idx] - csum[lo]) / (idx - lo)


def save_figure(fig, path):
    """Write a figure atomically (a temp file then a rename): a failed save leaves no half-written PNG."""
    path = Path(path)
    if not path.parent.exists():
        raise FileNotFoundError(f"cannot save {path.name}: the folder {path.parent} does not exist")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fig.savefig(tmp, format=path.suffix.lstrip(".") or "png", dpi=110, bbox_inches="tight")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
        _pyplot().close(fig)
    return str(path)


def plot_learning_curves(history, path, window=20):
    """Training loss and accuracy per step (raw, and a ``window``-step moving average) with validation per epoch."""
    plt = _pyplot()
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6))
    steps = np.arange(1, len(history.train_loss) + 1)
    for ax, raw, val, name in ((ax_loss, history.train_loss, history.val_loss, "loss"),
                               (ax_acc, history.train_acc, history.val_acc, "accuracy")):
        ax.plot(steps, raw, color="tab:blue", alpha=0.25, lw=0.8, label=f"train {name} (per step)")
        ax.plot(steps, moving_average(raw, window), color="tab:blue", lw=1.8, label=f"train {name} ({window}-step mean)")
        if val:
            ax.plot(history.val_step, val, "o-", color="tab:orange", lw=1.5, label=f"validation {name}")
        ax.set_xlabel("step")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    ax_loss.set_yscale("log")
    return save_figure(fig, path)
