"""The gRPC server the peer dials (chaincode as a service).

Each ``protos.Chaincode/Connect`` call is one peer stream served by a
:class:`~.handler.Handler`. A stream holds one gRPC worker thread for its whole life
(it drains the handler's outgoing generator) plus its own reader thread; the
transactions of all streams share one executor of ``max_streams * max_in_flight``
workers, of which one stream uses at most ``max_in_flight``: a stream whose
transactions hang (a peer that never answers) cannot take another stream's workers,
and each of its state requests gives up after ``reply_timeout`` seconds.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import grpc
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
        executor: ThreadPoolExecutor,
        reply_timeout: float,
        max_in_flight: int,
        max_streams_per_client: int,
    ) -> None:
        self._chaincode_id = chaincode_id
        self._dispatch = dispatch
        self._executor = executor
        self._reply_timeout = reply_timeout
        self._max_in_flight = max_in_flight
        self._max_per_client = max_streams_per_client
        self._streams: dict[bytes, int] = {}
        self._lock = threading.Lock()

    def _claim(self, client: bytes) -> bool:
        """Count one more stream of ``client``; False when it holds its maximum already."""
        with self._lock:
            if self._streams.get(client, 0) >= self._max_per_client:
                return False
            self._streams[client] = self._streams.get(client, 0) + 1
            return True

    def _release(self, client: bytes) -> None:
        with self._lock:
            left = self._streams.get(client, 0) - 1
            if left > 0:
                self._streams[client] = left
            else:
                self._streams.pop(client, None)

    def Connect(self, request_iterator: Iterator[Any], context: Any) -> Iterator[Any]:  # noqa: N802
        logger.info("peer connected from %s", context.peer())
        # With mutual TLS, each client certificate holds at most its share of the slots.
        certs = context.auth_context().get("x509_pem_cert") or []
        client = certs[0] if certs else None
        if client is not None:
            if not self._claim(client):
                logger.warning(
                    "refused a stream: its client already holds %d", self._max_per_client
                )
                context.abort(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    f"this client already holds {self._max_per_client} streams",
                )
            context.add_callback(lambda: self._release(client))
        handler = Handler(
            self._chaincode_id,
            self._dispatch,
            self._executor,
            reply_timeout=self._reply_timeout,
            max_in_flight=self._max_in_flight,
        )
        context.add_callback(handler.close)
        return handler.run(request_iterator)


class ChaincodeServer:
    """Serves the chaincode on ``address`` (host:port) until stopped.

    ``reply_timeout`` bounds how long a transaction waits for the peer's answer to one
    state request, so that a lost reply cannot pin a worker thread forever (the
    transaction then fails with a message naming the request). ``max_in_flight``
    bounds the transactions one stream runs at once, ``max_streams_per_client`` the
    streams one client certificate holds at once (mutual TLS only), so no peer can
    take every stream slot. ``max_streams`` defaults to ``peers * max_streams_per_client``:
    every one of the network's ``peers`` fits with its full share (a network that grows
    starts its next server with the new count). Raises ``ValueError`` for an empty
    chaincode id or a bound that is not positive.
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
    ) -> None:
        if not chaincode_id:
            raise ValueError("chaincode id must not be empty")
        if max_streams is None:
            max_streams = peers * max_streams_per_client
        if min(peers, max_streams, max_in_flight, max_streams_per_client) < 1:
            raise ValueError(
                "peers, max_streams, max_in_flight and max_streams_per_client must be at least 1"
            )
        if not reply_timeout > 0:
            raise ValueError(
                f"reply_timeout must be a positive number of seconds, got {reply_timeout}"
            )
        # Every stream its own share of workers (threads are made as they are needed).
        tx_workers = max_streams * max_in_flight
        self.chaincode_id = chaincode_id
        self.address = address
        self._tls = tls
        self._tx_executor = ThreadPoolExecutor(tx_workers, thread_name_prefix="chaincode-tx")
        # One worker per open stream, plus a few for calls being set up or torn down.
        self.max_streams = max_streams
        self._server = grpc.server(
            ThreadPoolExecutor(max_streams + 4, thread_name_prefix="chaincode-grpc"),
            options=_GRPC_OPTIONS,
            maximum_concurrent_rpcs=max_streams,
        )
        chaincode_shim_grpc.add_ChaincodeServicer_to_server(
            _ChaincodeService(
                chaincode_id,
                dispatch,
                self._tx_executor,
                reply_timeout,
                max_in_flight,
                max_streams_per_client,
            ),
            self._server,
        )
        self.port = 0

    def start(self) -> int:
        """Bind and start serving; returns the bound port (useful with port 0)."""
        try:
            if self._tls is None:
                port = self._server.add_insecure_port(self.address)
            else:
                port = self._server.add_secure_port(self.address, self._tls.credentials())
        except ValueError as exc:
            raise OSError(f"invalid TLS configuration: {exc}") from exc
        except RuntimeError as exc:
            raise OSError(f"cannot listen on {self.address}: {exc}") from exc
        if not port:
            raise OSError(f"cannot listen on {self.address}")
        self._server.start()
        self.port = int(port)
        return self.port

    @property
    def listen_address(self) -> str:
        """The configured address with the actually bound port."""
        host = self.address.rsplit(":", 1)[0]
        return f"{host}:{self.port}"

    def stop(self, grace: float | None = 5.0) -> None:
        """Stop accepting streams, give open ones ``grace`` seconds, then shut down."""
        self._server.stop(grace).wait()
        self._tx_executor.shutdown(wait=False, cancel_futures=True)

    def wait(self) -> None:
        """Block until the server has stopped."""
        self._server.wait_for_termination()

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
