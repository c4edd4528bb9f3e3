"""Revocation reasons and the result of a revoke request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .cainfo import decode_b64_field

REVOCATION_REASONS: frozenset[str] = frozenset(
    {
        "unspecified",
        "keycompromise",
        "cacompromise",
        "affiliationchanged",
        "superseded",
        "cessationofoperation",
        "certificatehold",
        "removefromcrl",
        "privilegewithdrawn",
        "aacompromise",
    }
)
"""Reasons the CA knows (RFC 5280 names, lower case); it records any other as unspecified."""


@dataclass(frozen=True, slots=True)
class RevokedCertificate:
    """A certificate the CA marked revoked: serial and AKI as lower-case hex."""

    serial: str
    aki: str


@dataclass(frozen=True, slots=True)
class RevokeResult:
    """The certificates a revoke request revoked and, when asked for, the new CRL (PEM)."""

    revoked: tuple[RevokedCertificate, ...]
    crl: bytes | None = None

    @classmethod
    def from_result(cls, result: dict[str, Any]) -> RevokeResult:
        """Build from the ``result`` object of an answer. Raises ``ValueError`` if malformed."""
        entries = result.get("RevokedCerts") or []
        if not isinstance(entries, list):
            raise ValueError("RevokedCerts is not a list")
        revoked = tuple(
            RevokedCertificate(serial=str(e.get("Serial", "")), aki=str(e.get("AKI", "")))
            for e in entries
            if isinstance(e, dict)
        )
        crl = decode_b64_field(result, "CRL")
        return cls(revoked=revoked, crl=crl or None)


__all__ = ["REVOCATION_REASONS", "RevokeResult", "RevokedCertificate"]
