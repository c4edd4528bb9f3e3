"""Hash functions that turn a message into the digest handed to a signer.

Every function has the :data:`Hash` shape ``bytes -> bytes``. Fabric MSPs verify
ECDSA signatures over a SHA-256 digest unless the MSP is configured otherwise,
so :data:`SHA256` is the default. Use :data:`NONE` with Ed25519 signers, which
sign the whole message themselves.
"""

import hashlib
from collections.abc import Callable
from typing import Final

Hash = Callable[[bytes], bytes]
"""A function computing the digest of a message."""


def _sha256(message: bytes) -> bytes:
    return hashlib.sha256(message).digest()


def _sha384(message: bytes) -> bytes:
    return hashlib.sha384(message).digest()


def _sha3_256(message: bytes) -> bytes:
    return hashlib.sha3_256(message).digest()


def _sha3_384(message: bytes) -> bytes:
    return hashlib.sha3_384(message).digest()


def _none(message: bytes) -> bytes:
    return bytes(message)


SHA256: Final[Hash] = _sha256
"""SHA-256 digest (32 bytes)."""

SHA384: Final[Hash] = _sha384
"""SHA-384 digest (48 bytes)."""

SHA3_256: Final[Hash] = _sha3_256
"""SHA3-256 digest (32 bytes)."""

SHA3_384: Final[Hash] = _sha3_384
"""SHA3-384 digest (48 bytes)."""

NONE: Final[Hash] = _none
"""Identity function: returns the message unchanged (for Ed25519 signers)."""

__all__ = ["NONE", "SHA3_256", "SHA3_384", "SHA256", "SHA384", "Hash"]
