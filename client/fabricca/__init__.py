"""Client for the REST API of a Hyperledger Fabric CA server (v1.4/v1.5).

Typical use::

    from pathlib import Path
    import fabricca

    ca = fabricca.CAClient("https://localhost:7054", tls_cert=Path("tls-cert.pem"))
    admin = ca.enroll("admin", bootstrap_secret)   # a random one, never admin/adminpw
    secret = ca.register(admin, name="alice", attrs={"role": "issuer"}, max_enrollments=1)
    alice = ca.enroll("alice", secret)    # the one enrollment; then ca.reenroll(alice)
    alice.attributes()["role"]            # "issuer"

    ca.revoke(admin, name="alice")
    crl = ca.gen_crl(admin)               # PEM: goes into the org's channel MSP

    store = fabricca.IdentityStore(Path("~/.ebill/ids").expanduser())
    store.put("alice", alice)
    fabricca.write_msp(Path("msp"), alice, node_ous_config=fabricca.node_ous_yaml())

See :mod:`fabricca.errors` for what is raised where.
"""

from .attributes import (
    ATTRIBUTES_OID,
    Attribute,
    AttributeRequest,
    certificate_attributes,
)
from .cainfo import CAInfo
from .client import CAClient
from .csr import build_csr, generate_key
from .enrollment import Enrollment, SigningIdentity
from .errors import (
    AuthenticationError,
    CAError,
    EnrollmentError,
    RegistrationError,
    RevocationError,
    ServerMessage,
)
from .msp import node_ous_yaml, write_msp
from .revocation import REVOCATION_REASONS, RevokedCertificate, RevokeResult
from .store import IdentityStore
from .token import create_token, verify_token

__all__ = [
    "ATTRIBUTES_OID",
    "REVOCATION_REASONS",
    "Attribute",
    "AttributeRequest",
    "AuthenticationError",
    "CAClient",
    "CAError",
    "CAInfo",
    "Enrollment",
    "EnrollmentError",
    "IdentityStore",
    "RegistrationError",
    "RevocationError",
    "RevokeResult",
    "RevokedCertificate",
    "ServerMessage",
    "SigningIdentity",
    "build_csr",
    "certificate_attributes",
    "create_token",
    "generate_key",
    "node_ous_yaml",
    "verify_token",
    "write_msp",
]
