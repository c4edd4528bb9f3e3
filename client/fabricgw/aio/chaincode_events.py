"""Chaincode events read with ``async for``."""

from __future__ import annotations

from typing import Any

from ..chaincode_event import ChaincodeEvent, chaincode_events_from_response
from ..chaincode_events import STREAM_NAME, ChaincodeEventsRequestBase
from ..signing_identity import SigningIdentity
from ._client import AsyncGatewayClient
from .event_stream import AsyncEventStream


class AsyncChaincodeEventsIterator(AsyncEventStream[ChaincodeEvent]):
    """Async iterator over :class:`~fabricgw.chaincode_event.ChaincodeEvent` as blocks commit.

    Use with ``async with``; :meth:`close` cancels the stream. Raises
    :class:`~fabricgw.errors.EventsError` if the stream fails.
    """

    def __init__(self, call: Any) -> None:
        super().__init__(call, chaincode_events_from_response, name=STREAM_NAME)


class AsyncChaincodeEventsRequest(ChaincodeEventsRequestBase):
    """A request for the events of one chaincode, sent by :meth:`events`.

    Signed with the Gateway's signer when sent, unless a signature was supplied
    (off-line signing through ``AsyncGateway.new_signed_chaincode_events_request``).
    """

    def __init__(
        self, *, client: AsyncGatewayClient, signing_identity: SigningIdentity, signed_request: Any
    ) -> None:
        super().__init__(signing_identity=signing_identity, signed_request=signed_request)
        self._client = client

    def events(self, *, timeout: float | None = None) -> AsyncChaincodeEventsIterator:
        """Start the stream (call from the channel's event loop); return an async iterator.

        Raises as :meth:`fabricgw.chaincode_events.ChaincodeEventsRequest.events`.
        """
        call = self._client.chaincode_events(self._signed(), timeout=timeout)
        return AsyncChaincodeEventsIterator(call)


__all__ = ["AsyncChaincodeEventsIterator", "AsyncChaincodeEventsRequest"]
