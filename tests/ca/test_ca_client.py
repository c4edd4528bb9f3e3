"""CAClient against a real fabric-ca-server started by the session (see conftest)."""

from __future__ import annotations

import ipaddress
import itertools
import ssl

import pytest
from ca_server import ADMIN, CA_NAME, CAServer, free_port
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from fabricca import (
    Attribute,
    AttributeRequest,
    AuthenticationError,
    CAClient,
    CAError,
    Enrollment,
    EnrollmentError,
    RegistrationError,
    RevocationError,
    certificate_attributes,
)
from fabricca.errors import (
    AUTHENTICATION_FAILURE,
    AUTHORIZATION_FAILURE,
    CERTIFICATE_ALREADY_REVOKED,
    CERTIFICATE_NOT_FOUND,
    DUPLICATE_IDENTITY,
)

_ids = itertools.count(1)


def new_name(prefix: str = "user") -> str:
    return f"{prefix}{next(_ids)}"


def registered(ca: CAClient, admin: Enrollment, **kwargs: object) -> tuple[str, str]:
    name = new_name()
    secret = ca.register(admin, name=name, **kwargs)  # type: ignore[arg-type]
    return name, secret


# -- cainfo -------------------------------------------------------------------
def test_cainfo(ca: CAClient, ca_server: CAServer) -> None:
    info = ca.info()
    assert info.ca_name == CA_NAME
    assert info.version.startswith("1.5")
    (root,) = x509.load_pem_x509_certificates(info.ca_chain)
    assert root.subject == root.issuer
    assert (ca_server.home / "ca-cert.pem").read_bytes().strip() == info.ca_chain.strip()


def test_cainfo_of_unknown_ca_name_fails(ca_server: CAServer) -> None:
    other = CAClient(ca_server.url, tls_cert=ca_server.tls_cert.read_bytes(), ca_name="nope")
    with pytest.raises(CAError) as caught:
        other.info()
    assert caught.value.status == 404
    assert "nope" in caught.value.message


# -- enroll -------------------------------------------------------------------
def test_enroll_admin(admin: Enrollment, ca: CAClient) -> None:
    cert = admin.parsed_certificate()
    assert admin.enrollment_id == ADMIN[0]
    assert cert.public_key() == admin.key.public_key()
    assert isinstance(admin.key.curve, ec.SECP256R1)
    assert admin.ca_chain == ca.info().ca_chain
    root = x509.load_pem_x509_certificate(admin.ca_chain)
    cert.verify_directly_issued_by(root)
    # The bootstrap admin comes from the server config, not from register, so it
    # has no hf.EnrollmentID attribute; registered identities do (below).
    assert "hf.EnrollmentID" not in admin.attributes()


def test_enroll_with_p384_key(ca: CAClient) -> None:
    enrollment = ca.enroll(*ADMIN, key_curve="P-384")
    assert isinstance(enrollment.parsed_certificate().public_key().curve, ec.SECP384R1)  # type: ignore[union-attr]


def test_register_with_attributes_and_enroll(ca: CAClient, admin: Enrollment) -> None:
    name = new_name("issuer")
    secret = ca.register(admin, name=name, attrs={"role": "issuer", "unit": "HN0101"})
    user = ca.enroll(name, secret)
    attrs = certificate_attributes(user.certificate)
    assert attrs["role"] == "issuer"
    assert attrs["unit"] == "HN0101"
    assert attrs["hf.EnrollmentID"] == name
    assert attrs["hf.Type"] == "client"
    assert user.enrollment_id == name


def test_register_with_chosen_secret_and_non_ecert_attribute(
    ca: CAClient, admin: Enrollment
) -> None:
    name = new_name()
    attrs = [Attribute("role", "auditor"), Attribute("desk", "7", ecert=False)]
    assert ca.register(admin, name=name, secret="s3cret", attrs=attrs) == "s3cret"
    default = ca.enroll(name, "s3cret")
    assert default.attributes()["role"] == "auditor"
    assert "desk" not in default.attributes()
    # Asking for attributes puts exactly those into the certificate.
    asked = ca.enroll(name, "s3cret", attr_reqs=[AttributeRequest("desk")])
    assert asked.attributes() == {"desk": "7"}


def test_enroll_requiring_missing_attribute_fails(ca: CAClient, admin: Enrollment) -> None:
    name, secret = registered(ca, admin)
    with pytest.raises(EnrollmentError) as caught:
        ca.enroll(name, secret, attr_reqs=[AttributeRequest("role")])
    assert "role" in caught.value.message
    optional = ca.enroll(name, secret, attr_reqs=[AttributeRequest("role", optional=True)])
    assert "role" not in optional.attributes()


def test_enroll_tls_profile_with_hosts(ca: CAClient, admin: Enrollment) -> None:
    name, secret = registered(ca, admin, type="peer")
    hosts = (h for h in ["127.0.0.1", "peer0.example.com"])  # any iterable, even one-shot
    tls = ca.enroll(name, secret, profile="tls", csr_hosts=hosts)
    cert = tls.parsed_certificate()
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert san.get_values_for_type(x509.DNSName) == ["peer0.example.com"]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku


def test_enroll_wrong_secret_is_authentication_error(ca: CAClient, admin: Enrollment) -> None:
    name, _ = registered(ca, admin)
    with pytest.raises(AuthenticationError) as caught:
        ca.enroll(name, "wrong")
    err = caught.value
    assert err.status == 401
    assert err.code == AUTHENTICATION_FAILURE
    assert err.message == "Authentication failure"
    assert "enroll failed (HTTP 401): [20] Authentication failure" in str(err)


def test_enroll_unknown_identity_is_authentication_error(ca: CAClient) -> None:
    with pytest.raises(AuthenticationError):
        ca.enroll("nobody-here", "pw")


def test_max_enrollments(ca: CAClient, admin: Enrollment) -> None:
    name, secret = registered(ca, admin, max_enrollments=1)
    ca.enroll(name, secret)
    with pytest.raises(AuthenticationError):
        ca.enroll(name, secret)


# -- reenroll -----------------------------------------------------------------
def test_reenroll_gives_new_certificate_same_subject(ca: CAClient, admin: Enrollment) -> None:
    name = new_name()
    secret = ca.register(admin, name=name, attrs={"role": "issuer"})
    first = ca.enroll(name, secret)
    second = ca.reenroll(first)
    old, new = first.parsed_certificate(), second.parsed_certificate()
    assert new.subject == old.subject
    assert new.serial_number != old.serial_number
    assert new.public_key() != old.public_key()
    assert second.attributes()["role"] == "issuer"
    assert second.ca_chain == first.ca_chain
    # The new certificate authenticates in turn; reuse_key keeps the key pair.
    third = ca.reenroll(second, reuse_key=True)
    assert third.parsed_certificate().public_key() == second.key.public_key()


def test_reenroll_with_foreign_certificate_fails(ca: CAClient) -> None:
    from ca_testpki import make_enrollment

    with pytest.raises(AuthenticationError) as caught:
        ca.reenroll(make_enrollment("admin"))
    assert caught.value.status == 401


# -- register -----------------------------------------------------------------
def test_register_duplicate_name_fails_naming_it(ca: CAClient, admin: Enrollment) -> None:
    name, _ = registered(ca, admin)
    with pytest.raises(RegistrationError) as caught:
        ca.register(admin, name=name)
    err = caught.value
    assert err.status == 409
    assert err.code == DUPLICATE_IDENTITY
    assert f"Identity '{name}' is already registered" in err.message
    assert name in str(err)


def test_register_by_non_registrar_is_refused(ca: CAClient, admin: Enrollment) -> None:
    name, secret = registered(ca, admin)
    user = ca.enroll(name, secret)
    with pytest.raises(RegistrationError) as caught:
        ca.register(user, name=new_name())
    assert (caught.value.status, caught.value.code) == (403, AUTHORIZATION_FAILURE)


def test_register_unknown_affiliation_fails(ca: CAClient, admin: Enrollment) -> None:
    # The server hides the cause of authorization failures from the client.
    with pytest.raises(RegistrationError) as caught:
        ca.register(admin, name=new_name(), affiliation="no.such.unit")
    assert (caught.value.status, caught.value.code) == (403, AUTHORIZATION_FAILURE)
    assert caught.value.message == "Authorization failure"


# -- revoke -------------------------------------------------------------------
def test_revoke_identity_then_enroll_and_reenroll_fail(ca: CAClient, admin: Enrollment) -> None:
    name, secret = registered(ca, admin, max_enrollments=-1)
    user = ca.enroll(name, secret)
    result = ca.revoke(admin, name=name, reason="keyCompromise", gen_crl=True)
    assert [(r.serial, r.aki) for r in result.revoked] == [(user.serial, user.aki)]
    assert result.crl is not None
    crl = x509.load_pem_x509_crl(result.crl)
    assert crl.get_revoked_certificate_by_serial_number(user.parsed_certificate().serial_number)

    with pytest.raises(AuthenticationError):
        ca.enroll(name, secret)
    with pytest.raises(AuthenticationError):
        ca.reenroll(user)


def test_gen_crl_lists_a_revoked_certificate(ca: CAClient, admin: Enrollment) -> None:
    name, secret = registered(ca, admin, max_enrollments=1)
    user = ca.enroll(name, secret)
    serial = user.parsed_certificate().serial_number
    before = x509.load_pem_x509_crl(ca.gen_crl(admin))
    assert before.get_revoked_certificate_by_serial_number(serial) is None
    ca.revoke(admin, name=name)
    after = x509.load_pem_x509_crl(ca.gen_crl(admin))
    assert after.get_revoked_certificate_by_serial_number(serial) is not None
    ca_cert = x509.load_pem_x509_certificates(admin.ca_chain)[-1]
    assert after.is_signature_valid(ca_cert.public_key())  # type: ignore[arg-type]


def test_an_identity_registered_for_one_enrollment_enrolls_once(
    ca: CAClient, admin: Enrollment
) -> None:
    name, secret = registered(ca, admin, max_enrollments=1)
    first = ca.enroll(name, secret)
    with pytest.raises(AuthenticationError):
        ca.enroll(name, secret)
    ca.reenroll(first)  # a new certificate only with the current one


def test_revoke_one_certificate_by_serial_and_aki(ca: CAClient, admin: Enrollment) -> None:
    name, secret = registered(ca, admin, max_enrollments=-1)
    first = ca.enroll(name, secret)
    second = ca.enroll(name, secret)
    result = ca.revoke(admin, serial=first.serial, aki=first.aki)
    assert result.crl is None
    assert [r.serial for r in result.revoked] == [first.serial]
    with pytest.raises(AuthenticationError):
        ca.reenroll(first)
    ca.reenroll(second)  # the other certificate still works
    with pytest.raises(RevocationError) as caught:
        ca.revoke(admin, serial=first.serial, aki=first.aki)
    assert caught.value.code == CERTIFICATE_ALREADY_REVOKED


def test_revoke_unknown_certificate_fails(ca: CAClient, admin: Enrollment) -> None:
    with pytest.raises(RevocationError) as caught:
        ca.revoke(admin, serial="abcdef", aki=admin.aki)
    assert caught.value.status == 404
    assert caught.value.code == CERTIFICATE_NOT_FOUND


def test_revoke_needs_a_target() -> None:
    client = CAClient("https://127.0.0.1:1", tls_cert=None)
    from ca_testpki import make_enrollment

    with pytest.raises(ValueError):
        client.revoke(make_enrollment(), serial="01")
    with pytest.raises(ValueError):
        client.revoke(make_enrollment(), name="x", reason="because")


# -- transport ----------------------------------------------------------------
def test_connection_refused_is_ca_error_without_status(ca_server: CAServer) -> None:
    port = free_port()
    client = CAClient(f"https://127.0.0.1:{port}", tls_cert=ca_server.tls_cert, timeout=2)
    with pytest.raises(CAError) as caught:
        client.info()
    assert caught.value.status is None
    assert type(caught.value) is CAError


def test_untrusted_tls_certificate_is_refused(ca_server: CAServer) -> None:
    from ca_testpki import make_ca
    from cryptography.hazmat.primitives import serialization

    _, other_root = make_ca()
    client = CAClient(
        ca_server.url, tls_cert=other_root.public_bytes(serialization.Encoding.PEM), timeout=2
    )
    with pytest.raises(CAError) as caught:
        client.info()
    assert isinstance(caught.value.__cause__, ssl.SSLError)


def test_localhost_name_is_accepted(ca_server: CAServer) -> None:
    # The server's TLS certificate names 127.0.0.1 and localhost.
    port = int(ca_server.url.rsplit(":", 1)[1])
    client = CAClient(f"https://localhost:{port}", tls_cert=ca_server.tls_cert)
    assert client.info().ca_name == CA_NAME
