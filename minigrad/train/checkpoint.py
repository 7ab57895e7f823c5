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

``load`` trusts nothing in the file: it never unpickles, reads no more than ``max_bytes`` (the
members' declared sizes are checked before anything is read), and a structure that is not the one
``save`` writes (wrong entries, cycles, nesting past ``MAX_DEPTH``) is a ValueError naming the file.
Both directions walk the structure with an explicit stack, not recursion.
"""
from __future__ import annotations

import json
import math
import numbers
import os
import zipfile
import zlib
from functools import partial

import numpy as np
from numpy.lib import format as npy

from ..core.files import atomic_write, refuse_folder
from ..core.tensor import Tensor

FORMAT = "minigrad-checkpoint"
VERSION = 1
STRUCTURE = "__minigrad__"
MAX_BYTES = 8 << 30
"""``load``'s default limit on the bytes it reads: 8 GiB (``max_bytes=`` for another)."""
MAX_DEPTH = 100
"""How deeply dicts, lists and tuples may nest in a checkpoint (a model's state nests 3 or 4 levels)."""


def save(obj, path):
    """Write ``obj`` to ``path`` (the exact name given; no suffix is added) atomically."""
    arrays = {}
    document = {"format": FORMAT, "version": VERSION, "root": _encode(obj, arrays)}
    arrays[STRUCTURE] = np.frombuffer(json.dumps(document).encode("utf-8"), dtype=np.uint8)
    with atomic_write(path, "save") as f:
        np.savez(f, **arrays)


def load(path, max_bytes=MAX_BYTES):
    """Read a checkpoint written by ``save`` (never unpickles anything).

    At most ``max_bytes`` bytes are read (default ``MAX_BYTES``, 8 GiB): each member's declared size
    is checked before it is read, and a file that would need more is refused, naming the member.
    """
    path = os.fspath(path)
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, numbers.Integral) or max_bytes < 1:
        raise ValueError(f"load: max_bytes must be a positive integer (a number of bytes), got {max_bytes!r}")
    refuse_folder(path, "load")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load: no checkpoint at {path!r} (absolute path {os.path.abspath(path)!r})")
    with open(path, "rb") as f:
        head = f.read(64)
    if head.startswith(npy.MAGIC_PREFIX):
        raise ValueError(f"load: {path!r} is a single .npy array, not a minigrad checkpoint; read it with numpy.load")
    if not head.startswith(b"PK"):
        raise ValueError(
            f"load: {path!r} is not a minigrad checkpoint: {_what_it_is(head)}; a checkpoint is the .npz archive "
            f"that minigrad.save writes"
        )
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise ValueError(
            f"load: {path!r} is not a minigrad checkpoint: it is not a complete .npz archive ({exc}); "
            f"was it cut short, or is it another kind of file?"
        ) from None
    with archive:
        members = _Members(archive, path, int(max_bytes))
        try:
            document = members.structure()
            return _decode(document["root"], members.array, path)
        except (OSError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise ValueError(f"load: {path!r} is damaged: a member cannot be read ({exc})") from None


def _what_it_is(head):
    if not head:
        return "the file is empty"
    if head.startswith(b"\x89PNG"):
        return "it is a PNG image"
    if head.startswith(b"\x1f\x8b"):
        return "it is gzip-compressed data"
    if head.startswith(b"%PDF"):
        return "it is a PDF document"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return f"it starts with the bytes {head[:8]!r}, not those of an .npz archive"
    return f"it is a text file (it starts with {text[:20]!r})"


class _Members:
    """The archive's members, read within the byte budget, and their .npy headers checked before their data."""

    def __init__(self, archive, path, max_bytes):
        self.archive, self.path, self.left, self.max_bytes = archive, path, max_bytes, max_bytes
        self.infos = {info.filename: info for info in archive.infolist()}

    def structure(self):
        path = self.path
        if STRUCTURE + ".npy" not in self.infos:
            names = [n[:-4] if n.endswith(".npy") else n for n in self.infos][:5]
            raise ValueError(
                f"load: {path!r} is an .npz archive but not a minigrad checkpoint (it has no {STRUCTURE!r} member; "
                f"its members are {names}); read it with numpy.load"
            )
        try:
            document = json.loads(self.array(STRUCTURE).tobytes().decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"load: {path!r} has a damaged structure member ({exc})") from None
        except RecursionError:
            raise ValueError(f"load: {path!r} is damaged: its structure nests deeper than any checkpoint "
                             f"(minigrad.save writes at most {MAX_DEPTH} levels)") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ValueError(f"load: {path!r} is not a minigrad checkpoint (its structure member has no format tag)")
        if document.get("version") != VERSION:
            raise ValueError(
                f"load: {path!r} is a minigrad checkpoint of format version {document.get('version')!r}; "
                f"this minigrad reads version {VERSION}"
            )
        if "root" not in document:
            raise ValueError(f"load: {path!r} is damaged: its structure member has no 'root'")
        return document

    def array(self, name):
        info = self.infos.get(f"{name}.npy")
        if info is None:
            raise ValueError(f"load: {self.path!r} is damaged: the array member {name!r} is missing")
        if info.file_size > self.left:
            raise ValueError(
                f"load: {self.path!r}: the member {name!r} declares {info.file_size:,} bytes, more than the "
                f"{self.left:,} left of max_bytes={self.max_bytes:,}; if you trust the file, pass a larger "
                f"max_bytes= to minigrad.load"
            )
        self.left -= info.file_size
        with self.archive.open(info) as f:
            try:
                version = npy.read_magic(f)
                read_header = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
                shape, _, dtype = read_header(f)
            except ValueError as exc:
                raise ValueError(f"load: {self.path!r} is damaged: the member {name!r} is not a .npy array ({exc})") \
                    from None
        if dtype.hasobject:
            raise ValueError(f"load: {self.path!r}: the member {name!r} holds Python objects (pickled data), which "
                             f"a minigrad checkpoint never does; it is not safe to read")
        if math.prod(shape) * dtype.itemsize > info.file_size:
            raise ValueError(
                f"load: {self.path!r} is damaged: the member {name!r} declares an array {shape} of {dtype} "
                f"({math.prod(shape) * dtype.itemsize:,} bytes) in a member of {info.file_size:,} bytes"
            )
        with self.archive.open(info) as f:
            return npy.read_array(f, allow_pickle=False)


# -- the structure: plain JSON for str, numbers, bools and None; one-key objects for the rest --
#
# Both directions walk it with an explicit stack of (node, where, depth, put), where ``put(value)``
# stores the converted node in its parent; a tuple is put once its items are all converted.


def _encode(obj, arrays):
    out = []
    stack = [(obj, "obj", 0, out.append, {})]
    while stack:
        obj, where, depth, put, ancestors = stack.pop()
        if isinstance(obj, (Tensor, np.ndarray, np.generic)):
            array = np.asarray(obj.data if isinstance(obj, Tensor) else obj)
            if array.dtype.hasobject:
                raise TypeError(f"save: {where} is an array of Python objects, which cannot be saved without pickle")
            name = f"a{len(arrays)}"
            arrays[name] = array
            put({"scalar" if isinstance(obj, np.generic) else "array": name})
        elif obj is None or isinstance(obj, (bool, str)):
            put(obj)
        elif isinstance(obj, numbers.Integral):
            put(int(obj))
        elif isinstance(obj, float):
            put(float(obj))
        elif isinstance(obj, (dict, list, tuple)):
            if id(obj) in ancestors:
                raise ValueError(f"save: {where} is {ancestors[id(obj)]} itself, a structure that contains itself; "
                                 f"a checkpoint holds a tree (copy the part that repeats, or leave it out)")
            if depth >= MAX_DEPTH:
                raise ValueError(f"save: {where} is nested more than {MAX_DEPTH} levels deep; a checkpoint holds at "
                                 f"most {MAX_DEPTH} levels of dicts, lists and tuples")
            ancestors = {**ancestors, id(obj): where}
            if isinstance(obj, dict):
                keys = []
                for key in obj:
                    if isinstance(key, bool) or not isinstance(key, (str, numbers.Integral)):
                        raise TypeError(f"save: {where} has the key {key!r} ({type(key).__name__}); "
                                        f"keys must be str or int")
                    keys.append(key if isinstance(key, str) else int(key))
                pairs = [[key, None] for key in keys]
                put({"dict": pairs})
                stack.extend((value, f"{where}[{key!r}]", depth + 1, partial(pair.__setitem__, 1),
                              ancestors) for key, value, pair in reversed(list(zip(keys, obj.values(), pairs))))
            else:
                items = [None] * len(obj)
                put({"list" if isinstance(obj, list) else "tuple": items})
                stack.extend((value, f"{where}[{i}]", depth + 1, partial(items.__setitem__, i),
                              ancestors) for i, value in reversed(list(enumerate(obj))))
        else:
            raise TypeError(
                f"save: {where} is of type {type(obj).__name__}, which a checkpoint cannot hold; "
                f"leaves must be arrays, Tensors, numbers, strings, bools or None "
                f"(for a Module or an optimiser, save its .state_dict())"
            )
    return out[0]


def _decode(root, read_array, path):
    def damaged(what):
        return ValueError(f"load: {path!r} is damaged: {what} in its structure")

    out = []
    stack = [(root, 0, out.append)]
    while stack:
        node, depth, put = stack.pop()
        if isinstance(node, _Tuple):
            put(tuple(node.items))
            continue
        if node is None or isinstance(node, (bool, str, int, float)):
            put(node)
            continue
        if isinstance(node, list):  # lists and tuples are one-key objects, never bare JSON arrays
            raise damaged("a bare list")
        if len(node) != 1:
            raise damaged(f"an entry with {len(node)} keys {sorted(node)[:4]} (each has one)")
        (kind, value), = node.items()
        if depth >= MAX_DEPTH and kind in ("dict", "list", "tuple"):
            raise damaged(f"nesting deeper than {MAX_DEPTH} levels")
        if kind in ("array", "scalar"):
            if not isinstance(value, str):
                raise damaged(f"an {kind} entry naming {value!r}, not a member")
            array = read_array(value)
            put(array[()] if kind == "scalar" else array)
        elif kind == "dict":
            if not isinstance(value, list):
                raise damaged(f"a dict entry holding {type(value).__name__}, not a list of pairs")
            result = {}
            put(result)
            pending = []
            for pair in value:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise damaged(f"a dict item {_short(pair)} that is not a [key, value] pair")
                key = pair[0]
                if isinstance(key, bool) or not isinstance(key, (str, int)):
                    raise damaged(f"a dict key {_short(key)} ({type(key).__name__}); keys are str or int")
                result[key] = None  # keeps the saved order whatever order the values arrive in
                pending.append((pair[1], depth + 1, partial(result.__setitem__, key)))
            stack.extend(reversed(pending))
        elif kind in ("list", "tuple"):
            if not isinstance(value, list):
                raise damaged(f"a {kind} entry holding {type(value).__name__}, not a list")
            items = [None] * len(value)
            if kind == "list":
                put(items)
            else:
                stack.append((_Tuple(items), depth, put))  # popped once its items are in
            stack.extend((v, depth + 1, partial(items.__setitem__, i))
                         for i, v in reversed(list(enumerate(value))))
        else:
            raise damaged(f"unknown entry {kind!r}")
    return out[0]


class _Tuple:
    """A tuple being decoded: its items fill a list, which becomes the tuple when this is popped."""

    def __init__(self, items):
        self.items = items


def _short(value):
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
