"""How the explorer page carries a tensor: its statistics exactly, and only what its picture needs.

Every tensor (a node's value, a gradient backward recorded) becomes a small dict for the page's JSON:

* ``shape``, ``dtype`` and its ``norm``, ``min``, ``max``, ``mean`` (float64, of the array as it is);
* at most :data:`NUMBERS` elements: the ``values`` themselves;
* more: a histogram's counts (``hist``) and, for a picture, one 2-D slice of at most :data:`CELLS`
  values (``heat``): a matrix as it is; a stack of feature maps (sample 0 of a batch) as a grid of
  tiles; a convolution's weight ``(out, in, kh, kw)`` as a grid of ``kh × kw`` tiles, one row per filter,
  one column per input channel, as ConvNetJS draws filters. The slice is stored as float16 of
  ``value / scale`` (``scale`` = the largest magnitude), base64: two bytes a value, three significant
  digits, for colours and hovering -- the statistics above are the exact numbers;
* a gradient known only by its statistics (freed after a plain ``backward()``): ``shape``, ``dtype``,
  ``norm``, ``min``, ``max`` and ``freed``.

Crops are said in ``heat["note"]`` (``sample 0 of 8 · channels 0–31 of 64``): a picture never pretends
to be more of the tensor than it is.
"""
from __future__ import annotations

import base64
import math

import numpy as np

from ..core.records import Summary

NUMBERS = 16
"""Tensors with at most this many elements carry their values (as a plain backward keeps them whole)."""
CELLS = 8192
"""The most values one picture embeds (16 KiB as float16): a (32, 16, 3, 3) convolution's weight whole."""
BINS = 24
"""Bars of a histogram."""
MAX_ROW = 128
"""A matrix wider than this is cropped to its first MAX_ROW columns (and then to CELLS values)."""


def number(x):
    """A float for JSON: finite numbers as they are, ``nan`` and ``±inf`` as text (JSON has no word for them)."""
    x = float(x)
    return x if math.isfinite(x) else str(x)


def describe(a, filters=False):
    """The dict the page reads for array ``a`` (or a freed gradient's Summary); ``filters``: ``a`` is a
    convolution's weight (or its gradient), drawn as one tile per (filter, input channel)."""
    if isinstance(a, Summary):
        out = {"shape": list(a.shape), "dtype": str(a.dtype), "norm": number(a.norm), "freed": 1}
        if a.min is not None:
            out.update(min=number(a.min), max=number(a.max))
        if a.nonfinite:
            out["nonfinite"] = a.nonfinite
        return out
    a = np.asarray(a)
    out = {"shape": list(a.shape), "dtype": str(a.dtype)}
    if a.dtype.kind not in "fiub":
        return out
    x = a.astype(np.float64, copy=False).reshape(-1)
    finite = x[np.isfinite(x)]
    out["norm"] = number(math.sqrt(float(np.dot(x, x)))) if x.size else 0.0
    if finite.size:
        out.update(min=number(finite.min()), max=number(finite.max()), mean=number(finite.mean()))
    if finite.size < x.size:
        out["nonfinite"] = int(x.size - finite.size)
    if x.size <= NUMBERS:
        out["values"] = [number(v) for v in x]
        return out
    if finite.size:
        counts, edges = np.histogram(finite, bins=BINS)
        out["hist"] = {"lo": number(edges[0]), "hi": number(edges[-1]), "counts": counts.tolist()}
    tiles = _slice(a.astype(np.float64, copy=False), filters)
    if tiles is not None:
        out["heat"] = tiles
    return out


def _slice(a, filters):
    """The 2-D picture of ``a``: a grid of equal tiles, cropped to CELLS values, as the page's dict."""
    notes = []
    if a.ndim == 2:
        rows, cols = a.shape
        c = min(cols, MAX_ROW)
        r = min(rows, max(1, CELLS // c))
        notes += _crop("rows", r, rows) + _crop("columns", c, cols)
        return _encode(a[:r, :c].reshape(1, 1, r, c), notes)
    if a.ndim == 4 and filters and a.shape[1] == 1:  # one input channel: the filters as a grid of tiles
        a = a[:, 0]
    elif a.ndim == 4 and filters:
        out, inp, kh, kw = a.shape
        i = max(1, min(inp, 16, CELLS // (kh * kw)))
        o = max(1, min(out, CELLS // (i * kh * kw)))
        notes += _crop("filters", o, out) + _crop("input channels", i, inp)
        return dict(_encode(a[:o, :i, :kh, :kw], notes), filters=1)
    if a.ndim < 3:
        return None
    if a.ndim > 3:  # a batch: its first sample (deeper stacks of maps one after the other)
        notes.append(f"sample 0 of {a.shape[0]}")
        a = a[0].reshape(-1, *a.shape[-2:])
    maps, h, w = a.shape
    h, w = min(h, 64), min(w, 64)
    k = max(1, min(maps, CELLS // (h * w)))
    notes += _crop("channels", k, maps) + _crop("rows", h, a.shape[1]) + _crop("columns", w, a.shape[2])
    cols = math.ceil(math.sqrt(k * h / w)) if k > 1 else 1
    cols = min(k, max(1, cols))
    rows = math.ceil(k / cols)
    grid = np.full((rows * cols, h, w), np.nan)
    grid[:k] = a[:k, :h, :w]
    return _encode(grid.reshape(rows, cols, h, w), notes, tiles=k)


def _crop(what, kept, whole):
    return [f"{what} 0–{kept - 1} of {whole}"] if kept < whole else []


def _encode(grid, notes, tiles=None):
    """A (grid rows, grid cols, h, w) block as float16 of value/scale, base64 (NaN: an empty tile)."""
    finite = grid[np.isfinite(grid)]
    scale = float(np.abs(finite).max()) if finite.size else 0.0
    scaled = grid / scale if scale > 0 else grid
    data = np.ascontiguousarray(scaled, dtype="<f2").tobytes()
    gr, gc, h, w = grid.shape
    return {"grid": [gr, gc], "tile": [h, w], "tiles": tiles if tiles is not None else gr * gc,
            "scale": number(scale), "data": base64.b64encode(data).decode("ascii"), "note": " · ".join(notes)}
