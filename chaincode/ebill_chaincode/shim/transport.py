"""The wire of the one call a peer makes: ``protos.Chaincode/Connect`` over HTTP/2.

gRPC on the wire is HTTP/2 (RFC 9113) with a length-prefixed message per frame run
(``PROTOCOL-HTTP2.md`` of gRPC): the client opens a stream with a POST to
``/protos.Chaincode/Connect`` (``content-type: application/grpc``), each message is a
1-byte compressed flag, a 4-byte big-endian length and the protobuf bytes, and the
server ends the stream with trailers carrying ``grpc-status`` (and ``grpc-message``).
A peer dials the chaincode server, keeps that one bidirectional stream open and sends
HTTP/2 PINGs now and then.

This module speaks exactly that on asyncio with the standard library's TLS (ALPN
``h2``, TLS 1.2 or newer, the client certificate required and verified when the server
has a client CA): :class:`Http2Connection` is the ``asyncio.Protocol`` of one TCP
connection, a server's side of HTTP/2 as far as a gRPC server needs it: the preface,
SETTINGS (acknowledged; the peer's window, frame and header-table sizes followed),
HEADERS and CONTINUATION (HPACK with the ``hpack`` package), DATA with padding, flow
control both ways (16 MiB receive windows, refreshed when a quarter is used; sends wait
for the peer's window), PING answered, RST_STREAM, GOAWAY, PRIORITY ignored. Each
Connect stream on it is a :class:`Call`, handed to the server's ``on_call``.

Why not grpcio's server: its completion-queue poller hands every message from a thread
of its own to the event loop, and writes each message with a syscall of its own; why
not the ``h2`` state machine: it spends a third of the server's CPU on events and a
``repr`` of every frame it receives. Here a DATA frame is a 9-byte header read with
``int.from_bytes``, and every frame a loop iteration produced leaves in one write.

What is not spoken: compression (a compressed message ends the stream with
UNIMPLEMENTED), other methods (UNIMPLEMENTED), server push, deadlines
(``grpc-timeout`` is ignored: a peer's stream lives as long as the peer). A protocol
error closes the connection with GOAWAY.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, cast
from urllib.parse import quote

import hpack

from ._protos import ChaincodeMessage, DecodeError

logger = logging.getLogger(__name__)

CONNECT_PATH = "/protos.Chaincode/Connect"
#: The largest message either side may send (as Fabric's peer).
MAX_MESSAGE = 100 * 1024 * 1024
#: Our receive window per stream and per connection: a peer sends a whole write batch
#: or query page without waiting for window updates.
WINDOW = 16 * 1024 * 1024
#: The largest frame we take (SETTINGS_MAX_FRAME_SIZE we announce).
MAX_FRAME = 1 << 20
MAX_HEADER_LIST = 64 * 1024
_PREFIX = struct.Struct(">BI")
#: A frame header: 24-bit length and 8-bit type as one word, flags, stream id.
_HEADER = struct.Struct(">IBI")
_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_DEFAULT_WINDOW = 65535


class Frame(IntEnum):
    """HTTP/2 frame types (RFC 9113, section 6)."""

    DATA = 0
    HEADERS = 1
    PRIORITY = 2
    RST_STREAM = 3
    SETTINGS = 4
    PUSH_PROMISE = 5
    PING = 6
    GOAWAY = 7
    WINDOW_UPDATE = 8
    CONTINUATION = 9


class Setting(IntEnum):
    """HTTP/2 settings (RFC 9113, section 6.5.2)."""

    HEADER_TABLE_SIZE = 1
    ENABLE_PUSH = 2
    MAX_CONCURRENT_STREAMS = 3
    INITIAL_WINDOW_SIZE = 4
    MAX_FRAME_SIZE = 5
    MAX_HEADER_LIST_SIZE = 6


class H2Error(IntEnum):
    """HTTP/2 error codes (RFC 9113, section 7)."""

    NO_ERROR = 0
    PROTOCOL_ERROR = 1
    INTERNAL_ERROR = 2
    FLOW_CONTROL_ERROR = 3
    STREAM_CLOSED = 5
    FRAME_SIZE_ERROR = 6
    REFUSED_STREAM = 7
    CANCEL = 8
    COMPRESSION_ERROR = 9


END_STREAM = ACK = 0x1
END_HEADERS = 0x4
PADDED = 0x8
PRIORITY = 0x20


class ProtocolViolation(Exception):
    """The peer broke HTTP/2: the connection ends with GOAWAY carrying ``code``."""

    def __init__(self, code: H2Error, text: str) -> None:
        super().__init__(text)
        self.code = code


def frame(kind: Frame, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    """One HTTP/2 frame: 24-bit length, type, flags, 31-bit stream id, payload."""
    return _HEADER.pack(len(payload) << 8 | kind, flags, stream_id) + payload


class Status(IntEnum):
    """The gRPC status codes this server ends a stream with."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    RESOURCE_EXHAUSTED = 8
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14


@dataclass(frozen=True)
class Refusal(Exception):
    """Ends a call before it starts: the stream gets only trailers with this status."""

    status: Status
    message: str


class Call:
    """One Connect stream: messages from the peer go to ``on_message`` (set by whoever
    serves the call), :meth:`send` queues one to the peer, :meth:`finish` ends the
    stream with a status. ``client_certificate`` is the DER certificate of the TLS
    client (None without client authentication)."""

    def __init__(
        self, connection: Http2Connection, stream_id: int, client_certificate: bytes | None
    ) -> None:
        self._connection = connection
        self.stream_id = stream_id
        self.client_certificate = client_certificate
        self.peer = connection.peer
        #: Takes each message the peer sent; returns False to end the call.
        self.on_message: Callable[[Any], bool] = lambda message: True
        #: Called once when the stream ends for any reason (peer, reset, connection).
        self.on_end: Callable[[], None] = lambda: None
        self._buffer = bytearray()
        self._pending: deque[memoryview] = deque()
        self._ended = False
        self._finished = False
        self._trailers: list[tuple[str, str]] = []
        #: What we may still send on the stream (the peer's window for it).
        self.send_window = connection.initial_send_window
        #: DATA bytes taken since our last WINDOW_UPDATE for the stream.
        self.consumed = 0

    def send(self, message: Any) -> None:
        """Queue ``message`` to the peer (written when the loop iteration ends, within the
        peer's flow-control window; the rest when it grows)."""
        if self._finished:
            return
        data = message.SerializeToString()
        self._pending.append(memoryview(_PREFIX.pack(0, len(data)) + data))
        self._connection.pump(self)

    def finish(self, status: Status = Status.OK, message: str = "") -> None:
        """End the stream with trailers carrying ``status`` once the queued messages left."""
        if self._finished:
            return
        self._finished = True
        self._trailers = _trailers(status, message)
        self._connection.pump(self)

    # --- used by the connection ------------------------------------------------------

    def _feed(self, data: bytes | bytearray | memoryview) -> Status | None:
        """Take DATA bytes; deliver every whole message. A status when the call must end."""
        buffer = self._buffer
        if buffer:  # the rest of a message begun in an earlier frame
            buffer += data
            data = buffer
        offset, size = 0, len(data)
        while size - offset >= 5:
            compressed, length = _PREFIX.unpack_from(data, offset)
            if length > MAX_MESSAGE:
                return Status.RESOURCE_EXHAUSTED
            if compressed:
                return Status.UNIMPLEMENTED
            end = offset + 5 + length
            if size < end:
                break
            try:  # parsing copies: the message keeps no hold on the frame's bytes
                message = ChaincodeMessage.FromString(data[offset + 5 : end])
            except DecodeError:
                return Status.INTERNAL
            offset = end
            if self._ended or not self.on_message(message):
                return Status.OK
        if data is buffer:
            del buffer[:offset]
        elif offset < size:
            buffer += data[offset:]
        return None

    def _end(self, drop: bool = False) -> None:
        """The stream carries nothing more from the peer (``drop``: nor to it)."""
        if drop:
            self._finished = True
            self._pending.clear()
        if not self._ended:
            self._ended = True
            try:
                self.on_end()
            except Exception:
                logger.exception("ending a call failed")


def _trailers(status: Status, message: str) -> list[tuple[str, str]]:
    trailers = [("grpc-status", str(int(status)))]
    if message:
        trailers.append(("grpc-message", quote(message, safe=" !#$&'()*+,/:;=?@[]~")))
    return trailers


_RESPONSE_HEADERS = [(":status", "200"), ("content-type", "application/grpc")]


class Http2Connection(asyncio.Protocol):
    """One TCP (or TLS) connection from a peer: HTTP/2 framing, flow control, and the
    Connect calls on it. ``on_call(call)`` starts serving a call or raises
    :class:`Refusal`; ``connections`` holds the server's open connections."""

    def __init__(self, on_call: Callable[[Call], None], connections: set[Http2Connection]) -> None:
        self._on_call = on_call
        self._connections = connections
        self._transport: asyncio.Transport | None = None
        self._inbox = bytearray()
        self._preface = False
        self._out: list[bytes | memoryview] = []
        self._flush_scheduled = False
        self._decoder = hpack.Decoder()
        self._decoder.max_header_list_size = MAX_HEADER_LIST
        self._encoder = hpack.Encoder()
        self._calls: dict[int, Call] = {}
        self._blocked: set[int] = set()
        self._headers: tuple[int, int, bytearray] | None = None  # stream, flags, block
        self._last_stream = 0
        self._going_away = False
        #: The peer's window for new streams, its largest frame, and what the whole
        #: connection may still send.
        self.initial_send_window = _DEFAULT_WINDOW
        self._max_send_frame = 16384
        self._send_window = _DEFAULT_WINDOW
        self._consumed = 0  # DATA bytes taken since our last connection WINDOW_UPDATE
        self._client_certificate: bytes | None = None
        self.peer = "unknown"
        self._loop = asyncio.get_running_loop()
        self.closed: asyncio.Future[None] = self._loop.create_future()

    # --- asyncio.Protocol ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._connections.add(self)
        address = transport.get_extra_info("peername")
        self.peer = f"{address[0]}:{address[1]}" if address else "unknown"
        tls = transport.get_extra_info("ssl_object")
        if tls is not None:
            self._client_certificate = tls.getpeercert(binary_form=True)
        settings = b"".join(
            struct.pack(">HI", key, value)
            for key, value in (
                (Setting.ENABLE_PUSH, 0),
                (Setting.INITIAL_WINDOW_SIZE, WINDOW),
                (Setting.MAX_FRAME_SIZE, MAX_FRAME),
                (Setting.MAX_HEADER_LIST_SIZE, MAX_HEADER_LIST),
            )
        )
        self._out.append(frame(Frame.SETTINGS, 0, 0, settings))
        self._out.append(
            frame(Frame.WINDOW_UPDATE, 0, 0, (WINDOW - _DEFAULT_WINDOW).to_bytes(4, "big"))
        )
        self._flush()

    def data_received(self, data: bytes) -> None:
        inbox = self._inbox
        inbox += data
        try:
            if not self._preface:
                if len(inbox) < len(_PREFACE):
                    if not _PREFACE.startswith(bytes(inbox)):
                        raise ProtocolViolation(H2Error.PROTOCOL_ERROR, "not an HTTP/2 preface")
                    return
                if not inbox.startswith(_PREFACE):
                    raise ProtocolViolation(H2Error.PROTOCOL_ERROR, "not an HTTP/2 preface")
                del inbox[: len(_PREFACE)]
                self._preface = True
            view = memoryview(inbox)
            offset = self._frames(view, len(inbox))
            view.release()
            del inbox[:offset]  # every view of the frames is gone by now
        except ProtocolViolation as violation:
            # the traceback may still hold a view of the inbox: leave it, it is done with
            self._inbox = bytearray()
            logger.warning("HTTP/2 protocol error from %s: %s", self.peer, violation)
            self._go_away(violation.code)
            self.abort()
            return
        self._flush()

    def _frames(self, view: memoryview, size: int) -> int:
        """Handle every whole frame in ``view``; how many bytes they took."""
        offset = 0
        unpack = _HEADER.unpack_from
        while size - offset >= 9:
            head, flags, stream_id = unpack(view, offset)
            end = offset + 9 + (head >> 8)
            if end > size:
                if head >> 8 > MAX_FRAME:
                    raise ProtocolViolation(H2Error.FRAME_SIZE_ERROR, "frame too large")
                break
            if head & 0xFF == Frame.DATA and self._headers is None:  # the common case first
                self._data(flags, stream_id & 0x7FFFFFFF, view[offset + 9 : end])
            else:
                self._frame(head & 0xFF, flags, stream_id & 0x7FFFFFFF, view[offset + 9 : end])
            offset = end
        return offset

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self)
        for call in list(self._calls.values()):
            call._end(drop=True)
        self._calls.clear()
        if not self.closed.done():
            self.closed.set_result(None)

    # --- frames from the peer ----------------------------------------------------------

    def _frame(self, kind: int, flags: int, stream_id: int, payload: memoryview) -> None:
        """Every frame but DATA outside a header block (:meth:`_frames` takes those)."""
        if self._headers is not None and kind != Frame.CONTINUATION:
            raise ProtocolViolation(H2Error.PROTOCOL_ERROR, "a header block was interrupted")
        if kind == Frame.WINDOW_UPDATE:
            self._window_update(stream_id, payload)
        elif kind == Frame.HEADERS:
            self._headers_frame(flags, stream_id, payload)
        elif kind == Frame.CONTINUATION:
            if self._headers is None or self._headers[0] != stream_id:
                raise ProtocolViolation(H2Error.PROTOCOL_ERROR, "CONTINUATION out of place")
            self._headers[2].extend(payload)
            if flags & END_HEADERS:
                self._header_block(*self._headers)
        elif kind == Frame.PING:
            if len(payload) != 8:
                raise ProtocolViolation(H2Error.FRAME_SIZE_ERROR, "PING of the wrong size")
            if stream_id:
                raise ProtocolViolation(H2Error.PROTOCOL_ERROR, "PING on a stream")
            if not flags & ACK:
                self._out.append(frame(Frame.PING, ACK, 0, bytes(payload)))
        elif kind == Frame.SETTINGS:
            self._settings(flags, stream_id, payload)
        elif kind == Frame.RST_STREAM:
            call = self._calls.pop(stream_id, None)
            self._blocked.discard(stream_id)
            if call is not None:
                call._end(drop=True)
        elif kind == Frame.GOAWAY:
            self._going_away = True
            self.abort()
        elif kind == Frame.PUSH_PROMISE:
            raise ProtocolViolation(H2Error.PROTOCOL_ERROR, "a client sent PUSH_PROMISE")
        # PRIORITY and unknown types are ignored (RFC 9113, 5.5 and 6.3)

    def _data(self, flags: int, stream_id: int, payload: memoryview) -> None:
        if stream_id == 0:
            raise ProtocolViolation(H2Error.PROTOCOL_ERROR, "DATA on stream 0")
        length = len(payload)
        if flags & PADDED:
            if not length or payload[0] >= length:
                raise ProtocolViolation(H2Error.PROTOCOL_ERROR, "bad padding")
            payload = payload[1 : length - payload[0]]
        self._consumed += length
        if self._consumed >= WINDOW // 4:
            self._out.append(frame(Frame.WINDOW_UPDATE, 0, 0, self._consumed.to_bytes(4, "big")))
            self._consumed = 0
        call = self._calls.get(stream_id)
        if call is None:
            if stream_id > self._last_stream:
                raise ProtocolViolation(H2Error.PROTOCOL_ERROR, "DATA on an idle stream")
            return  # a stream we closed: counted for the connection, dropped
        if call._ended:
            return
        call.consumed += length
        if call.consumed >= WINDOW // 4 and not flags & END_STREAM:
            self._out.append(
                frame(Frame.WINDOW_UPDATE, 0, stream_id, call.consumed.to_bytes(4, "big"))
            )
            call.consumed = 0
        status = call._feed(payload) if len(payload) else None
        if status is None and flags & END_STREAM:
            status = Status.OK  # the peer sends no more: end the call, answer OK
        if status is not None:
            self._close_call(call, status)

    def _window_update(self, stream_id: int, payload: memoryview) -> None:
        if len(payload) != 4:
            raise ProtocolViolation(H2Error.FRAME_SIZE_ERROR, "WINDOW_UPDATE of the wrong size")
        increment = int.from_bytes(payload, "big") & 0x7FFFFFFF
        if stream_id == 0:
            if not increment:
                raise ProtocolViolation(H2Error.PROTOCOL_ERROR, "a zero window increment")
            self._send_window += increment
            if self._send_window > 2**31 - 1:
                raise ProtocolViolation(H2Error.FLOW_CONTROL_ERROR, "the window overflowed")
            self._pump_blocked()
            return
        call = self._calls.get(stream_id)
        if call is not None and increment:
            call.send_window += increment
            if stream_id in self._blocked:
                self.pump(call)

    def _settings(self, flags: int, stream_id: int, payload: memoryview) -> None:
        if stream_id:
            raise ProtocolViolation(H2Error.PROTOCOL_ERROR, "SETTINGS on a stream")
        if flags & ACK:
            return
        if len(payload) % 6:
            raise ProtocolViolation(H2Error.FRAME_SIZE_ERROR, "SETTINGS of the wrong size")
        for offset in range(0, len(payload), 6):
            key, value = struct.unpack_from(">HI", payload, offset)
            if key == Setting.INITIAL_WINDOW_SIZE:
                if value > 2**31 - 1:
                    raise ProtocolViolation(H2Error.FLOW_CONTROL_ERROR, "window too large")
                delta = value - self.initial_send_window
                self.initial_send_window = value
                for call in self._calls.values():
                    call.send_window += delta
            elif key == Setting.MAX_FRAME_SIZE:
                if not 16384 <= value <= 2**24 - 1:
                    raise ProtocolViolation(H2Error.PROTOCOL_ERROR, "bad MAX_FRAME_SIZE")
                self._max_send_frame = value
            elif key == Setting.HEADER_TABLE_SIZE:
                self._encoder.header_table_size = value
        self._out.append(frame(Frame.SETTINGS, ACK, 0))
        self._pump_blocked()

    def _pump_blocked(self) -> None:
        """Pump every call that waited for the peer's window (it grew)."""
        for blocked in list(self._blocked):
            if blocked in self._calls:
                self.pump(self._calls[blocked])

    def _headers_frame(self, flags: int, stream_id: int, payload: memoryview) -> None:
        if stream_id == 0:
            raise ProtocolViolation(H2Error.PROTOCOL_ERROR, "HEADERS on stream 0")
        start, end = 0, len(payload)
        if flags & PADDED:
            if not end or payload[0] >= end:
                raise ProtocolViolation(H2Error.PROTOCOL_ERROR, "bad padding")
            end -= payload[0]
            start = 1
        if flags & PRIORITY:
            start += 5
        if start > end:
            raise ProtocolViolation(H2Error.PROTOCOL_ERROR, "HEADERS too short")
        block = bytearray(payload[start:end])
        if flags & END_HEADERS:
            self._header_block(stream_id, flags, block)
        else:
            self._headers = (stream_id, flags, block)

    def _header_block(self, stream_id: int, flags: int, block: bytearray) -> None:
        self._headers = None
        try:  # every block is decoded: HPACK's table is the connection's
            fields = self._decoder.decode(bytes(block))
        except hpack.HPACKError as exc:
            raise ProtocolViolation(H2Error.COMPRESSION_ERROR, str(exc)) from None
        headers = {str(name): str(value) for name, value in fields}
        call = self._calls.get(stream_id)
        if call is not None:  # trailers from the peer: it sends no more
            if flags & END_STREAM:
                self._close_call(call, Status.OK)
            return
        if stream_id <= self._last_stream or not stream_id % 2:
            return  # a stream we already closed (or not a client's)
        self._last_stream = stream_id
        if self._going_away:
            self._out.append(
                frame(Frame.RST_STREAM, 0, stream_id, H2Error.REFUSED_STREAM.to_bytes(4, "big"))
            )
            return
        self._request(stream_id, headers, bool(flags & END_STREAM))

    def _request(self, stream_id: int, headers: dict[str, str], ended: bool) -> None:
        if headers.get(":path") != CONNECT_PATH:
            self._trailers_only(stream_id, Status.UNIMPLEMENTED, "unknown method")
            return
        if not headers.get("content-type", "").startswith("application/grpc"):
            self._trailers_only(stream_id, Status.UNIMPLEMENTED, "not a gRPC request")
            return
        call = Call(self, stream_id, self._client_certificate)
        try:
            self._on_call(call)
        except Refusal as refusal:
            self._trailers_only(stream_id, refusal.status, refusal.message)
            return
        self._calls[stream_id] = call
        self._out.append(self._header_frame(stream_id, _RESPONSE_HEADERS, end_stream=False))
        self.pump(call)  # what the call sent while it started (REGISTER) follows the headers
        if ended:
            self._close_call(call, Status.OK)

    def _header_frame(
        self, stream_id: int, fields: list[tuple[str, str]], end_stream: bool
    ) -> bytes:
        block = self._encoder.encode(fields)
        if len(block) > self._max_send_frame:  # never for our few short fields
            raise ValueError("a header block larger than one frame")
        flags = END_HEADERS | (END_STREAM if end_stream else 0)
        return frame(Frame.HEADERS, flags, stream_id, block)

    def _trailers_only(self, stream_id: int, status: Status, message: str) -> None:
        fields = _RESPONSE_HEADERS + _trailers(status, message)
        self._out.append(self._header_frame(stream_id, fields, end_stream=True))
        self._schedule_flush()

    def _close_call(self, call: Call, status: Status, message: str = "") -> None:
        """End ``call`` from our side with ``status`` (then its handler is told: the
        handler's own close would end the stream with OK)."""
        call.finish(status, message)
        call._end()

    # --- sending -----------------------------------------------------------------------

    def pump(self, call: Call) -> None:
        """Move ``call``'s queued bytes into DATA frames as far as the windows allow; its
        trailers once all are out."""
        stream_id = call.stream_id
        if stream_id not in self._calls:
            return
        pending, out = call._pending, self._out
        while pending:
            window = min(call.send_window, self._send_window)
            if window <= 0:
                self._blocked.add(stream_id)
                break
            chunk = pending[0]
            size = min(len(chunk), window, self._max_send_frame)
            out.append(_HEADER.pack(size << 8 | Frame.DATA, 0, stream_id))
            out.append(chunk[:size])
            call.send_window -= size
            self._send_window -= size
            if size == len(chunk):
                pending.popleft()
            else:
                pending[0] = chunk[size:]
        else:
            self._blocked.discard(stream_id)
            if call._finished:
                del self._calls[stream_id]
                out.append(self._header_frame(stream_id, call._trailers, end_stream=True))
                call._end()
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        """Write every frame made so far in one write."""
        self._flush_scheduled = False
        if not self._out:
            return
        data = b"".join(self._out)
        self._out.clear()
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    # --- closing -----------------------------------------------------------------------

    def _go_away(self, code: H2Error) -> None:
        self._going_away = True
        payload = self._last_stream.to_bytes(4, "big") + code.to_bytes(4, "big")
        self._out.append(frame(Frame.GOAWAY, 0, 0, payload))
        self._flush()

    def drain(self) -> None:
        """Say GOAWAY: no new stream on this connection; the open ones go on."""
        if not self._going_away:
            self._go_away(H2Error.NO_ERROR)

    def shut(self, status: Status = Status.UNAVAILABLE, message: str = "server stopping") -> None:
        """End every call with ``status`` and say GOAWAY (the connection closes when the
        peer goes or the server stops)."""
        for call in list(self._calls.values()):
            self._close_call(call, status, message)
        self.drain()

    def abort(self) -> None:
        """Close the connection now."""
        if self._transport is not None:
            self._transport.close()
