"""The client identity together with the hash and signer used for its messages."""

from __future__ import annotations

from .errors import GatewayError
from .hash import Hash
from .identity import Identity
from .signers import Signer


class SigningIdentity:
    """Creator bytes, digest and signature for one client identity.

    Without a signer, only off-line signing (supplying signatures made
    elsewhere) is possible.
    """

    def __init__(self, identity: Identity, *, signer: Signer | None, hash: Hash) -> None:
        self.identity = identity
        self._signer = signer
        self._hash = hash
        self._creator = identity.serialize()

    @property
    def creator(self) -> bytes:
        """Serialized ``msp.SerializedIdentity`` of the identity."""
        return self._creator

    @property
    def can_sign(self) -> bool:
        """Whether a signer was supplied."""
        return self._signer is not None

    def digest(self, message: bytes) -> bytes:
        """Digest of ``message`` using the configured hash function."""
        return self._hash(message)

    def sign(self, digest: bytes) -> bytes:
        """Sign ``digest``.

        Raises :class:`GatewayError` if no signer was supplied; signer errors
        (e.g. ``ValueError`` for a wrong digest size) propagate unchanged.
        """
        if self._signer is None:
            raise GatewayError(
                "no signer supplied to connect(): sign off-line and use "
                "Gateway.new_signed_proposal / new_signed_transaction / new_signed_commit"
            )
        return self._signer(digest)


__all__ = ["SigningIdentity"]
