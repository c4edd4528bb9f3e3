"""Event streams: where a stream starts, and iterating over one (sync).

Shared by chaincode events and block events. The asyncio counterpart of
:class:`EventStream` is :class:`fabricgw.aio.event_stream.AsyncEventStream`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import grpc

from ._protos import ab_pb2
from .checkpointer import Checkpoint
from .errors import EventsError

T = TypeVar("T")

MAX_BLOCK_NUMBER = 2**64 - 1
"""Largest block number (``uint64``): the stop position of an endless block stream."""


def seek_block(block_number: int) -> Any:
    """``orderer.SeekPosition`` of a specified block."""
    return ab_pb2.SeekPosition(specified=ab_pb2.SeekSpecified(number=block_number))


def seek_next_commit() -> Any:
    """``orderer.SeekPosition`` of the next block to be committed."""
    return ab_pb2.SeekPosition(next_commit=ab_pb2.SeekNextCommit())


def seek_newest() -> Any:
    """``orderer.SeekPosition`` of the newest block already committed."""
    return ab_pb2.SeekPosition(newest=ab_pb2.SeekNewest())


def start_block_number(start_block: int | None, checkpoint: Checkpoint | None) -> int | None:
    """Block a stream starts at: the checkpoint's block if it has one, else ``start_block``.

    ``None`` means the default position of the stream. Raises ``ValueError``
    for a negative or non-integer block number.
    """
    block_number = checkpoint.block_number if checkpoint is not None else None
    if block_number is None:
        block_number = start_block
    if block_number is None:
        return None
    if isinstance(block_number, bool) or not isinstance(block_number, int) or block_number < 0:
        raise ValueError(f"start block must be a non-negative int, got {block_number!r}")
    return block_number


def start_position(
    start_block: int | None, checkpoint: Checkpoint | None, *, default: Callable[[], Any]
) -> Any:
    """``SeekPosition`` to start at (see :func:`start_block_number`); ``default()`` if none.

    Raises ``ValueError`` as :func:`start_block_number`.
    """
    block_number = start_block_number(start_block, checkpoint)
    return default() if block_number is None else seek_block(block_number)


def after_transaction_id(checkpoint: Checkpoint | None) -> str:
    """Transaction after which events of the start block are wanted ('' for all of them)."""
    if checkpoint is None or checkpoint.block_number is None:
        return ""
    return checkpoint.transaction_id or ""


class EventStream(Generic[T]):
    """Iterator over the items decoded from a gRPC server stream.

    Iteration blocks until the next item arrives; it ends when the server
    ends the stream or after :meth:`close`. Use it as a context manager, or
    call :meth:`close`, to cancel the stream. Failures of the stream raise
    :class:`~fabricgw.errors.EventsError` from ``next()``.
    """

    def __init__(self, call: Any, decode: Callable[[Any], Iterable[T]], *, name: str) -> None:
        """Wrap a started streaming ``call``; ``decode`` turns one response into items.

        ``decode`` may raise :class:`EventsError` for a response that ends the
        stream in failure. ``name`` (e.g. ``chaincode events``) is used in errors.
        """
        self._call = call
        self._decode = decode
        self._name = name
        self._pending: deque[T] = deque()
        self._done = False

    @property
    def closed(self) -> bool:
        """Whether the stream ended, failed or was closed."""
        return self._done

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> T:
        """Next item. Raises :class:`EventsError` if the stream fails."""
        while not self._pending:
            if self._done:
                raise StopIteration
            try:
                response = next(self._call)
            except StopIteration:
                self._done = True
                raise
            except grpc.RpcError as err:
                if self._done:  # closed while waiting
                    raise StopIteration from None
                self._done = True
                raise EventsError.from_rpc_error(err, self._name) from err
            try:
                self._pending.extend(self._decode(response))
            except EventsError:
                self.close()
                raise
        return self._pending.popleft()

    def close(self) -> None:
        """Cancel the stream; iteration then ends. Idempotent, callable from another thread."""
        self._done = True
        self._pending.clear()
        self._call.cancel()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


__all__ = [
    "MAX_BLOCK_NUMBER",
    "EventStream",
    "after_transaction_id",
    "seek_block",
    "seek_newest",
    "seek_next_commit",
    "start_block_number",
    "start_position",
]
