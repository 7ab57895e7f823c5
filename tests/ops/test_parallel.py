"""The gates' work split over the thread pool (ops/parallel.py) gives the one-thread numbers.

Every test here runs with 3 threads (parts of unequal length on this 2-core machine too), every
piece of work split however small (``MIN_BYTES`` = 1) and tiles of a few hundred bytes (or a few
planes), so that
each parallel and tiled path runs on shapes the size of a test, including odd batches and batch 1.
"""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import Tensor, gradcheck
from minigrad.ops import parallel

rng = np.random.default_rng(7)


@pytest.fixture(params=[256, 1 << 14], ids=["tiles of part of a plane", "tiles of several planes"])
def split_everything(monkeypatch, request):
    threads = mg.get_num_threads()
    monkeypatch.setattr(parallel, "MIN_BYTES", 1)
    monkeypatch.setattr(parallel, "BLOCK_BYTES", request.param)
    mg.set_num_threads(3)
    yield
    mg.set_num_threads(threads)


def _run(op, arrays):
    xs = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    out = op(*xs)
    up = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(up)
    return [out.data] + [x.grad for x in xs]


CASES = {
    # name: (op, shapes); batches of 5 and 1 split unevenly over 3 threads, by image or by channel
    "conv 3×3 pad 1": (lambda x, w, b: F.conv2d(x, w, b, padding=1), [(5, 3, 7, 6), (4, 3, 3, 3), (4,)]),
    "conv stride 2, batch 1": (lambda x, w: F.conv2d(x, w, stride=2, padding=1), [(1, 4, 9, 8), (5, 4, 3, 3)]),
    "conv dilation 2, groups 2": (lambda x, w: F.conv2d(x, w, dilation=2, padding=2, groups=2), [(3, 4, 8, 8), (6, 2, 3, 3)]),
    "conv_transpose stride 2": (lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1),
                                [(5, 3, 4, 5), (3, 2, 3, 3)]),
    "depthwise 3×3 pad 1": (lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=6), [(5, 6, 7, 9), (6, 1, 3, 3), (6,)]),
    "depthwise stride 2, batch 1": (lambda x, w: F.conv2d(x, w, stride=2, padding=1, groups=5), [(1, 5, 9, 8), (5, 1, 3, 3)]),
    "depthwise 5×5 dilation 2": (lambda x, w: F.conv2d(x, w, padding=4, dilation=2, groups=3), [(2, 3, 9, 9), (3, 1, 5, 5)]),
    "depthwise padding past the kernel": (lambda x, w: F.conv2d(x, w, padding=3, groups=4), [(3, 4, 5, 5), (4, 1, 3, 3)]),
    "max_pool 3×3 stride 2 pad 1": (lambda x: F.max_pool2d(x, 3, 2, 1), [(5, 3, 9, 8)]),
    "max_pool 2×2, batch 1": (lambda x: F.max_pool2d(x, 2), [(1, 7, 6, 6)]),
    "max_pool ceil_mode dilation": (lambda x: F.max_pool2d(x, 2, 2, dilation=2, ceil_mode=True), [(4, 2, 9, 7)]),
    "avg_pool count_include_pad=False": (lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), [(5, 3, 8, 7)]),
    "avg_pool 2×2 ceil_mode": (lambda x: F.avg_pool2d(x, 2, ceil_mode=True), [(3, 4, 5, 7)]),
    "batch_norm train": (lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True), [(5, 7, 4, 3), (7,), (7,)]),
    "batch_norm train (N, C)": (lambda x: F.batch_norm(x, None, None, training=True), [(9, 5)]),
    "batch_norm eval": (lambda x, g: F.batch_norm(x, np.arange(4.0), np.arange(1.0, 5.0), g), [(3, 4, 5, 5), (4,)]),
}


@pytest.mark.parametrize("name", CASES)
def test_split_over_threads_gives_the_one_thread_numbers_and_passes_gradcheck(name, split_everything):
    op, shapes = CASES[name]
    arrays = [rng.standard_normal(s) for s in shapes]
    split = _run(op, arrays)
    mg.set_num_threads(1)
    one = _run(op, arrays)
    mg.set_num_threads(3)
    for a, b in zip(split, one):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert gradcheck(op, arrays)


def test_float32_stays_float32_when_split(split_everything):
    x = Tensor(rng.standard_normal((3, 4, 6, 6)).astype(np.float32), requires_grad=True)
    w = Tensor(rng.standard_normal((4, 1, 3, 3)).astype(np.float32), requires_grad=True)
    y = F.max_pool2d(F.batch_norm(F.conv2d(x, w, padding=1, groups=4), None, None, training=True), 2)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == w.grad.dtype == np.float32


@pytest.mark.parametrize("case", ["depthwise 3×3 pad 1", "depthwise stride 2, batch 1", "conv 3×3 pad 1",
                                  "max_pool 3×3 stride 2 pad 1", "batch_norm train"])
def test_split_paths_match_pytorch(case, split_everything, compare_with_torch):
    import torch

    ours, shapes = CASES[case]
    theirs = {
        "depthwise 3×3 pad 1": lambda x, w, b: torch.nn.functional.conv2d(x, w, b, padding=1, groups=6),
        "depthwise stride 2, batch 1": lambda x, w: torch.nn.functional.conv2d(x, w, stride=2, padding=1, groups=5),
        "conv 3×3 pad 1": lambda x, w, b: torch.nn.functional.conv2d(x, w, b, padding=1),
        "max_pool 3×3 stride 2 pad 1": lambda x: torch.nn.functional.max_pool2d(x, 3, 2, 1),
        "batch_norm train": lambda x, g, b: torch.nn.functional.batch_norm(x, None, None, g, b, training=True),
    }[case]
    compare_with_torch(ours, theirs, [rng.standard_normal(s) for s in shapes], rng, rtol=1e-10, atol=1e-12)


def test_parts_cover_the_range_in_nearly_equal_pieces():
    for n in range(1, 12):
        for count in range(1, 5):
            pieces = parallel.parts(n, count)
            assert [i for p in pieces for i in range(n)[p]] == list(range(n))
            lengths = [p.stop - p.start for p in pieces]
            assert max(lengths) - min(lengths) <= 1 and min(lengths) >= 1 and len(pieces) == min(n, count)


def test_an_error_in_a_part_reaches_the_caller_after_every_part_is_done(split_everything):
    done = []

    def fn(part):
        if part.start == 1:
            raise ValueError("part 1 failed")
        threading.Event().wait(0.05)
        done.append(part.start)
        return part.start

    with pytest.raises(ValueError, match="part 1 failed"):
        parallel.run(fn, 3, 1 << 30)
    assert sorted(done) == [0, 2]
    assert parallel.run(lambda p: p.start, 3, 1 << 30) == [0, 1, 2]


def test_a_part_that_runs_work_of_its_own_does_not_wait_for_the_pool(split_everything):
    # a worker never hands work on (a full pool would wait for itself): nested calls run in place
    out = parallel.run(lambda p: parallel.run(lambda q: (p.start, q.start), 4, 1 << 30), 3, 1 << 30)
    assert out[0] == [(0, 0), (0, 2), (0, 3)]  # the caller splits 4 into 3 parts: 2, 1, 1
    assert out[1] == [(1, 0)] and out[2] == [(2, 0)]  # the workers run all 4 in place


def test_set_num_threads_checks_its_argument_and_the_environment_is_read():
    with pytest.raises(ValueError, match="set_num_threads: expected a positive int, got 0"):
        mg.set_num_threads(0)
    with pytest.raises(ValueError, match="positive int"):
        mg.set_num_threads(2.0)
    code = "import minigrad as mg; print(mg.get_num_threads())"
    env = dict(os.environ, MINIGRAD_NUM_THREADS="3")
    assert subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout.strip() == "3"
    env = dict(os.environ, MINIGRAD_NUM_THREADS="", OPENBLAS_NUM_THREADS="1")
    assert subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout.strip() == "1"
    env = dict(os.environ, MINIGRAD_NUM_THREADS="zero")
    bad = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert bad.returncode != 0 and "MINIGRAD_NUM_THREADS must be a positive integer, got 'zero'" in bad.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_makes_a_pool_of_its_own(split_everything):
    x = Tensor(rng.standard_normal((4, 3, 8, 8)))
    w = Tensor(rng.standard_normal((3, 1, 3, 3)))
    expected = F.conv2d(x, w, padding=1, groups=3).data  # the parent's pool now has threads
    pid = os.fork()
    if pid == 0:  # the child: its copy of the pool has no threads behind it
        ok = np.array_equal(F.conv2d(x, w, padding=1, groups=3).data, expected)
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
