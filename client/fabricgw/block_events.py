"""Block events: the signed seek request of the peer Deliver service, and the stream of blocks.

Three kinds, one per Deliver method (see :class:`BlockEventsKind`): full
``common.Block``, ``peer.FilteredBlock`` (transaction IDs, validation codes and
chaincode event names, without payloads) and ``peer.BlockAndPrivateData``
(blocks with the private data the caller may read).
"""

from __future__ import annotations

import builtins
import enum
from typing import Any

from ._client import GatewayClient
from ._protos import ab_pb2, common_pb2
from .checkpointer import Checkpoint
from .errors import EventsError
from .event_stream import MAX_BLOCK_NUMBER, EventStream, seek_block, seek_newest, start_position
from .proposal import new_nonce
from .signing_identity import SigningIdentity


class BlockEventsKind(enum.Enum):
    """Which blocks are delivered; the value is the Deliver service method."""

    BLOCK = "Deliver"
    FILTERED = "DeliverFiltered"
    PRIVATE_DATA = "DeliverWithPrivateData"

    @property
    def response_field(self) -> str:
        """Field of ``peer.DeliverResponse`` carrying the blocks of this kind."""
        return _RESPONSE_FIELDS[self]

    @property
    def stream_name(self) -> str:
        """Name of the stream used in error messages."""
        return _STREAM_NAMES[self]


_RESPONSE_FIELDS = {
    BlockEventsKind.BLOCK: "block",
    BlockEventsKind.FILTERED: "filtered_block",
    BlockEventsKind.PRIVATE_DATA: "block_and_private_data",
}
_STREAM_NAMES = {
    BlockEventsKind.BLOCK: "block events",
    BlockEventsKind.FILTERED: "filtered block events",
    BlockEventsKind.PRIVATE_DATA: "block and private data events",
}
_SUCCESS = 200  # common.Status.SUCCESS


def build_seek_envelope(
    *,
    creator: bytes,
    channel_id: str,
    start_block: int | None = None,
    checkpoint: Checkpoint | None = None,
) -> Any:
    """Build the unsigned ``common.Envelope`` asking the Deliver service for blocks.

    Its payload has a ``DELIVER_SEEK_INFO`` channel header (TLS certificate hash
    left empty), a signature header with ``creator`` and a nonce, and as data an
    ``orderer.SeekInfo`` from the checkpoint's block, else ``start_block``, else
    the newest block, to the largest block number, blocking until each block is
    ready. A checkpoint's transaction ID is not used: blocks come whole, so the
    stream restarts at the checkpoint's block. Raises ``ValueError`` for a
    negative block number.
    """
    seek_info = ab_pb2.SeekInfo(
        start=start_position(start_block, checkpoint, default=seek_newest),
        stop=seek_block(MAX_BLOCK_NUMBER),
        behavior=ab_pb2.SeekInfo.SeekBehavior.Value("BLOCK_UNTIL_READY"),
    )
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.HeaderType.Value("DELIVER_SEEK_INFO"),
        channel_id=channel_id,
        epoch=0,
    )
    channel_header.timestamp.GetCurrentTime()
    signature_header = common_pb2.SignatureHeader(creator=creator, nonce=new_nonce())
    payload = common_pb2.Payload(
        header=common_pb2.Header(
            channel_header=channel_header.SerializeToString(),
            signature_header=signature_header.SerializeToString(),
        ),
        data=seek_info.SerializeToString(),
    )
    return common_pb2.Envelope(payload=payload.SerializeToString())


def blocks_from_response(kind: BlockEventsKind, response: Any) -> list[Any]:
    """The block carried by a ``peer.DeliverResponse`` of ``kind`` (a list of 0 or 1).

    A ``SUCCESS`` status yields nothing (the stream ends). Raises
    :class:`~fabricgw.errors.EventsError` for another status (e.g.
    ``FORBIDDEN``) or a response of another kind.
    """
    field = response.WhichOneof("Type")
    if field == kind.response_field:
        return [getattr(response, field)]
    if field == "status":
        if response.status == _SUCCESS:
            return []
        raise EventsError(
            f"{kind.stream_name} failed: unexpected status response: "
            f"{response.status} ({_status_name(int(response.status))})"
        )
    raise EventsError(f"{kind.stream_name} failed: unexpected deliver response type: {field}")


def _status_name(status: int) -> str:
    try:
        return str(common_pb2.Status.Name(status))
    except ValueError:
        return f"UNKNOWN_{status}"


class BlockEventsIterator(EventStream[Any]):
    """Iterator over blocks: ``Block``, ``FilteredBlock`` or ``BlockAndPrivateData`` protos.

    A context manager; :meth:`close` cancels the stream. ``next()`` raises
    :class:`~fabricgw.errors.EventsError` if the stream fails.
    """

    def __init__(self, call: Any, kind: BlockEventsKind) -> None:
        super().__init__(
            call, lambda response: blocks_from_response(kind, response), name=kind.stream_name
        )
        self.kind = kind


class BlockEventsRequestBase:
    """The signable block events request of one :class:`BlockEventsKind` (sync and asyncio)."""

    def __init__(
        self, *, signing_identity: SigningIdentity, kind: BlockEventsKind, envelope: Any
    ) -> None:
        self._signing_identity = signing_identity
        self._kind = kind
        self._envelope = envelope

    @property
    def kind(self) -> BlockEventsKind:
        """Which blocks are requested."""
        return self._kind

    @property
    def signature(self) -> builtins.bytes:
        """Signature over :meth:`digest`; empty until signed."""
        data: builtins.bytes = self._envelope.signature
        return data

    def bytes(self) -> builtins.bytes:
        """Serialized ``common.Envelope`` (to sign off-line or store).

        Turn it back into a request with ``Gateway.new_signed_block_events_request``.
        """
        data: builtins.bytes = self._envelope.SerializeToString()
        return data

    def digest(self) -> builtins.bytes:
        """Digest of the envelope payload, the input of the signature."""
        payload: builtins.bytes = self._envelope.payload
        return self._signing_identity.digest(payload)

    def _signed(self) -> Any:
        """The envelope, signed now if it was not. Raises ``GatewayError`` if no signer."""
        if not self._envelope.signature:
            self._set_signature(self._signing_identity.sign(self.digest()))
        return self._envelope

    def _set_signature(self, signature: builtins.bytes) -> None:
        self._envelope.signature = signature


class BlockEventsRequest(BlockEventsRequestBase):
    """A request for blocks from the peer's Deliver service, sent by :meth:`events`.

    Signed with the Gateway's signer when sent, unless a signature was
    supplied (off-line signing through ``Gateway.new_signed_block_events_request``).
    """

    def __init__(
        self,
        *,
        client: GatewayClient,
        signing_identity: SigningIdentity,
        kind: BlockEventsKind,
        envelope: Any,
    ) -> None:
        super().__init__(signing_identity=signing_identity, kind=kind, envelope=envelope)
        self._client = client

    def events(self, *, timeout: float | None = None) -> BlockEventsIterator:
        """Start the stream; return an iterator of blocks.

        ``timeout`` (seconds) bounds the whole stream; ``None`` waits forever.
        Raises :class:`~fabricgw.errors.GatewayError` if the Gateway is closed
        or no signature can be made; stream failures raise
        :class:`~fabricgw.errors.EventsError` while iterating.
        """
        call = self._client.deliver(self._kind.value, self._signed(), timeout=timeout)
        return BlockEventsIterator(call, self._kind)


__all__ = [
    "BlockEventsIterator",
    "BlockEventsKind",
    "BlockEventsRequest",
    "BlockEventsRequestBase",
    "blocks_from_response",
    "build_seek_envelope",
]
