"""Creators for simulated transactions: X.509 client certificates with Fabric CA attributes.

A certificate carries its attributes as Fabric CA does (extension
``1.2.3.4.5.6.7.8.1``, JSON ``{"attrs": {...}}``), so
:class:`~ebill_chaincode.shim.ClientIdentity` reads them as on a real peer. The
certificates are for tests only: one key signs them all and nothing checks the chain.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ..shim import Creator
from ..shim.identity import ATTRIBUTES_OID


class CertificateFactory:
    """Issues PEM client certificates (OU ``client``) signed by one P-256 key (a new one
    unless ``key`` is given), valid from a day before to a day after they are made."""

    def __init__(self, key: ec.EllipticCurvePrivateKey | None = None) -> None:
        self.key = key or ec.generate_private_key(ec.SECP256R1())

    def certificate(self, cn: str, attrs: Mapping[str, str] | None, issuer: str = "ca") -> bytes:
        """A PEM certificate for ``cn`` with Fabric CA attributes ``attrs`` (None: no
        attribute extension at all), issued in the name of ``issuer``."""
        now = dt.datetime.now(dt.UTC)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "client"),
                x509.NameAttribute(NameOID.COMMON_NAME, cn),
            ]
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
        )
        if attrs is not None:
            value = json.dumps({"attrs": dict(attrs)}).encode()
            builder = builder.add_extension(
                x509.UnrecognizedExtension(ATTRIBUTES_OID, value), critical=False
            )
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)

    def identity(self, msp_id: str, cn: str, **attrs: str) -> Creator:
        """A creator of ``msp_id`` whose certificate (issuer ``ca.<msp id>``) carries ``attrs``."""
        return Creator(msp_id, self.certificate(cn, attrs, f"ca.{msp_id.lower()}"))


_default: CertificateFactory | None = None


def _factory() -> CertificateFactory:
    global _default
    if _default is None:
        _default = CertificateFactory()
    return _default


def certificate(cn: str, attrs: Mapping[str, str] | None, issuer: str = "ca") -> bytes:
    """:meth:`CertificateFactory.certificate` of the module's one factory."""
    return _factory().certificate(cn, attrs, issuer)


def identity(msp_id: str, cn: str, **attrs: str) -> Creator:
    """:meth:`CertificateFactory.identity` of the module's one factory: a creator of
    ``msp_id`` named ``cn`` with Fabric CA attributes ``attrs`` (``role="issuer"``...)."""
    return _factory().identity(msp_id, cn, **attrs)
