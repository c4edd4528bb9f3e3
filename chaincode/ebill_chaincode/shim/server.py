"""The gRPC server the peer dials (chaincode as a service).

The server runs grpc's asyncio server on one event loop in a thread of its own
(:meth:`ChaincodeServer.start` returns once it listens). Each
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
import threading
from collections.abc import AsyncIterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import grpc
import grpc.aio
from cryptography import x509

from ._protos import chaincode_shim_grpc
from .handler import Dispatcher, Handler

logger = logging.getLogger(__name__)

_MAX_MESSAGE = 100 * 1024 * 1024  # as Fabric's peer
_GRPC_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.max_send_message_length", _MAX_MESSAGE),
    ("grpc.max_receive_message_length", _MAX_MESSAGE),
    # Accept the peer's HTTP/2 keepalive pings (gRPC's default would answer pings more
    # frequent than every 5 minutes with GOAWAY and cut the stream).
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.http2.max_ping_strikes", 0),
]


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

    def credentials(self) -> grpc.ServerCredentials:
        """gRPC server credentials from the files; ``ValueError`` for an unusable CA file."""
        root = self._client_roots()
        return grpc.ssl_server_credentials(
            [(self.key.read_bytes(), self.cert.read_bytes())],
            root_certificates=root,
            require_client_auth=root is not None,
        )

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
    """Implements ``protos.Chaincode``: one handler per Connect stream."""

    def __init__(
        self,
        chaincode_id: str,
        dispatch: Dispatcher,
        blocking: ThreadPoolExecutor,
        reply_timeout: float,
        max_in_flight: int,
        max_streams_per_client: int,
    ) -> None:
        self._chaincode_id = chaincode_id
        self._dispatch = dispatch
        self._blocking = blocking
        self._reply_timeout = reply_timeout
        self._max_in_flight = max_in_flight
        self._max_per_client = max_streams_per_client
        self._streams: dict[bytes, int] = {}

    def _claim(self, client: bytes) -> bool:
        """Count one more stream of ``client``; False when it holds its maximum already."""
        if self._streams.get(client, 0) >= self._max_per_client:
            return False
        self._streams[client] = self._streams.get(client, 0) + 1
        return True

    def _release(self, client: bytes) -> None:
        left = self._streams.get(client, 0) - 1
        if left > 0:
            self._streams[client] = left
        else:
            self._streams.pop(client, None)

    async def Connect(  # noqa: N802
        self, request_iterator: AsyncIterator[Any], context: Any
    ) -> AsyncIterator[Any]:
        logger.info("peer connected from %s", context.peer())
        # With mutual TLS, each client certificate holds at most its share of the slots.
        certs = context.auth_context().get("x509_pem_cert") or []
        client = certs[0] if certs else None
        if client is not None and not self._claim(client):
            logger.warning("refused a stream: its client already holds %d", self._max_per_client)
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"this client already holds {self._max_per_client} streams",
            )
        try:
            handler = Handler(
                self._chaincode_id,
                self._dispatch,
                self._blocking,
                reply_timeout=self._reply_timeout,
                max_in_flight=self._max_in_flight,
            )
            messages = handler.run(request_iterator)
            try:
                async for message in messages:
                    yield message
            finally:
                await messages.aclose()
                handler.close()
        finally:
            if client is not None:
                self._release(client)


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
        started: Future[int] = Future()
        self._thread = threading.Thread(
            target=self._run, args=(started,), name="chaincode-loop", daemon=True
        )
        self._thread.start()
        self.port = started.result()
        return self.port

    def _run(self, started: Future[int]) -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._serve(started))
        except BaseException as exc:  # never leave start() waiting
            if not started.done():
                started.set_exception(exc)
            else:
                logger.exception("chaincode server loop failed")
        finally:
            loop.close()

    async def _serve(self, started: Future[int]) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        server = grpc.aio.server(options=_GRPC_OPTIONS, maximum_concurrent_rpcs=self.max_streams)
        chaincode_shim_grpc.add_ChaincodeServicer_to_server(self._service, server)
        try:
            if self._tls is None:
                port = server.add_insecure_port(self.address)
            else:
                port = server.add_secure_port(self.address, self._tls.credentials())
        except ValueError as exc:
            raise OSError(f"invalid TLS configuration: {exc}") from exc
        except RuntimeError as exc:
            raise OSError(f"cannot listen on {self.address}: {exc}") from exc
        if not port:
            raise OSError(f"cannot listen on {self.address}")
        await server.start()
        started.set_result(int(port))
        await self._stopping.wait()
        await server.stop(self._grace)

    @property
    def listen_address(self) -> str:
        """The configured address with the actually bound port."""
        host = self.address.rsplit(":", 1)[0]
        return f"{host}:{self.port}"

    def stop(self, grace: float | None = 5.0) -> None:
        """Stop accepting streams, give open ones ``grace`` seconds, then shut down."""
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
