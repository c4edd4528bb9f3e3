"""One peer stream: registration, then many concurrent transactions.

Threads and ownership:

* :meth:`Handler.run` is a generator of outgoing messages and the ONLY writer to the
  stream: everything to send goes through one queue that it drains.
* A reader thread consumes the peer's messages: it answers the registration
  handshake, starts each INIT/TRANSACTION in the executor and routes each
  RESPONSE/ERROR to the transaction waiting for it, keyed by (channel id, tx id).
* Each transaction runs in an executor worker; its stub blocks on a future per
  request until the reader delivers the peer's reply, the stream closes or the
  request's deadline (``reply_timeout``) passes. When the transaction function
  returns, the worker closes the queries it left open (QUERY_STATE_CLOSE), then
  sends COMPLETED.
* At most ``max_in_flight`` transactions of one stream run at once; the stream's
  further transactions wait in its own queue (at most ``max_queued``, beyond that
  they are refused) and start as its running ones end. With an executor of
  ``max_streams * max_in_flight`` workers (see the server), a stream that never
  answers holds its own share of workers only, never another stream's.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from typing import Any

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

_TxKey = tuple[str, str]
_CLOSE = object()

logger = logging.getLogger(__name__)


def _short(tx_id: str) -> str:
    return tx_id[:8]


class Handler:
    """Speaks the chaincode protocol on one stream opened by the peer."""

    def __init__(
        self,
        chaincode_id: str,
        dispatch: Dispatcher,
        executor: Executor,
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
        self._executor = executor
        self._reply_timeout = reply_timeout
        self._max_in_flight = max_in_flight
        self._max_queued = max_queued
        self._running = 0
        self._queued: deque[Any] = deque()
        self._outgoing: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._state = "created"
        self._closed = False
        self._in_flight: set[_TxKey] = set()
        self._waiting: dict[_TxKey, Future[Any]] = {}
        self.ready = threading.Event()
        #: What the peer offered in its READY (write batches, multi-key reads).
        self.capabilities: Capabilities = NONE

    # --- the stream --------------------------------------------------------------------

    def run(self, requests: Iterator[Any]) -> Iterator[Any]:
        """Register, then yield every outgoing message until the stream closes."""
        register = ChaincodeMessage(
            type=ChaincodeMessage.REGISTER,
            payload=chaincode_pb2.ChaincodeID(name=self._chaincode_id).SerializeToString(),
        )
        self._send(register)
        reader = threading.Thread(
            target=self._read, args=(requests,), name="chaincode-stream-reader", daemon=True
        )
        reader.start()
        try:
            while True:
                item = self._outgoing.get()
                if item is _CLOSE:
                    return
                yield item
        finally:
            self.close()

    def close(self) -> None:
        """End the stream: stop sending and fail every transaction waiting on the peer."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._state = "closed"
            waiting = list(self._waiting.values())
            self._waiting.clear()
            self._queued.clear()
            self._outgoing.put(_CLOSE)
        for future in waiting:
            future.set_exception(StreamClosed("the stream to the peer closed"))
        logger.info("peer stream closed")

    @property
    def closed(self) -> bool:
        """True once the stream has ended."""
        return self._closed

    def _send(self, message: Any) -> None:
        with self._lock:
            if self._closed:
                logger.info(
                    "[%s] stream closed, %s not sent",
                    _short(message.txid),
                    ChaincodeMessage.Type.Name(message.type),
                )
                return
            self._outgoing.put(message)

    def _read(self, requests: Iterator[Any]) -> None:
        try:
            for message in requests:
                if not self._on_message(message):
                    break
        except Exception as exc:  # the transport failed or was cancelled: end of stream
            logger.warning("peer stream ended abruptly: %r", exc)
        finally:
            self.close()

    # --- incoming ----------------------------------------------------------------------

    def _on_message(self, message: Any) -> bool:
        """Handle one message from the peer; False ends the stream."""
        kind = message.type
        if kind == ChaincodeMessage.KEEPALIVE:
            return True
        state = self._state
        if state == "created":
            if kind == ChaincodeMessage.REGISTERED:
                self._advance("established")
                logger.info("registered with peer as %s", self._chaincode_id)
                return True
            text = bytes(message.payload).decode("utf-8", errors="replace")
            logger.error(
                "registration failed: peer sent %s %s", ChaincodeMessage.Type.Name(kind), text
            )
            return False
        if kind == ChaincodeMessage.READY and state == "established":
            self.capabilities = Capabilities.from_ready(bytes(message.payload))
            self._advance("ready")
            self.ready.set()
            logger.info("peer stream ready (%s)", self.capabilities)
            return True
        if kind in (ChaincodeMessage.TRANSACTION, ChaincodeMessage.INIT):
            if state != "ready":
                self._reply_error(message, "chaincode is not ready")
            else:
                self._start_transaction(message)
            return True
        if kind in (ChaincodeMessage.RESPONSE, ChaincodeMessage.ERROR):
            self._deliver(message)
            return True
        logger.warning("ignoring unexpected %s from peer", ChaincodeMessage.Type.Name(kind))
        return True

    def _advance(self, state: str) -> None:
        with self._lock:
            if not self._closed:
                self._state = state

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
        with self._lock:
            duplicate = key in self._in_flight
            full = not duplicate and len(self._queued) >= self._max_queued
            start = not duplicate and not full and self._running < self._max_in_flight
            if start:
                self._running += 1
                self._in_flight.add(key)
            elif not duplicate and not full:
                self._in_flight.add(key)
                self._queued.append(message)
        if duplicate:
            self._reply_error(
                message, f"transaction {message.txid} is already in flight on this stream"
            )
        elif full:
            self._reply_error(
                message,
                f"too many transactions on this stream ({self._max_in_flight} running, "
                f"{self._max_queued} waiting); try again later",
            )
        elif start:
            self._submit(message)

    def _submit(self, message: Any) -> None:
        """Run ``message`` in the executor; its slot (counted in ``_running``) is taken."""
        try:
            self._executor.submit(self._execute, message)
        except RuntimeError:  # executor shut down
            self._finished(message)
            self._reply_error(message, "chaincode is shutting down")

    def _finished(self, message: Any) -> None:
        """Release ``message``'s slot and start the stream's next waiting transaction."""
        with self._lock:
            self._in_flight.discard((message.channel_id, message.txid))
            nxt = self._queued.popleft() if self._queued and not self._closed else None
            if nxt is None:
                self._running -= 1
        if nxt is not None:
            self._submit(nxt)

    @property
    def running(self) -> int:
        """How many of this stream's transactions hold a worker now."""
        return self._running

    def _deliver(self, message: Any) -> None:
        key = (message.channel_id, message.txid)
        with self._lock:
            future = self._waiting.pop(key, None)
        if future is None:
            logger.warning(
                "[%s] %s for no waiting request",
                _short(message.txid),
                ChaincodeMessage.Type.Name(message.type),
            )
            return
        future.set_result(message)

    # --- transactions ------------------------------------------------------------------

    def _execute(self, message: Any) -> None:
        try:
            reply = self._completed(message)
        except BaseException:  # never let a worker die silently with the tx unanswered
            logger.exception("[%s] transaction failed in the shim", _short(message.txid))
            reply = ChaincodeMessage(
                type=ChaincodeMessage.ERROR,
                payload=b"internal error in chaincode shim",
                txid=message.txid,
                channel_id=message.channel_id,
            )
        finally:
            self._finished(message)
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
        """Send a state request for a transaction and wait for the peer's reply."""
        key = (request.channel_id, request.txid)
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise StreamClosed("the stream to the peer closed")
            if key in self._waiting:
                raise ShimError(f"transaction {request.txid} already waits on the peer")
            self._waiting[key] = future
            self._outgoing.put(request)
        try:
            return future.result(timeout=self._reply_timeout)
        except TimeoutError:
            kind = ChaincodeMessage.Type.Name(request.type)
            raise PeerError(
                f"no reply from the peer to {kind} within {self._reply_timeout:g}s"
            ) from None
        finally:
            with self._lock:
                if self._waiting.get(key) is future:
                    del self._waiting[key]
