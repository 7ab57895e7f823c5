"""``DataLoader``: mini-batches of numpy arrays, in a reproducible order.

Batches are plain numpy arrays: wrap them in ``minigrad.Tensor`` where the model needs it.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..core.tensor import Tensor


class DataLoader:
    """Mini-batches ``(x_batch, y_batch)`` of numpy arrays, one pass per ``for`` loop.

    ``len(loader)`` is the number of batches. With ``shuffle`` every pass has a new order that
    depends only on ``seed`` and the pass number (``loader.epoch``, which counts passes and can be
    set to resume), so runs repeat. ``transform`` (optional) maps each x batch, e.g. an augmentation.
    """

    def __init__(self, x, y, batch_size, shuffle=True, seed=0, drop_last=False, transform=None):
        x, y = (np.asarray(a.data if isinstance(a, Tensor) else a) for a in (x, y))
        if len(x) != len(y):
            raise ValueError(f"DataLoader: x has {len(x)} samples but y has {len(y)}")
        if not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
            raise TypeError(f"DataLoader: seed must be an integer, got {seed!r} ({type(seed).__name__})")
        if seed < 0:
            raise ValueError(
                f"DataLoader: seed must be ≥ 0 (it seeds numpy's generator with [seed, epoch]), got {seed}")
        if transform is not None and not callable(transform):
            raise TypeError(f"DataLoader: transform must be a function of the x batch, got {type(transform).__name__}")
        self.x, self.y = x, y
        self.batch_size = int(batch_size)
        self.shuffle, self.seed, self.drop_last, self.transform = shuffle, int(seed), drop_last, transform
        self.epoch = 0

    def __len__(self):
        n = len(self.x)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n = len(self.x)
        if self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(n)
        else:
            order = np.arange(n)
        self.epoch += 1
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            index = order[start : start + self.batch_size]
            xb = self.x[index]
            if self.transform is not None:
                xb = self.transform(xb)
            yield xb, self.y[index]
