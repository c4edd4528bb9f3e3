"""Sealed replies: functions that answer private data encrypt the answer to a key
the caller passes as transient ``replyKey`` (X25519), so that the answer is only
ciphertext even in a block (when a client submits such a call).

The chaincode encrypts with an ephemeral X25519 key, HKDF-SHA256 (salt = ephemeral ||
recipient public key, info ``ebill sealed reply v1``) and AES-256-GCM with the
function name as associated data; :class:`ReplyKey` is the caller's side.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import InternalError

ALGORITHM = "X25519-HKDF-SHA256-AES256GCM"
INFO = b"ebill sealed reply v1"
TRANSIENT_NAME = "replyKey"


def _raw(key: X25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class ReplyKey:
    """A fresh key pair for one call; :meth:`open` decrypts the sealed answer."""

    private: X25519PrivateKey = field(default_factory=X25519PrivateKey.generate)

    @property
    def public_bytes(self) -> bytes:
        return _raw(self.private.public_key())

    def transient(self) -> dict[str, bytes]:
        """The transient map entry that asks for a reply sealed to this key."""
        return {TRANSIENT_NAME: self.public_bytes}

    def open(self, answer: Any, function: str) -> Any:
        """The decrypted JSON answer. Raises InternalError if it is not a sealed reply
        for this key."""
        try:
            sealed = answer["sealed"]
            if sealed["alg"] != ALGORITHM:
                raise ValueError(f"unknown algorithm {sealed['alg']!r}")
            ephemeral = base64.b64decode(sealed["ephemeralKey"], validate=True)
            nonce = base64.b64decode(sealed["nonce"], validate=True)
            ciphertext = base64.b64decode(sealed["ciphertext"], validate=True)
            peer = X25519PublicKey.from_public_bytes(ephemeral)
            key = HKDF(
                algorithm=hashes.SHA256(), length=32, salt=ephemeral + self.public_bytes, info=INFO
            ).derive(self.private.exchange(peer))
            plaintext = AESGCM(key).decrypt(nonce, ciphertext, function.encode("utf-8"))
            return json.loads(plaintext)
        except (KeyError, TypeError, ValueError, binascii.Error, InvalidTag) as error:
            raise InternalError(
                f"{function}: the answer is not a reply sealed to this call's key ({error!r})",
                function=function,
            ) from None
