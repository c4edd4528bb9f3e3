"""Key pairs and certificate signing requests (CSRs) for enroll and reenroll.

The CA requires the CSR's common name to equal the enrollment ID. Hosts
become subject alternative names the way the CA's signer (cfssl) reads them:
an IP address is an IP SAN, ``user@host`` an e-mail SAN, ``scheme://...`` a URI
SAN and anything else a DNS name.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CURVES: dict[str, type[ec.EllipticCurve]] = {
    "P-256": ec.SECP256R1,
    "P-384": ec.SECP384R1,
}
"""Curves the CA signs keys for, by the names Fabric CA uses (``ecdsa`` 256 / 384)."""


def generate_key(curve: str = "P-256") -> ec.EllipticCurvePrivateKey:
    """Generate an ECDSA private key. Raises ``ValueError`` for a curve not in :data:`CURVES`."""
    try:
        curve_type = CURVES[curve]
    except KeyError:
        raise ValueError(f"unsupported curve {curve!r}; use one of {sorted(CURVES)}") from None
    return ec.generate_private_key(curve_type())


def host_names(hosts: Iterable[str]) -> list[x509.GeneralName]:
    """Turn host strings into subject alternative names. Raises ``ValueError`` for ``""``."""
    names: list[x509.GeneralName] = []
    for host in hosts:
        if not host:
            raise ValueError("empty host name")
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
            continue
        except ValueError:
            pass
        if "://" in host:
            names.append(x509.UniformResourceIdentifier(host))
        elif "@" in host:
            names.append(x509.RFC822Name(host))
        else:
            names.append(x509.DNSName(host))
    return names


def build_csr(
    key: ec.EllipticCurvePrivateKey, common_name: str, hosts: Iterable[str] = ()
) -> bytes:
    """Return a PEM CSR with subject ``CN=<common_name>`` and SANs for ``hosts``.

    Signed with SHA-256 (SHA-384 for P-384 keys). Raises ``ValueError`` for an
    empty common name or host.
    """
    if not common_name:
        raise ValueError("the common name (enrollment ID) must not be empty")
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    )
    sans = host_names(hosts)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    digest: hashes.SHA256 | hashes.SHA384 = (
        hashes.SHA384() if isinstance(key.curve, ec.SECP384R1) else hashes.SHA256()
    )
    return builder.sign(key, digest).public_bytes(serialization.Encoding.PEM)


__all__ = ["CURVES", "build_csr", "generate_key", "host_names"]
