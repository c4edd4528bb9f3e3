"""Writing files atomically with a given mode (private keys must never be readable by others)."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def make_dir(path: Path, mode: int) -> None:
    """Create ``path`` (and parents) and set its mode. Raises ``OSError``."""
    path.mkdir(parents=True, exist_ok=True, mode=mode)
    os.chmod(path, mode)


def write_file(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` through a temporary file created with ``mode``.

    The file never exists with a wider mode, and readers see the old or the
    new content, never a part. Raises ``OSError``.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)  # the umask may have narrowed or kept bits
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
