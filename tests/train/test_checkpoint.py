"""Checkpoints: a nested structure survives save/load exactly, writes are atomic, bad files are named."""
import json
import os
import zipfile

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


def test_a_structure_that_contains_itself_is_refused_naming_where(tmp_path):
    loop = {"model": {"w": np.ones(2)}, "history": []}
    loop["history"].append(loop)
    with pytest.raises(ValueError, match=r"save: obj\['history'\]\[0\] is obj itself, "
                                         r"a structure that contains itself"):
        mg.save(loop, tmp_path / "ckpt.npz")
    shared = [1, 2]
    mg.save({"a": shared, "b": shared}, tmp_path / "ckpt.npz")  # the same list twice is no cycle
    assert mg.load(tmp_path / "ckpt.npz") == {"a": [1, 2], "b": [1, 2]}
    deep = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(ValueError, match=r"nested more than 100 levels deep"):  # was RecursionError
        mg.save(deep, tmp_path / "deep.npz")
    assert sorted(os.listdir(tmp_path)) == ["ckpt.npz"]


def crafted(path, root, **members):
    """An archive shaped like a checkpoint whose structure's root is ``root`` (an object, or JSON text)."""
    text = root if isinstance(root, str) else json.dumps(root)
    text = '{"format": "minigrad-checkpoint", "version": 1, "root": ' + text + "}"
    np.savez(path, __minigrad__=np.frombuffer(text.encode(), dtype=np.uint8), **members)
    return path


@pytest.mark.parametrize("root, message", [
    ({"dict": [["a", 1]], "list": []}, r"an entry with 2 keys \['dict', 'list'\] \(each has one\)"),
    ({"dict": [["a", 1, 2]]}, r"a dict item \['a', 1, 2\] that is not a \[key, value\] pair"),
    ({"dict": ["a"]}, r"a dict item 'a' that is not a \[key, value\] pair"),
    ({"dict": [[["un", "hashable"], 1]]}, r"a dict key \['un', 'hashable'\] \(list\); keys are str or int"),
    ({"dict": {"a": 1}}, r"a dict entry holding dict, not a list of pairs"),
    ({"list": {"a": 1}}, r"a list entry holding dict, not a list"),
    ({"array": ["a0"]}, r"an array entry naming \['a0'\], not a member"),
    ({"array": "a9"}, r"the array member 'a9' is missing"),
    ({"pickle": "a0"}, r"unknown entry 'pickle'"),
    ([1, 2], r"a bare list"),
    ("[" * 100_000 + "]" * 100_000, r"its structure nests deeper than any checkpoint"),
    ('{"list": [' * 150 + "]}" * 150, r"nesting deeper than 100 levels"),
])
def test_crafted_archives_of_malformed_structure_are_a_value_error_naming_the_file(tmp_path, root, message):
    path = crafted(tmp_path / "evil.npz", root)
    with pytest.raises(ValueError, match=r"load: '.*evil\.npz' .*" + message):  # not RecursionError, unpack errors
        mg.load(path)


@pytest.mark.parametrize("content, what", [
    (b"epoch 3, loss 0.25\n", r"it is a text file \(it starts with 'epoch 3, loss 0.25\\n'\)"),
    (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", r"it is a PNG image"),
    (b"", r"the file is empty"),
    (b"\x00\x01\x02\xff\xfe", r"it starts with the bytes b'\\x00\\x01\\x02\\xff\\xfe', not those of an .npz archive"),
])
def test_loading_a_text_or_png_file_says_it_is_not_a_checkpoint_and_what_it_is(tmp_path, content, what):
    (tmp_path / "f").write_bytes(content)
    with pytest.raises(ValueError, match=r"load: '.*f' is not a minigrad checkpoint: " + what) as caught:
        mg.load(tmp_path / "f")
    assert "pickled" not in str(caught.value)  # numpy's "Cannot load file containing pickled data"


def test_max_bytes_is_checked_against_the_declared_sizes_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    mg.save({"small": np.zeros(10), "big": np.zeros(1000)}, path)
    assert mg.load(path, max_bytes=10_000)["big"].shape == (1000,)
    reads = []
    real = checkpoint.npy.read_array
    monkeypatch.setattr(checkpoint.npy, "read_array", lambda f, **kw: reads.append(1) or real(f, **kw))
    with pytest.raises(ValueError, match=r"the member 'a1' declares 8,128 bytes, more than the [\d,]+ left of "
                                         r"max_bytes=5,000; if you trust the file, pass a larger max_bytes="):
        mg.load(path, max_bytes=5_000)
    assert len(reads) == 2  # the structure and 'small'; 'big' was refused before a byte of it was read
    assert checkpoint.MAX_BYTES == 8 << 30  # the documented default
    with pytest.raises(ValueError, match="max_bytes must be a positive integer"):
        mg.load(path, max_bytes=0)


def test_a_member_whose_header_declares_more_than_it_holds_is_refused_before_allocating(tmp_path):
    import io

    member = io.BytesIO()
    np.lib.format.write_array_header_1_0(member, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    path = crafted(tmp_path / "bomb.npz", {"array": "a0"})
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("a0.npy", member.getvalue() + bytes(32))  # 8 TB declared, 32 bytes there
    with pytest.raises(ValueError, match=r"the member 'a0' declares an array \(1000000000000,\) of float64 "
                                         r"\(8,000,000,000,000 bytes\) in a member of \d+ bytes"):
        mg.load(path)
