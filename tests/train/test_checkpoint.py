"""Checkpoints: a nested structure survives save/load exactly, writes are atomic, bad files are named."""
import os

import numpy as np
import pytest

import minigrad as mg
from minigrad import checkpoint


def nested():
    return {
        "model": {
            "0.weight": np.arange(6, dtype=np.float32).reshape(2, 3),
            "0.bias": np.array([0.5, -1.5]),  # float64
            "bn.num_batches_tracked": np.array(7, dtype=np.int64),  # 0-d
            "half": np.ones(3, dtype=np.float16),
            "mask": np.array([True, False]),
            "bytes": np.arange(4, dtype=np.uint8),
            "empty": np.zeros((0, 3), dtype=np.float32),
            "tensor": mg.Tensor(np.ones((2, 2)), requires_grad=True),
        },
        "optimizer": {
            "state": {0: {"step": 3, "exp_avg": np.full(2, 0.25)}},
            "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1]}],
        },
        "epoch": 3,
        "best": 0.975,
        "scale": np.float32(2.5),
        "name": "lenet5 — digits",
        "note": None,
        "done": False,
        "big": 2**70,
        "history": [[1.5, 2.5], [], ["a", None, True]],
        "empty": {},
    }


def assert_same(a, b):
    if isinstance(a, mg.Tensor):
        a = a.data
    if isinstance(a, (np.ndarray, np.generic)):
        assert type(b) is type(a) and b.dtype == a.dtype and b.shape == a.shape
        np.testing.assert_array_equal(b, a)
    elif isinstance(a, dict):
        assert type(b) is dict and list(b) == list(a)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert type(b) is type(a) and len(b) == len(a)
        for x, y in zip(a, b):
            assert_same(x, y)
    else:
        assert type(b) is type(a) and b == a


def test_round_trip_keeps_structure_types_and_dtypes(tmp_path):
    obj = nested()
    mg.save(obj, tmp_path / "ckpt.npz")
    back = mg.load(tmp_path / "ckpt.npz")
    assert_same(obj, back)
    assert isinstance(back["model"]["tensor"], np.ndarray)  # a Tensor comes back as its array
    assert list(back["optimizer"]["state"]) == [0]  # int keys stay ints


def test_special_floats_and_bare_leaves(tmp_path):
    mg.save([float("nan"), float("inf"), -0.0], tmp_path / "a.npz")
    nan, inf, zero = mg.load(tmp_path / "a.npz")
    assert np.isnan(nan) and inf == float("inf") and str(zero) == "-0.0"
    mg.save(np.eye(2), tmp_path / "b.npz")
    np.testing.assert_array_equal(mg.load(tmp_path / "b.npz"), np.eye(2))


def test_file_is_a_plain_npz_without_pickle_at_the_exact_path(tmp_path):
    path = tmp_path / "checkpoint"  # no suffix is added
    mg.save({"w": np.ones(3)}, str(path))
    assert os.listdir(tmp_path) == ["checkpoint"]
    with np.load(path, allow_pickle=False) as archive:
        assert "__minigrad__" in archive.files and len(archive.files) == 2


def test_overwrite_replaces_the_file(tmp_path):
    path = tmp_path / "ckpt.npz"
    mg.save({"epoch": 1}, path)
    mg.save({"epoch": 2}, path)
    assert mg.load(path) == {"epoch": 2}
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def failing_savez(file, **arrays):
    """Write part of an archive, then fail as a full disk or a crash would."""
    file.write(b"PK\x03\x04 half an archive")
    raise OSError("No space left on device")


@pytest.mark.parametrize("where", ["writing", "renaming"])
def test_a_failed_save_leaves_the_old_checkpoint_intact(tmp_path, monkeypatch, where):
    path = tmp_path / "ckpt.npz"
    mg.save({"epoch": 1, "w": np.arange(3.0)}, path)
    before = path.read_bytes()
    if where == "writing":
        monkeypatch.setattr(checkpoint.np, "savez", failing_savez)
    else:
        monkeypatch.setattr(checkpoint.os, "replace", lambda *a: (_ for _ in ()).throw(OSError("rename failed")))
    with pytest.raises(OSError):
        mg.save({"epoch": 2, "w": np.zeros(3)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert mg.load(path)["epoch"] == 1
    assert os.listdir(tmp_path) == ["ckpt.npz"]  # no temporary file left behind


def test_save_is_fsynced_before_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(checkpoint.os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(checkpoint.os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    mg.save({"w": np.ones(2)}, tmp_path / "ckpt.npz")
    assert events[:2] == ["fsync", "replace"]


def test_new_file_gets_ordinary_permissions(tmp_path):
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    umask = os.umask(0)
    os.umask(umask)
    mg.save({"w": np.ones(2)}, tmp_path / "ckpt.npz")
    assert os.stat(tmp_path / "ckpt.npz").st_mode & 0o777 == 0o666 & ~umask


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at .*missing.npz"):
        mg.load(tmp_path / "missing.npz")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="is not a minigrad checkpoint"):
        mg.load(tmp_path / "notes.txt")
    np.savez(tmp_path / "plain.npz", w=np.ones(2))
    with pytest.raises(ValueError, match="an .npz archive but not a minigrad checkpoint .*'w'"):
        mg.load(tmp_path / "plain.npz")
    np.save(tmp_path / "single.npy", np.ones(2))
    with pytest.raises(ValueError, match="single .npy array"):
        mg.load(tmp_path / "single.npy")
    mg.save({"w": np.ones(2)}, tmp_path / "cut.npz")
    data = (tmp_path / "cut.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.npz.* not a complete .npz archive"):
        mg.load(tmp_path / "cut.npz")


@pytest.mark.parametrize(
    "obj, message",
    [
        ({"model": {"fc": object()}}, r"obj\['model'\]\['fc'\] is of type object, which a checkpoint cannot hold"),
        ({"history": [1, {2, 3}]}, r"obj\['history'\]\[1\] is of type set"),
        ({"w": np.array([None, 1], dtype=object)}, r"obj\['w'\] is an array of Python objects"),
        ({"state": {(0, 1): 2}}, r"obj\['state'\] has the key \(0, 1\) \(tuple\); keys must be str or int"),
        ({"f": len}, r"obj\['f'\] is of type builtin_function_or_method"),
    ],
)
def test_unsupported_values_name_their_key_path(tmp_path, obj, message):
    with pytest.raises(TypeError, match=message):
        mg.save(obj, tmp_path / "ckpt.npz")
    assert os.listdir(tmp_path) == []  # nothing is written when the structure is refused


def test_save_into_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist; create it first"):
        mg.save({}, tmp_path / "runs" / "ckpt.npz")
