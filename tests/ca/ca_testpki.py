"""Small local PKI for unit tests that need no CA server."""

from __future__ import annotations

import datetime as dt
import json

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fabricca import ATTRIBUTES_OID, Enrollment


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(
    cn: str = "test-root",
    *,
    issuer: tuple[ec.EllipticCurvePrivateKey, x509.Certificate] | None = None,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A self-signed root, or an intermediate CA when ``issuer`` is given."""
    key = ec.generate_private_key(ec.SECP256R1())
    signer_key, issuer_name = (issuer[0], issuer[1].subject) if issuer else (key, _name(cn))
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(signer_key, hashes.SHA256())
    )
    return key, cert


def make_enrollment(
    cn: str = "alice",
    *,
    attrs: dict[str, str] | None = None,
    curve: ec.EllipticCurve | None = None,
    issuer: tuple[ec.EllipticCurvePrivateKey, x509.Certificate] | None = None,
    chain: list[x509.Certificate] | None = None,
) -> Enrollment:
    """An enrollment whose certificate is issued by a fresh (or the given) test CA."""
    ca_key, ca_cert = issuer or make_ca()
    key = ec.generate_private_key(curve or ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if attrs is not None:
        value = json.dumps({"attrs": attrs}).encode()
        builder = builder.add_extension(
            x509.UnrecognizedExtension(ATTRIBUTES_OID, value), critical=False
        )
    cert = builder.sign(ca_key, hashes.SHA256())
    pem = serialization.Encoding.PEM
    chain_pem = b"".join(c.public_bytes(pem) for c in (chain or [ca_cert]))
    return Enrollment(key=key, certificate=cert.public_bytes(pem), ca_chain=chain_pem)
