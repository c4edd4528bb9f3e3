"""Block events read with ``async for``."""

from __future__ import annotations

from typing import Any

from ..block_events import BlockEventsKind, BlockEventsRequestBase, blocks_from_response
from ..signing_identity import SigningIdentity
from ._client import AsyncGatewayClient
from .event_stream import AsyncEventStream


class AsyncBlockEventsIterator(AsyncEventStream[Any]):
    """Async iterator over blocks of one :class:`~fabricgw.block_events.BlockEventsKind`.

    Use with ``async with``; :meth:`close` cancels the stream. Raises
    :class:`~fabricgw.errors.EventsError` if the stream fails.
    """

    def __init__(self, call: Any, kind: BlockEventsKind) -> None:
        super().__init__(
            call, lambda response: blocks_from_response(kind, response), name=kind.stream_name
        )
        self.kind = kind


class AsyncBlockEventsRequest(BlockEventsRequestBase):
    """A request for blocks from the peer's Deliver service, sent by :meth:`events`.

    Signed with the Gateway's signer when sent, unless a signature was supplied
    (off-line signing through ``AsyncGateway.new_signed_block_events_request``).
    """

    def __init__(
        self,
        *,
        client: AsyncGatewayClient,
        signing_identity: SigningIdentity,
        kind: BlockEventsKind,
        envelope: Any,
    ) -> None:
        super().__init__(signing_identity=signing_identity, kind=kind, envelope=envelope)
        self._client = client

    def events(self, *, timeout: float | None = None) -> AsyncBlockEventsIterator:
        """Start the stream (call from the channel's event loop); return an async iterator.

        Raises as :meth:`fabricgw.block_events.BlockEventsRequest.events`.
        """
        call = self._client.deliver(self._kind.value, self._signed(), timeout=timeout)
        return AsyncBlockEventsIterator(call, self._kind)


__all__ = ["AsyncBlockEventsIterator", "AsyncBlockEventsRequest"]
