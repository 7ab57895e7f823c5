"""Plots for the training recipe and the multi-task examples (matplotlib, saved atomically as PNG).

``plot_lr_find`` (loss vs log learning rate), ``plot_search`` (trials in the hyperparameter plane,
coloured by score: the lectures' grid vs random layout), ``plot_curves`` (several runs' learning
curves on one set of axes), ``plot_localization`` (both heads of a multi-task run),
``plot_boxes`` (images with true and predicted boxes) and ``plot_grad_norms`` (per-layer gradient
norms of several models). The learning curves of one run are ``viz.plots.plot_learning_curves``.
"""
from __future__ import annotations

import numpy as np

from .plots import _pyplot, moving_average, save_figure


def plot_lr_find(result, path):
    """The learning-rate range test: raw and smoothed loss against the learning rate (log scale)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    ax.plot(result.lrs, result.losses, color="tab:blue", alpha=0.3, lw=0.8, label="loss per step")
    ax.plot(result.lrs, result.smoothed, color="tab:blue", lw=1.8, label="smoothed loss")
    ax.axvline(result.min_loss_lr, color="tab:gray", ls=":", label=f"lowest loss at {result.min_loss_lr:.2g}")
    ax.axvline(result.suggested, color="tab:green", ls="--", label=f"suggested {result.suggested:.2g}")
    ax.set_xscale("log")
    low, high = np.min(result.smoothed), np.max(result.smoothed[: max(2, len(result.smoothed) // 2)])
    ax.set_ylim(low - 0.1 * (high - low), high + 0.3 * (high - low) + 1e-12)
    ax.set_xlabel("learning rate")
    ax.set_ylabel("training loss")
    ax.set_title("learning-rate range test")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def plot_search(result, path, x="lr", y="weight_decay", log=True):
    """Each trial as a point at (params[x], params[y]) coloured by its score (grey: NaN or Inf); the best one ringed."""
    plt = _pyplot()
    ok = [t for t in result.trials if t["status"] == "ok" and x in t["params"] and y in t["params"]]
    if not ok:
        raise ValueError(f"plot_search: no finished trial has both {x!r} and {y!r}")
    px = np.array([t["params"][x] for t in ok], dtype=float)
    py = np.array([t["params"][y] for t in ok], dtype=float)
    score = np.array([t["score"] for t in ok], dtype=float)
    fig, ax = plt.subplots(figsize=(5.2, 4.2))
    # plotnonfinite: a trial whose score is NaN/Inf (it diverged) is still a point, drawn grey
    points = ax.scatter(px, py, c=np.where(np.isfinite(score), score, np.nan), s=60, edgecolors="k", linewidths=0.4,
                        cmap=plt.get_cmap("viridis").with_extremes(bad="lightgray"), plotnonfinite=True)
    fig.colorbar(points, ax=ax, label="score")
    best = result.best
    if best is not None:
        ax.scatter([best["params"][x]], [best["params"][y]], s=220, facecolors="none", edgecolors="tab:red",
                   linewidths=1.8, label=f"best {best['score']:.3g}")
        ax.legend(fontsize=8)
    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{len(ok)} trials")
    ax.grid(alpha=0.3, which="both")
    return save_figure(fig, path)


def plot_curves(histories, path, window=20):
    """Several runs' learning curves (``{label: History}``): training loss, and validation accuracy
    (training accuracy for a run validated fewer than twice), each with a ``window``-step moving average."""
    plt = _pyplot()
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6))
    for i, (label, h) in enumerate(histories.items()):
        color = f"C{i % 10}"
        steps = np.arange(1, len(h.train_loss) + 1)
        ax_loss.plot(steps, h.train_loss, ".", color=color, alpha=0.15, ms=2)
        ax_loss.plot(steps, moving_average(h.train_loss, window), color=color, lw=1.6, label=label)
        if len(h.val_acc) > 1:
            ax_acc.plot(h.val_step, h.val_acc, "o-", color=color, ms=3, lw=1.4, label=f"{label} (validation)")
        else:
            ax_acc.plot(steps, moving_average(h.train_acc, window), color=color, lw=1.4, label=f"{label} (train)")
    ax_loss.set_yscale("log")
    for ax, name in ((ax_loss, "training loss"), (ax_acc, "accuracy")):
        ax.set_xlabel("step")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return save_figure(fig, path)


def plot_localization(history, path, window=20):
    """A multi-task run: cross-entropy and box MSE, accuracy, and IoU per step (with a moving average)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    panels = ((axes[0], (("class_loss", "cross-entropy", "tab:blue"), ("box_loss", "box MSE × λ", "tab:red")),
               "loss"),
              (axes[1], (("accuracy", "accuracy", "tab:blue"),), "classification accuracy"),
              (axes[2], (("iou", "mean IoU", "tab:red"),), "box IoU"))
    steps = np.arange(1, len(history.accuracy) + 1)
    for ax, series, ylabel in panels:
        for key, label, color in series:
            raw = np.asarray(getattr(history, key))
            if key == "box_loss":
                raw = raw * history.box_weight
            ax.plot(steps, raw, color=color, alpha=0.2, lw=0.8)
            ax.plot(steps, moving_average(raw, window), color=color, lw=1.8, label=f"train {label}")
        val = {"accuracy": history.val_accuracy, "iou": history.val_iou}
        for key, label, _ in series:
            if val.get(key):
                ax.plot(history.val_step, val[key], "o-", color="tab:orange", lw=1.4, label=f"validation {label}")
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_yscale("log")
    return save_figure(fig, path)


def plot_boxes(images, true_boxes, pred_boxes, path, labels=None, pred_labels=None, columns=8):
    """Images with the true box (green) and the predicted one (red); boxes are (x0, y0, x1, y1) in [0, 1]."""
    plt = _pyplot()
    from matplotlib.patches import Rectangle

    n = len(images)
    rows = -(-n // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.6 * columns, 1.7 * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = np.asarray(images[i]).reshape(images[i].shape[-2:])
        size = img.shape[-1]
        ax.imshow(img, cmap="gray_r", extent=(0, size, size, 0))
        for box, color in ((true_boxes[i], "tab:green"), (pred_boxes[i], "tab:red")):
            x0, y0, x1, y1 = np.asarray(box) * size
            ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor=color, lw=1.4))
        if labels is not None:
            title = str(labels[i]) if pred_labels is None else f"{labels[i]} → {pred_labels[i]}"
            ax.set_title(title, fontsize=8)
    return save_figure(fig, path)


def plot_grad_norms(series, path, title="gradient norm per layer"):
    """Bars of per-layer gradient norms (log scale) for several models: ``{label: [(name, norm), ...]}``."""
    plt = _pyplot()
    labels = list(series)
    names = list(dict.fromkeys(name for rows in series.values() for name, _ in rows))
    fig, ax = plt.subplots(figsize=(max(6, 0.55 * len(names) * len(labels)), 3.8))
    width = 0.8 / len(labels)
    for i, label in enumerate(labels):
        norms = dict(series[label])
        ax.bar(np.arange(len(names)) + i * width, [norms.get(n, np.nan) for n in names], width, label=label)
    ax.set_xticks(np.arange(len(names)) + 0.4 - width / 2)
    ax.set_xticklabels(names, rotation=45, ha="right", fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("‖gradient‖")
    ax.set_title(title)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    return save_figure(fig, path)
