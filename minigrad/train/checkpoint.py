"""``minigrad.save(obj, path)`` / ``minigrad.load(path)``: checkpoints as one ``.npz`` file, no pickle.

``obj`` is a nested structure — typically ``{"model": model.state_dict(), "optimizer":
opt.state_dict(), "epoch": 3}`` — of dicts (str or int keys), lists and tuples whose leaves are
numpy arrays, Tensors (their arrays are saved), numpy scalars, Python numbers, strings, bools
and None. Every array becomes one member of the archive (``a0``, ``a1``, ...); the structure is a
JSON document in the member ``__minigrad__``. ``load`` returns the same structure: arrays as numpy
arrays (a Tensor comes back as its array), tuples as tuples, int keys as ints.

The file is written atomically: into a temporary file in the same folder, flushed and fsynced,
then renamed onto ``path`` with ``os.replace``. A crash mid-save leaves the previous checkpoint
as it was.
"""
from __future__ import annotations

import json
import numbers
import os
import zipfile

import numpy as np

from ..core.files import atomic_write
from ..core.tensor import Tensor

FORMAT = "minigrad-checkpoint"
VERSION = 1
STRUCTURE = "__minigrad__"


def save(obj, path):
    """Write ``obj`` to ``path`` (the exact name given; no suffix is added) atomically."""
    arrays = {}
    document = {"format": FORMAT, "version": VERSION, "root": _encode(obj, arrays, "obj")}
    arrays[STRUCTURE] = np.frombuffer(json.dumps(document).encode("utf-8"), dtype=np.uint8)
    with atomic_write(path, "save") as f:
        np.savez(f, **arrays)


def load(path):
    """Read a checkpoint written by ``save`` (never unpickles anything)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load: no checkpoint at {path!r} (absolute path {os.path.abspath(path)!r})")
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(
            f"load: {path!r} is not a minigrad checkpoint: it is not a complete .npz archive ({exc}); "
            f"was it cut short, or is it another kind of file?"
        ) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"load: {path!r} is a single .npy array, not a minigrad checkpoint; read it with numpy.load")
    with archive:
        if STRUCTURE not in archive.files:
            raise ValueError(
                f"load: {path!r} is an .npz archive but not a minigrad checkpoint (it has no {STRUCTURE!r} member; "
                f"its members are {archive.files[:5]}); read it with numpy.load"
            )
        try:
            document = json.loads(archive[STRUCTURE].tobytes().decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"load: {path!r} has a damaged structure member ({exc})") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ValueError(f"load: {path!r} is not a minigrad checkpoint (its structure member has no format tag)")
        if document.get("version") != VERSION:
            raise ValueError(
                f"load: {path!r} is a minigrad checkpoint of format version {document.get('version')!r}; "
                f"this minigrad reads version {VERSION}"
            )
        try:
            return _decode(document["root"], archive, path)
        except (OSError, zipfile.BadZipFile, EOFError) as exc:
            raise ValueError(f"load: {path!r} is damaged: an array member cannot be read ({exc})") from None


# -- the structure: plain JSON for str, numbers, bools and None; one-key objects for the rest --


def _encode(obj, arrays, where):
    if isinstance(obj, (Tensor, np.ndarray, np.generic)):
        array = np.asarray(obj.data if isinstance(obj, Tensor) else obj)
        if array.dtype.hasobject:
            raise TypeError(f"save: {where} is an array of Python objects, which cannot be saved without pickle")
        name = f"a{len(arrays)}"
        arrays[name] = array
        return {"scalar" if isinstance(obj, np.generic) else "array": name}
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, numbers.Integral):
        return int(obj)
    if isinstance(obj, float):
        return float(obj)
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if isinstance(key, bool) or not isinstance(key, (str, numbers.Integral)):
                raise TypeError(f"save: {where} has the key {key!r} ({type(key).__name__}); keys must be str or int")
            key = key if isinstance(key, str) else int(key)
            items.append([key, _encode(value, arrays, f"{where}[{key!r}]")])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(value, arrays, f"{where}[{i}]") for i, value in enumerate(obj)]}
    raise TypeError(
        f"save: {where} is of type {type(obj).__name__}, which a checkpoint cannot hold; "
        f"leaves must be arrays, Tensors, numbers, strings, bools or None "
        f"(for a Module or an optimiser, save its .state_dict())"
    )


def _decode(node, archive, path):
    if not isinstance(node, dict):
        return node
    (kind, value), = node.items()
    if kind == "dict":
        return {key: _decode(v, archive, path) for key, v in value}
    if kind in ("list", "tuple"):
        items = [_decode(v, archive, path) for v in value]
        return items if kind == "list" else tuple(items)
    if kind in ("array", "scalar"):
        if value not in archive.files:
            raise ValueError(f"load: {path!r} is damaged: the array member {value!r} is missing")
        array = archive[value]
        return array[()] if kind == "scalar" else array
    raise ValueError(f"load: {path!r} is damaged: unknown entry {kind!r} in its structure")
