"""The matplotlib plots (viz/plots.py, viz/recipe_plots.py) write real PNGs that show what they were given."""
from pathlib import Path

import numpy as np
import pytest

from minigrad.train.search import log_uniform, search
from minigrad.train import History

plt = pytest.importorskip("matplotlib.pyplot")

PNG = b"\x89PNG\r\n\x1a\n"
BLUE, ORANGE, GREEN, RED = (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40)  # tab: / C0-C3
GREY = (211, 211, 211)  # lightgray: plot_search's trials without a finite score


def read_png(path):
    """The picture as (height, width, 3) integers in 0..255, after checking it is a whole, non-trivial PNG."""
    raw = Path(path).read_bytes()
    assert raw[:8] == PNG and raw[12:16] == b"IHDR"
    width, height = (int.from_bytes(raw[i : i + 4], "big") for i in (16, 20))
    assert width >= 300 and height >= 200 and len(raw) > 10_000
    image = plt.imread(path)  # decodes every chunk: a truncated or corrupt file raises
    assert image.shape[:2] == (height, width)
    rgb = (image[..., :3] * 255).round().astype(int)
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 50  # drawn, not a blank canvas
    return rgb


def shows(rgb, colour, solid=False):
    """Whether any pixel has ``colour``; with ``solid``, a whole 3×3 block (a filled marker, not a text's edge)."""
    mask = np.all(np.abs(rgb - colour) <= 2, axis=-1)
    if solid:
        h, w = mask.shape
        mask = np.logical_and.reduce([mask[i : h - 2 + i, j : w - 2 + j] for i in range(3) for j in range(3)])
    return bool(mask.any())


def history(steps, val_every=None, seed=0):
    rng = np.random.default_rng(seed)
    h = History()
    h.train_loss = list(2.3 * np.exp(-np.arange(steps) / 20) + 0.05 * rng.random(steps))
    h.train_acc = list(np.minimum(1.0, np.arange(steps) / steps + 0.1 * rng.random(steps)))
    if val_every:
        h.val_step = list(range(val_every, steps + 1, val_every))
        h.val_loss = [h.train_loss[s - 1] + 0.1 for s in h.val_step]
        h.val_acc = [h.train_acc[s - 1] - 0.05 for s in h.val_step]
    return h


def test_learning_curves_are_a_real_png_with_validation_when_there_is_some(tmp_path):
    from minigrad.viz.plots import plot_learning_curves

    with_val = read_png(plot_learning_curves(history(60, val_every=15), tmp_path / "with_val.png", window=5))
    without = read_png(plot_learning_curves(history(60), tmp_path / "train_only.png", window=5))
    assert shows(with_val, BLUE) and shows(without, BLUE)  # the training curves
    assert shows(with_val, ORANGE) and not shows(without, ORANGE)  # the validation points


def test_plot_search_is_a_real_png_with_the_best_trial_ringed_and_diverged_ones_grey(tmp_path):
    from minigrad.viz.recipe_plots import plot_search

    def score(lr, weight_decay):  # the largest rate diverged
        return float("nan") if lr > 0.05 else -abs(np.log10(lr) + 2) - weight_decay

    space = {"lr": log_uniform(1e-4, 1e-1, num=4), "weight_decay": log_uniform(1e-4, 1e-1, num=3)}
    result = search(space, score, progress=False, verbose=False)
    path = plot_search(result, tmp_path / "search.png")
    assert path == str(tmp_path / "search.png")
    rgb = read_png(path)
    assert shows(rgb, RED) and shows(rgb, GREY, solid=True)
    diverged = search({"lr": [0.1, 0.01], "weight_decay": [1e-4]}, lambda lr, weight_decay: float("nan"),
                      progress=False, verbose=False)  # every trial finished without a finite score
    rgb = read_png(plot_search(diverged, tmp_path / "diverged.png"))
    assert shows(rgb, GREY, solid=True) and not shows(rgb, RED)  # drawn, and no best to ring
    with pytest.raises(ValueError, match="no finished trial has both 'lr' and 'momentum'"):
        plot_search(result, tmp_path / "none.png", y="momentum")
    assert not (tmp_path / "none.png").exists()


def test_plot_curves_is_a_real_png_with_one_colour_per_run(tmp_path):
    from minigrad.viz.recipe_plots import plot_curves

    runs = {"lr 0.1": history(80, val_every=20), "lr 0.01": history(50, seed=1)}  # validated; training only
    rgb = read_png(plot_curves(runs, tmp_path / "curves.png", window=5))
    assert shows(rgb, BLUE) and shows(rgb, ORANGE) and not shows(rgb, GREEN)  # two runs, C0 and C1
    one = read_png(plot_curves({"lr 0.1": runs["lr 0.1"]}, tmp_path / "one.png", window=5))
    assert shows(one, BLUE) and not shows(one, ORANGE)


def test_validation_gets_a_moving_average_once_it_has_enough_points(monkeypatch, tmp_path):
    from minigrad.viz import plots

    labels = {}

    def keep_labels(fig, path):
        labels[path.name] = [line.get_label() for ax in fig.axes for line in ax.get_lines()]
        plt.close(fig)
        return str(path)

    monkeypatch.setattr(plots, "save_figure", keep_labels)
    plots.plot_learning_curves(history(60, val_every=5), tmp_path / "many.png", window=5)  # 12 validation points
    plots.plot_learning_curves(history(60, val_every=20), tmp_path / "few.png", window=5)  # 3: too few to smooth
    assert "validation loss (3-point mean)" in labels["many.png"] and "validation accuracy (3-point mean)" in labels["many.png"]
    assert not any("point mean" in label for label in labels["few.png"])
