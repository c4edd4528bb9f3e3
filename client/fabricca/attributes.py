"""Identity attributes: what a registrar gives, what an enrollee asks for, what a cert carries.

Fabric CA writes the attributes of an enrollment certificate into the X.509
extension ``1.2.3.4.5.6.7.8.1`` as JSON ``{"attrs": {"name": "value", ...}}``
(fabric-ca ``lib/attrmgr``). Chaincode reads them with the client identity
library (``cid.GetAttributeValue``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509

ATTRIBUTES_OID = x509.ObjectIdentifier("1.2.3.4.5.6.7.8.1")
"""OID of the extension holding the Fabric CA attributes of a certificate."""


@dataclass(frozen=True, slots=True)
class Attribute:
    """An attribute registered with an identity.

    With ``ecert`` true the attribute goes into every enrollment certificate
    of the identity unless the enroll request names the attributes it wants.
    """

    name: str
    value: str
    ecert: bool = True

    def to_json(self) -> dict[str, Any]:
        """The attribute as the register request body wants it."""
        body: dict[str, Any] = {"name": self.name, "value": self.value}
        if self.ecert:
            body["ecert"] = True
        return body


@dataclass(frozen=True, slots=True)
class AttributeRequest:
    """An attribute an enroll or reenroll request asks to put into the certificate.

    A required (not ``optional``) attribute that the identity lacks makes the
    server refuse the request.
    """

    name: str
    optional: bool = False

    def to_json(self) -> dict[str, Any]:
        """The request as the enroll request body wants it."""
        body: dict[str, Any] = {"name": self.name}
        if self.optional:
            body["optional"] = True
        return body


def to_attributes(
    attrs: Mapping[str, str] | Sequence[Attribute], *, ecert: bool = True
) -> tuple[Attribute, ...]:
    """Normalise a ``{name: value}`` mapping (each with ``ecert``) or attributes.

    Raises ``TypeError`` for an entry that is neither.
    """
    if isinstance(attrs, Mapping):
        return tuple(Attribute(str(k), str(v), ecert) for k, v in attrs.items())
    result: list[Attribute] = []
    for attr in attrs:
        if not isinstance(attr, Attribute):
            raise TypeError(f"expected Attribute, got {type(attr).__name__}")
        result.append(attr)
    return tuple(result)


def certificate_attributes(certificate: x509.Certificate | bytes) -> dict[str, str]:
    """Return the Fabric CA attributes a certificate carries (``{}`` if it has none).

    ``certificate`` is a parsed certificate or PEM bytes. Raises ``ValueError``
    if the PEM does not parse or the extension is not the expected JSON.
    """
    cert = (
        certificate
        if isinstance(certificate, x509.Certificate)
        else x509.load_pem_x509_certificate(certificate)
    )
    try:
        ext = cert.extensions.get_extension_for_oid(ATTRIBUTES_OID)
    except x509.ExtensionNotFound:
        return {}
    value = ext.value
    if not isinstance(value, x509.UnrecognizedExtension):  # pragma: no cover - defensive
        raise ValueError(f"unexpected value type for {ATTRIBUTES_OID.dotted_string}")
    try:
        decoded = json.loads(value.value)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"attribute extension is not JSON: {err}") from err
    attrs = decoded.get("attrs") if isinstance(decoded, dict) else None
    if not isinstance(attrs, dict):
        raise ValueError('attribute extension lacks an "attrs" object')
    return {str(k): str(v) for k, v in attrs.items()}


__all__ = [
    "ATTRIBUTES_OID",
    "Attribute",
    "AttributeRequest",
    "certificate_attributes",
    "to_attributes",
]
