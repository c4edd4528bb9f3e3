"""The gRPC wiring: a real client channel calls protos.Chaincode/Connect as the peer does."""

from __future__ import annotations

import datetime as dt
import ipaddress
import queue
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fabric_protos.peer import (
    chaincode_pb2,
    chaincode_shim_pb2,
    chaincode_shim_pb2_grpc,
    proposal_response_pb2,
)

from ebill_chaincode.shim import ChaincodeServer, Contract, TlsFiles
from ebill_chaincode.shim.stub import Stub

Msg = chaincode_shim_pb2.ChaincodeMessage
CC_ID = "ebill_1.0:feedbeef"

contract = Contract("server-test")


@contract.transaction("Bump")
def bump(stub: Stub, key: str) -> str:
    value = int(stub.get_state(key) or b"0") + 1
    stub.put_state(key, str(value))
    stub.set_event("Bumped", key)
    return str(value)


class PeerCall:
    """One Connect call from the client side; requests are fed through a queue."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._requests: queue.Queue[Any] = queue.Queue()
        stub = chaincode_shim_pb2_grpc.ChaincodeStub(channel)
        self._call = stub.Connect(self._iterate(), timeout=20)

    def _iterate(self) -> Iterator[Any]:
        while (message := self._requests.get()) is not None:
            yield message

    def send(self, message: Any) -> None:
        self._requests.put(message)

    def recv(self) -> Any:
        return next(self._call)

    def close(self) -> None:
        self._requests.put(None)
        self._call.cancel()


def run_one_transaction(call: PeerCall) -> None:
    register = call.recv()
    assert register.type == Msg.REGISTER
    assert chaincode_pb2.ChaincodeID.FromString(register.payload).name == CC_ID
    call.send(Msg(type=Msg.REGISTERED))
    call.send(Msg(type=Msg.READY))
    call.send(
        Msg(
            type=Msg.TRANSACTION,
            txid="tx-grpc",
            channel_id="ebills",
            payload=chaincode_pb2.ChaincodeInput(args=[b"Bump", b"counter"]).SerializeToString(),
        )
    )
    get = call.recv()
    assert (get.type, get.txid, get.channel_id) == (Msg.GET_STATE, "tx-grpc", "ebills")
    call.send(Msg(type=Msg.RESPONSE, payload=b"41", txid="tx-grpc", channel_id="ebills"))
    put = call.recv()
    assert put.type == Msg.PUT_STATE
    assert chaincode_shim_pb2.PutState.FromString(put.payload).value == b"42"
    call.send(Msg(type=Msg.RESPONSE, txid="tx-grpc", channel_id="ebills"))
    completed = call.recv()
    assert completed.type == Msg.COMPLETED
    response = proposal_response_pb2.Response.FromString(completed.payload)
    assert (response.status, response.payload) == (200, b"42")
    assert completed.chaincode_event.event_name == "Bumped"


def test_plaintext_server_serves_a_peer_stream() -> None:
    server = ChaincodeServer(CC_ID, "127.0.0.1:0", contract)
    port = server.start()
    assert port > 0
    assert server.listen_address == f"127.0.0.1:{port}"
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = PeerCall(channel)
            run_one_transaction(call)
            call.close()
    finally:
        server.stop(grace=0)


# --- mutual TLS --------------------------------------------------------------------------


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _issue(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: str, issuer_key: Any, *, ca: bool
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, bytes | Path]:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _issue("test-ca", ca_key, "test-ca", ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = _issue("localhost", server_key, "test-ca", ca_key, ca=False)
    client_key = ec.generate_private_key(ec.SECP256R1())
    client_cert = _issue("peer0", client_key, "test-ca", ca_key, ca=False)
    # A client certificate from another CA, with the same subject as the good one.
    rogue_ca_key = ec.generate_private_key(ec.SECP256R1())
    rogue_key = ec.generate_private_key(ec.SECP256R1())
    rogue_cert = _issue("peer0", rogue_key, "test-ca", rogue_ca_key, ca=False)
    files = {"ca": _pem(ca), "server.crt": _pem(server_cert), "server.key": _pem_key(server_key)}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return {
        "dir": tmp_path,
        "ca": _pem(ca),
        "client_cert": _pem(client_cert),
        "client_key": _pem_key(client_key),
        "rogue_cert": _pem(rogue_cert),
        "rogue_key": _pem_key(rogue_key),
    }


def test_mutual_tls_requires_a_client_certificate(pki: dict[str, Any]) -> None:
    folder: Path = pki["dir"]
    tls = TlsFiles(folder / "server.crt", folder / "server.key", folder / "ca")
    server = ChaincodeServer(CC_ID, "127.0.0.1:0", contract, tls=tls)
    port = server.start()
    target = f"127.0.0.1:{port}"
    options = [("grpc.ssl_target_name_override", "localhost")]
    try:
        with_cert = grpc.ssl_channel_credentials(
            root_certificates=pki["ca"],
            private_key=pki["client_key"],
            certificate_chain=pki["client_cert"],
        )
        with grpc.secure_channel(target, with_cert, options=options) as channel:
            call = PeerCall(channel)
            run_one_transaction(call)
            call.close()

        without_cert = grpc.ssl_channel_credentials(root_certificates=pki["ca"])
        with grpc.secure_channel(target, without_cert, options=options) as channel:
            call = PeerCall(channel)
            with pytest.raises(grpc.RpcError) as refused:
                call.recv()
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
            call.close()
    finally:
        server.stop(grace=0)


def test_mutual_tls_verifies_the_client_certificate(pki: dict[str, Any]) -> None:
    folder: Path = pki["dir"]
    tls = TlsFiles(folder / "server.crt", folder / "server.key", folder / "ca")
    server = ChaincodeServer(CC_ID, "127.0.0.1:0", contract, tls=tls)
    target = f"127.0.0.1:{server.start()}"
    options = [("grpc.ssl_target_name_override", "localhost")]
    try:
        rogue = grpc.ssl_channel_credentials(
            root_certificates=pki["ca"],
            private_key=pki["rogue_key"],
            certificate_chain=pki["rogue_cert"],
        )
        with grpc.secure_channel(target, rogue, options=options) as channel:
            call = PeerCall(channel)
            with pytest.raises(grpc.RpcError) as refused:
                call.recv()
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
            call.close()
    finally:
        server.stop(grace=0)


def test_server_tls_without_client_ca_accepts_any_client(pki: dict[str, Any]) -> None:
    folder: Path = pki["dir"]
    tls = TlsFiles(folder / "server.crt", folder / "server.key")
    server = ChaincodeServer(CC_ID, "127.0.0.1:0", contract, tls=tls)
    target = f"127.0.0.1:{server.start()}"
    options = [("grpc.ssl_target_name_override", "localhost")]
    try:
        without_cert = grpc.ssl_channel_credentials(root_certificates=pki["ca"])
        with grpc.secure_channel(target, without_cert, options=options) as channel:
            call = PeerCall(channel)
            run_one_transaction(call)
            call.close()
    finally:
        server.stop(grace=0)


@pytest.mark.parametrize("content", [b"", b"not a certificate\n"])
def test_unusable_client_ca_file_is_refused(pki: dict[str, Any], content: bytes) -> None:
    folder: Path = pki["dir"]
    (folder / "bad-ca").write_bytes(content)
    tls = TlsFiles(folder / "server.crt", folder / "server.key", folder / "bad-ca")
    server = ChaincodeServer(CC_ID, "127.0.0.1:0", contract, tls=tls)
    try:
        with pytest.raises(OSError, match="no PEM certificate in the client CA file"):
            server.start()
    finally:
        server.stop(grace=0)


# --- one stream cannot starve the others -------------------------------------------------


def test_a_stream_that_never_answers_does_not_stop_another_streams_transactions() -> None:
    # Two streams, two workers each: the hanging stream sends far more transactions
    # than there are workers in the whole server and answers none of their requests.
    server = ChaincodeServer(CC_ID, "127.0.0.1:0", contract, max_streams=2, max_in_flight=2)
    port = server.start()
    try:
        with (
            grpc.insecure_channel(f"127.0.0.1:{port}") as rogue_channel,
            grpc.insecure_channel(f"127.0.0.1:{port}") as peer_channel,
        ):
            rogue = PeerCall(rogue_channel)
            assert rogue.recv().type == Msg.REGISTER
            rogue.send(Msg(type=Msg.REGISTERED))
            rogue.send(Msg(type=Msg.READY))
            for i in range(80):
                args = [b"Bump", f"k{i}".encode()]
                payload = chaincode_pb2.ChaincodeInput(args=args).SerializeToString()
                rogue.send(
                    Msg(type=Msg.TRANSACTION, txid=f"hang-{i}", channel_id="x", payload=payload)
                )
            # Its first two transactions hold its two workers, waiting on their GET_STATE.
            held = [rogue.recv(), rogue.recv()]
            assert all(m.type == Msg.GET_STATE for m in held)

            call = PeerCall(peer_channel)
            run_one_transaction(call)  # the real peer's transaction completes
            call.close()
            rogue.close()
    finally:
        server.stop(grace=0)


def test_the_stream_slots_fit_every_peer_with_its_full_share() -> None:
    assert ChaincodeServer(CC_ID, "127.0.0.1:0", contract).max_streams == 16
    assert ChaincodeServer(CC_ID, "127.0.0.1:0", contract, peers=5).max_streams == 20
    # five peers of one stream each: all five are served at once, a sixth stream is refused
    server = ChaincodeServer(CC_ID, "127.0.0.1:0", contract, peers=5, max_streams_per_client=1)
    port = server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            calls = [PeerCall(channel) for _ in range(5)]
            for call in calls:
                run_one_transaction(call)
            extra = PeerCall(channel)
            with pytest.raises(grpc.RpcError) as refused:
                extra.recv()
            assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            extra.close()
            for call in calls:
                call.close()
    finally:
        server.stop(grace=0)


def test_server_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="peers"):
        ChaincodeServer(CC_ID, "127.0.0.1:0", contract, peers=0)
    with pytest.raises(ValueError, match="max_in_flight"):
        ChaincodeServer(CC_ID, "127.0.0.1:0", contract, max_in_flight=0)
    with pytest.raises(ValueError, match="max_streams_per_client"):
        ChaincodeServer(CC_ID, "127.0.0.1:0", contract, max_streams_per_client=0)
    with pytest.raises(ValueError, match="reply_timeout"):
        ChaincodeServer(CC_ID, "127.0.0.1:0", contract, reply_timeout=-1)


def test_one_client_certificate_holds_at_most_its_share_of_streams(pki: dict[str, Any]) -> None:
    folder: Path = pki["dir"]
    tls = TlsFiles(folder / "server.crt", folder / "server.key", folder / "ca")
    server = ChaincodeServer(CC_ID, "127.0.0.1:0", contract, tls=tls, max_streams_per_client=1)
    target = f"127.0.0.1:{server.start()}"
    options = [("grpc.ssl_target_name_override", "localhost")]
    creds = grpc.ssl_channel_credentials(
        root_certificates=pki["ca"],
        private_key=pki["client_key"],
        certificate_chain=pki["client_cert"],
    )
    try:
        with grpc.secure_channel(target, creds, options=options) as channel:
            first = PeerCall(channel)
            run_one_transaction(first)
            second = PeerCall(channel)
            with pytest.raises(grpc.RpcError) as refused:
                second.recv()
            assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "already holds 1 streams" in str(refused.value.details())
            second.close()
            first.close()
    finally:
        server.stop(grace=0)


def test_stop_lets_the_transactions_in_flight_finish_within_the_grace() -> None:
    server = ChaincodeServer(CC_ID, "127.0.0.1:0", contract)
    port = server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = PeerCall(channel)
        assert call.recv().type == Msg.REGISTER
        call.send(Msg(type=Msg.REGISTERED))
        call.send(Msg(type=Msg.READY))
        payload = chaincode_pb2.ChaincodeInput(args=[b"Bump", b"k"]).SerializeToString()
        call.send(Msg(type=Msg.TRANSACTION, txid="tx-late", channel_id="c", payload=payload))
        assert call.recv().type == Msg.GET_STATE  # in flight when the server is stopped
        stopping = threading.Thread(target=server.stop, kwargs={"grace": 10})
        stopping.start()
        time.sleep(0.3)  # the server no longer listens, but the transaction goes on
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        call.send(Msg(type=Msg.RESPONSE, payload=b"1", txid="tx-late", channel_id="c"))
        put = call.recv()
        assert put.type == Msg.PUT_STATE
        call.send(Msg(type=Msg.RESPONSE, txid="tx-late", channel_id="c"))
        completed = call.recv()
        assert completed.type == Msg.COMPLETED
        assert proposal_response_pb2.Response.FromString(completed.payload).payload == b"2"
        stopping.join(timeout=10)
        assert not stopping.is_alive()  # done well before the grace: nothing was in flight
        with pytest.raises(grpc.RpcError) as ended:
            call.recv()
        assert ended.value.code() == grpc.StatusCode.UNAVAILABLE
        call.close()
