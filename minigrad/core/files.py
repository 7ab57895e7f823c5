"""Writing files so that a failure never leaves half of one: checkpoints, pages, figures, results.

``atomic_write`` writes into a temporary file in the target's folder, flushes and fsyncs it, gives
it the permissions a new file would get (or the old file's), renames it onto the target and
fsyncs the folder, so the rename itself survives a crash. If anything fails the temporary file is
removed and the previous file, if any, is untouched.

No temporary file outlives its write for long: an exception (Ctrl-C included) removes it; so does
SIGTERM while the main thread writes, when no handler of the program's own is installed (with one,
that handler decides: if it raises, the exception removes the file; if it returns, the write goes
on). A kill that leaves no chance (SIGKILL, power loss) leaves ``.NAME.PID.RANDOM.tmp`` beside the
target; the next write to the same path removes such files when they are older than this process
and their process is gone.
"""
from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
import time

_STARTED = time.time()
"""When this process started writing files (this module's import): older temporary files are not its own."""


def require_folder(path, who):
    """The folder ``path`` goes into; a FileNotFoundError naming it if it does not exist."""
    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"{who}: the folder {folder!r} does not exist; create it first (os.makedirs) or write elsewhere"
        )
    return folder


def refuse_folder(path, who):
    """An IsADirectoryError naming ``path`` if it is a folder (numpy's and the OS's name a temporary file, or only
    "[Errno 21] Is a directory")."""
    if os.path.isdir(path):
        raise IsADirectoryError(f"{who}: {os.fspath(path)!r} is a folder, not a file; give a file's path (one inside "
                                f"that folder, say)")


@contextlib.contextmanager
def atomic_write(path, who, text=False):
    """``with atomic_write(path, "save") as f: ...`` — ``f`` is a binary (or, with ``text``, UTF-8) file."""
    path = os.fspath(path)
    refuse_folder(path, who)
    folder = require_folder(path, who)
    name = os.path.basename(path)
    _remove_stale_temporaries(folder, name)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.{os.getpid()}.", suffix=".tmp", dir=folder)
    try:
        with _removed_on_sigterm(tmp):
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
        return 0o666 & ~_umask()


def _umask():
    """The process's umask, read without changing it where the system shows it (Linux: /proc/self/status).

    Reading it with ``os.umask`` means setting it for a moment, and a file another thread makes in
    that moment would get the wrong permissions; where there is no other way that is done once, when
    this module is imported.
    """
    umask = _proc_umask()
    if umask is None:
        umask = _UMASK_AT_IMPORT if _UMASK_AT_IMPORT is not None else _set_and_restore_umask()
    return umask


def _proc_umask():
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _set_and_restore_umask():
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_UMASK_AT_IMPORT = None if _proc_umask() is not None else _set_and_restore_umask()


def _remove_stale_temporaries(folder, name):
    """Remove ``.NAME.PID.RANDOM.tmp`` (and older minigrads' ``.NAME.RANDOM.tmp``) left by killed writes.

    Only files older than this process, whose writing process is gone (or unknown, for the old
    names); never a directory, a link, or another target's file.
    """
    prefix, suffix = f".{name}.", ".tmp"
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith(suffix)):
            continue
        parts = entry.name[len(prefix) : -len(suffix)].split(".")
        if len(parts) == 2 and parts[0].isdigit():
            if _alive(int(parts[0])):
                continue
        elif not (len(parts) == 1 and len(parts[0]) == 8):  # mkstemp's 8 random characters, without a pid
            continue
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < _STARTED:
                os.unlink(entry.path)
        except OSError:
            pass


def _alive(pid):
    if pid == os.getpid() or os.name != "posix":  # elsewhere os.kill(pid, 0) would not just ask
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process: it exists
        return True
    return True


# -- SIGTERM while writing --

_writing = set()
"""Temporary files being written; SIGTERM removes them before the process ends."""
_lock = threading.RLock()  # re-entrant: the handler runs in the main thread, which may hold it


@contextlib.contextmanager
def _removed_on_sigterm(tmp):
    """While ``tmp`` is written: if SIGTERM would end the process (its default action), remove ``tmp`` first.

    The handler is installed only over the default action, only from the main thread (the one
    that can install handlers) and only for the write; a handler of the program's own stays.
    """
    with _lock:
        _writing.add(tmp)
    installed = False
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGTERM"):
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _on_sigterm)
            installed = True
    try:
        yield
    finally:
        with _lock:
            _writing.discard(tmp)
        if installed and signal.getsignal(signal.SIGTERM) is _on_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _on_sigterm(signum, frame):
    """Remove the temporary files being written, then end the process as SIGTERM's default action does."""
    with _lock:
        pending = list(_writing)
    for tmp in pending:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


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
