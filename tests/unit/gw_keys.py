"""The test identity of the fabricgw unit tests: a P-256 key and its self-signed certificate.

Import as ``from gw_keys import ...`` (pytest puts this folder on the path).
"""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

import fabricgw

KEY = ec.generate_private_key(ec.SECP256R1())


def self_signed_pem(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    """A one-day self-signed certificate (CN user1) for ``key``, PEM."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "user1")])
    now = datetime.datetime.now(datetime.UTC)
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, algorithm)
    )
    return cert.public_bytes(serialization.Encoding.PEM)


IDENTITY = fabricgw.Identity("Org1MSP", self_signed_pem(KEY))


def verify_p256(signature: bytes, message: bytes) -> None:
    """Raise InvalidSignature unless ``signature`` is KEY's ECDSA-SHA256 over ``message``."""
    KEY.public_key().verify(signature, message, ec.ECDSA(hashes.SHA256()))
