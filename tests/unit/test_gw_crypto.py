"""Hash functions, signers and identities of the fabricgw Gateway client."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)
from gw_keys import self_signed_pem

from fabricgw import hash as gwhash
from fabricgw._protos import identities_pb2
from fabricgw.identity import Identity
from fabricgw.signers import (
    is_low_s,
    load_private_key,
    load_private_key_file,
    new_private_key_signer,
    signer_from_msp_dir,
    signer_from_pem_file,
    to_low_s,
)

P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
P384_N = int(
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
    16,
)


def key_pem(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


# --- hash ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "message", "expected"),
    [
        (gwhash.SHA256, b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (gwhash.SHA256, b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        (
            gwhash.SHA384,
            b"abc",
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
            "8086072ba1e7cc2358baeca134c825a7",
        ),
        (
            gwhash.SHA3_256,
            b"abc",
            "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532",
        ),
        (
            gwhash.SHA3_384,
            b"abc",
            "ec01498288516fc926459f58e2c6ad8df9b473cb0fc08c2596da7cf0e49be4b2"
            "98d88cea927ac7f539f1edf228376d25",
        ),
        (gwhash.NONE, b"abc", b"abc".hex()),
    ],
)
def test_hash_known_vectors(function: gwhash.Hash, message: bytes, expected: str) -> None:
    assert function(message).hex() == expected


# --- signers ------------------------------------------------------------------------


def test_p256_signatures_verify_and_are_all_low_s() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    sign = new_private_key_signer(key)
    for i in range(300):
        message = f"message {i}".encode()
        signature = sign(gwhash.SHA256(message))
        _, s = decode_dss_signature(signature)
        assert s <= P256_N // 2
        key.public_key().verify(signature, message, ec.ECDSA(hashes.SHA256()))


def test_p384_signatures_verify_and_are_low_s() -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    sign = new_private_key_signer(key)
    for i in range(100):
        message = f"message {i}".encode()
        signature = sign(gwhash.SHA384(message))
        _, s = decode_dss_signature(signature)
        assert s <= P384_N // 2
        key.public_key().verify(signature, message, ec.ECDSA(hashes.SHA384()))
    # A P-384 key over a SHA-256 digest (the Fabric default hash) works too.
    signature = sign(gwhash.SHA256(b"x"))
    key.public_key().verify(signature, gwhash.SHA256(b"x"), ec.ECDSA(Prehashed(hashes.SHA256())))


def test_to_low_s_turns_a_high_s_signature_into_a_valid_low_s_one() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    digest = gwhash.SHA256(b"payload")
    r, s = decode_dss_signature(key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256()))))
    high = encode_dss_signature(r, s if s > P256_N // 2 else P256_N - s)
    assert not is_low_s(high, key.curve)
    low = to_low_s(high, key.curve)
    assert is_low_s(low, key.curve)
    assert decode_dss_signature(low) == (r, min(s, P256_N - s))
    key.public_key().verify(low, digest, ec.ECDSA(Prehashed(hashes.SHA256())))


def test_ed25519_signs_the_message_itself() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    sign = new_private_key_signer(key)
    message = b"the whole proposal bytes"
    signature = sign(gwhash.NONE(message))
    key.public_key().verify(signature, message)
    with pytest.raises(InvalidSignature):
        key.public_key().verify(signature, b"other")


def test_ecdsa_signer_rejects_digest_of_unexpected_size() -> None:
    sign = new_private_key_signer(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(ValueError, match="digest"):
        sign(b"not a digest")


def test_unsupported_keys_are_rejected() -> None:
    with pytest.raises(ValueError, match="curve"):
        new_private_key_signer(ec.generate_private_key(ec.SECP521R1()))
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(TypeError):
        new_private_key_signer(rsa_key)
    rsa_pem = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(TypeError):
        load_private_key(rsa_pem)
    with pytest.raises(ValueError):
        load_private_key(b"-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")


def test_signer_from_pem_file_and_msp_dir(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    keystore = tmp_path / "msp" / "keystore"
    keystore.mkdir(parents=True)
    (keystore / "abc_sk").write_bytes(key_pem(key))
    message = b"hello"
    for sign in (
        signer_from_pem_file(keystore / "abc_sk"),
        signer_from_msp_dir(tmp_path / "msp"),
    ):
        key.public_key().verify(sign(gwhash.SHA256(message)), message, ec.ECDSA(hashes.SHA256()))
    loaded = load_private_key_file(keystore / "abc_sk")
    assert isinstance(loaded, ec.EllipticCurvePrivateKey)

    (keystore / "second_sk").write_bytes(key_pem(key))
    with pytest.raises(ValueError, match="exactly one"):
        signer_from_msp_dir(tmp_path / "msp")


def test_encrypted_pem_needs_the_password(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    path = tmp_path / "key.pem"
    path.write_bytes(pem)
    sign = signer_from_pem_file(path, password=b"secret")
    key.public_key().verify(sign(gwhash.SHA256(b"m")), b"m", ec.ECDSA(hashes.SHA256()))
    with pytest.raises((TypeError, ValueError)):
        signer_from_pem_file(path)


# --- identity -----------------------------------------------------------------------


def test_identity_serializes_to_serialized_identity() -> None:
    pem = self_signed_pem(ec.generate_private_key(ec.SECP256R1()))
    identity = Identity("Org1MSP", pem)
    decoded = identities_pb2.SerializedIdentity.FromString(identity.serialize())
    assert decoded.mspid == "Org1MSP"
    assert decoded.id_bytes == pem
    assert Identity.deserialize(identity.serialize()) == identity


def test_identity_from_pem_file_and_msp_dir(tmp_path: Path) -> None:
    pem = self_signed_pem(ec.generate_private_key(ec.SECP256R1()))
    signcerts = tmp_path / "msp" / "signcerts"
    signcerts.mkdir(parents=True)
    (signcerts / "cert.pem").write_bytes(pem)
    assert Identity.from_pem_file("Org1MSP", signcerts / "cert.pem") == Identity("Org1MSP", pem)
    identity = Identity.from_msp_dir("Org1MSP", tmp_path / "msp")
    assert identity.credentials == pem
    assert identity.certificate().subject.rfc4514_string() == "CN=user1"


def test_identity_rejects_non_certificate(tmp_path: Path) -> None:
    path = tmp_path / "cert.pem"
    path.write_bytes(b"not a certificate")
    with pytest.raises(ValueError):
        Identity.from_pem_file("Org1MSP", path)
    with pytest.raises(OSError):
        Identity.from_pem_file("Org1MSP", tmp_path / "missing.pem")
