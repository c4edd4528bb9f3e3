"""Chaincode events: the signed request for a chaincode's events, and the stream of them."""

from __future__ import annotations

import builtins
from typing import Any

from ._client import GatewayClient
from ._protos import gateway_pb2
from .chaincode_event import ChaincodeEvent, chaincode_events_from_response
from .checkpointer import Checkpoint
from .event_stream import EventStream, after_transaction_id, seek_next_commit, start_position
from .signing_identity import SigningIdentity

STREAM_NAME = "chaincode events"


def build_chaincode_events_request(
    *,
    creator: bytes,
    channel_id: str,
    chaincode_name: str,
    start_block: int | None = None,
    checkpoint: Checkpoint | None = None,
) -> Any:
    """Build an unsigned ``gateway.SignedChaincodeEventsRequest``.

    Its ``ChaincodeEventsRequest`` starts at the checkpoint's block, else at
    ``start_block``, else at the next committed block, and carries the
    checkpoint's transaction as ``after_transaction_id``. Raises ``ValueError``
    for a negative block number.
    """
    request = gateway_pb2.ChaincodeEventsRequest(
        channel_id=channel_id,
        chaincode_id=chaincode_name,
        identity=creator,
        start_position=start_position(start_block, checkpoint, default=seek_next_commit),
        after_transaction_id=after_transaction_id(checkpoint),
    )
    return gateway_pb2.SignedChaincodeEventsRequest(request=request.SerializeToString())


class ChaincodeEventsIterator(EventStream[ChaincodeEvent]):
    """Iterator over :class:`~fabricgw.chaincode_event.ChaincodeEvent` as blocks commit.

    A context manager; :meth:`close` cancels the stream. ``next()`` raises
    :class:`~fabricgw.errors.EventsError` if the stream fails.
    """

    def __init__(self, call: Any) -> None:
        super().__init__(call, chaincode_events_from_response, name=STREAM_NAME)


class ChaincodeEventsRequestBase:
    """The signable chaincode events request (sync and asyncio)."""

    def __init__(self, *, signing_identity: SigningIdentity, signed_request: Any) -> None:
        self._signing_identity = signing_identity
        self._signed_request = signed_request

    @property
    def signature(self) -> builtins.bytes:
        """Signature over :meth:`digest`; empty until signed."""
        data: builtins.bytes = self._signed_request.signature
        return data

    def bytes(self) -> builtins.bytes:
        """Serialized ``gateway.SignedChaincodeEventsRequest`` (to sign off-line or store).

        Turn it back into a request with ``Gateway.new_signed_chaincode_events_request``.
        """
        data: builtins.bytes = self._signed_request.SerializeToString()
        return data

    def digest(self) -> builtins.bytes:
        """Digest of the serialized ``ChaincodeEventsRequest``, the input of the signature."""
        request: builtins.bytes = self._signed_request.request
        return self._signing_identity.digest(request)

    def _signed(self) -> Any:
        """The request, signed now if it was not. Raises ``GatewayError`` if no signer."""
        if not self._signed_request.signature:
            self._set_signature(self._signing_identity.sign(self.digest()))
        return self._signed_request

    def _set_signature(self, signature: builtins.bytes) -> None:
        self._signed_request.signature = signature


class ChaincodeEventsRequest(ChaincodeEventsRequestBase):
    """A request for the events of one chaincode, sent by :meth:`events`.

    Signed with the Gateway's signer when sent, unless a signature was
    supplied (off-line signing through ``Gateway.new_signed_chaincode_events_request``).
    """

    def __init__(
        self, *, client: GatewayClient, signing_identity: SigningIdentity, signed_request: Any
    ) -> None:
        super().__init__(signing_identity=signing_identity, signed_request=signed_request)
        self._client = client

    def events(self, *, timeout: float | None = None) -> ChaincodeEventsIterator:
        """Start the stream; return an iterator of events.

        ``timeout`` (seconds) bounds the whole stream; ``None`` waits forever.
        Raises :class:`~fabricgw.errors.GatewayError` if the Gateway is closed
        or no signature can be made; stream failures raise
        :class:`~fabricgw.errors.EventsError` while iterating.
        """
        return ChaincodeEventsIterator(
            self._client.chaincode_events(self._signed(), timeout=timeout)
        )


__all__ = [
    "ChaincodeEventsIterator",
    "ChaincodeEventsRequest",
    "ChaincodeEventsRequestBase",
    "build_chaincode_events_request",
]
