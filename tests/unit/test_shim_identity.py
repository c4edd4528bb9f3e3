"""ClientIdentity: MSP id, Fabric CA attributes, and Go-compatible get_id."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ObjectIdentifier

from ebill_chaincode.shim import ClientIdentity, Creator, Forbidden, IdentityError
from ebill_chaincode.shim.identity import ATTRIBUTES_OID, go_dn_string

KEY = ec.generate_private_key(ec.SECP256R1())

# Fabric CA writes names in this order: C, ST, L, O, OU, CN.
CA_NAME = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "North Carolina"),
        x509.NameAttribute(NameOID.LOCALITY_NAME, "Durham"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "org1.example.com"),
        x509.NameAttribute(NameOID.COMMON_NAME, "ca.org1.example.com"),
    ]
)
USER_NAME = x509.Name(
    [
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "client"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "org1"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "department1"),
        x509.NameAttribute(NameOID.COMMON_NAME, "appUser"),
    ]
)


def make_cert(subject: x509.Name, extension_value: bytes | None = None) -> bytes:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(CA_NAME)
        .public_key(KEY.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
    )
    if extension_value is not None:
        builder = builder.add_extension(
            x509.UnrecognizedExtension(ATTRIBUTES_OID, extension_value), critical=False
        )
    return builder.sign(KEY, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def attrs_extension(attrs: dict[str, str]) -> bytes:
    return json.dumps({"attrs": attrs}).encode()


def test_msp_and_attributes() -> None:
    pem = make_cert(USER_NAME, attrs_extension({"role": "issuer", "unit": "U001"}))
    identity = ClientIdentity.from_creator(Creator("UnitsMSP", pem))
    assert identity.msp_id == identity.get_msp_id() == "UnitsMSP"
    assert identity.get_attribute("role") == "issuer"
    assert identity.get_attribute("unit") == "U001"
    assert identity.get_attribute("missing") is None
    assert identity.certificate.subject == USER_NAME
    identity.assert_attribute("role", "issuer")
    with pytest.raises(
        Forbidden, match="attribute role is required to be clerk; caller has issuer"
    ):
        identity.assert_attribute("role", "clerk")
    with pytest.raises(Forbidden, match="caller has none"):
        identity.assert_attribute("missing", "x")


def test_certificate_without_attribute_extension() -> None:
    identity = ClientIdentity("Org1MSP", make_cert(USER_NAME))
    assert dict(identity.attributes) == {}
    assert identity.get_attribute("role") is None


def test_fabric_ca_style_extension_with_hf_attributes() -> None:
    document = {"attrs": {"hf.Affiliation": "", "hf.EnrollmentID": "u1", "hf.Type": "client"}}
    identity = ClientIdentity("Org1MSP", make_cert(USER_NAME, json.dumps(document).encode()))
    assert identity.get_attribute("hf.EnrollmentID") == "u1"
    assert ClientIdentity("M", make_cert(USER_NAME, b"{}")).attributes == {}


@pytest.mark.parametrize("value", [b"not json", b'{"attrs": {"role": 1}}', b'{"attrs": []}'])
def test_malformed_attribute_extension(value: bytes) -> None:
    with pytest.raises(IdentityError):
        ClientIdentity("Org1MSP", make_cert(USER_NAME, value))


def test_creator_that_is_not_a_certificate() -> None:
    with pytest.raises(IdentityError):
        ClientIdentity("Org1MSP", b"idemix-bytes")


def test_get_id_matches_go_cid() -> None:
    identity = ClientIdentity("Org1MSP", make_cert(USER_NAME))
    expected = (
        "x509::CN=appUser,OU=client+OU=org1+OU=department1"
        "::CN=ca.org1.example.com,O=org1.example.com,L=Durham,ST=North Carolina,C=US"
    )
    assert identity.subject_dn == "CN=appUser,OU=client+OU=org1+OU=department1"
    assert base64.b64decode(identity.get_id()).decode() == expected
    assert identity.get_id() == base64.b64encode(expected.encode()).decode()


def test_dn_order_is_go_order_whatever_the_certificate_order() -> None:
    reversed_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "user1"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "client"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Hyperledger"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "North Carolina"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        ]
    )
    text = "CN=user1,OU=client,O=Hyperledger,ST=North Carolina,C=US"
    assert go_dn_string(reversed_name) == text
    assert go_dn_string(x509.Name(list(reversed(list(reversed_name))))) == text


def test_dn_escaping_and_non_standard_attributes() -> None:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.EMAIL_ADDRESS, "a@b.c"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme, Inc. +1"),
            x509.NameAttribute(NameOID.COMMON_NAME, " #lead"),
            x509.NameAttribute(ObjectIdentifier("2.5.4.12"), "Boss"),
        ]
    )
    # Go: standard types first (CN..C), then the others, last-parsed first, as hex DER.
    # "Boss" is a PrintableString (tag 13); "a@b.c" has "@", so a UTF8String (tag 0c).
    assert go_dn_string(name) == (
        "CN=\\ #lead,O=Acme\\, Inc. \\+1,"
        "2.5.4.12=#1304426f7373,"
        "1.2.840.113549.1.9.1=#0c056140622e63"
    )
