"""The submitting client's identity: MSP id, X.509 certificate, Fabric CA attributes.

:meth:`ClientIdentity.get_id` matches Go's ``cid.GetID``: base64 of
``"x509::<subject DN>::<issuer DN>"`` with each DN written as Go's
``pkix.Name.String()`` writes it (see :func:`go_dn_string`).
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Mapping
from types import MappingProxyType

from cryptography import x509
from cryptography.x509.oid import NameOID, ObjectIdentifier

from .errors import Forbidden
from .stub import Creator

#: Extension in which Fabric CA puts enrollment attributes, as JSON {"attrs": {...}}.
ATTRIBUTES_OID = ObjectIdentifier("1.2.3.4.5.6.7.8.1")

# Go's pkix names the types below and parses them into fields; it writes them in this
# order reversed (CN first, C last). Types are listed with their Go short name.
_GO_FIELDS: list[tuple[ObjectIdentifier, str]] = [
    (NameOID.COUNTRY_NAME, "C"),
    (NameOID.STATE_OR_PROVINCE_NAME, "ST"),
    (NameOID.LOCALITY_NAME, "L"),
    (NameOID.STREET_ADDRESS, "STREET"),
    (NameOID.POSTAL_CODE, "POSTALCODE"),
    (NameOID.ORGANIZATION_NAME, "O"),
    (NameOID.ORGANIZATIONAL_UNIT_NAME, "OU"),
    (NameOID.COMMON_NAME, "CN"),
    (NameOID.SERIAL_NUMBER, "SERIALNUMBER"),
]
_SINGLE_VALUED = {NameOID.COMMON_NAME, NameOID.SERIAL_NUMBER}  # Go keeps the last one
_PRINTABLE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'()+,-./:=? ")


class IdentityError(ValueError):
    """The creator is not a usable X.509 identity."""


def _escape(value: str) -> str:
    """Go's escaping of a DN attribute value (RFC 2253 style, loosely)."""
    encoded_length = len(value.encode("utf-8"))
    out: list[str] = []
    offset = 0
    for char in value:
        escape = (
            char in ',+"\\<>;'
            or (char == " " and (offset == 0 or offset == encoded_length - 1))
            or (char == "#" and offset == 0)
        )
        out.append("\\" + char if escape else char)
        offset += len(char.encode("utf-8"))
    return "".join(out)


def _der_string(value: str) -> bytes:
    """DER of a string the way Go's asn1.Marshal encodes an untyped string."""
    body = value.encode("utf-8")
    tag = 0x13 if all(c in _PRINTABLE for c in value) else 0x0C  # Printable / UTF8String
    length = len(body)
    if length < 0x80:
        header = bytes([tag, length])
    else:
        size = length.to_bytes((length.bit_length() + 7) // 8, "big")
        header = bytes([tag, 0x80 | len(size)]) + size
    return header + body


def go_dn_string(name: x509.Name) -> str:
    """Render ``name`` as Go's ``pkix.Name.String()`` does for a parsed certificate.

    Attributes of the nine standard types are grouped by type (one RDN per type,
    values joined by "+"), written CN, OU, O, POSTALCODE, STREET, L, ST, C; other
    attributes follow, last-parsed first, as ``<oid>=#<hex of DER value>``.
    """
    standard = {oid for oid, _ in _GO_FIELDS}
    grouped: dict[ObjectIdentifier, list[str]] = {oid: [] for oid, _ in _GO_FIELDS}
    others: list[str] = []
    for attribute in name:
        value = attribute.value
        if not isinstance(value, str):
            continue  # Go drops non-string values from the rendering
        if attribute.oid in standard:
            if attribute.oid in _SINGLE_VALUED:
                grouped[attribute.oid] = [value]
            else:
                grouped[attribute.oid].append(value)
        else:
            others.append(f"{attribute.oid.dotted_string}=#{_der_string(value).hex()}")
    rdns = [
        "+".join(f"{label}={_escape(v)}" for v in grouped[oid])
        for oid, label in reversed(_GO_FIELDS)
        if grouped[oid]
    ]
    return ",".join(rdns + list(reversed(others)))


def _parse_attributes(certificate: x509.Certificate) -> Mapping[str, str]:
    try:
        extension = certificate.extensions.get_extension_for_oid(ATTRIBUTES_OID)
    except x509.ExtensionNotFound:
        return MappingProxyType({})
    raw = extension.value
    data = raw.value if isinstance(raw, x509.UnrecognizedExtension) else b""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise IdentityError(f"attribute extension is not JSON: {exc}") from None
    attrs = document.get("attrs") if isinstance(document, dict) else None
    if attrs is None:
        return MappingProxyType({})
    if not isinstance(attrs, dict) or not all(isinstance(v, str) for v in attrs.values()):
        raise IdentityError("attribute extension must map names to strings")
    return MappingProxyType(dict(attrs))


class ClientIdentity:
    """An X.509 client identity as presented in a proposal."""

    def __init__(self, msp_id: str, id_bytes: bytes) -> None:
        try:
            certificate = x509.load_pem_x509_certificate(id_bytes)
        except ValueError as exc:
            raise IdentityError(f"creator is not a PEM X.509 certificate: {exc}") from None
        self.msp_id = msp_id
        self.certificate = certificate
        self.attributes = _parse_attributes(certificate)

    @classmethod
    def from_creator(cls, creator: Creator) -> ClientIdentity:
        """The stub's creator, parsed once per certificate: the last
        :data:`CACHED_IDENTITIES` distinct creators are kept (an identity is read-only,
        and the same bytes always parse the same). Raises IdentityError."""
        return _parsed(creator.msp_id, creator.id_bytes)

    def get_msp_id(self) -> str:
        """The MSP id of the client's organisation."""
        return self.msp_id

    @property
    def subject_dn(self) -> str:
        """Subject DN in Go's rendering."""
        return go_dn_string(self.certificate.subject)

    @property
    def issuer_dn(self) -> str:
        """Issuer DN in Go's rendering."""
        return go_dn_string(self.certificate.issuer)

    def get_id(self) -> str:
        """Go ``cid.GetID``: base64("x509::<subject DN>::<issuer DN>")."""
        return self._id

    @functools.cached_property
    def _id(self) -> str:
        text = f"x509::{self.subject_dn}::{self.issuer_dn}"
        return base64.b64encode(text.encode("utf-8")).decode("ascii")

    def get_attribute(self, name: str) -> str | None:
        """The value of a Fabric CA attribute, or None if the certificate lacks it."""
        return self.attributes.get(name)

    def assert_attribute(self, name: str, expected: str) -> None:
        """Raise Forbidden unless attribute ``name`` equals ``expected``."""
        actual = self.get_attribute(name)
        if actual is None:
            raise Forbidden(f"attribute {name} is required to be {expected}; caller has none")
        if actual != expected:
            raise Forbidden(f"attribute {name} is required to be {expected}; caller has {actual}")


#: How many distinct creators :meth:`ClientIdentity.from_creator` keeps parsed.
CACHED_IDENTITIES = 1024


@functools.lru_cache(maxsize=CACHED_IDENTITIES)
def _parsed(msp_id: str, id_bytes: bytes) -> ClientIdentity:
    return ClientIdentity(msp_id, id_bytes)
