"""Iterating over an event stream with ``async for`` (the asyncio :class:`EventStream`)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import grpc

from ..errors import EventsError

T = TypeVar("T")


class AsyncEventStream(Generic[T]):
    """Async iterator over the items decoded from a ``grpc.aio`` server stream.

    Iteration ends when the server ends the stream or after :meth:`close`.
    Use it with ``async with`` (or ``with``), or call :meth:`close`, to cancel
    the stream. Failures raise :class:`~fabricgw.errors.EventsError`.
    """

    def __init__(self, call: Any, decode: Callable[[Any], Iterable[T]], *, name: str) -> None:
        """Wrap a started ``grpc.aio`` streaming ``call``; as ``EventStream``."""
        self._call = call
        self._decode = decode
        self._name = name
        self._pending: deque[T] = deque()
        self._done = False

    @property
    def closed(self) -> bool:
        """Whether the stream ended, failed or was closed."""
        return self._done

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> T:
        """Next item. Raises :class:`EventsError` if the stream fails."""
        while not self._pending:
            if self._done:
                raise StopAsyncIteration
            try:
                response = await self._call.read()
            except asyncio.CancelledError:
                if self._done:  # the call was cancelled by close()
                    raise StopAsyncIteration from None
                raise
            except grpc.RpcError as err:
                if self._done:
                    raise StopAsyncIteration from None
                self._done = True
                raise EventsError.from_rpc_error(err, self._name) from err
            if response is grpc.aio.EOF:
                self._done = True
                raise StopAsyncIteration
            try:
                self._pending.extend(self._decode(response))
            except EventsError:
                self.close()
                raise
        return self._pending.popleft()

    def close(self) -> None:
        """Cancel the stream; iteration then ends. Idempotent."""
        self._done = True
        self._pending.clear()
        self._call.cancel()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


__all__ = ["AsyncEventStream"]
