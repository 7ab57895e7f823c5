"""Plots with matplotlib (an optional extra): learning curves and gradient flow, saved as PNG."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.files import atomic_write
from ..train.curves import moving_average


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError("plots need matplotlib: pip install matplotlib (or pip install -e \".[demo]\")") from None
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path):
    """Write a figure atomically (a temp file then a rename): a failed save leaves no half-written PNG."""
    path = Path(path)
    try:
        with atomic_write(path, "save_figure") as f:
            fig.savefig(f, format=path.suffix.lstrip(".") or "png", dpi=110, bbox_inches="tight")
    finally:
        _pyplot().close(fig)
    return str(path)


def plot_learning_curves(history, path, window=20, val_window=3):
    """Training loss and accuracy per step (raw, and a ``window``-step moving average) beside validation at
    the steps it was measured (each point, and a ``val_window``-point moving average once there are more
    points than that)."""
    plt = _pyplot()
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6))
    steps = np.arange(1, len(history.train_loss) + 1)
    for ax, raw, val, name in ((ax_loss, history.train_loss, history.val_loss, "loss"),
                               (ax_acc, history.train_acc, history.val_acc, "accuracy")):
        ax.plot(steps, raw, color="tab:blue", alpha=0.25, lw=0.8, label=f"train {name} (per step)")
        ax.plot(steps, moving_average(raw, window), color="tab:blue", lw=1.8, label=f"train {name} ({window}-step mean)")
        if val:
            ax.plot(history.val_step, val, "o", color="tab:orange", ms=4, alpha=0.6, label=f"validation {name}")
            if len(val) > val_window:
                ax.plot(history.val_step, moving_average(val, val_window), color="tab:orange", lw=1.8,
                        label=f"validation {name} ({val_window}-point mean)")
            else:
                ax.plot(history.val_step, val, color="tab:orange", lw=1.0)
        ax.set_xlabel("step")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    ax_loss.set_yscale("log")
    return save_figure(fig, path)


def plot_grad_flow(model, path, title=None, vanishing=1e-3):
    """Bar chart of every parameter's gradient norm ‖∂L/∂w‖₂ (log scale), in parameter order, saved as PNG.

    ``model`` is an ``nn.Module`` after ``loss.backward()`` (or the rows of
    ``minigrad.debug.grad_flow``). Each bar is coloured as the drawings colour a gradient of that
    RMS (‖∂L/∂w‖/√n: blue vanishing … red exploding); dots mark the RMS itself. A dashed line at
    ``vanishing`` × the largest norm separates the layers whose gradient has all but vanished;
    parameters without a gradient are labelled "no grad", zero gradients "0". Written atomically.
    """
    from ..debug import grad_flow
    from .grad_scale import GRAD_BANDS, grad_color

    what = "these rows" if isinstance(model, (list, tuple)) else type(model).__name__
    rows = list(model) if isinstance(model, (list, tuple)) else grad_flow(model)
    if not rows:
        raise ValueError(f"plot_grad_flow: {what} has no parameters, so there is no gradient flow to plot")
    if all(r["grad_norm"] is None for r in rows):
        raise RuntimeError(
            f"plot_grad_flow: no parameter of {what} has a gradient yet; call loss.backward() first "
            f"(and do not zero_grad() before plotting)"
        )
    norms = np.array([np.nan if r["grad_norm"] is None else r["grad_norm"] for r in rows], dtype=np.float64)
    sizes = np.array([max(int(np.prod(r["shape"])), 1) for r in rows], dtype=np.float64)
    rms = norms / np.sqrt(sizes)
    finite = np.isfinite(norms) & (norms > 0)
    if not finite.any():
        raise ValueError(f"plot_grad_flow: every gradient of {what} is zero or not finite; nothing to draw on a log scale")
    low, high = norms[finite].min(), norms[finite].max()
    bottom = 10 ** np.floor(np.log10(min(low, rms[finite].min())) - 0.5)
    top = 10 ** np.ceil(np.log10(max(high, rms[finite].max())) + 0.5)

    if not Path(path).parent.exists():
        raise FileNotFoundError(
            f"plot_grad_flow: cannot save {Path(path).name}: the folder {Path(path).parent} does not exist"
        )
    plt = _pyplot()
    from matplotlib.patches import Patch

    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.3 * len(rows) + 2), 4.2))
    colors = [grad_color(r) if f else "lightgray" for r, f in zip(rms, finite)]
    ax.bar(x[finite], norms[finite], color=[c for c, f in zip(colors, finite) if f], width=0.8)
    ax.plot(x[finite], rms[finite], "k.", ms=5, label="RMS ‖∂L/∂w‖₂/√n")
    for i, r in enumerate(rows):
        if not finite[i]:
            word = "no grad" if r["grad_norm"] is None else ("0" if r["grad_norm"] == 0 else "not finite")
            ax.text(i, bottom * 1.5, word, rotation=90, ha="center", va="bottom", fontsize=7, color="firebrick")
    ax.axhline(vanishing * high, color="gray", ls="--", lw=1,
               label=f"{vanishing:g} × the largest norm (below: vanishing)")
    ax.set_yscale("log")
    ax.set_ylim(bottom, top)
    ax.set_xticks(x)
    ax.set_xticklabels([r["name"] for r in rows], rotation=90, fontsize=7)
    ax.set_xlim(-0.7, len(rows) - 0.3)
    ax.set_ylabel("gradient norm (log scale)")
    ax.set_xlabel("parameter (input side → output side)")
    ax.set_title(title or f"gradient flow of {what}", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    handles, _ = ax.get_legend_handles_labels()
    handles += [Patch(color="none", label="bars: ‖∂L/∂w‖₂, coloured by the RMS's band:")]
    handles += [Patch(color=color, label=words) for _, color, words in GRAD_BANDS]
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return save_figure(fig, path)
