"""Pieces of fabricca that need no server: answers, errors, attributes, CSRs, enrollments."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json

import pytest
from ca_testpki import make_ca, make_enrollment
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from fabricca import (
    ATTRIBUTES_OID,
    Attribute,
    AttributeRequest,
    AuthenticationError,
    CAClient,
    CAError,
    Enrollment,
    RegistrationError,
    ServerMessage,
    build_csr,
    certificate_attributes,
    generate_key,
)
from fabricca.attributes import to_attributes
from fabricca.transport import parse_answer


def envelope(result: object = None, errors: list[dict[str, object]] | None = None) -> bytes:
    return json.dumps(
        {"result": result, "errors": errors or [], "messages": [], "success": not errors}
    ).encode()


# -- answers and errors -------------------------------------------------------
def test_success_answer_returns_result() -> None:
    assert parse_answer("register", 201, envelope({"secret": "x"}), RegistrationError) == {
        "secret": "x"
    }


def test_error_answer_raises_the_operation_error_with_server_messages() -> None:
    raw = envelope(errors=[{"code": 74, "message": "Identity 'a' is already registered"}])
    with pytest.raises(RegistrationError) as caught:
        parse_answer("register", 409, raw, RegistrationError)
    err = caught.value
    assert (err.status, err.code) == (409, 74)
    assert err.errors == (ServerMessage(74, "Identity 'a' is already registered"),)
    assert str(err) == "register failed (HTTP 409): [74] Identity 'a' is already registered"


def test_401_is_authentication_error_whatever_the_operation() -> None:
    raw = envelope(errors=[{"code": 20, "message": "Authentication failure"}])
    with pytest.raises(AuthenticationError) as caught:
        parse_answer("revoke", 401, raw, RegistrationError)
    assert isinstance(caught.value, CAError)
    assert caught.value.operation == "revoke"


def test_answer_that_is_not_an_envelope() -> None:
    with pytest.raises(RegistrationError, match="not a Fabric CA JSON envelope") as caught:
        parse_answer("register", 502, b"<html>Bad Gateway</html>", RegistrationError)
    assert caught.value.status == 502
    assert caught.value.message.startswith("answer is not")


def test_unsuccessful_answer_without_messages_is_an_error() -> None:
    raw = json.dumps({"result": None, "errors": [], "success": False}).encode()
    with pytest.raises(RegistrationError):
        parse_answer("register", 200, raw, RegistrationError)


def test_error_without_status() -> None:
    err = CAError("cainfo", "https://x:1: ConnectionRefusedError: refused")
    assert err.status is None and err.code is None
    assert str(err) == "cainfo failed: https://x:1: ConnectionRefusedError: refused"


# -- client arguments ---------------------------------------------------------
@pytest.mark.parametrize(
    "url", ["ftp://h:1", "127.0.0.1:7054", "https://u:p@h:1", "https://h:1?x=1", "https://"]
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        CAClient(url, tls_cert=None)


def test_enrollment_id_with_colon_is_refused() -> None:
    with pytest.raises(ValueError, match="':'"):
        CAClient("https://127.0.0.1:1", tls_cert=None).enroll("a:b", "pw")


def test_register_needs_a_name() -> None:
    with pytest.raises(ValueError):
        CAClient("https://127.0.0.1:1", tls_cert=None).register(make_enrollment(), name="")


# -- attributes ---------------------------------------------------------------
def test_attribute_json() -> None:
    assert Attribute("role", "issuer").to_json() == {
        "name": "role",
        "value": "issuer",
        "ecert": True,
    }
    assert Attribute("desk", "7", ecert=False).to_json() == {"name": "desk", "value": "7"}
    assert AttributeRequest("role").to_json() == {"name": "role"}
    assert AttributeRequest("x", optional=True).to_json() == {"name": "x", "optional": True}


def test_to_attributes_from_mapping_and_sequence() -> None:
    assert to_attributes({"a": "1"}, ecert=False) == (Attribute("a", "1", False),)
    assert to_attributes([Attribute("b", "2")]) == (Attribute("b", "2"),)
    with pytest.raises(TypeError):
        to_attributes([("c", "3")])  # type: ignore[list-item]


def test_certificate_attributes() -> None:
    attrs = {"role": "issuer", "hf.EnrollmentID": "alice"}
    enrollment = make_enrollment(attrs=attrs)
    assert certificate_attributes(enrollment.certificate) == attrs
    assert certificate_attributes(enrollment.parsed_certificate()) == attrs
    assert enrollment.attributes() == attrs
    assert certificate_attributes(make_enrollment().certificate) == {}


@pytest.mark.parametrize("value", [b"not json", b'{"other": 1}', b'{"attrs": []}', b"\xff"])
def test_malformed_attribute_extension(value: bytes) -> None:
    key, ca = make_ca()
    cert = (
        x509.CertificateBuilder()
        .subject_name(ca.subject)
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(dt.datetime(2024, 1, 1))
        .not_valid_after(dt.datetime(2034, 1, 1))
        .add_extension(x509.UnrecognizedExtension(ATTRIBUTES_OID, value), critical=False)
        .sign(key, hashes.SHA256())
    )
    with pytest.raises(ValueError):
        certificate_attributes(cert)


# -- CSR and keys -------------------------------------------------------------
def test_csr_subject_and_hosts() -> None:
    key = generate_key()
    hosts = ["127.0.0.1", "::1", "peer0.example.com", "ops@example.com", "spiffe://x/y"]
    csr = x509.load_pem_x509_csr(build_csr(key, "peer0", hosts))
    assert csr.is_signature_valid
    assert csr.subject.rfc4514_string() == "CN=peer0"
    san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]
    assert san.get_values_for_type(x509.DNSName) == ["peer0.example.com"]
    assert san.get_values_for_type(x509.RFC822Name) == ["ops@example.com"]
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == ["spiffe://x/y"]


def test_csr_without_hosts_has_no_san_and_p384_uses_sha384() -> None:
    csr = x509.load_pem_x509_csr(build_csr(generate_key("P-384"), "alice"))
    assert isinstance(csr.signature_hash_algorithm, hashes.SHA384)
    with pytest.raises(x509.ExtensionNotFound):
        csr.extensions.get_extension_for_class(x509.SubjectAlternativeName)


def test_csr_and_key_argument_errors() -> None:
    with pytest.raises(ValueError):
        generate_key("P-521")
    with pytest.raises(ValueError):
        build_csr(generate_key(), "")
    with pytest.raises(ValueError):
        build_csr(generate_key(), "a", [""])


# -- enrollment ---------------------------------------------------------------
def test_enrollment_serial_and_aki_as_the_ca_writes_them() -> None:
    key, ca = make_ca()
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "z")]))
        .issuer_name(ca.subject)
        .public_key(leaf_key.public_key())
        .serial_number(0x0ABC)
        .not_valid_before(dt.datetime(2024, 1, 1))
        .not_valid_after(dt.datetime(2034, 1, 1))
        .add_extension(x509.AuthorityKeyIdentifier(b"\x00\x0f\x10", None, None), critical=False)
        .sign(key, hashes.SHA256())
    )
    e = Enrollment(key=leaf_key, certificate=cert.public_bytes(serialization.Encoding.PEM))
    assert e.serial == "abc"
    assert e.aki == "f10"
    assert e.enrollment_id == "z"


def test_enrollment_from_pem() -> None:
    e = make_enrollment()
    assert Enrollment.from_pem(e.certificate, e.key_pem(), e.ca_chain).key.private_numbers() == (
        e.key.private_numbers()
    )
    ed = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(TypeError):
        Enrollment.from_pem(e.certificate, ed)
    with pytest.raises(ValueError):
        Enrollment.from_pem(e.certificate, make_enrollment().key_pem())
