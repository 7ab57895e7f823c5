"""Data: the real digits, MNIST IDX files the tests write (and break), DataLoader, augmentation."""
import gzip
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad.data import DataLoader, compose, load_digits, load_mnist, random_flip, random_shift

# -- the digits bundled with scikit-learn --


def test_load_digits_shapes_values_and_split():
    pytest.importorskip("sklearn")
    (x_train, y_train), (x_test, y_test) = load_digits()
    assert x_train.shape == (1438, 1, 8, 8) and x_test.shape == (359, 1, 8, 8)
    assert len(y_train) + len(y_test) == 1797
    assert x_train.dtype == x_test.dtype == np.float32 and y_train.dtype == y_test.dtype == np.int64
    both = np.concatenate([x_train, x_test])
    assert both.min() == 0.0 and both.max() == 1.0
    assert set(np.unique(y_train)) == set(np.unique(y_test)) == set(range(10))
    # stratified: every class has (rounded) 20% of its samples in the test split
    counts = np.bincount(np.concatenate([y_train, y_test]))
    np.testing.assert_array_equal(np.bincount(y_test), np.round(0.2 * counts))
    overall = counts / counts.sum()
    np.testing.assert_allclose(np.bincount(y_test) / len(y_test), overall, atol=0.005)
    np.testing.assert_allclose(np.bincount(y_train) / len(y_train), overall, atol=0.005)
    # no image is in both splits (compare the raw pixels)
    train_rows = {row.tobytes() for row in x_train.reshape(len(x_train), -1)}
    repeated = sum(row.tobytes() in train_rows for row in x_test.reshape(len(x_test), -1))
    assert repeated <= 2  # the dataset itself holds a few duplicate images


def test_load_digits_is_the_same_every_time():
    pytest.importorskip("sklearn")
    (a, ya), (b, yb) = load_digits()
    (c, yc), (d, yd) = load_digits()
    np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(yb, yd)
    # pinned, so a change of split (or of the random stream behind it) shows up on any machine
    assert yb[:12].tolist() == [1, 3, 7, 2, 0, 2, 0, 5, 9, 1, 5, 0]


def test_load_digits_without_scikit_learn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"pip install scikit-learn .*pip install -e \"\.\[demo\]\""):
        load_digits()


# -- MNIST-format IDX files --


def idx_bytes(magic, array):
    array = np.asarray(array, dtype=np.uint8)
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return header + array.tobytes()


def write(path, data, gz):
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def mnist_folder(root, gz, n_train=5, n_test=3):
    rng = np.random.default_rng(0)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        images[0, 0, 0], images[0, 0, 1] = 255, 0
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        write(root / f"{prefix}-images-idx3-ubyte", idx_bytes(2051, images), gz)
        write(root / f"{prefix}-labels-idx1-ubyte", idx_bytes(2049, labels), gz)
        arrays[prefix] = images, labels
    return arrays


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_reads_idx_files(tmp_path, gz):
    arrays = mnist_folder(tmp_path, gz)
    (x_train, y_train), (x_test, y_test) = load_mnist(tmp_path)
    assert x_train.shape == (5, 1, 28, 28) and x_test.shape == (3, 1, 28, 28)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert x_train[0, 0, 0, 0] == 1.0 and x_train[0, 0, 0, 1] == 0.0
    np.testing.assert_allclose(x_test[:, 0] * 255, arrays["t10k"][0], atol=1e-4)
    np.testing.assert_array_equal(y_train, arrays["train"][1])
    np.testing.assert_array_equal(y_test, arrays["t10k"][1])


def test_load_mnist_accepts_a_mix_of_raw_and_gz(tmp_path):
    mnist_folder(tmp_path, gz=True)
    raw = gzip.decompress((tmp_path / "t10k-labels-idx1-ubyte.gz").read_bytes())
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(raw)
    assert load_mnist(str(tmp_path))[1][1].shape == (3,)


def test_load_mnist_missing_folder_or_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="the folder .*nowhere.* does not exist"):
        load_mnist(tmp_path / "nowhere")
    mnist_folder(tmp_path, gz=False)
    (tmp_path / "t10k-images-idx3-ubyte").unlink()
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError) as err:
        load_mnist(tmp_path)
    message = str(err.value)
    assert str(tmp_path) in message
    assert "no train-labels-idx1-ubyte[.gz], no t10k-images-idx3-ubyte[.gz]" in message


def test_load_mnist_bad_magic_number(tmp_path):
    mnist_folder(tmp_path, gz=False)
    # the labels file where the images should be
    (tmp_path / "train-images-idx3-ubyte").write_bytes((tmp_path / "train-labels-idx1-ubyte").read_bytes())
    with pytest.raises(ValueError, match="starts with magic number 2049 but a file of MNIST images starts with 2051"):
        load_mnist(tmp_path)


def test_load_mnist_gzip_data_under_a_raw_name(tmp_path):
    mnist_folder(tmp_path, gz=False)
    path = tmp_path / "t10k-labels-idx1-ubyte"
    path.write_bytes(gzip.compress(path.read_bytes()))
    with pytest.raises(ValueError, match="looks gzip-compressed: name it with .gz"):
        load_mnist(tmp_path)


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_truncated_or_too_long(tmp_path, gz):
    mnist_folder(tmp_path, gz=False)
    images = (tmp_path / "train-images-idx3-ubyte").read_bytes()
    (tmp_path / "train-images-idx3-ubyte").unlink()
    path = write(tmp_path / "train-images-idx3-ubyte", images[:-100], gz)
    truncated = r"is truncated: its header says images of shape \(5, 28, 28\) = 3920 bytes but 3820"
    with pytest.raises(ValueError, match=truncated):
        load_mnist(tmp_path)
    path.unlink()
    write(tmp_path / "train-images-idx3-ubyte", images + b"\0", gz)
    with pytest.raises(ValueError, match="has extra bytes"):
        load_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"\0\0\x08")
    with pytest.raises(ValueError, match="truncated: 3 bytes"):
        mg.data.read_idx(tmp_path / "train-labels-idx1-ubyte", 2049)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"\0\0\x08\x01\0\0")
    with pytest.raises(ValueError, match="truncated inside its header"):
        mg.data.read_idx(tmp_path / "train-labels-idx1-ubyte", 2049)


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_reads_at_most_the_declared_size_plus_one_byte(tmp_path, gz):
    """A small .gz that inflates to far more than its header declares (here 64 MiB for 10 declared bytes) is
    refused after reading 11 bytes of it; reading it whole first made read_idx allocate all of it."""
    import tracemalloc

    path = tmp_path / ("labels.gz" if gz else "labels")
    zeros = bytes(1 << 20)
    with (gzip.open(path, "wb", compresslevel=1) if gz else open(path, "wb")) as f:
        f.write(idx_bytes(2049, np.arange(10)))
        for _ in range(64 if gz else 4):
            f.write(zeros)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"has extra bytes: its header says labels of shape \(10,\) = 10 bytes but "
                                             + (r"more than 10" if gz else str(4 << 20 | 10)) + " bytes follow"):
            mg.data.read_idx(path, 2049)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, peak
    # a header that declares 4 GiB in a file of a few bytes: truncated, and nothing of that size is allocated
    huge = (2051).to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in (1 << 20, 64, 64)) + bytes(100)
    path = write(tmp_path / "images", huge, gz)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"is truncated: its header says images of shape \(1048576, 64, 64\) = "
                                             r"4294967296 bytes but 100 bytes follow"):
            mg.data.read_idx(path, 2051)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, peak


def test_load_mnist_damaged_gzip(tmp_path):
    mnist_folder(tmp_path, gz=True)
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-12])
    with pytest.raises(ValueError, match="is not a complete gzip file"):
        load_mnist(tmp_path)


def test_load_mnist_image_and_label_counts_differ(tmp_path):
    mnist_folder(tmp_path, gz=False)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(2049, np.zeros(2)))
    with pytest.raises(ValueError, match="holds 3 images but .* holds 2 labels"):
        load_mnist(tmp_path)


# -- DataLoader --

X = np.arange(10, dtype=np.float32).reshape(10, 1, 1, 1) * np.ones((1, 1, 2, 2), dtype=np.float32)
Y = np.arange(10)


def test_batches_len_and_drop_last():
    loader = DataLoader(X, Y, batch_size=4, shuffle=False)
    assert len(loader) == 3
    batches = list(loader)
    assert [len(yb) for _, yb in batches] == [4, 4, 2]
    assert [xb.shape for xb, _ in batches][0] == (4, 1, 2, 2)
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in batches]), Y)
    np.testing.assert_array_equal(batches[1][0][:, 0, 0, 0], [4, 5, 6, 7])
    dropping = DataLoader(X, Y, batch_size=4, drop_last=True)
    assert len(dropping) == 2 and [len(yb) for _, yb in dropping] == [4, 4]
    assert len(DataLoader(X, Y, batch_size=5)) == 2 and len(DataLoader(X, Y, batch_size=20, drop_last=True)) == 0


def test_shuffling_is_reproducible_and_new_each_epoch():
    def order(loader):
        return np.concatenate([yb for _, yb in loader]).tolist()

    a, b = DataLoader(X, Y, batch_size=3, seed=7), DataLoader(X, Y, batch_size=3, seed=7)
    a1, a2, a3 = order(a), order(a), order(a)
    assert a1 == order(b) and a2 == order(b)
    assert sorted(a1) == list(range(10)) and sorted(a2) == list(range(10))
    assert a1 != a2 and a2 != a3 and a1 != list(range(10))
    assert order(DataLoader(X, Y, batch_size=3, seed=8)) != a1
    resumed = DataLoader(X, Y, batch_size=3, seed=7)
    resumed.epoch = 2
    assert order(resumed) == a3
    for xb, yb in DataLoader(X, Y, batch_size=3, seed=1):  # images stay with their labels
        np.testing.assert_array_equal(xb[:, 0, 0, 0], yb)


def test_transform_is_applied_to_x_only():
    loader = DataLoader(X, Y, batch_size=4, transform=lambda xb: xb + 100)
    for xb, yb in loader:
        np.testing.assert_array_equal(xb[:, 0, 0, 0], yb + 100)
    np.testing.assert_array_equal(X[:, 0, 0, 0], Y)  # the data itself is untouched


def test_dataloader_accepts_tensors_and_names_errors():
    xb, yb = next(iter(DataLoader(mg.Tensor(X), mg.Tensor(Y), batch_size=2, shuffle=False)))
    assert isinstance(xb, np.ndarray) and xb.shape == (2, 1, 2, 2) and yb.tolist() == [0, 1]
    with pytest.raises(ValueError, match="x has 10 samples but y has 9"):
        DataLoader(X, Y[:9], batch_size=2)
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        DataLoader(X, Y, batch_size=0)
    with pytest.raises(TypeError, match="transform must be a function"):
        DataLoader(X, Y, batch_size=2, transform="flip")


@pytest.mark.parametrize("seed, error, message", [
    (-1, ValueError, r"DataLoader: seed must be ≥ 0 \(it seeds numpy's generator with \[seed, epoch\]\), got -1"),
    ("a", TypeError, r"DataLoader: seed must be an integer, got 'a' \(str\)"),
    (1.5, TypeError, r"DataLoader: seed must be an integer, got 1.5 \(float\)"),
    (None, TypeError, r"DataLoader: seed must be an integer, got None"),
])
def test_dataloader_seed_is_a_non_negative_integer(seed, error, message):
    with pytest.raises(error, match=message):  # was an error from numpy at the first batch
        DataLoader(X, Y, batch_size=2, seed=seed)
    assert DataLoader(X, Y, batch_size=2, seed=np.int64(3)).seed == 3


# -- augmentation --


def one_pixel_images(n, size=7):
    batch = np.zeros((n, 2, size, size), dtype=np.float32)
    batch[:, :, size // 2, size // 2] = 1.0
    return batch


def test_random_shift_moves_each_image_within_range_with_zero_fill():
    batch = one_pixel_images(200)
    out = random_shift(2, rng=np.random.default_rng(0))(batch)
    assert out.shape == batch.shape and out.dtype == batch.dtype
    assert (out.sum(axis=(2, 3)) == 1.0).all()  # the pixel is moved, never lost, and nothing else appears
    ys, xs = np.nonzero(out[:, 0])[1:]
    np.testing.assert_array_equal(out[:, 0], out[:, 1])  # the channels move together
    assert set((ys - 3).tolist()) == set((xs - 3).tolist()) == {-2, -1, 0, 1, 2}
    full = np.ones((50, 1, 4, 4), dtype=np.float32)
    shifted = random_shift(1, rng=np.random.default_rng(1))(full)
    zeros_per_image = (shifted == 0).sum(axis=(1, 2, 3))
    assert set(zeros_per_image.tolist()) <= {0, 4, 7}  # no shift, one edge, or an edge and a side (corner counted once)
    assert 7 in zeros_per_image


def test_random_shift_exact_offsets():
    image = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    out = random_shift(3, rng=np.random.default_rng(3))(image)
    dy, dx = np.random.default_rng(3).integers(-3, 4, size=(1, 2))[0]
    expected = np.zeros_like(image)
    src = image[0, 0, max(0, -dy) : 4 - max(0, dy), max(0, -dx) : 4 - max(0, dx)]
    expected[0, 0, max(0, dy) : max(0, dy) + src.shape[0], max(0, dx) : max(0, dx) + src.shape[1]] = src
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(random_shift(0)(image), image)


def test_random_flip():
    batch = np.random.default_rng(0).random((100, 1, 3, 5)).astype(np.float32)
    mirrored = batch[..., ::-1]
    np.testing.assert_array_equal(random_flip(p=1.0)(batch), mirrored)
    np.testing.assert_array_equal(random_flip(p=0.0)(batch), batch)
    out = random_flip(rng=np.random.default_rng(0))(batch)
    flipped = np.array([np.array_equal(o, m) for o, m in zip(out, mirrored)])
    kept = np.array([np.array_equal(o, b) for o, b in zip(out, batch)])
    assert (flipped ^ kept).all() and 30 < flipped.sum() < 70


def test_augmentations_are_reproducible_and_compose():
    batch = np.random.default_rng(0).random((20, 1, 6, 6)).astype(np.float32)
    def aug(seed):
        return compose(random_shift(1, rng=np.random.default_rng(seed)), random_flip(rng=np.random.default_rng(seed)))

    np.testing.assert_array_equal(aug(4)(batch), aug(4)(batch))
    assert not np.array_equal(aug(4)(batch), aug(5)(batch))
    mg.manual_seed(3)  # without a Generator they draw from the package one
    first = compose(random_shift(2), random_flip())(batch)
    mg.manual_seed(3)
    np.testing.assert_array_equal(compose(random_shift(2), random_flip())(batch), first)
    np.testing.assert_array_equal(compose(random_flip(p=1.0), random_flip(p=1.0))(batch), batch)
    loader = DataLoader(batch, np.zeros(20), batch_size=8, transform=aug(0))
    assert [xb.shape for xb, _ in loader] == [(8, 1, 6, 6), (8, 1, 6, 6), (4, 1, 6, 6)]


def test_augmentation_errors():
    with pytest.raises(ValueError, match="expected an \\(N, C, H, W\\) batch of images, got shape \\(3, 8, 8\\)"):
        random_shift(1)(np.zeros((3, 8, 8)))
    with pytest.raises(ValueError, match="max_shift must be a non-negative integer of pixels, got -1"):
        random_shift(-1)
    with pytest.raises(ValueError, match="p must be a probability in \\[0, 1\\], got 1.5"):
        random_flip(1.5)
    with pytest.raises(TypeError, match="compose: argument 1 is of type int"):
        compose(random_flip(), 3)
