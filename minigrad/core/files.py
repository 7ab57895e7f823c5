"""Writing files so that a failure never leaves half of one: checkpoints, pages, figures, results.

``atomic_write`` writes into a temporary file in the target's folder, flushes and fsyncs it, gives
it the permissions a new file would get (or the old file's), renames it onto the target and
fsyncs the folder, so the rename itself survives a crash. If anything fails the temporary file is
removed and the previous file, if any, is untouched.
"""
from __future__ import annotations

import contextlib
import os
import tempfile


def require_folder(path, who):
    """The folder ``path`` goes into; a FileNotFoundError naming it if it does not exist."""
    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"{who}: the folder {folder!r} does not exist; create it first (os.makedirs) or write elsewhere"
        )
    return folder


@contextlib.contextmanager
def atomic_write(path, who, text=False):
    """``with atomic_write(path, "save") as f: ...`` — ``f`` is a binary (or, with ``text``, UTF-8) file."""
    path = os.fspath(path)
    folder = require_folder(path, who)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w" if text else "wb", **({"encoding": "utf-8"} if text else {})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def _file_mode(path):
    """The permissions a new file gets (mkstemp makes it private), or the old file's."""
    try:
        return os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_folder(folder):
    """Make the rename itself durable; not every system can open a folder (Windows cannot)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
