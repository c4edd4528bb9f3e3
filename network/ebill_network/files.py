"""Private files of the network: secrets and keys 0600 in folders 0700.

Every private key and secret the network writes goes through these helpers, and
:func:`secure_tree` narrows the files that Fabric's own programs write (a CA's
Idemix issuer keys, its config file with the bootstrap secret) after they wrote them.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

#: Names of files that hold a private key or a secret, wherever they are in the data folder.
PRIVATE_NAMES = frozenset(
    {
        "key.pem",
        "ca.key",
        "IssuerSecretKey",
        "IssuerRevocationPrivateKey",
        "fabric-ca-server-config.yaml",
        "fabric-ca-server.db",
    }
)


def make_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and set it to 0700. Raises ``OSError``."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` through a temporary file created 0600, then rename it. Raises ``OSError``."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def is_private_file(path: Path) -> bool:
    """True for a file that holds a private key or a secret (by name or content)."""
    if path.name in PRIVATE_NAMES or path.name.endswith("_sk") or path.suffix == ".secret":
        return True
    try:
        with open(path, "rb") as handle:
            head = handle.read(64 * 1024)
    except OSError:
        return False
    return b"PRIVATE KEY" in head


def secure_tree(root: Path) -> list[Path]:
    """Set every private file under ``root`` to 0600 and ``root`` itself to 0700.

    Returns the files whose mode it narrowed. Raises ``OSError``.
    """
    narrowed: list[Path] = []
    if not root.exists():
        return narrowed
    os.chmod(root, 0o700)
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            mode = path.lstat().st_mode
            if not stat.S_ISREG(mode) or not is_private_file(path):
                continue
            if stat.S_IMODE(mode) & 0o077:
                os.chmod(path, 0o600)
                narrowed.append(path)
    return narrowed


def new_secret() -> str:
    """A random secret (32 URL-safe characters, 192 bits)."""
    return secrets.token_urlsafe(24)
