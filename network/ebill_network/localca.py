"""Small private CAs the network makes itself (``cryptography``), each for one link only.

* The chaincode-link CA signs the chaincode server's TLS certificate and one
  client certificate per peer; the chaincode server trusts this CA alone, so a
  certificate from an org's CA (a payer's, say) cannot open a stream.
* The operations CA signs the TLS certificate of every operations listener
  (CAs, orderers, peers) and the operator's client certificate; the listeners
  trust this CA alone for clients, so only the operator reaches them.

A CA lives in a folder of mode 0700: ``ca.pem`` and ``ca.key`` (0600). Issued
pairs are written as ``cert.pem`` and ``key.pem`` (0600) in a folder of their own.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .files import make_private_dir, write_private

_VALIDITY = dt.timedelta(days=3650)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ebill-network"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


@dataclass(frozen=True)
class LocalCA:
    """A CA whose certificate and key are in ``home`` (see the module doc)."""

    home: Path

    @property
    def cert_file(self) -> Path:
        return self.home / "ca.pem"

    @property
    def key_file(self) -> Path:
        return self.home / "ca.key"

    def exists(self) -> bool:
        return self.cert_file.is_file() and self.key_file.is_file()

    def ensure(self, common_name: str) -> LocalCA:
        """Create the CA (a fresh P-256 key, self-signed) unless it already exists."""
        if self.exists():
            return self
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(_name(common_name))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        make_private_dir(self.home)
        write_private(self.key_file, _key_pem(key))
        self.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return self

    def issue(
        self, out: Path, common_name: str, *, hosts: tuple[str, ...] = (), client: bool = False
    ) -> Path:
        """Write a TLS pair signed by this CA into ``out`` unless one is there; returns ``out``.

        ``hosts`` become SANs (IP addresses as IP SANs) of a server certificate;
        ``client`` makes a client certificate. Raises ``FileNotFoundError`` if the
        CA does not exist yet.
        """
        if (out / "cert.pem").is_file() and (out / "key.pem").is_file():
            return out
        ca_cert = x509.load_pem_x509_certificate(self.cert_file.read_bytes())
        ca_key = serialization.load_pem_private_key(self.key_file.read_bytes(), None)
        assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
            )
        )
        if hosts:
            names: list[x509.GeneralName] = []
            for host in hosts:
                try:
                    names.append(x509.IPAddress(ipaddress.ip_address(host)))
                except ValueError:
                    names.append(x509.DNSName(host))
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        make_private_dir(out)
        write_private(out / "key.pem", _key_pem(key))
        (out / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (out / "ca.pem").write_bytes(self.cert_file.read_bytes())
        return out
