"""Fabric 3's write batches and multi-key reads, against the fake peer of the handler
tests: what the peer offers in READY decides whether the stub sends one message per
write or one WRITE_BATCH_STATE per transaction."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fabric_protos.peer import chaincode_pb2, chaincode_shim_pb2
from test_shim_handler import CHANNEL, FakePeer, Msg, response_of, transaction

from ebill_chaincode.shim import Contract, Forbidden, InvalidArgument
from ebill_chaincode.shim.capabilities import MIN_BATCH, Capabilities
from ebill_chaincode.shim.stub import ChaincodeStub, Stub

Record = chaincode_shim_pb2.WriteRecord


def ready(write_batch: int = 0, get_multiple: int = 0) -> Any:
    """A READY as a Fabric 3 peer sends it (``chaincode.runtimeParams``)."""
    params = chaincode_pb2.ChaincodeAdditionalParams(
        use_write_batch=write_batch > 0,
        max_size_write_batch=write_batch,
        use_get_multiple_keys=get_multiple > 0,
        max_size_get_multiple_keys=get_multiple,
    )
    return Msg(type=Msg.READY, payload=params.SerializeToString())


def test_capabilities_from_ready() -> None:
    assert Capabilities.from_ready(b"") == Capabilities(0, 0)  # a Fabric 2 peer
    assert Capabilities.from_ready(b"\xff\xff not a message") == Capabilities(0, 0)
    assert Capabilities.from_ready(ready(1000, 500).payload) == Capabilities(1000, 500)
    # a small size is raised to Go's minimum; "not used" stays 0 whatever the size
    assert Capabilities.from_ready(ready(3, 0).payload) == Capabilities(MIN_BATCH, 0)
    params = chaincode_pb2.ChaincodeAdditionalParams(max_size_write_batch=1000)
    assert Capabilities.from_ready(params.SerializeToString()) == Capabilities(0, 0)


contract = Contract("batch-test")


@contract.transaction("Write")
def write(stub: Stub, prefix: str) -> str:
    """Three puts (one of them twice), a delete, a private put and a metadata write."""
    stub.put_state(f"{prefix}a", b"first")
    stub.put_state(f"{prefix}b", b"b")
    stub.put_state(f"{prefix}a", b"second")  # replaces the first, as the peer would
    stub.delete_state(f"{prefix}gone")
    stub.put_private_data("secret", f"{prefix}p", b"private")
    stub.set_state_validation_parameter(f"{prefix}b", b"policy")
    stub.set_event("Wrote", json.dumps({"prefix": prefix}))
    return "ok"


@contract.transaction("WriteThenDeny")
def write_then_deny(stub: Stub) -> str:
    stub.put_state("never", b"sent")
    raise Forbidden("refused after a write")


@contract.transaction("Many")
def many(stub: Stub, count: str) -> int:
    for i in range(int(count)):
        stub.put_state(f"k{i:04d}", b"v")
    return int(count)


@contract.transaction("ReadMany")
def read_many(stub: Stub, count: str) -> list[str | None]:
    keys = [f"r{i}" for i in range(int(count))]
    return [None if v is None else v.decode() for v in stub.get_states(keys)]


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        yield pool


def start(executor: ThreadPoolExecutor, message: Any) -> FakePeer:
    fake = FakePeer(executor, contract)
    fake.recv()  # REGISTER
    fake.send(Msg(type=Msg.REGISTERED))
    fake.send(message)
    assert fake.handler.ready.wait(5)
    return fake


def test_every_write_goes_in_one_batch_before_completed(executor: ThreadPoolExecutor) -> None:
    peer = start(executor, ready(write_batch=1000))
    try:
        peer.send(transaction("tx-w", "Write", "x/"))
        batch = peer.recv()
        assert (batch.type, batch.txid, batch.channel_id) == (
            Msg.WRITE_BATCH_STATE,
            "tx-w",
            CHANNEL,
        )
        records = chaincode_shim_pb2.WriteBatchState.FromString(batch.payload).rec
        seen = [
            (Record.Type.Name(r.type), r.collection, r.key, r.value, r.metadata.value)
            for r in records
        ]
        assert seen == [
            ("PUT_STATE", "", "x/b", b"b", b""),
            ("PUT_STATE", "", "x/a", b"second", b""),
            ("DEL_STATE", "", "x/gone", b"", b""),
            ("PUT_STATE", "secret", "x/p", b"private", b""),
            ("PUT_STATE_METADATA", "", "x/b", b"", b"policy"),
        ]
        peer.answer(batch)
        completed = peer.recv()
        assert response_of(completed).status == 200
        assert completed.chaincode_event.event_name == "Wrote"
    finally:
        peer.end_stream()


def test_a_refused_transaction_sends_no_writes(executor: ThreadPoolExecutor) -> None:
    peer = start(executor, ready(write_batch=1000))
    try:
        peer.send(transaction("tx-d", "WriteThenDeny"))
        completed = peer.recv()
        assert completed.type == Msg.COMPLETED  # no WRITE_BATCH_STATE came first
        assert response_of(completed).status == 403
    finally:
        peer.end_stream()


def test_a_batch_the_peer_refuses_fails_the_transaction(executor: ThreadPoolExecutor) -> None:
    peer = start(executor, ready(write_batch=1000))
    try:
        peer.send(transaction("tx-r", "Write", "y/"))
        batch = peer.recv()
        assert batch.type == Msg.WRITE_BATCH_STATE
        peer.send(Msg(type=Msg.ERROR, payload=b"no write access", txid="tx-r", channel_id=CHANNEL))
        response = response_of(peer.recv())
        assert response.status == 500
        assert "no write access" in response.message
    finally:
        peer.end_stream()


def test_writes_are_split_at_the_peers_batch_size(executor: ThreadPoolExecutor) -> None:
    peer = start(executor, ready(write_batch=MIN_BATCH))
    try:
        peer.send(transaction("tx-m", "Many", str(2 * MIN_BATCH + 5)))
        sizes = []
        while True:
            message = peer.recv()
            if message.type != Msg.WRITE_BATCH_STATE:
                break
            sizes.append(len(chaincode_shim_pb2.WriteBatchState.FromString(message.payload).rec))
            peer.answer(message)
        assert sizes == [MIN_BATCH, MIN_BATCH, 5]
        assert response_of(message).payload == str(2 * MIN_BATCH + 5).encode()
    finally:
        peer.end_stream()


def test_without_the_capability_each_write_is_its_own_message(
    executor: ThreadPoolExecutor,
) -> None:
    peer = start(executor, Msg(type=Msg.READY))  # a Fabric 2 peer: no payload
    try:
        peer.send(transaction("tx-s", "Many", "3"))
        kinds = []
        while True:
            message = peer.recv()
            kinds.append(Msg.Type.Name(message.type))
            if message.type == Msg.COMPLETED:
                break
            peer.answer(message)
        assert kinds == ["PUT_STATE", "PUT_STATE", "PUT_STATE", "COMPLETED"]
    finally:
        peer.end_stream()


def test_get_states_in_batches_of_the_peers_size(executor: ThreadPoolExecutor) -> None:
    peer = start(executor, ready(get_multiple=MIN_BATCH))
    try:
        peer.send(transaction("tx-g", "ReadMany", str(MIN_BATCH + 2)))
        asked: list[list[str]] = []
        while True:
            message = peer.recv()
            if message.type != Msg.GET_STATE_MULTIPLE:
                break
            keys = list(chaincode_shim_pb2.GetStateMultiple.FromString(message.payload).keys)
            asked.append(keys)
            values = [b"" if k.endswith("1") else k.encode() for k in keys]  # "": absent
            result = chaincode_shim_pb2.GetStateMultipleResult(values=values)
            peer.answer(message, result.SerializeToString())
        assert [len(k) for k in asked] == [MIN_BATCH, 2]
        assert asked[0][:3] == ["r0", "r1", "r2"]
        values = json.loads(response_of(message).payload)
        assert values[:3] == ["r0", None, "r2"] and len(values) == MIN_BATCH + 2
    finally:
        peer.end_stream()


def test_get_states_without_the_capability_reads_key_by_key(
    executor: ThreadPoolExecutor,
) -> None:
    peer = start(executor, ready(write_batch=1000))
    try:
        peer.send(transaction("tx-k", "ReadMany", "2"))
        for expected in ("r0", "r1"):
            get = peer.recv()
            assert get.type == Msg.GET_STATE
            assert chaincode_shim_pb2.GetState.FromString(get.payload).key == expected
            peer.answer(get, b"v" if expected == "r0" else b"")
        assert json.loads(response_of(peer.recv()).payload) == ["v", None]
    finally:
        peer.end_stream()


def test_get_states_refuses_a_string_and_a_short_answer() -> None:
    def short_answer(request: Any) -> Any:
        result = chaincode_shim_pb2.GetStateMultipleResult(values=[b"only one"])
        return Msg(type=Msg.RESPONSE, payload=result.SerializeToString(), txid=request.txid)

    stub = ChaincodeStub(CHANNEL, "tx", [b"f"], short_answer, None, Capabilities(0, MIN_BATCH))
    with pytest.raises(InvalidArgument, match="list of keys"):
        stub.get_states("abc")
    with pytest.raises(Exception, match="1 values for 2 keys"):
        stub.get_states(["a", "b"])
