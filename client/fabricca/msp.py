"""Writing an enrollment as a Fabric MSP folder (what peers, orderers and the CLI read).

Layout::

    <path>/
      signcerts/cert.pem               the certificate
      keystore/key.pem                 the private key (0600; folder 0700)
      cacerts/ca.pem                   the root CA certificate (ca-2.pem, ... for more roots)
      intermediatecerts/intermediate.pem   present when the chain has intermediates
      config.yaml                      NodeOUs configuration, when given

Fabric reads one certificate per file in ``cacerts`` and ``intermediatecerts``,
so the chain is split into files.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ._files import make_dir, write_file
from .enrollment import Enrollment

_MSP_SUBDIRS = ("signcerts", "keystore", "cacerts", "intermediatecerts")


def node_ous_yaml(ca_file: str = "cacerts/ca.pem") -> str:
    """The usual ``config.yaml`` enabling NodeOUs (client, peer, admin, orderer) for ``ca_file``."""
    ous = {
        f"{role.capitalize()}OUIdentifier": {
            "Certificate": ca_file,
            "OrganizationalUnitIdentifier": role,
        }
        for role in ("client", "peer", "admin", "orderer")
    }
    return yaml.safe_dump({"NodeOUs": {"Enable": True, **ous}}, sort_keys=False)


def _numbered(stem: str, index: int) -> str:
    return f"{stem}.pem" if index == 0 else f"{stem}-{index + 1}.pem"


def write_msp(
    path: Path,
    enrollment: Enrollment,
    *,
    node_ous_config: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Lay out an MSP folder for ``enrollment`` at ``path`` and return ``path``.

    ``node_ous_config`` is written as ``config.yaml`` (see :func:`node_ous_yaml`).
    An MSP folder that already holds files in ``signcerts``, ``keystore``,
    ``cacerts`` or ``intermediatecerts`` is refused unless ``overwrite``, which
    empties those folders first.

    Raises ``FileExistsError`` as said, ``ValueError`` if the enrollment has no
    CA chain or it does not parse, and ``OSError`` if writing fails.
    """
    path = Path(path)
    if not enrollment.ca_chain:
        raise ValueError("the enrollment has no CA chain to put into cacerts")
    chain = x509.load_pem_x509_certificates(enrollment.ca_chain)
    roots = [c for c in chain if c.issuer == c.subject]
    intermediates = [c for c in chain if c.issuer != c.subject]
    if not roots:
        raise ValueError("the CA chain holds no self-signed root certificate")

    for sub in _MSP_SUBDIRS:
        folder = path / sub
        stale = [p for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
        if stale and not overwrite:
            raise FileExistsError(f"{folder} already holds files; pass overwrite=True")
        for old in stale:
            old.unlink()

    make_dir(path, 0o755)
    make_dir(path / "keystore", 0o700)
    write_file(path / "keystore" / "key.pem", enrollment.key_pem(), 0o600)
    make_dir(path / "signcerts", 0o755)
    write_file(path / "signcerts" / "cert.pem", enrollment.certificate)
    make_dir(path / "cacerts", 0o755)
    for i, cert in enumerate(roots):
        pem = cert.public_bytes(serialization.Encoding.PEM)
        write_file(path / "cacerts" / _numbered("ca", i), pem)
    if intermediates:
        make_dir(path / "intermediatecerts", 0o755)
        for i, cert in enumerate(intermediates):
            pem = cert.public_bytes(serialization.Encoding.PEM)
            write_file(path / "intermediatecerts" / _numbered("intermediate", i), pem)
    if node_ous_config is not None:
        write_file(path / "config.yaml", node_ous_config.encode())
    return path


__all__ = ["node_ous_yaml", "write_msp"]
