"""The Authorization token format of Fabric CA (util.GenECDSAToken / util.VerifyToken)."""

from __future__ import annotations

import base64
import hashlib

import pytest
from ca_testpki import make_enrollment
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from fabricca import create_token, verify_token
from fabricca.token import curve_order, sign_low_s, token_payload

URI = "/api/v1/register"
BODY = b'{"id":"alice","type":"client","affiliation":""}'


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize("curve", [ec.SECP256R1(), ec.SECP384R1()], ids=["P-256", "P-384"])
def test_token_is_cert_dot_signature_over_method_uri_body_cert(curve: ec.EllipticCurve) -> None:
    identity = make_enrollment(curve=curve)
    token = create_token(identity, "POST", URI, BODY)

    b64cert, b64sig = token.split(".")
    assert base64.b64decode(b64cert) == identity.certificate
    signature = base64.b64decode(b64sig)
    # Built independently of the library: METHOD.b64(uri).b64(body).b64(cert)
    payload = f"POST.{b64(URI.encode())}.{b64(BODY)}.{b64(identity.certificate)}".encode()
    assert token_payload("POST", URI, BODY, identity.certificate) == payload
    public_key = identity.parsed_certificate().public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(signature, payload, ec.ECDSA(hashes.SHA256()))  # raises if invalid
    # The digest is SHA-256 whatever the curve (the CA's default hash).
    assert len(hashlib.sha256(payload).digest()) == 32
    _, s = decode_dss_signature(signature)
    assert s <= curve_order(curve) // 2
    assert verify_token(token, "POST", URI, BODY).subject.rfc4514_string() == "CN=alice"


def test_get_token_signs_empty_body_and_query() -> None:
    identity = make_enrollment()
    uri = "/api/v1/identities?ca=ca-test"
    token = create_token(identity, "GET", uri)
    assert verify_token(token, "GET", uri, b"")
    with pytest.raises(ValueError, match="does not verify"):
        verify_token(token, "GET", "/api/v1/identities", b"")


@pytest.mark.parametrize(
    ("method", "uri", "body"),
    [("PUT", URI, BODY), ("POST", "/api/v1/revoke", BODY), ("POST", URI, BODY + b" ")],
)
def test_token_is_bound_to_method_uri_and_body(method: str, uri: str, body: bytes) -> None:
    token = create_token(make_enrollment(), "POST", URI, BODY)
    with pytest.raises(ValueError, match="does not verify"):
        verify_token(token, method, uri, body)


def test_signatures_are_always_low_s() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    half = curve_order(key.curve) // 2
    for i in range(64):  # about half of raw ECDSA signatures are high-S
        _, s = decode_dss_signature(sign_low_s(key, str(i).encode()))
        assert s <= half


def test_malformed_tokens_are_refused() -> None:
    identity = make_enrollment()
    token = create_token(identity, "POST", URI, BODY)
    with pytest.raises(ValueError, match="2 parts"):
        verify_token(token + ".x", "POST", URI, BODY)
    with pytest.raises(ValueError, match="base64"):
        verify_token("!!." + token.split(".")[1], "POST", URI, BODY)
    other = create_token(make_enrollment("bob"), "POST", URI, BODY)
    spliced = token.split(".")[0] + "." + other.split(".")[1]
    with pytest.raises(ValueError, match="does not verify"):
        verify_token(spliced, "POST", URI, BODY)


def test_high_s_signature_is_refused() -> None:
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    identity = make_enrollment()
    token = create_token(identity, "POST", URI, BODY)
    b64cert, b64sig = token.split(".")
    r, s = decode_dss_signature(base64.b64decode(b64sig))
    high = encode_dss_signature(r, curve_order(identity.key.curve) - s)
    with pytest.raises(ValueError, match="low-S"):
        verify_token(f"{b64cert}.{b64(high)}", "POST", URI, BODY)


def test_unsupported_curve_is_refused() -> None:
    identity = make_enrollment(curve=ec.SECP521R1())
    with pytest.raises(ValueError, match="unsupported elliptic curve"):
        create_token(identity, "POST", URI, BODY)
