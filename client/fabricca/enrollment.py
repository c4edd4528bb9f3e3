"""Enrollment: a private key, the certificate the CA issued for it and the CA chain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .attributes import certificate_attributes


class SigningIdentity(Protocol):
    """What token authentication needs: a certificate (PEM) and its ECDSA private key."""

    @property
    def key(self) -> ec.EllipticCurvePrivateKey: ...

    @property
    def certificate(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Enrollment:
    """The result of an enroll or reenroll.

    ``certificate`` and ``ca_chain`` are PEM bytes; ``ca_chain`` is the chain of
    the issuing CA, root last (empty when unknown).
    """

    key: ec.EllipticCurvePrivateKey
    certificate: bytes
    ca_chain: bytes = b""

    @classmethod
    def from_pem(cls, certificate: bytes, key: bytes, ca_chain: bytes = b"") -> Enrollment:
        """Build an enrollment from PEM certificate and (unencrypted) PEM key bytes.

        Raises ``ValueError`` if either does not parse or the key does not
        belong to the certificate, and ``TypeError`` if the key is not ECDSA.
        """
        private_key = serialization.load_pem_private_key(key, password=None)
        if not isinstance(private_key, ec.EllipticCurvePrivateKey):
            raise TypeError(f"expected an ECDSA private key, got {type(private_key).__name__}")
        public = x509.load_pem_x509_certificate(certificate).public_key()
        mine = private_key.public_key()
        if not isinstance(public, ec.EllipticCurvePublicKey) or public != mine:
            raise ValueError("the private key does not match the certificate")
        return cls(key=private_key, certificate=certificate, ca_chain=ca_chain)

    def parsed_certificate(self) -> x509.Certificate:
        """The parsed certificate. Raises ``ValueError`` if it is not PEM."""
        return x509.load_pem_x509_certificate(self.certificate)

    @property
    def enrollment_id(self) -> str:
        """The subject common name, which Fabric CA sets to the enrollment ID."""
        names = self.parsed_certificate().subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        return str(names[0].value) if names else ""

    @property
    def serial(self) -> str:
        """Serial number as lower-case hex without leading zeros, as the CA reports it."""
        return format(self.parsed_certificate().serial_number, "x")

    @property
    def aki(self) -> str:
        """Authority key identifier as lower-case hex without leading zeros.

        That is the form the CA keeps and reports (e.g. in :class:`RevokeResult`).

        Raises ``ValueError`` if the certificate has no such extension.
        """
        try:
            ext = self.parsed_certificate().extensions.get_extension_for_class(
                x509.AuthorityKeyIdentifier
            )
        except x509.ExtensionNotFound:
            raise ValueError("certificate has no authority key identifier") from None
        key_id = ext.value.key_identifier
        if key_id is None:
            raise ValueError("certificate has no authority key identifier")
        return key_id.hex().lstrip("0")

    def attributes(self) -> dict[str, str]:
        """The Fabric CA attributes in the certificate. Raises ``ValueError`` if malformed."""
        return certificate_attributes(self.parsed_certificate())

    def key_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (what MSP keystores hold)."""
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


__all__ = ["Enrollment", "SigningIdentity"]
