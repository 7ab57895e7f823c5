"""Datasets: the real 8x8 digits bundled with scikit-learn, and MNIST-format IDX files.

Images are float32 arrays of shape (N, 1, H, W) scaled to [0, 1]; labels are int64 class indices.
"""
from __future__ import annotations

import gzip
import math
import os
import zlib

import numpy as np

DIGITS_SPLIT_SEED = 20240605
DIGITS_TEST_FRACTION = 0.2

# -- the real handwritten digits bundled with scikit-learn --


def load_digits():
    """The 1,797 8x8 handwritten digits (UCI, bundled with scikit-learn) with a fixed stratified split.

    Returns ``(x_train, y_train), (x_test, y_test)``: images float32 (N, 1, 8, 8) in [0, 1] (the raw
    pixels are 0..16), labels int64. 20% of each class (rounded) is held out for testing: 1,438 train,
    359 test. The split comes from a fixed seed and this module's own code, not scikit-learn's
    splitter, so it is the same on every call and every machine.
    """
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise ImportError(
            "load_digits needs scikit-learn, which bundles the digits: "
            "pip install scikit-learn (or, in a minigrad checkout, pip install -e \".[demo]\")"
        ) from None
    digits = sklearn_digits()
    x = (digits.images.astype(np.float32) / np.float32(16.0)).reshape(-1, 1, 8, 8)
    y = digits.target.astype(np.int64)
    train, test = _stratified_split(y, DIGITS_TEST_FRACTION, DIGITS_SPLIT_SEED)
    return (x[train], y[train]), (x[test], y[test])


def _stratified_split(y, test_fraction, seed):
    """Indices (train, test), each sorted: from every class, round(test_fraction * count) go to test.

    Each sample gets a uniform random key from a seeded PCG64 stream (a bit-exact, documented
    algorithm); within a class the samples with the smallest keys are the test ones.
    """
    keys = np.random.Generator(np.random.PCG64(seed)).random(len(y))
    is_test = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        n_test = int(round(test_fraction * len(members)))
        is_test[members[np.argsort(keys[members], kind="stable")[:n_test]]] = True
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


# -- MNIST and Fashion-MNIST from IDX files --

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def load_mnist(root):
    """MNIST (or Fashion-MNIST, same file names) from the four IDX files in the folder ``root``.

    Looks for ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``
    and ``t10k-labels-idx1-ubyte``, each raw or with ``.gz``. Returns
    ``(x_train, y_train), (x_test, y_test)``: images float32 (N, 1, 28, 28) in [0, 1], labels int64.
    """
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise FileNotFoundError(
            f"load_mnist: the folder {root!r} does not exist (absolute path {os.path.abspath(root)!r}); "
            f"pass the folder that holds the four MNIST IDX files"
        )
    paths, missing = {}, []
    for names in MNIST_FILES.values():
        for name in names:
            found = [p for p in (os.path.join(root, name), os.path.join(root, name + ".gz")) if os.path.isfile(p)]
            if found:
                paths[name] = found[0]
            else:
                missing.append(f"{name}[.gz]")
    if missing:
        raise FileNotFoundError(
            f"load_mnist: the folder {os.path.abspath(root)!r} has no {', no '.join(missing)} "
            f"(each name was looked for raw and with .gz). An MNIST or Fashion-MNIST folder holds four files: "
            + ", ".join(n for names in MNIST_FILES.values() for n in names)
        )
    splits = []
    for image_name, label_name in MNIST_FILES.values():
        images = read_idx(paths[image_name], IMAGES_MAGIC)
        labels = read_idx(paths[label_name], LABELS_MAGIC)
        if len(images) != len(labels):
            raise ValueError(
                f"load_mnist: {paths[image_name]!r} holds {len(images)} images but {paths[label_name]!r} "
                f"holds {len(labels)} labels; the two files of a split must match"
            )
        x = images.astype(np.float32)[:, None] / np.float32(255.0)
        splits.append((x, labels.astype(np.int64)))
    return tuple(splits)


def read_idx(path, magic):
    """The unsigned-byte array in one IDX file (raw or gzip), checking its magic number and size.

    IDX: a big-endian int32 magic number (2051 for images: 3 dimensions; 2049 for labels: 1),
    then one big-endian int32 per dimension, then the bytes. It reads at most the size the header
    declares plus one byte, so a damaged or hostile file cannot make it read (or allocate) more.
    """
    path = os.fspath(path)
    if not path.endswith(".gz"):
        with open(path, "rb") as f:
            return _read_idx(f, path, magic, size=os.fstat(f.fileno()).st_size)
    try:
        with gzip.open(path, "rb") as f:
            return _read_idx(f, path, magic)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise ValueError(f"read_idx: {path!r} is not a complete gzip file ({exc}); download it again") from None


def _read_idx(f, path, magic, size=None):
    """``read_idx`` on an open file; ``size`` is the file's size when known (a raw file), None for gzip."""
    what = {IMAGES_MAGIC: "images", LABELS_MAGIC: "labels"}.get(magic, "IDX data")
    head = _read_at_most(f, 4)
    if len(head) < 4:
        raise ValueError(f"read_idx: {path!r} is truncated: {len(head)} bytes, not even the 4-byte magic number")
    found = int.from_bytes(head, "big")
    if found != magic:
        hint = " It looks gzip-compressed: name it with .gz." if head[:2] == b"\x1f\x8b" else ""
        raise ValueError(
            f"read_idx: {path!r} starts with magic number {found} but a file of MNIST {what} starts with {magic} "
            f"(images 2051, labels 2049); is it the right file?{hint}"
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    dims = _read_at_most(f, 4 * ndim)
    if len(dims) < 4 * ndim:
        raise ValueError(f"read_idx: {path!r} is truncated inside its header ({4 + len(dims)} of {header} bytes)")
    shape = tuple(int.from_bytes(dims[4 * i : 4 * i + 4], "big") for i in range(ndim))
    expected = math.prod(shape)
    if size is not None:
        body, more = size - header, size - header
    else:
        raw = _read_at_most(f, expected + 1)  # one byte more than declared tells a longer file
        body, more = len(raw), f"more than {expected}"
    if body != expected:
        problem = "is truncated" if body < expected else "has extra bytes"
        raise ValueError(
            f"read_idx: {path!r} {problem}: its header says {what} of shape {shape} = {expected} bytes "
            f"but {body if body < expected else more} bytes follow the header"
        )
    if size is not None:
        raw = _read_at_most(f, expected)
        if len(raw) != expected:  # the file shrank while being read
            raise ValueError(f"read_idx: {path!r} changed while being read; read it again")
    return np.frombuffer(raw, dtype=np.uint8).reshape(shape)


def _read_at_most(f, n, chunk=1 << 20):
    """Up to ``n`` bytes of ``f``, in chunks: a header that declares a huge size allocates only what the file holds."""
    out = bytearray()
    while len(out) < n:
        part = f.read(min(n - len(out), chunk))
        if not part:
            break
        out += part
    return out
