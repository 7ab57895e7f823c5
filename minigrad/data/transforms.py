"""Augmentations: small callables ``fn(batch) -> batch`` on an (N, C, H, W) batch.

The factories ``random_shift``, ``random_flip`` make them and ``compose`` chains them. Each draws its
randomness from the Generator it was made with, or else from the package generator ``minigrad.rng()``
(so ``minigrad.manual_seed`` repeats it).
"""
from __future__ import annotations

import numbers

import numpy as np

from ..core import creation


def random_shift(max_shift, rng=None):
    """An augmentation that moves each image by its own random (dy, dx), each in
    [-max_shift, max_shift] pixels, filling the uncovered border with zeros.

    ``rng``: a ``numpy.random.Generator`` to draw from; None uses ``minigrad.rng()`` at call time.
    """
    if not isinstance(max_shift, numbers.Integral) or max_shift < 0:
        raise ValueError(f"random_shift: max_shift must be a non-negative integer of pixels, got {max_shift!r}")
    s = int(max_shift)

    def shift(batch):
        batch = _check_batch("random_shift", batch)
        n = len(batch)
        offsets = (rng if rng is not None else creation.rng()).integers(-s, s + 1, size=(n, 2))
        if s == 0:
            return batch.copy()
        padded = np.pad(batch, ((0, 0), (0, 0), (s, s), (s, s)))
        windows = np.lib.stride_tricks.sliding_window_view(padded, batch.shape[2:], axis=(2, 3))
        # the window at (s - dy, s - dx) shows the image moved down by dy and right by dx
        return np.ascontiguousarray(windows[np.arange(n), :, s - offsets[:, 0], s - offsets[:, 1]])

    return shift


def random_flip(p=0.5, rng=None):
    """An augmentation that mirrors each image left-right with probability ``p``.

    ``rng``: a ``numpy.random.Generator`` to draw from; None uses ``minigrad.rng()`` at call time.
    """
    if not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"random_flip: p must be a probability in [0, 1], got {p!r}")

    def flip(batch):
        batch = _check_batch("random_flip", batch)
        out = batch.copy()
        chosen = (rng if rng is not None else creation.rng()).random(len(batch)) < p
        out[chosen] = batch[chosen][..., ::-1]
        return out

    return flip


def compose(*fns):
    """One augmentation that applies ``fns`` in order: ``compose(random_shift(1), random_flip())``."""
    for i, fn in enumerate(fns):
        if not callable(fn):
            raise TypeError(f"compose: argument {i} is of type {type(fn).__name__}, not a function of a batch")

    def composed(batch):
        for fn in fns:
            batch = fn(batch)
        return batch

    return composed


def _check_batch(name, batch):
    batch = np.asarray(batch)
    if batch.ndim != 4:
        raise ValueError(f"{name}: expected an (N, C, H, W) batch of images, got shape {batch.shape}")
    return batch
