"""One peer stream: registration, then many concurrent transactions, on one event loop.

Threads and ownership: none per message. Everything of a stream runs on the server's
asyncio event loop, in its one thread, driven by the transport (:mod:`.transport`):

* :meth:`Handler.start` sends REGISTER through the transport's ``send`` callback, the
  ONLY way out: every outgoing message goes through it, in order.
* The transport hands each message the peer sent to :meth:`Handler.receive`: it
  answers the registration handshake, starts each INIT/TRANSACTION and hands each
  RESPONSE/ERROR to the transaction waiting for it, keyed by (channel id, tx id).
  (:meth:`Handler.run` drives the same handler from an async iterator of messages and
  yields what it sends, for tests and tools.)
* Each transaction runs in a greenlet of its own (the transaction functions and the
  stub stay plain synchronous code). A state request sends its message and switches
  back to the loop; :meth:`~Handler.receive` switches into the transaction again with
  the peer's reply, so a request/reply costs two greenlet switches and no thread
  wake-up. A request that gets no reply within ``reply_timeout`` fails the
  transaction with :class:`~.errors.PeerError`; a closed stream with
  :class:`~.errors.StreamClosed`. When the function returns, the transaction closes the
  queries it left open (QUERY_STATE_CLOSE), sends its writes (one WRITE_BATCH_STATE
  where the peer offers it), then COMPLETED.
* Slow code that releases the GIL (a transaction's scrypt) runs through
  :func:`run_blocking`, in a worker thread, while the loop serves the other
  transactions.
* At most ``max_in_flight`` transactions of one stream run at once; the stream's
  further transactions wait in its own queue (at most ``max_queued``, beyond that they
  are refused) and start as its running ones end.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from concurrent.futures import Executor
from typing import Any, NamedTuple, TypeVar

import greenlet

from ._protos import ChaincodeMessage
from ._protos import chaincode as chaincode_pb2
from ._protos import chaincode_event as chaincode_event_pb2
from ._protos import proposal_response as proposal_response_pb2
from .capabilities import NONE, Capabilities
from .errors import PeerError, ShimError, StreamClosed, format_message
from .response import Response
from .stub import ChaincodeStub

#: Runs one transaction; must not raise (the handler still guards against it).
Dispatcher = Callable[[ChaincodeStub], Response]

T = TypeVar("T")
_TxKey = tuple[str, str]
_CLOSE = object()
_REPLIES = frozenset((ChaincodeMessage.RESPONSE, ChaincodeMessage.ERROR))
_INVOCATIONS = frozenset((ChaincodeMessage.TRANSACTION, ChaincodeMessage.INIT))

logger = logging.getLogger(__name__)


def _short(tx_id: str) -> str:
    return tx_id[:8]


class _Transaction(greenlet.greenlet):
    """The greenlet one transaction runs in (``handler._execute``, its parent the loop's
    greenlet); knows its handler (see run_blocking)."""

    def __init__(self, handler: Handler) -> None:
        super().__init__(handler._execute, parent=handler._hub)
        self.handler = handler


class _Wait(NamedTuple):
    """A transaction waiting for the peer's reply to one request."""

    transaction: _Transaction
    kind: int
    deadline: float


def run_blocking(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a worker thread while the event loop serves the other
    transactions; for slow code that releases the GIL (hashlib.scrypt). Outside a
    transaction of a :class:`Handler` (a unit test's stub, a thread) it simply runs
    ``function(*args)``. Raises what ``function`` raises."""
    current = greenlet.getcurrent()
    if not isinstance(current, _Transaction):
        return function(*args)
    return current.handler._offload(current, function, args)


class Handler:
    """Speaks the chaincode protocol on one stream opened by the peer.

    ``blocking`` is the executor :func:`run_blocking` uses (the loop's default executor
    if None). Raises ``ValueError`` for a bound that is not positive.
    """

    def __init__(
        self,
        chaincode_id: str,
        dispatch: Dispatcher,
        blocking: Executor | None = None,
        *,
        reply_timeout: float = 20.0,
        max_in_flight: int = 16,
        max_queued: int = 1024,
    ) -> None:
        if not reply_timeout > 0:
            raise ValueError(
                f"reply_timeout must be a positive number of seconds, got {reply_timeout}"
            )
        if max_in_flight < 1 or max_queued < 0:
            raise ValueError("max_in_flight must be at least 1 and max_queued at least 0")
        self._chaincode_id = chaincode_id
        self._dispatch = dispatch
        self._blocking = blocking
        self._reply_timeout = reply_timeout
        self._max_in_flight = max_in_flight
        self._max_queued = max_queued
        self._running = 0
        self._queued: deque[Any] = deque()
        self._sink: Callable[[Any], None] | None = None
        self._on_close: Callable[[], None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._state = "created"
        self._closed = False
        self._in_flight: set[_TxKey] = set()
        self._waiting: dict[_TxKey, _Wait] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._hub: greenlet.greenlet | None = None
        #: Set once the peer sent READY (a threading.Event: tests and servers wait on it
        #: from other threads).
        self.ready = threading.Event()
        #: What the peer offered in its READY (write batches, multi-key reads).
        self.capabilities: Capabilities = NONE

    # --- the stream --------------------------------------------------------------------

    def start(
        self, send: Callable[[Any], None], on_close: Callable[[], None] | None = None
    ) -> None:
        """Begin the stream on the running loop: REGISTER goes out through ``send``, which
        then takes every outgoing message in order (called on the loop, one at a time);
        ``on_close`` is called once when the stream ends."""
        self._loop = asyncio.get_running_loop()
        self._hub = greenlet.getcurrent()
        self._sink, self._on_close = send, on_close
        self._send(
            ChaincodeMessage(
                type=ChaincodeMessage.REGISTER,
                payload=chaincode_pb2.ChaincodeID(name=self._chaincode_id).SerializeToString(),
            )
        )
        self._sweeper = self._loop.create_task(self._sweep(), name="chaincode-stream-deadlines")

    async def run(self, requests: AsyncIterator[Any]) -> AsyncGenerator[Any, None]:
        """Serve the messages of ``requests``; yield every outgoing message until the
        stream closes (the handler driven by an async iterator: tests, tools)."""
        outgoing: asyncio.Queue[Any] = asyncio.Queue()
        self.start(outgoing.put_nowait, lambda: outgoing.put_nowait(_CLOSE))
        reader = asyncio.create_task(self._read(requests), name="chaincode-stream-reader")
        try:
            while True:
                item = await outgoing.get()
                if item is _CLOSE:
                    return
                yield item
        finally:
            self.close()
            reader.cancel()

    async def _read(self, requests: AsyncIterator[Any]) -> None:
        try:
            async for message in requests:
                if not self.receive(message):
                    break
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # the transport failed or was cancelled: end of stream
            logger.warning("peer stream ended abruptly: %r", exc)
        finally:
            self.close()

    def close(self) -> None:
        """End the stream: stop sending and fail every transaction waiting on the peer.

        Call it on the loop's thread (the stream's own code does)."""
        if self._closed:
            return
        self._closed = True
        self._state = "closed"
        waiting = list(self._waiting.values())
        self._waiting.clear()
        self._queued.clear()
        if self._sweeper is not None:
            self._sweeper.cancel()
        for wait in waiting:
            self._resume(wait.transaction, error=StreamClosed("the stream to the peer closed"))
        if self._on_close is not None:
            self._on_close()
        logger.info("peer stream closed")

    @property
    def closed(self) -> bool:
        """True once the stream has ended."""
        return self._closed

    def _send(self, message: Any) -> None:
        if self._closed or self._sink is None:
            logger.info(
                "[%s] stream closed, %s not sent",
                _short(message.txid),
                ChaincodeMessage.Type.Name(message.type),
            )
            return
        self._sink(message)

    async def _sweep(self) -> None:
        """Fail the requests whose reply is overdue (checked a few times per timeout)."""
        period = min(1.0, self._reply_timeout / 4)
        while not self._closed:
            await asyncio.sleep(period)
            now = time.monotonic()
            late = [key for key, wait in self._waiting.items() if wait.deadline <= now]
            for key in late:
                wait = self._waiting.pop(key, None)
                if wait is None:
                    continue
                kind = ChaincodeMessage.Type.Name(wait.kind)
                error = PeerError(
                    f"no reply from the peer to {kind} within {self._reply_timeout:g}s"
                )
                self._resume(wait.transaction, error=error)

    # --- incoming ----------------------------------------------------------------------

    def receive(self, message: Any) -> bool:
        """Handle one message from the peer (on the loop); False: the stream must end."""
        kind = message.type
        state = self._state
        if state == "ready" and kind in _REPLIES:
            self._deliver(message)
            return True
        if kind in _INVOCATIONS:
            if state != "ready":
                self._reply_error(message, "chaincode is not ready")
            else:
                self._start_transaction(message)
            return True
        if kind == ChaincodeMessage.KEEPALIVE:
            return True
        if state == "created":
            if kind == ChaincodeMessage.REGISTERED:
                self._state = "established"
                logger.info("registered with peer as %s", self._chaincode_id)
                return True
            text = bytes(message.payload).decode("utf-8", errors="replace")
            logger.error(
                "registration failed: peer sent %s %s", ChaincodeMessage.Type.Name(kind), text
            )
            return False
        if kind == ChaincodeMessage.READY and state == "established":
            self.capabilities = Capabilities.from_ready(bytes(message.payload))
            self._state = "ready"
            self.ready.set()
            logger.info("peer stream ready (%s)", self.capabilities)
            return True
        logger.warning("ignoring unexpected %s from peer", ChaincodeMessage.Type.Name(kind))
        return True

    def _reply_error(self, request: Any, text: str) -> None:
        logger.warning("[%s] %s", _short(request.txid), text)
        self._send(
            ChaincodeMessage(
                type=ChaincodeMessage.ERROR,
                payload=text.encode("utf-8"),
                txid=request.txid,
                channel_id=request.channel_id,
            )
        )

    def _start_transaction(self, message: Any) -> None:
        key = (message.channel_id, message.txid)
        if key in self._in_flight:
            self._reply_error(
                message, f"transaction {message.txid} is already in flight on this stream"
            )
            return
        if self._running >= self._max_in_flight:
            if len(self._queued) >= self._max_queued:
                self._reply_error(
                    message,
                    f"too many transactions on this stream ({self._max_in_flight} running, "
                    f"{self._max_queued} waiting); try again later",
                )
                return
            self._in_flight.add(key)
            self._queued.append(message)
            return
        self._in_flight.add(key)
        self._running += 1
        self._begin(message)

    def _begin(self, message: Any) -> None:
        """Run ``message`` in a new transaction greenlet (its slot is taken) until it first
        waits on the peer or ends."""
        self._resume(_Transaction(self), value=message)

    def _resume(
        self, transaction: _Transaction, value: Any = None, error: BaseException | None = None
    ) -> None:
        """Switch into ``transaction`` (from the loop) until it waits again or ends; when
        it ended, start the stream's next waiting transaction in its slot."""
        while True:
            if error is not None:
                transaction.throw(error)
            else:
                transaction.switch(value)
            if not transaction.dead:
                return
            nxt = self._queued.popleft() if self._queued and not self._closed else None
            if nxt is None:
                self._running -= 1
                return
            transaction, value, error = _Transaction(self), nxt, None

    @property
    def running(self) -> int:
        """How many of this stream's transactions hold a slot now."""
        return self._running

    @property
    def idle(self) -> bool:
        """True when the stream runs and queues no transaction."""
        return self._running == 0 and not self._queued

    def _deliver(self, message: Any) -> None:
        wait = self._waiting.pop((message.channel_id, message.txid), None)
        if wait is None:
            logger.warning(
                "[%s] %s for no waiting request",
                _short(message.txid),
                ChaincodeMessage.Type.Name(message.type),
            )
            return
        self._resume(wait.transaction, value=message)

    # --- transactions (each in its greenlet) -------------------------------------------

    def _execute(self, message: Any) -> None:
        try:
            reply = self._completed(message)
        except BaseException:  # never let a transaction end silently, unanswered
            logger.exception("[%s] transaction failed in the shim", _short(message.txid))
            reply = ChaincodeMessage(
                type=ChaincodeMessage.ERROR,
                payload=b"internal error in chaincode shim",
                txid=message.txid,
                channel_id=message.channel_id,
            )
        finally:
            self._in_flight.discard((message.channel_id, message.txid))
        self._send(reply)

    def _completed(self, message: Any) -> Any:
        try:
            stub = ChaincodeStub.from_message(message, self._call_peer, self.capabilities)
        except ShimError as exc:
            return ChaincodeMessage(
                type=ChaincodeMessage.ERROR,
                payload=str(exc).encode("utf-8"),
                txid=message.txid,
                channel_id=message.channel_id,
            )
        try:
            response = self._dispatch(stub)
        except Exception:
            logger.exception("[%s] dispatcher raised", _short(message.txid))
            response = Response(500, "Internal: unexpected error in chaincode")
        # Queries the function abandoned are released while the peer still knows the tx.
        stub.close_open_queries()
        if response.ok:  # a refused transaction's writes are never sent: the peer drops them
            try:
                stub.flush_writes()
            except ShimError as exc:
                logger.warning("[%s] write batch refused: %s", _short(message.txid), exc)
                response = Response(500, format_message("Internal", "internal", str(exc)))
        completed = ChaincodeMessage(
            type=ChaincodeMessage.COMPLETED,
            payload=proposal_response_pb2.Response(
                status=response.status, message=response.message, payload=response.payload
            ).SerializeToString(),
            txid=message.txid,
            channel_id=message.channel_id,
        )
        if response.ok and stub.event is not None:
            completed.chaincode_event.CopyFrom(
                chaincode_event_pb2.ChaincodeEvent(
                    event_name=stub.event.name, payload=stub.event.payload
                )
            )
        return completed

    def _call_peer(self, request: Any) -> Any:
        """Send a state request for the running transaction and wait for the peer's reply
        (the loop serves others meanwhile)."""
        current = greenlet.getcurrent()
        if not isinstance(current, _Transaction) or current.handler is not self:
            raise ShimError("a state request outside a transaction of this stream")
        if self._closed:
            raise StreamClosed("the stream to the peer closed")
        key = (request.channel_id, request.txid)
        if key in self._waiting:
            raise ShimError(f"transaction {request.txid} already waits on the peer")
        self._waiting[key] = _Wait(current, request.type, time.monotonic() + self._reply_timeout)
        self._send(request)
        assert self._hub is not None
        return self._hub.switch()  # back in _deliver's (or the sweeper's) _resume

    def _offload(
        self, current: _Transaction, function: Callable[..., T], args: tuple[Any, ...]
    ) -> T:
        """:func:`run_blocking` for a transaction of this stream."""
        assert self._loop is not None and self._hub is not None
        future = self._loop.run_in_executor(self._blocking, function, *args)
        future.add_done_callback(lambda done: self._resume(current, value=done))
        done: asyncio.Future[T] = self._hub.switch()
        return done.result()
