"""Signers: functions that produce a signature over the digest of a message.

A :data:`Signer` receives what the Gateway's hash function produced (see
:mod:`fabricgw.hash`) and returns signature bytes:

* ECDSA P-256 / P-384 keys sign the already computed digest (no second
  hashing) and return a DER signature normalised to low-S (``s <= n/2``), as
  Fabric rejects high-S signatures.
* Ed25519 keys sign the bytes they are given; pair them with ``hash.NONE`` so
  they receive the whole message.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)

from .identity import single_file

Signer = Callable[[bytes], bytes]
"""A function signing a digest and returning the signature bytes."""

SignerPrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
"""Private key types a signer can be made from."""

# Orders of the supported curves' base points (FIPS 186-4, D.1.2.3 and D.1.2.4).
_CURVE_ORDERS: dict[str, int] = {
    "secp256r1": int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16),
    "secp384r1": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF"
        "581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
}

# Prehashed needs an algorithm object whose digest size matches the digest;
# ECDSA itself only uses the digest bytes, so the family does not matter.
_PREHASH_BY_SIZE: dict[int, hashes.HashAlgorithm] = {
    28: hashes.SHA224(),
    32: hashes.SHA256(),
    48: hashes.SHA384(),
    64: hashes.SHA512(),
}


def new_private_key_signer(private_key: PrivateKeyTypes) -> Signer:
    """Return a signer for an ECDSA P-256/P-384 or Ed25519 private key.

    Raises ``ValueError`` for an EC key on another curve and ``TypeError`` for
    any other key type. The returned ECDSA signer raises ``ValueError`` when
    given a digest whose length is not 28, 32, 48 or 64 bytes.
    """
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return _ecdsa_signer(private_key)
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return _ed25519_signer(private_key)
    raise TypeError(f"unsupported private key type: {type(private_key).__name__}")


def load_private_key(pem: bytes, *, password: bytes | None = None) -> SignerPrivateKey:
    """Parse a PEM private key (PKCS#8 or SEC1 EC).

    Raises ``ValueError`` if the data does not decode or the password is wrong,
    and ``TypeError`` if the key is neither EC nor Ed25519.
    """
    key = serialization.load_pem_private_key(pem, password=password)
    if isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        return key
    raise TypeError(f"unsupported private key type: {type(key).__name__}")


def load_private_key_file(
    path: str | os.PathLike[str], *, password: bytes | None = None
) -> SignerPrivateKey:
    """Read and parse a PEM private key file.

    Raises ``OSError`` if the file cannot be read, otherwise as :func:`load_private_key`.
    """
    return load_private_key(Path(path).read_bytes(), password=password)


def signer_from_pem_file(path: str | os.PathLike[str], *, password: bytes | None = None) -> Signer:
    """Return a signer for the PEM private key in ``path``.

    Raises as :func:`load_private_key_file` and :func:`new_private_key_signer`.
    """
    return new_private_key_signer(load_private_key_file(path, password=password))


def signer_from_msp_dir(
    msp_dir: str | os.PathLike[str], *, password: bytes | None = None
) -> Signer:
    """Return a signer for the single key file in ``<msp_dir>/keystore``.

    Raises ``ValueError`` unless exactly one file is there, otherwise as
    :func:`signer_from_pem_file`.
    """
    return signer_from_pem_file(single_file(Path(msp_dir) / "keystore"), password=password)


def to_low_s(signature: bytes, curve: ec.EllipticCurve) -> bytes:
    """Return the DER ECDSA ``signature`` with ``s`` replaced by ``n - s`` when ``s > n/2``.

    Raises ``ValueError`` for an unsupported curve or a signature that is not DER.
    """
    order = _curve_order(curve)
    r, s = decode_dss_signature(signature)
    if s > order // 2:
        s = order - s
    return encode_dss_signature(r, s)


def is_low_s(signature: bytes, curve: ec.EllipticCurve) -> bool:
    """Tell whether the DER ECDSA ``signature`` has ``s <= n/2``.

    Raises ``ValueError`` for an unsupported curve or a signature that is not DER.
    """
    _, s = decode_dss_signature(signature)
    return s <= _curve_order(curve) // 2


def _curve_order(curve: ec.EllipticCurve) -> int:
    try:
        return _CURVE_ORDERS[curve.name]
    except KeyError:
        raise ValueError(f"unsupported elliptic curve: {curve.name}") from None


def _ecdsa_signer(private_key: ec.EllipticCurvePrivateKey) -> Signer:
    curve = private_key.curve
    _curve_order(curve)  # reject unsupported curves now rather than at first use

    def sign(digest: bytes) -> bytes:
        algorithm = _PREHASH_BY_SIZE.get(len(digest))
        if algorithm is None:
            raise ValueError(
                f"ECDSA signer needs a 28, 32, 48 or 64 byte digest, got {len(digest)} bytes"
            )
        signature = private_key.sign(digest, ec.ECDSA(Prehashed(algorithm)))
        return to_low_s(signature, curve)

    return sign


def _ed25519_signer(private_key: ed25519.Ed25519PrivateKey) -> Signer:
    def sign(message: bytes) -> bytes:
        return private_key.sign(message)

    return sign


__all__ = [
    "Signer",
    "SignerPrivateKey",
    "is_low_s",
    "load_private_key",
    "load_private_key_file",
    "new_private_key_signer",
    "signer_from_msp_dir",
    "signer_from_pem_file",
    "to_low_s",
]
