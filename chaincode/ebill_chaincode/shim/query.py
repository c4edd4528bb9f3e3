"""Ledger query results and the iterator over a peer-side query.

A range, partial-composite-key or history query opens an iterator on the peer. The
first reply carries the first batch; while a reply says ``has_more`` the shim asks for
the next batch with QUERY_STATE_NEXT. :class:`QueryIterator` fetches batches lazily and
sends QUERY_STATE_CLOSE exactly once for an iterator the peer may still hold: when the
results are exhausted, when the caller calls :meth:`QueryIterator.close` (or leaves a
``with`` block) and, for an iterator the transaction abandoned, when the transaction
ends (the stub closes every query it opened before the handler sends COMPLETED).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, TypeVar

from ._protos import ChaincodeMessage, DecodeError
from ._protos import chaincode_shim as chaincode_shim_pb2
from ._protos import queryresult as queryresult_pb2
from .errors import ShimError

T = TypeVar("T")

#: Sends one request (message type, payload) for the transaction; returns the reply payload.
Request = Callable[[int, bytes], bytes]


@dataclass(frozen=True)
class KV:
    """One ledger entry returned by a range or composite-key query."""

    key: str
    value: bytes


@dataclass(frozen=True)
class QueryPage:
    """What the peer reports about one page of a paginated query.

    ``fetched`` is the number of records in the page; ``bookmark`` is opaque: pass it
    back to get the page that follows.
    """

    fetched: int
    bookmark: str


@dataclass(frozen=True)
class KeyModification:
    """One committed change of a key, from :meth:`~.stub.Stub.get_history_for_key`."""

    tx_id: str
    value: bytes
    timestamp: datetime
    is_delete: bool


def to_datetime(timestamp: Any) -> datetime:
    """A ``google.protobuf.Timestamp`` as an aware UTC datetime (microsecond precision)."""
    moment = datetime.fromtimestamp(timestamp.seconds, UTC)
    return moment + timedelta(microseconds=timestamp.nanos // 1000)


def decode_query_response(payload: bytes, what: str) -> Any:
    """Parse a ``QueryResponse``; ``ShimError`` if the bytes are not one."""
    try:
        return chaincode_shim_pb2.QueryResponse.FromString(payload)
    except DecodeError as exc:
        raise ShimError(f"cannot decode the peer's reply to {what}: {exc}") from exc


def decode_kv(raw: bytes) -> KV:
    """A ``queryresult.KV`` as :class:`KV`."""
    try:
        message = queryresult_pb2.KV.FromString(raw)
    except DecodeError as exc:
        raise ShimError(f"cannot decode a query result: {exc}") from exc
    return KV(message.key, bytes(message.value))


def decode_key_modification(raw: bytes) -> KeyModification:
    """A ``queryresult.KeyModification`` as :class:`KeyModification`."""
    try:
        message = queryresult_pb2.KeyModification.FromString(raw)
    except DecodeError as exc:
        raise ShimError(f"cannot decode a history result: {exc}") from exc
    return KeyModification(
        message.tx_id, bytes(message.value), to_datetime(message.timestamp), message.is_delete
    )


def decode_response_metadata(raw: bytes) -> QueryPage:
    """A ``QueryResponseMetadata`` as :class:`QueryPage`."""
    try:
        message = chaincode_shim_pb2.QueryResponseMetadata.FromString(raw)
    except DecodeError as exc:
        raise ShimError(f"cannot decode the query response metadata: {exc}") from exc
    return QueryPage(message.fetched_records_count, message.bookmark)


class QueryIterator(Iterator[T]):
    """Iterates the results of one peer-side query; usable as a context manager.

    Not thread-safe: like the stub, it belongs to the thread running the transaction.
    A failed QUERY_STATE_NEXT ends the iteration for good (the peer drops the query on
    error, so no close is sent for it).
    """

    def __init__(
        self,
        request: Request,
        first: Any,
        decode: Callable[[bytes], T],
        on_finished: Callable[[QueryIterator[Any]], None],
    ) -> None:
        self._request = request
        self._response = first
        self._decode = decode
        self._on_finished = on_finished
        self._id: str = first.id
        self._position = 0
        self._exhausted = False
        self._open_on_peer = True
        self.metadata: bytes = bytes(first.metadata)
        """The last non-empty ``QueryResponse.metadata`` seen (pagination)."""

    @property
    def query_id(self) -> str:
        """The peer's id of the query."""
        return self._id

    @property
    def closed(self) -> bool:
        """True once the peer no longer holds the query for this iterator."""
        return not self._open_on_peer

    def __iter__(self) -> QueryIterator[T]:
        return self

    def __next__(self) -> T:
        while not self._exhausted:
            results = self._response.results
            if self._position < len(results):
                raw = bytes(results[self._position].resultBytes)
                self._position += 1
                try:
                    return self._decode(raw)
                except ShimError:
                    self._exhausted = True
                    with contextlib.suppress(ShimError):
                        self.close()
                    raise
            if not self._response.has_more:
                self._exhausted = True
                self.close()
                break
            self._fetch_next()
        raise StopIteration

    def _fetch_next(self) -> None:
        request = chaincode_shim_pb2.QueryStateNext(id=self._id).SerializeToString()
        try:
            payload = self._request(ChaincodeMessage.QUERY_STATE_NEXT, request)
            response = decode_query_response(payload, "QUERY_STATE_NEXT")
            if not response.results and response.has_more:
                raise ShimError("the peer sent an empty batch that claims more results")
        except BaseException:
            self._exhausted = True
            self._forget()
            raise
        if response.metadata:
            self.metadata = bytes(response.metadata)
        self._response = response
        self._position = 0

    def close(self) -> None:
        """Release the query on the peer (QUERY_STATE_CLOSE); idempotent."""
        self._exhausted = True
        if not self._open_on_peer:
            return
        self._forget()
        request = chaincode_shim_pb2.QueryStateClose(id=self._id).SerializeToString()
        self._request(ChaincodeMessage.QUERY_STATE_CLOSE, request)

    def _forget(self) -> None:
        if self._open_on_peer:
            self._open_on_peer = False
            self._on_finished(self)

    def __enter__(self) -> QueryIterator[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close()
        else:  # do not let a failing close hide the error that left the block
            with contextlib.suppress(ShimError):
                self.close()
