"""The server the peer dials (chaincode as a service).

The server runs one asyncio event loop in a thread of its own
(:meth:`ChaincodeServer.start` returns once it listens) and speaks gRPC's wire itself
(:mod:`.transport`: HTTP/2 framing of its own, HPACK with ``hpack``, TLS with the
standard library). Each
``protos.Chaincode/Connect`` call is one peer stream served by a
:class:`~.handler.Handler` on that loop; every transaction of every stream is a
greenlet on it, so a message to or from the peer costs no thread hand-off. One stream
runs at most ``max_in_flight`` transactions at once (the rest wait in its queue), each
state request gives up after ``reply_timeout`` seconds, and a stream whose
transactions hang (a peer that never answers) holds only its own slots: the loop
serves the other streams meanwhile. Slow GIL-releasing code of a transaction
(:func:`~.handler.run_blocking`) runs on ``blocking_workers`` threads.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import ssl
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from cryptography import x509

from .handler import Dispatcher, Handler
from .transport import Call, Http2Connection, Refusal, Status

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TlsFiles:
    """PEM files for TLS.

    With ``client_ca`` (CHAINCODE_TLS_CLIENT_CA) the server requires a client
    certificate on every connection and verifies it against these CA certificates
    (mutual TLS): a peer without a certificate, or with one from another CA, fails the
    handshake.
    """

    cert: Path
    key: Path
    client_ca: Path | None = None

    def context(self) -> ssl.SSLContext:
        """The server's TLS context: TLS 1.2 or newer, ALPN ``h2`` (gRPC clients require
        it), the client certificate required and verified against ``client_ca`` when
        given. ``ValueError`` for an unusable CA file; ``ssl.SSLError``/``OSError`` for
        an unusable certificate or key."""
        root = self._client_roots()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert, self.key)
        if root is not None:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(cadata=root.decode("ascii", errors="replace"))
        context.set_alpn_protocols(["h2"])
        return context

    def _client_roots(self) -> bytes | None:
        if self.client_ca is None:
            return None
        pem = self.client_ca.read_bytes()
        # An empty or garbled CA file must not quietly weaken or break client auth.
        try:
            certificates = x509.load_pem_x509_certificates(pem)
        except ValueError:
            certificates = []
        if not certificates:
            raise ValueError(f"no PEM certificate in the client CA file {self.client_ca}")
        return pem


class _ChaincodeService:
    """Serves ``protos.Chaincode/Connect``: one handler per call, within the bounds."""

    def __init__(
        self,
        chaincode_id: str,
        dispatch: Dispatcher,
        blocking: ThreadPoolExecutor,
        reply_timeout: float,
        max_in_flight: int,
        max_streams: int,
        max_streams_per_client: int,
    ) -> None:
        self._chaincode_id = chaincode_id
        self._dispatch = dispatch
        self._blocking = blocking
        self._reply_timeout = reply_timeout
        self._max_in_flight = max_in_flight
        self._max_streams = max_streams
        self._max_per_client = max_streams_per_client
        self._streams: dict[bytes, int] = {}
        self._handlers: set[Handler] = set()  # one per open stream

    @property
    def idle(self) -> bool:
        """True when no stream runs or queues a transaction."""
        return all(handler.idle for handler in self._handlers)

    def __call__(self, call: Call) -> None:
        """Start serving ``call``; :class:`Refusal` (RESOURCE_EXHAUSTED) beyond a bound."""
        logger.info("peer connected from %s", call.peer)
        if len(self._handlers) >= self._max_streams:
            logger.warning("refused a stream: %d are open", len(self._handlers))
            raise Refusal(
                Status.RESOURCE_EXHAUSTED, f"the server serves {self._max_streams} streams at most"
            )
        # With mutual TLS, each client certificate holds at most its share of the slots.
        client = call.client_certificate
        if client is not None:
            if self._streams.get(client, 0) >= self._max_per_client:
                logger.warning(
                    "refused a stream: its client already holds %d", self._max_per_client
                )
                raise Refusal(
                    Status.RESOURCE_EXHAUSTED,
                    f"this client already holds {self._max_per_client} streams",
                )
            self._streams[client] = self._streams.get(client, 0) + 1
        handler = Handler(
            self._chaincode_id,
            self._dispatch,
            self._blocking,
            reply_timeout=self._reply_timeout,
            max_in_flight=self._max_in_flight,
        )

        def ended() -> None:
            handler.close()
            self._handlers.discard(handler)
            if client is not None:
                left = self._streams.get(client, 0) - 1
                if left > 0:
                    self._streams[client] = left
                else:
                    self._streams.pop(client, None)

        self._handlers.add(handler)
        call.on_message = handler.receive
        call.on_end = ended
        handler.start(call.send, on_close=call.finish)


class ChaincodeServer:
    """Serves the chaincode on ``address`` (host:port) until stopped.

    ``reply_timeout`` bounds how long a transaction waits for the peer's answer to one
    state request, so that a lost reply cannot hold a transaction forever (it then
    fails with a message naming the request). ``max_in_flight`` bounds the transactions
    one stream runs at once, ``max_streams_per_client`` the streams one client
    certificate holds at once (mutual TLS only), so no peer can take every stream
    slot. ``max_streams`` defaults to ``peers * max_streams_per_client``: every one of
    the network's ``peers`` fits with its full share (a network that grows starts its
    next server with the new count). ``blocking_workers`` threads run the transactions'
    :func:`~.handler.run_blocking` calls (each scrypt holds 32 MiB while it runs).
    Raises ``ValueError`` for an empty chaincode id or a bound that is not positive.
    """

    def __init__(
        self,
        chaincode_id: str,
        address: str,
        dispatch: Dispatcher,
        *,
        tls: TlsFiles | None = None,
        peers: int = 4,
        max_streams: int | None = None,
        max_in_flight: int = 16,
        max_streams_per_client: int = 4,
        reply_timeout: float = 20.0,
        blocking_workers: int = 4,
    ) -> None:
        if not chaincode_id:
            raise ValueError("chaincode id must not be empty")
        if max_streams is None:
            max_streams = peers * max_streams_per_client
        bounds = (peers, max_streams, max_in_flight, max_streams_per_client, blocking_workers)
        if min(bounds) < 1:
            raise ValueError(
                "peers, max_streams, max_in_flight, max_streams_per_client and"
                " blocking_workers must be at least 1"
            )
        if not reply_timeout > 0:
            raise ValueError(
                f"reply_timeout must be a positive number of seconds, got {reply_timeout}"
            )
        self.chaincode_id = chaincode_id
        self.address = address
        self.max_streams = max_streams
        self._tls = tls
        self._blocking = ThreadPoolExecutor(
            blocking_workers, thread_name_prefix="chaincode-blocking"
        )
        self._service = _ChaincodeService(
            chaincode_id,
            dispatch,
            self._blocking,
            reply_timeout,
            max_in_flight,
            max_streams,
            max_streams_per_client,
        )
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._grace: float | None = 5.0
        self.port = 0

    def start(self) -> int:
        """Bind and start serving on the server's own loop thread; returns the bound
        port (useful with port 0). Raises OSError when it cannot listen or the TLS files
        are unusable."""
        context = None
        if self._tls is not None:
            try:
                context = self._tls.context()
            except (ValueError, OSError) as exc:
                raise OSError(f"invalid TLS configuration: {exc}") from exc
        started: Future[int] = Future()
        self._thread = threading.Thread(
            target=self._run, args=(started, context), name="chaincode-loop", daemon=True
        )
        self._thread.start()
        self.port = started.result()
        return self.port

    def _run(self, started: Future[int], context: ssl.SSLContext | None) -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._serve(started, context))
        except BaseException as exc:  # never leave start() waiting
            if not started.done():
                started.set_exception(exc)
            else:
                logger.exception("chaincode server loop failed")
        finally:
            loop.close()

    async def _serve(self, started: Future[int], context: ssl.SSLContext | None) -> None:
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._stopping = asyncio.Event()
        connections: set[Http2Connection] = set()
        host, _, port = self.address.rpartition(":")
        try:
            server = await loop.create_server(
                lambda: Http2Connection(self._service, connections),
                host.strip("[]") or None,
                int(port),
                ssl=context,
                reuse_address=True,
                backlog=128,
            )
        except (OSError, ValueError) as exc:
            raise OSError(f"cannot listen on {self.address}: {exc}") from exc
        started.set_result(int(server.sockets[0].getsockname()[1]))
        await self._stopping.wait()
        # No new connection or stream; the transactions in flight finish within the grace
        # (an upgrade stops the old server while peers still finish their proposals on it).
        server.close()
        for connection in list(connections):
            connection.drain()
        deadline = loop.time() + (self._grace or 0.0)
        while not self._service.idle and loop.time() < deadline:
            await asyncio.sleep(0.05)
        for connection in list(connections):
            connection.shut()
        waiting = [c.closed for c in connections]
        if waiting:
            await asyncio.wait(waiting, timeout=0.5)
        for connection in list(connections):
            connection.abort()
        await asyncio.sleep(0)

    @property
    def listen_address(self) -> str:
        """The configured address with the actually bound port."""
        host = self.address.rsplit(":", 1)[0]
        return f"{host}:{self.port}"

    def stop(self, grace: float | None = 5.0) -> None:
        """Stop accepting connections and streams (GOAWAY), let the transactions in flight
        finish for up to ``grace`` seconds, then end the streams (UNAVAILABLE) and close."""
        loop, stopping, thread = self._loop, self._stopping, self._thread
        if loop is not None and stopping is not None and thread is not None and thread.is_alive():
            self._grace = grace
            loop.call_soon_threadsafe(stopping.set)
            thread.join()
        self._blocking.shutdown(wait=False, cancel_futures=True)

    def wait(self) -> None:
        """Block until the server has stopped."""
        if self._thread is not None:
            self._thread.join()

    def serve_until_signal(self, grace: float = 5.0) -> None:
        """Serve until SIGTERM or SIGINT, then stop gracefully (main thread only)."""
        stopping = threading.Event()

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            logger.info("received %s, stopping", signal.Signals(signum).name)
            stopping.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            while not stopping.wait(1.0):
                pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stop(grace)
        logger.info("chaincode server stopped")
