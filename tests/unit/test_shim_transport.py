"""The shim's own HTTP/2 (shim/transport.py): a real gRPC client, and raw frames.

The gRPC client (grpcio, as the peer's grpc-go would) sends and receives messages
larger than a frame and than the initial flow-control windows; the raw-frame tests
send what a client may send and a gRPC client rarely does (padding, priority,
CONTINUATION, PING, a second request, a protocol error) and read every frame back.
"""

from __future__ import annotations

import queue
import socket
import struct
from collections.abc import Iterator
from typing import Any

import grpc
import hpack
import pytest
from fabric_protos.peer import chaincode_pb2, chaincode_shim_pb2, chaincode_shim_pb2_grpc

from ebill_chaincode.shim import ChaincodeServer, Contract
from ebill_chaincode.shim.stub import Stub
from ebill_chaincode.shim.transport import (
    ACK,
    END_HEADERS,
    END_STREAM,
    PADDED,
    PRIORITY,
    Frame,
    H2Error,
    frame,
)

Msg = chaincode_shim_pb2.ChaincodeMessage
CC_ID = "ebill_1.0:0123abcd"
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

contract = Contract("transport-test")


@contract.transaction("Echo")
def echo(stub: Stub, text: str) -> str:
    """Writes the text (a write batch as large as it) and answers it."""
    stub.put_state("echo", text)
    return text


@pytest.fixture
def server() -> Iterator[ChaincodeServer]:
    chaincode = ChaincodeServer(CC_ID, "127.0.0.1:0", contract)
    chaincode.start()
    yield chaincode
    chaincode.stop(grace=0)


def _input(*args: bytes) -> bytes:
    return bytes(chaincode_pb2.ChaincodeInput(args=list(args)).SerializeToString())


# --- through a gRPC client ---------------------------------------------------------------


def test_messages_larger_than_frames_and_windows_cross_both_ways(server: ChaincodeServer) -> None:
    big = "x" * 700_000  # > the 16 KiB frame and the 64 KiB initial windows, both ways
    requests: queue.Queue[Any] = queue.Queue()

    def outgoing() -> Iterator[Any]:
        while (message := requests.get()) is not None:
            yield message

    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        call = chaincode_shim_pb2_grpc.ChaincodeStub(channel).Connect(outgoing(), timeout=20)
        assert next(call).type == Msg.REGISTER
        ready = chaincode_pb2.ChaincodeAdditionalParams(
            use_write_batch=True, max_size_write_batch=100
        )
        requests.put(Msg(type=Msg.REGISTERED))
        requests.put(Msg(type=Msg.READY, payload=ready.SerializeToString()))
        for i in range(3):
            payload = _input(b"Echo", f"{i}{big}".encode())
            requests.put(Msg(type=Msg.TRANSACTION, txid=f"tx{i}", channel_id="ch", payload=payload))
            batch = next(call)
            assert (batch.type, batch.txid) == (Msg.WRITE_BATCH_STATE, f"tx{i}")
            written = chaincode_shim_pb2.WriteBatchState.FromString(batch.payload)
            assert written.rec[0].value == f"{i}{big}".encode()
            requests.put(Msg(type=Msg.RESPONSE, txid=f"tx{i}", channel_id="ch"))
            completed = next(call)
            assert completed.type == Msg.COMPLETED
            assert f"{i}{big}".encode() in completed.payload
        requests.put(None)
        with pytest.raises(StopIteration):  # our side ends with grpc-status 0
            next(call)


# --- raw HTTP/2 ---------------------------------------------------------------------------


class RawClient:
    """A plaintext HTTP/2 client that writes frames and reads them back one by one."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self._buffer = b""
        self.sock.sendall(PREFACE + frame(Frame.SETTINGS, 0, 0))

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _read(self, n: int) -> bytes:
        while len(self._buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self._buffer += chunk
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data

    def frame(self) -> tuple[int, int, int, bytes]:
        head = self._read(9)
        length = int.from_bytes(head[:3], "big")
        stream_id = int.from_bytes(head[5:9], "big") & 0x7FFFFFFF
        return head[3], head[4], stream_id, self._read(length)

    def until(self, kind: Frame) -> tuple[int, int, bytes]:
        """The next frame of ``kind`` (SETTINGS, WINDOW_UPDATE and others skipped)."""
        while True:
            got, flags, stream_id, payload = self.frame()
            if got == kind:
                return flags, stream_id, payload

    def request_block(self) -> bytes:
        return bytes(
            self.encoder.encode(
                [
                    (":method", "POST"),
                    (":scheme", "http"),
                    (":path", "/protos.Chaincode/Connect"),
                    (":authority", "localhost"),
                    ("content-type", "application/grpc"),
                    ("te", "trailers"),
                ]
            )
        )

    def message(self, stream_id: int, message: Any, *, pad: int = 0) -> bytes:
        data = message.SerializeToString()
        body = struct.pack(">BI", 0, len(data)) + data
        if pad:
            return frame(Frame.DATA, PADDED, stream_id, bytes([pad]) + body + b"\0" * pad)
        return frame(Frame.DATA, 0, stream_id, body)

    def read_message(self, stream_id: int) -> Any:
        flags, got, payload = self.until(Frame.DATA)
        assert got == stream_id
        length = struct.unpack(">BI", payload[:5])[1]
        assert len(payload) == 5 + length
        return Msg.FromString(payload[5:])

    def close(self) -> None:
        self.sock.close()


def test_padding_priority_continuation_and_ping(server: ChaincodeServer) -> None:
    client = RawClient(server.port)
    try:
        flags, _, _ = client.until(Frame.SETTINGS)  # the server speaks first
        assert not flags & ACK
        block = client.request_block()
        # HEADERS padded and with a priority, its block split over a CONTINUATION
        first = bytes([3]) + b"\0\0\0\0\x10" + block[:5] + b"\0\0\0"
        client.send(frame(Frame.HEADERS, PADDED | PRIORITY, 1, first))
        client.send(frame(Frame.CONTINUATION, END_HEADERS, 1, block[5:]))
        flags, stream_id, payload = client.until(Frame.HEADERS)
        headers = dict(client.decoder.decode(payload))
        assert stream_id == 1 and headers[":status"] == "200"
        assert headers["content-type"] == "application/grpc"
        assert client.read_message(1).type == Msg.REGISTER

        client.send(frame(Frame.PING, 0, 0, b"12345678"))
        flags, _, payload = client.until(Frame.PING)
        assert flags & ACK and payload == b"12345678"

        client.send(client.message(1, Msg(type=Msg.REGISTERED), pad=7))
        client.send(client.message(1, Msg(type=Msg.READY)))
        tx = Msg(type=Msg.TRANSACTION, txid="t1", channel_id="c", payload=_input(b"Echo", b"hi"))
        client.send(client.message(1, tx, pad=1))
        put = client.read_message(1)
        assert (put.type, put.txid) == (Msg.PUT_STATE, "t1")
        client.send(client.message(1, Msg(type=Msg.RESPONSE, txid="t1", channel_id="c")))
        completed = client.read_message(1)
        assert completed.type == Msg.COMPLETED and b"hi" in completed.payload

        # the peer ends its side: trailers with grpc-status 0 end the stream
        client.send(frame(Frame.DATA, END_STREAM, 1, b""))
        flags, stream_id, payload = client.until(Frame.HEADERS)
        assert flags & END_STREAM and stream_id == 1
        assert dict(client.decoder.decode(payload))["grpc-status"] == "0"
    finally:
        client.close()


def test_an_unknown_method_is_unimplemented_and_the_connection_lives_on(
    server: ChaincodeServer,
) -> None:
    client = RawClient(server.port)
    try:
        fields = [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", "/protos.Other/Call"),
            (":authority", "localhost"),
            ("content-type", "application/grpc"),
        ]
        client.send(frame(Frame.HEADERS, END_HEADERS, 1, client.encoder.encode(fields)))
        flags, stream_id, payload = client.until(Frame.HEADERS)
        assert flags & END_STREAM and stream_id == 1
        assert dict(client.decoder.decode(payload))["grpc-status"] == "12"
        # the same connection still serves a Connect on the next stream
        client.send(frame(Frame.HEADERS, END_HEADERS, 3, client.request_block()))
        client.until(Frame.HEADERS)
        assert client.read_message(3).type == Msg.REGISTER
    finally:
        client.close()


def test_a_protocol_error_ends_the_connection_with_goaway(server: ChaincodeServer) -> None:
    client = RawClient(server.port)
    try:
        client.send(frame(Frame.PING, 0, 0, b"short"))  # a PING is 8 bytes
        _, _, payload = client.until(Frame.GOAWAY)
        assert int.from_bytes(payload[4:8], "big") == H2Error.FRAME_SIZE_ERROR
        with pytest.raises((EOFError, ConnectionError)):
            client.frame()
    finally:
        client.close()


def test_data_inside_a_header_block_is_a_protocol_error(server: ChaincodeServer) -> None:
    client = RawClient(server.port)
    try:
        client.send(frame(Frame.HEADERS, END_HEADERS, 1, client.request_block()))
        assert client.read_message(1).type == Msg.REGISTER  # stream 1 is open
        block = client.request_block()
        client.send(frame(Frame.HEADERS, 0, 3, block[:5]))  # the block goes on in CONTINUATION
        client.send(frame(Frame.DATA, 0, 1, b""))  # a frame of the open stream cuts in
        _, _, payload = client.until(Frame.GOAWAY)
        assert int.from_bytes(payload[4:8], "big") == H2Error.PROTOCOL_ERROR
    finally:
        client.close()


def test_not_http2_is_refused() -> None:
    chaincode = ChaincodeServer(CC_ID, "127.0.0.1:0", contract)
    port = chaincode.start()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
        # the server's SETTINGS and WINDOW_UPDATE, then GOAWAY with PROTOCOL_ERROR, closed
        goaway = (0).to_bytes(4, "big") + H2Error.PROTOCOL_ERROR.to_bytes(4, "big")
        assert received.endswith(frame(Frame.GOAWAY, 0, 0, goaway))
    finally:
        chaincode.stop(grace=0)
