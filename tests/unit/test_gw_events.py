"""Chaincode events, block events and checkpointers of fabricgw against fake gRPC servers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from gw_keys import IDENTITY, KEY, verify_p256

import fabricgw
from fabricgw._protos import (
    ab_pb2,
    chaincode_event_pb2,
    common_pb2,
    events_pb2,
    events_pb2_grpc,
    gateway_pb2,
    gateway_pb2_grpc,
    status_pb2,
)


@dataclass(frozen=True)
class LedgerEvent:
    block: int
    tx_id: str
    name: str
    payload: bytes


# Blocks 2..7 of a ledger; several transactions per block, some blocks without events.
LEDGER = [
    LedgerEvent(2, "tx2a", "BillCreated", b"B1"),
    LedgerEvent(2, "tx2b", "BillCreated", b"B2"),
    LedgerEvent(3, "tx3a", "BillPaid", b"B1"),
    LedgerEvent(5, "tx5a", "BillCreated", b"B3"),
    LedgerEvent(5, "tx5b", "BillVoided", b"B2"),
    LedgerEvent(5, "tx5c", "BillPaid", b"B3"),
    LedgerEvent(7, "tx7a", "BillCreated", b"B4"),
]
NEXT_COMMIT = 6  # height of the fake ledger: the block "next commit" refers to


def selected(start: int, after_tx_id: str) -> list[LedgerEvent]:
    """What a Fabric gateway sends: events from block ``start``, skipping up to ``after_tx_id``."""
    result = [e for e in LEDGER if e.block >= start]
    start_block = [e for e in result if e.block == start]
    ids = [e.tx_id for e in start_block]
    if after_tx_id in ids:
        result = result[ids.index(after_tx_id) + 1 :]
    return result


def abort(context: grpc.ServicerContext, code: grpc.StatusCode, message: str) -> None:
    status = status_pb2.Status(code=code.value[0], message=message)
    status.details.add().Pack(
        gateway_pb2.ErrorDetail(address="peer0:7051", msp_id="Org1MSP", message="ledger gone")
    )
    context.set_trailing_metadata((("grpc-status-details-bin", status.SerializeToString()),))
    context.abort(code, message)


@dataclass
class FakeEventsGateway(gateway_pb2_grpc.GatewayServicer):  # type: ignore[misc]
    """Serves LEDGER honouring start position and after_transaction_id, like a Fabric gateway."""

    hold_open: bool = False  # keep the stream open after the last event (a live listener)
    fail_after_blocks: int | None = None
    requests: list[Any] = field(default_factory=list)
    cancelled: threading.Event = field(default_factory=threading.Event)

    def ChaincodeEvents(self, signed: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        self.requests.append(signed)
        verify_p256(signed.signature, signed.request)
        request = gateway_pb2.ChaincodeEventsRequest.FromString(signed.request)
        position = request.start_position
        start = (
            position.specified.number if position.WhichOneof("Type") == "specified" else NEXT_COMMIT
        )
        events = selected(start, request.after_transaction_id)
        blocks = sorted({e.block for e in events})
        for sent, block in enumerate(blocks):
            if self.fail_after_blocks is not None and sent == self.fail_after_blocks:
                abort(context, grpc.StatusCode.UNAVAILABLE, "peer unavailable")
            yield gateway_pb2.ChaincodeEventsResponse(
                block_number=block,
                events=[
                    chaincode_event_pb2.ChaincodeEvent(
                        chaincode_id=request.chaincode_id,
                        tx_id=e.tx_id,
                        event_name=e.name,
                        payload=e.payload,
                    )
                    for e in events
                    if e.block == block
                ],
            )
        while self.hold_open and context.is_active():
            time.sleep(0.01)
        if not context.is_active():
            self.cancelled.set()


@dataclass
class FakeDeliver(events_pb2_grpc.DeliverServicer):  # type: ignore[misc]
    """Serves blocks 0..9 from the seek start; records the envelopes received."""

    final_status: int | None = None
    envelopes: list[tuple[str, Any]] = field(default_factory=list)

    def _serve(self, method: str, requests: Iterator[Any], make: Any) -> Iterator[Any]:
        envelope = next(requests)
        self.envelopes.append((method, envelope))
        payload = common_pb2.Payload.FromString(envelope.payload)
        seek = ab_pb2.SeekInfo.FromString(payload.data)
        kind = seek.start.WhichOneof("Type")
        start = seek.start.specified.number if kind == "specified" else 9
        for number in range(start, 10):
            yield make(number)
        if self.final_status is not None:
            yield events_pb2.DeliverResponse(status=self.final_status)

    def Deliver(self, requests: Iterator[Any], context: Any) -> Iterator[Any]:  # noqa: N802
        return self._serve(
            "Deliver",
            requests,
            lambda n: events_pb2.DeliverResponse(
                block=common_pb2.Block(header=common_pb2.BlockHeader(number=n))
            ),
        )

    def DeliverFiltered(self, requests: Iterator[Any], context: Any) -> Iterator[Any]:  # noqa: N802
        return self._serve(
            "DeliverFiltered",
            requests,
            lambda n: events_pb2.DeliverResponse(
                filtered_block=events_pb2.FilteredBlock(channel_id="ch", number=n)
            ),
        )

    def DeliverWithPrivateData(self, requests: Iterator[Any], context: Any) -> Iterator[Any]:  # noqa: N802
        return self._serve(
            "DeliverWithPrivateData",
            requests,
            lambda n: events_pb2.DeliverResponse(
                block_and_private_data=events_pb2.BlockAndPrivateData(
                    block=common_pb2.Block(header=common_pb2.BlockHeader(number=n))
                )
            ),
        )


@dataclass
class Harness:
    gateway_fake: FakeEventsGateway
    deliver_fake: FakeDeliver
    channel: grpc.Channel

    def connect(self, **options: Any) -> fabricgw.Gateway:
        options.setdefault("identity", IDENTITY)
        options.setdefault("signer", fabricgw.new_private_key_signer(KEY))
        return fabricgw.connect(self.channel, **options)

    def network(self, **options: Any) -> fabricgw.Network:
        return self.connect(**options).get_network("billchannel")


@pytest.fixture
def harness() -> Iterator[Harness]:
    gateway_fake = FakeEventsGateway()
    deliver_fake = FakeDeliver()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    gateway_pb2_grpc.add_GatewayServicer_to_server(gateway_fake, server)
    events_pb2_grpc.add_DeliverServicer_to_server(deliver_fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield Harness(gateway_fake, deliver_fake, channel)
    finally:
        channel.close()
        server.stop(grace=None)


def as_ledger(events: list[fabricgw.ChaincodeEvent]) -> list[LedgerEvent]:
    return [LedgerEvent(e.block_number, e.transaction_id, e.event_name, e.payload) for e in events]


def sent_request(harness: Harness, index: int = -1) -> Any:
    return gateway_pb2.ChaincodeEventsRequest.FromString(
        harness.gateway_fake.requests[index].request
    )


# --- chaincode events ---------------------------------------------------------------


def test_chaincode_events_are_decoded_and_the_request_is_signed(harness: Harness) -> None:
    with harness.network().get_chaincode_events("ebill", start_block=0) as events:
        received = list(events)
    assert as_ledger(received) == LEDGER
    assert received[0] == fabricgw.ChaincodeEvent(
        block_number=2,
        transaction_id="tx2a",
        chaincode_name="ebill",
        event_name="BillCreated",
        payload=b"B1",
    )
    request = sent_request(harness)
    assert request.channel_id == "billchannel"
    assert request.chaincode_id == "ebill"
    assert request.identity == IDENTITY.serialize()
    assert request.start_position.WhichOneof("Type") == "specified"
    assert request.start_position.specified.number == 0
    assert request.after_transaction_id == ""
    # The fake verified the signature over the serialized request.


def test_default_start_is_the_next_commit(harness: Harness) -> None:
    received = list(harness.network().get_chaincode_events("ebill"))
    assert as_ledger(received) == [e for e in LEDGER if e.block >= NEXT_COMMIT]
    request = sent_request(harness)
    assert request.start_position.WhichOneof("Type") == "next_commit"
    assert request.after_transaction_id == ""


def test_checkpoint_sets_start_block_and_after_transaction_id(harness: Harness) -> None:
    network = harness.network()
    checkpointer = fabricgw.InMemoryCheckpointer()
    assert (checkpointer.block_number, checkpointer.transaction_id) == (None, None)

    # An empty checkpoint leaves the start to start_block.
    list(network.get_chaincode_events("ebill", start_block=3, checkpoint=checkpointer))
    request = sent_request(harness)
    assert request.start_position.specified.number == 3
    assert request.after_transaction_id == ""

    # After an event: same block, skipping up to and including its transaction.
    checkpointer.checkpoint_chaincode_event(
        fabricgw.ChaincodeEvent(5, "tx5a", "ebill", "BillCreated", b"B3")
    )
    received = list(network.get_chaincode_events("ebill", start_block=0, checkpoint=checkpointer))
    request = sent_request(harness)
    assert request.start_position.specified.number == 5  # the checkpoint wins over start_block
    assert request.after_transaction_id == "tx5a"
    assert [e.transaction_id for e in received] == ["tx5b", "tx5c", "tx7a"]

    # After a block: the next block, no transaction to skip.
    checkpointer.checkpoint_block(5)
    assert (checkpointer.block_number, checkpointer.transaction_id) == (6, None)
    received = list(network.get_chaincode_events("ebill", checkpoint=checkpointer))
    request = sent_request(harness)
    assert request.start_position.specified.number == 6
    assert request.after_transaction_id == ""
    assert [e.transaction_id for e in received] == ["tx7a"]


def test_negative_start_block_is_rejected(harness: Harness) -> None:
    with pytest.raises(ValueError, match="start block"):
        harness.network().get_chaincode_events("ebill", start_block=-1)
    with pytest.raises(ValueError):
        fabricgw.InMemoryCheckpointer().checkpoint_block(-2)
    assert harness.gateway_fake.requests == []


def test_close_cancels_a_live_stream(harness: Harness) -> None:
    harness.gateway_fake.hold_open = True
    events = harness.network().get_chaincode_events("ebill", start_block=7)
    assert next(events).transaction_id == "tx7a"
    threading.Timer(0.2, events.close).start()
    started = time.monotonic()
    assert list(events) == []  # blocked until close(), then ended without error
    assert time.monotonic() - started < 5
    assert events.closed
    assert harness.gateway_fake.cancelled.wait(5)
    events.close()  # idempotent


def test_stream_failure_raises_events_error(harness: Harness) -> None:
    harness.gateway_fake.fail_after_blocks = 1
    events = harness.network().get_chaincode_events("ebill", start_block=0)
    assert [next(events).transaction_id, next(events).transaction_id] == ["tx2a", "tx2b"]
    with pytest.raises(fabricgw.EventsError) as info:
        next(events)
    err = info.value
    assert isinstance(err, fabricgw.GatewayError)
    assert err.code is grpc.StatusCode.UNAVAILABLE
    assert "chaincode events failed: UNAVAILABLE: peer unavailable" in str(err)
    assert err.details == (fabricgw.ErrorDetail("peer0:7051", "Org1MSP", "ledger gone"),)
    assert isinstance(err.__cause__, grpc.RpcError)
    assert list(events) == []  # the stream is over


def test_stream_timeout_raises_deadline_exceeded(harness: Harness) -> None:
    harness.gateway_fake.hold_open = True
    events = harness.network().get_chaincode_events("ebill", start_block=7, timeout=0.3)
    assert next(events).transaction_id == "tx7a"
    with pytest.raises(fabricgw.EventsError) as info:
        next(events)
    assert info.value.code is grpc.StatusCode.DEADLINE_EXCEEDED


def test_offline_signed_chaincode_events_request(harness: Harness) -> None:
    gateway = harness.connect(signer=None)
    unsigned = gateway.get_network("billchannel").new_chaincode_events_request(
        "ebill", start_block=5
    )
    with pytest.raises(fabricgw.GatewayError, match="no signer"):
        unsigned.events()
    assert unsigned.digest() == fabricgw.SHA256(
        gateway_pb2.SignedChaincodeEventsRequest.FromString(unsigned.bytes()).request
    )
    signature = fabricgw.new_private_key_signer(KEY)(unsigned.digest())
    signed = gateway.new_signed_chaincode_events_request(unsigned.bytes(), signature)
    assert signed.signature == signature
    with signed.events() as events:
        assert [e.transaction_id for e in events] == ["tx5a", "tx5b", "tx5c", "tx7a"]
    assert harness.gateway_fake.requests[0].signature == signature
    with pytest.raises(fabricgw.GatewayError, match="decode"):
        gateway.new_signed_chaincode_events_request(b"\xff\xff", b"sig")


def test_closed_gateway_refuses_to_listen(harness: Harness) -> None:
    gateway = harness.connect()
    network = gateway.get_network("billchannel")
    gateway.close()
    with pytest.raises(fabricgw.GatewayError, match="closed"):
        network.get_chaincode_events("ebill")
    with pytest.raises(fabricgw.GatewayError, match="closed"):
        network.get_block_events()


# --- checkpointers ------------------------------------------------------------------


def test_file_checkpointer_survives_a_reload(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.json"
    first = fabricgw.FileCheckpointer(path)
    assert (first.block_number, first.transaction_id) == (None, None)
    assert path.exists()  # written at once, so an unwritable path fails early

    first.checkpoint_transaction(12, "txA")
    second = fabricgw.FileCheckpointer(path)
    assert (second.block_number, second.transaction_id) == (12, "txA")
    assert json.loads(path.read_text()) == {"blockNumber": 12, "transactionId": "txA"}

    second.checkpoint_block(12)
    third = fabricgw.FileCheckpointer(path)
    assert (third.block_number, third.transaction_id) == (13, None)
    third.checkpoint_chaincode_event(fabricgw.ChaincodeEvent(14, "txB", "cc", "E", b""))
    fourth = fabricgw.FileCheckpointer(path)
    assert (fourth.block_number, fourth.transaction_id) == (14, "txB")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.json"]  # no temp files left
    assert isinstance(third, fabricgw.Checkpointer)


def test_file_checkpointer_reads_node_format_and_rejects_garbage(tmp_path: Path) -> None:
    path = tmp_path / "cp.json"
    path.write_text('{"blockNumber": "42", "transactionId": "tx"}')  # the Node client's format
    checkpointer = fabricgw.FileCheckpointer(path)
    assert (checkpointer.block_number, checkpointer.transaction_id) == (42, "tx")
    path.write_text("not json")
    with pytest.raises(ValueError, match="not JSON"):
        fabricgw.FileCheckpointer(path)
    path.write_text('{"blockNumber": -1}')
    with pytest.raises(ValueError, match="blockNumber"):
        fabricgw.FileCheckpointer(path)
    path.write_text("")
    assert fabricgw.FileCheckpointer(path).block_number is None


def test_file_checkpointer_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cp.json"
    checkpointer = fabricgw.FileCheckpointer(path)
    checkpointer.checkpoint_transaction(3, "tx3")
    before = path.read_text()

    def fail(*args: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("fabricgw.checkpointer.os.replace", fail)
    with pytest.raises(OSError, match="disk full"):
        checkpointer.checkpoint_transaction(4, "tx4")
    assert path.read_text() == before  # the old state is intact, on disk and in memory
    assert (checkpointer.block_number, checkpointer.transaction_id) == (3, "tx3")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cp.json"]


@pytest.mark.parametrize("stop_after", [1, 2, 3, 4, 5, 6])
def test_resuming_from_a_file_checkpoint_neither_misses_nor_repeats(
    harness: Harness, tmp_path: Path, stop_after: int
) -> None:
    path = tmp_path / "checkpoint.json"
    network = harness.network()
    processed: list[LedgerEvent] = []

    # First run: process some events, checkpointing each, then stop (e.g. the app exits).
    checkpointer = fabricgw.FileCheckpointer(path)
    with network.get_chaincode_events("ebill", start_block=0, checkpoint=checkpointer) as events:
        for event in events:
            processed.extend(as_ledger([event]))
            checkpointer.checkpoint_chaincode_event(event)
            if len(processed) == stop_after:
                break

    # Second run, in a "new process": a fresh checkpointer reads the file.
    resumed = fabricgw.FileCheckpointer(path)
    with network.get_chaincode_events("ebill", start_block=0, checkpoint=resumed) as events:
        for event in events:
            processed.extend(as_ledger([event]))
            resumed.checkpoint_chaincode_event(event)

    assert processed == LEDGER
    last = sent_request(harness)
    assert last.start_position.specified.number == LEDGER[stop_after - 1].block
    assert last.after_transaction_id == LEDGER[stop_after - 1].tx_id


def test_resuming_after_block_checkpoints(harness: Harness, tmp_path: Path) -> None:
    path = tmp_path / "blocks.json"
    network = harness.network()
    checkpointer = fabricgw.FileCheckpointer(path)
    first: list[str] = []
    with network.get_chaincode_events("ebill", start_block=0, checkpoint=checkpointer) as events:
        for event in events:
            first.append(event.transaction_id)
            if event.transaction_id == "tx3a":  # the last event of block 3
                checkpointer.checkpoint_block(event.block_number)
                break
    rest = [
        e.transaction_id
        for e in network.get_chaincode_events("ebill", checkpoint=fabricgw.FileCheckpointer(path))
    ]
    assert first + rest == [e.tx_id for e in LEDGER]
    assert sent_request(harness).start_position.specified.number == 4


# --- block events -------------------------------------------------------------------


def decode_envelope(envelope: Any) -> dict[str, Any]:
    payload = common_pb2.Payload.FromString(envelope.payload)
    return {
        "channel_header": common_pb2.ChannelHeader.FromString(payload.header.channel_header),
        "signature_header": common_pb2.SignatureHeader.FromString(payload.header.signature_header),
        "seek_info": ab_pb2.SeekInfo.FromString(payload.data),
    }


def test_block_events_request_is_a_signed_seek_envelope(harness: Harness) -> None:
    before = time.time()
    with harness.network().get_block_events(start_block=7) as blocks:
        numbers = [block.header.number for block in blocks]
    assert numbers == [7, 8, 9]

    ((method, envelope),) = harness.deliver_fake.envelopes
    assert method == "Deliver"
    verify_p256(envelope.signature, envelope.payload)
    decoded = decode_envelope(envelope)
    channel_header = decoded["channel_header"]
    assert channel_header.type == common_pb2.HeaderType.Value("DELIVER_SEEK_INFO")
    assert channel_header.channel_id == "billchannel"
    assert channel_header.tls_cert_hash == b""
    assert before - 1 <= channel_header.timestamp.seconds <= time.time() + 1
    assert decoded["signature_header"].creator == IDENTITY.serialize()
    seek_info = decoded["seek_info"]
    assert seek_info.start.WhichOneof("Type") == "specified"
    assert seek_info.start.specified.number == 7
    assert seek_info.stop.WhichOneof("Type") == "specified"
    assert seek_info.stop.specified.number == 2**64 - 1
    assert seek_info.behavior == ab_pb2.SeekInfo.SeekBehavior.Value("BLOCK_UNTIL_READY")


def test_block_events_default_start_is_newest_and_checkpoint_wins(harness: Harness) -> None:
    network = harness.network()
    assert [b.header.number for b in network.get_block_events()] == [9]
    checkpointer = fabricgw.InMemoryCheckpointer()
    checkpointer.checkpoint_block(7)
    blocks = network.get_block_events(start_block=1, checkpoint=checkpointer)
    assert [b.header.number for b in blocks] == [8, 9]
    seeks = [decode_envelope(env)["seek_info"] for _, env in harness.deliver_fake.envelopes]
    assert seeks[0].start.WhichOneof("Type") == "newest"
    assert seeks[1].start.specified.number == 8


def test_filtered_and_private_data_block_events(harness: Harness) -> None:
    network = harness.network()
    filtered = list(network.get_filtered_block_events(start_block=8))
    assert [(b.channel_id, b.number) for b in filtered] == [("ch", 8), ("ch", 9)]
    private = list(network.get_block_and_private_data_events(start_block=9))
    assert [p.block.header.number for p in private] == [9]
    methods = [method for method, _ in harness.deliver_fake.envelopes]
    assert methods == ["DeliverFiltered", "DeliverWithPrivateData"]


def test_deliver_status_responses(harness: Harness) -> None:
    network = harness.network()
    harness.deliver_fake.final_status = common_pb2.Status.Value("SUCCESS")
    assert [b.header.number for b in network.get_block_events(start_block=8)] == [8, 9]

    harness.deliver_fake.final_status = common_pb2.Status.Value("FORBIDDEN")
    blocks = network.get_block_events(start_block=9)
    assert next(blocks).header.number == 9
    with pytest.raises(fabricgw.EventsError, match="403 \\(FORBIDDEN\\)") as info:
        next(blocks)
    assert info.value.code is None
    assert blocks.closed


def test_offline_signed_block_events_request(harness: Harness) -> None:
    gateway = harness.connect(signer=None)
    unsigned = gateway.get_network("billchannel").new_block_events_request(
        kind=fabricgw.BlockEventsKind.FILTERED, start_block=9
    )
    assert unsigned.kind is fabricgw.BlockEventsKind.FILTERED
    with pytest.raises(fabricgw.GatewayError, match="no signer"):
        unsigned.events()
    signature = fabricgw.new_private_key_signer(KEY)(unsigned.digest())
    signed = gateway.new_signed_block_events_request(
        unsigned.bytes(), signature, kind=fabricgw.BlockEventsKind.FILTERED
    )
    assert [b.number for b in signed.events()] == [9]
    ((method, envelope),) = harness.deliver_fake.envelopes
    assert method == "DeliverFiltered"
    verify_p256(envelope.signature, envelope.payload)
