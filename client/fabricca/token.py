"""The token in the ``Authorization`` header of requests made as an enrolled identity.

Format (fabric-ca v1.4+, ``util.GenECDSAToken`` / ``util.VerifyToken``)::

    Authorization: <b64(cert PEM)>.<b64(signature)>
    signature = ECDSA over SHA-256(<METHOD>.<b64(uri)>.<b64(body)>.<b64(cert PEM)>)

``b64`` is standard base64 with padding; ``uri`` is the request URI the server
sees (``r.URL.RequestURI()``: path plus ``?query``, e.g. ``/api/v1/register``);
``body`` is the exact request body (empty for GET). The DER signature must have
a low ``s`` (``s <= n/2``): the CA's crypto provider rejects any other. The
digest is SHA-256 whatever the curve.
"""

from __future__ import annotations

import base64
import binascii

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from .enrollment import SigningIdentity

_CURVE_ORDERS: dict[str, int] = {
    "secp256r1": int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16),
    "secp384r1": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF"
        "581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def token_payload(method: str, uri: str, body: bytes, certificate: bytes) -> bytes:
    """The bytes whose SHA-256 digest the token signs."""
    text = f"{method}.{_b64(uri.encode())}.{_b64(body)}.{_b64(certificate)}"
    return text.encode("ascii")


def curve_order(curve: ec.EllipticCurve) -> int:
    """Order of the curve's base point. Raises ``ValueError`` for a curve other than P-256/384."""
    try:
        return _CURVE_ORDERS[curve.name]
    except KeyError:
        raise ValueError(f"unsupported elliptic curve: {curve.name}") from None


def sign_low_s(key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    """ECDSA-SHA256 DER signature of ``message`` with ``s`` normalised to ``<= n/2``.

    Raises ``ValueError`` for a curve other than P-256/P-384.
    """
    order = curve_order(key.curve)
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    if s > order // 2:
        s = order - s
    return encode_dss_signature(r, s)


def create_token(identity: SigningIdentity, method: str, uri: str, body: bytes = b"") -> str:
    """Return the ``Authorization`` header value for a request made as ``identity``.

    Raises ``ValueError`` for a key on a curve other than P-256/P-384.
    """
    signature = sign_low_s(identity.key, token_payload(method, uri, body, identity.certificate))
    return f"{_b64(identity.certificate)}.{_b64(signature)}"


def verify_token(token: str, method: str, uri: str, body: bytes = b"") -> x509.Certificate:
    """Check a token as the CA does and return the certificate it carries.

    Raises ``ValueError`` if the token is malformed, its certificate has no
    ECDSA key, the signature is high-S or does not verify.
    """
    parts = token.split(".")
    if len(parts) != 2:
        raise ValueError("invalid token format; expecting 2 parts separated by '.'")
    b64cert, b64sig = parts
    try:
        cert_pem = base64.b64decode(b64cert, validate=True)
        signature = base64.b64decode(b64sig, validate=True)
    except binascii.Error as err:
        raise ValueError(f"invalid base64 in token: {err}") from err
    cert = x509.load_pem_x509_certificate(cert_pem)
    public_key = cert.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise ValueError("token certificate does not hold an ECDSA key")
    _, s = decode_dss_signature(signature)
    if s > curve_order(public_key.curve) // 2:
        raise ValueError("token signature is not low-S")
    try:
        public_key.verify(
            signature, token_payload(method, uri, body, cert_pem), ec.ECDSA(hashes.SHA256())
        )
    except InvalidSignature:
        raise ValueError("token signature does not verify") from None
    return cert


__all__ = ["create_token", "curve_order", "sign_low_s", "token_payload", "verify_token"]
