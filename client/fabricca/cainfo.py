"""What ``/api/v1/cainfo`` (and the ``ServerInfo`` of an enroll answer) tells about a CA."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any


def decode_b64_field(result: dict[str, Any], name: str) -> bytes:
    """Decode the base64 string ``result[name]`` (``b""`` if absent or empty).

    Raises ``ValueError`` if the field is not a string or not base64.
    """
    value = result.get(name) or ""
    if not isinstance(value, str):
        raise ValueError(f"field {name!r} is not a string")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as err:
        raise ValueError(f"field {name!r} is not base64: {err}") from err


@dataclass(frozen=True, slots=True)
class CAInfo:
    """Name, certificate chain (PEM, as the CA sends it) and server version of a CA.

    The Idemix issuer keys are empty when the CA has no Idemix issuer.
    """

    ca_name: str
    ca_chain: bytes
    version: str
    issuer_public_key: bytes = b""
    issuer_revocation_public_key: bytes = b""

    @classmethod
    def from_result(cls, result: dict[str, Any]) -> CAInfo:
        """Build from the ``result`` object of an answer. Raises ``ValueError`` if malformed."""
        return cls(
            ca_name=str(result.get("CAName") or ""),
            ca_chain=decode_b64_field(result, "CAChain"),
            version=str(result.get("Version") or ""),
            issuer_public_key=decode_b64_field(result, "IssuerPublicKey"),
            issuer_revocation_public_key=decode_b64_field(result, "IssuerRevocationPublicKey"),
        )


__all__ = ["CAInfo", "decode_b64_field"]
