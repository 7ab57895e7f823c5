"""The recipe's data -- a pair ``(x, y)`` of arrays or a DataLoader -- as the batches its steps run on.

``fixed_batches`` gives the same first few batches every time (steps 1 and 2 measure and
memorise one sample); ``endless_batches`` goes round the data for as long as it is asked (the
sweep of step 3 may need more steps than one pass holds). Both check what they are given and
name the step (``who``) in their errors. Batches come out as numpy arrays.
"""
from __future__ import annotations

import numpy as np

from ..core.tensor import Tensor
from ..data import DataLoader


def fixed_batches(data, batch_size, limit, who):
    """The first ``limit`` batches of ``data``, as a list (the same sample every time)."""
    if is_pair(data):
        x, y = as_pair(data, who)
        check_batch_size(who, batch_size)
        stop = min(len(x), limit * batch_size)
        batches = [(x[i : i + batch_size], y[i : i + batch_size]) for i in range(0, stop, batch_size)]
    else:
        batches = []
        for batch in _iterate(data, who):
            if len(batches) == limit:
                break
            batches.append(batch)
    if not batches:
        raise ValueError(f"{who}: the data yielded no batches")
    return batches


def endless_batches(data, batch_size, seed, who):
    """Batches of ``data`` pass after pass (a pair is shuffled by a DataLoader seeded with ``seed``)."""
    loader = DataLoader(*as_pair(data, who), batch_size, shuffle=True, seed=seed) if is_pair(data) else data
    while True:
        count = 0
        for batch in _iterate(loader, who):
            count += 1
            yield batch
        if count == 0:
            raise ValueError(f"{who}: the data yielded no batches (a generator is used up after one pass; "
                             f"pass (x, y) or a DataLoader)")


def is_pair(data):
    return (isinstance(data, (tuple, list)) and len(data) == 2
            and all(isinstance(a, (np.ndarray, Tensor)) for a in data))


def as_pair(data, who):
    if not is_pair(data):
        raise TypeError(f"{who}: expected a pair (x, y) of arrays, got {type(data).__name__}")
    x, y = (np.asarray(a.data if isinstance(a, Tensor) else a) for a in data)
    if len(x) != len(y):
        raise ValueError(f"{who}: x has {len(x)} samples but y has {len(y)}")
    if len(x) == 0:
        raise ValueError(f"{who}: the data is empty")
    return x, y


def check_batch_size(who, batch_size):
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"{who}: batch_size must be a positive integer, got {batch_size!r}")


def _iterate(data, who):
    try:
        batches = iter(data)
    except TypeError:
        raise TypeError(f"{who}: data must be a pair (x, y) of arrays or a DataLoader of (x_batch, y_batch), "
                        f"got {type(data).__name__}") from None
    for batch in batches:
        if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
            raise TypeError(f"{who}: each batch must be a pair (x_batch, y_batch), got {type(batch).__name__}")
        yield tuple(np.asarray(a.data if isinstance(a, Tensor) else a) for a in batch)
