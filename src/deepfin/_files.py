"""Writing files so that a reader sees the old content or the new, never half of it."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike):
    """Yield a binary stream; on success it is flushed, synced and renamed over ``path``, and the folder is
    synced too, so that the rename survives a power loss (POSIX).

    The temporary file lives beside ``path`` and gets the permissions a plainly created file would
    (0o666 less the umask, not mkstemp's 0o600). On any error it is removed and ``path`` is untouched.
    A process killed mid-write (SIGKILL, power loss) leaves ``path`` as it was and its temporary file,
    ``.NAME.XXXXXXXX.tmp``, beside it. Nothing removes such files on its own: one of them may belong to
    another process writing the same file at that moment; delete them when no write is running.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    _sync_directory(directory)


def _sync_directory(directory: str) -> None:
    """fsync a folder, making the renames in it durable; a no-op where the system cannot (Windows, some
    network file systems)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    handle = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(handle)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF, errno.EACCES):
            raise
    finally:
        os.close(handle)


def save_figure(fig, path: str | os.PathLike, dpi: float = 100) -> Path:
    """Write the matplotlib figure ``fig`` to ``path`` atomically, in the format its suffix names (PNG
    without one), creating the folder if needed; returns ``path`` as a ``Path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as stream:
        fig.savefig(stream, format=path.suffix.lstrip(".").lower() or "png", dpi=dpi)
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
