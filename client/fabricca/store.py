"""IdentityStore: enrollments on disk, one private folder per label.

Layout::

    <root>/                 0700
      <label>/              0700
        cert.pem            certificate (0644)
        key.pem             PKCS#8 private key (0600)
        ca.pem              CA chain (0644; absent when the chain is unknown)
"""

from __future__ import annotations

import builtins
import re
import shutil
from pathlib import Path

from ._files import make_dir, write_file
from .enrollment import Enrollment

_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}")

CERT_FILE = "cert.pem"
KEY_FILE = "key.pem"
CA_FILE = "ca.pem"


def check_label(label: str) -> str:
    """Return ``label`` if it is a safe folder name, else raise ``ValueError``.

    A label starts with a letter or digit and holds letters, digits and
    ``. _ @ + -`` (at most 128 characters), so it never leaves the store.
    """
    if not _LABEL.fullmatch(label):
        raise ValueError(f"invalid identity label {label!r}")
    return label


class IdentityStore:
    """Enrollments kept under ``root`` by label (for example the enrollment ID).

    The root folder is created on the first :meth:`put`.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _dir(self, label: str) -> Path:
        return self.root / check_label(label)

    def put(self, label: str, enrollment: Enrollment) -> Path:
        """Store (or replace) the enrollment under ``label``; returns its folder.

        Raises ``ValueError`` for an invalid label and ``OSError`` if writing fails.
        """
        folder = self._dir(label)
        make_dir(self.root, 0o700)
        make_dir(folder, 0o700)
        write_file(folder / KEY_FILE, enrollment.key_pem(), 0o600)
        write_file(folder / CERT_FILE, enrollment.certificate, 0o644)
        if enrollment.ca_chain:
            write_file(folder / CA_FILE, enrollment.ca_chain, 0o644)
        else:
            (folder / CA_FILE).unlink(missing_ok=True)
        return folder

    def get(self, label: str) -> Enrollment:
        """Load the enrollment stored under ``label``.

        Raises ``KeyError`` if there is none, ``ValueError`` for an invalid
        label or files that do not parse or match, ``OSError`` if reading fails.
        """
        folder = self._dir(label)
        if label not in self:
            raise KeyError(label)
        ca_path = folder / CA_FILE
        return Enrollment.from_pem(
            certificate=(folder / CERT_FILE).read_bytes(),
            key=(folder / KEY_FILE).read_bytes(),
            ca_chain=ca_path.read_bytes() if ca_path.exists() else b"",
        )

    def __contains__(self, label: object) -> bool:
        if not isinstance(label, str) or not _LABEL.fullmatch(label):
            return False
        folder = self.root / label
        return (folder / CERT_FILE).is_file() and (folder / KEY_FILE).is_file()

    def list(self) -> builtins.list[str]:
        """Labels of the stored enrollments, sorted. Raises ``OSError`` if listing fails."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and p.name in self)

    def remove(self, label: str) -> None:
        """Delete the enrollment stored under ``label``.

        Raises ``KeyError`` if there is none, ``ValueError`` for an invalid label
        and ``OSError`` if deleting fails.
        """
        folder = self._dir(label)
        if label not in self:
            raise KeyError(label)
        shutil.rmtree(folder)


__all__ = ["CA_FILE", "CERT_FILE", "KEY_FILE", "IdentityStore", "check_label"]
