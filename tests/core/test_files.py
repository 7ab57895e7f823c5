"""atomic_write: permissions without touching the umask, no temporary file left by SIGTERM or by a kill."""
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad.core import files

ROOT = Path(__file__).parent.parent.parent
posix = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions and signals")

SLOW_WRITER = """
import signal, sys, time
from minigrad.core.files import atomic_write
if sys.argv[2] == "own-handler":
    def handler(signum, frame):
        print("own handler ran", flush=True)
        raise SystemExit(3)
    signal.signal(signal.SIGTERM, handler)
with atomic_write(sys.argv[1], "test") as f:
    f.write(b"partial")
    f.flush()
    print("writing", flush=True)
    time.sleep(30)
"""


def slow_writer(path, mode="default"):
    """A process that starts writing ``path`` and waits in the middle of it; returns once it is mid-write."""
    proc = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(path), mode], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout.readline() == "writing\n"
    return proc


def temporaries(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@posix
def test_the_umask_is_read_without_being_changed(tmp_path, monkeypatch):
    """os.umask(0) then os.umask(old) made files that another thread created meanwhile world-writable."""
    def no_umask(mask):
        raise AssertionError("os.umask was called while saving")

    old = os.umask(0o027)
    try:
        monkeypatch.setattr(files.os, "umask", no_umask)
        mg.save({"w": np.ones(2)}, tmp_path / "ckpt.npz")
    finally:
        monkeypatch.undo()
        os.umask(old)
    assert os.stat(tmp_path / "ckpt.npz").st_mode & 0o777 == 0o640  # the umask in force, read from /proc


@posix
def test_sigterm_during_a_write_removes_the_temporary_file_and_ends_the_process_as_sigterm_does(tmp_path):
    path = tmp_path / "ckpt.npz"
    path.write_bytes(b"the previous checkpoint")
    proc = slow_writer(path)
    assert len(temporaries(tmp_path)) == 1
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == -signal.SIGTERM
    assert temporaries(tmp_path) == [] and path.read_bytes() == b"the previous checkpoint"


@posix
def test_sigterm_with_a_handler_of_the_programs_own_runs_that_handler(tmp_path):
    proc = slow_writer(tmp_path / "ckpt.npz", "own-handler")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 3 and proc.stdout.read() == "own handler ran\n"
    assert os.listdir(tmp_path) == []  # its SystemExit removed the temporary file
    before = signal.getsignal(signal.SIGTERM)
    seen = []
    with files.atomic_write(tmp_path / "x", "test") as f:
        seen.append(signal.getsignal(signal.SIGTERM))
        f.write(b"x")
    assert signal.getsignal(signal.SIGTERM) == before  # put back after the write
    if before == signal.SIG_DFL:
        assert seen == [files._on_sigterm]


@posix
def test_temporary_files_of_killed_writes_are_removed_by_the_next_write_to_the_same_path(tmp_path):
    path = tmp_path / "ckpt.npz"
    for _ in range(3):  # three writes killed with no chance to clean up; each new one removes the last one's file
        proc = slow_writer(path)
        proc.kill()
        assert proc.wait(timeout=10) == -signal.SIGKILL
        assert len(temporaries(tmp_path)) == 1
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        alive = tmp_path / f".ckpt.npz.{sleeper.pid}.abcdefgh.tmp"  # a write still going on in another process
        other = tmp_path / ".ckpt.npz.old.99999999.abcdefgh.tmp"  # another target's (ckpt.npz.old)
        for p in (alive, other):
            p.write_bytes(b"x")
            os.utime(p, (files._STARTED - 60, files._STARTED - 60))  # older than this process, however long it ran
        run = subprocess.run([sys.executable, "-c", "import sys, minigrad as mg; mg.save({'epoch': 2}, sys.argv[1])",
                              str(path)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
        assert run.returncode == 0
        assert temporaries(tmp_path) == sorted([alive.name, other.name])  # the stale one is gone
        assert mg.load(path) == {"epoch": 2}
    finally:
        sleeper.kill()
        sleeper.wait()
    recent = tmp_path / f".ckpt.npz.{sleeper.pid}.ijklmnop.tmp"  # its process is gone, but it is newer than us
    recent.write_bytes(b"x")
    mg.save({"epoch": 3}, path)
    assert recent.exists() and other.exists() and not alive.exists()


def test_a_folder_where_a_file_should_be_is_named_by_every_writer_and_reader(tmp_path):
    """mg.save({}, folder) raised IsADirectoryError naming a temporary file, search(results_path=folder) a bare
    "[Errno 21] Is a directory"."""
    from minigrad.train.search import search

    folder = tmp_path / "runs"
    folder.mkdir()
    for who, call in [("save", lambda: mg.save({"epoch": 1}, folder)), ("load", lambda: mg.load(folder)),
                      ("search", lambda: search({"lr": [0.1]}, lambda lr: lr, results_path=folder, verbose=False)),
                      ("render", lambda: files.atomic_write(folder, "render").__enter__())]:
        with pytest.raises(IsADirectoryError, match=rf"^{who}: '{re.escape(str(folder))}' is a folder, not a file; "):
            call()
    assert list(folder.iterdir()) == []  # nothing left behind
