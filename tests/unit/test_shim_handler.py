"""The handler against a fake peer: an in-memory pair of queues instead of a gRPC stream."""

from __future__ import annotations

import asyncio
import json
import queue
import random
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fabric_protos.common import common_pb2
from fabric_protos.ledger.queryresult import kv_query_result_pb2
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import (
    chaincode_pb2,
    chaincode_shim_pb2,
    proposal_pb2,
    proposal_response_pb2,
)
from google.protobuf.timestamp_pb2 import Timestamp

from ebill_chaincode.shim import Contract, Forbidden, Handler, StreamClosed, run_blocking
from ebill_chaincode.shim.stub import Stub

Msg = chaincode_shim_pb2.ChaincodeMessage
CHANNEL = "ebills"
CC_ID = "ebill_1.0:0123abcd"
_END = object()

# --- a contract for the shim tests -----------------------------------------------------

contract = Contract("shim-test")
stream_closed_seen = threading.Event()


@contract.transaction("Copy")
def copy(stub: Stub, source: str, target: str) -> dict[str, Any]:
    """Reads source, writes its value + '!' to target, emits an event."""
    value = stub.get_state(source)
    new_value = (value or b"") + b"!"
    stub.put_state(target, new_value)
    stub.set_event("Copied", json.dumps({"from": source, "to": target}))
    return {"read": None if value is None else value.decode(), "tx": stub.tx_id}


@contract.transaction("Delete")
def delete(stub: Stub, key: str) -> str:
    stub.delete_state(key, collection="private1")
    return "deleted"


@contract.transaction("Who")
def who(stub: Stub) -> dict[str, Any]:
    return {
        "msp": stub.creator.msp_id,
        "time": stub.tx_timestamp.isoformat(),
        "salt": stub.transient["salt"].decode(),
        "channel": stub.channel_id,
    }


@contract.transaction("Boom")
def boom(stub: Stub) -> str:
    raise RuntimeError("secret internal detail")


@contract.transaction("Deny")
def deny(stub: Stub) -> str:
    raise Forbidden("not for you")


@contract.transaction("Probe")
def probe(stub: Stub) -> str:
    try:
        stub.get_state("k")
    except StreamClosed:
        stream_closed_seen.set()
        raise
    return "unexpected"


@contract.transaction("Scan")
def scan(stub: Stub, start: str, end: str) -> list[str]:
    return [kv.key for kv in stub.get_state_by_range(start, end)]


@contract.transaction("First")
def first(stub: Stub, start: str) -> str:
    """Stops after the first result without closing the query itself."""
    for kv in stub.get_state_by_range(start, ""):
        return kv.key
    return ""


@contract.transaction("FirstThenDeny")
def first_then_deny(stub: Stub, start: str) -> str:
    next(iter(stub.get_state_by_range(start, "")))
    raise Forbidden("seen enough")


release_slow = threading.Event()


@contract.transaction("Slow")
def slow(stub: Stub) -> str:
    """Waits in a worker thread (as a scrypt would) until the test releases it."""

    def wait() -> str:
        return f"released={release_slow.wait(10)} in {threading.current_thread().name}"

    return run_blocking(wait)


@contract.transaction("SlowFails")
def slow_fails(stub: Stub) -> str:
    return run_blocking(int, "not a number")


# --- the fake peer ---------------------------------------------------------------------


class FakePeer:
    """The peer's side of one Connect stream, driven by the test; the handler runs on an
    event loop of its own in a background thread, as in the server."""

    def __init__(
        self, executor: ThreadPoolExecutor, dispatch: Contract = contract, **limits: Any
    ) -> None:
        limits.setdefault("reply_timeout", 10)
        limits.setdefault("max_in_flight", 32)
        self.handler = Handler(CC_ID, dispatch, executor, **limits)
        self._inbox: asyncio.Queue[Any] = asyncio.Queue()
        self._from_chaincode: queue.Queue[Any] = queue.Queue()
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._pump(), self._loop)

    async def _requests(self) -> AsyncIterator[Any]:
        while True:
            message = await self._inbox.get()
            if message is _END:
                return
            yield message

    async def _pump(self) -> None:
        try:
            async for message in self.handler.run(self._requests()):
                self._from_chaincode.put(message)
        finally:
            self._from_chaincode.put(_END)
            self._loop.call_soon(self._loop.stop)

    def send(self, message: Any) -> None:
        self._loop.call_soon_threadsafe(self._inbox.put_nowait, message)

    def recv(self, timeout: float = 5.0) -> Any:
        message = self._from_chaincode.get(timeout=timeout)
        assert message is not _END, "stream ended"
        return message

    def assert_silent(self, wait: float = 0.2) -> None:
        with pytest.raises(queue.Empty):
            self._from_chaincode.get(timeout=wait)

    def end_stream(self) -> None:
        self.send(_END)

    def wait_stream_end(self, timeout: float = 5.0) -> None:
        while self._from_chaincode.get(timeout=timeout) is not _END:
            pass

    def register(self) -> Any:
        register = self.recv()
        self.send(Msg(type=Msg.REGISTERED))
        self.send(Msg(type=Msg.READY))
        assert self.handler.ready.wait(5)
        return register

    def answer(self, request: Any, payload: bytes = b"") -> None:
        self.send(
            Msg(
                type=Msg.RESPONSE,
                payload=payload,
                txid=request.txid,
                channel_id=request.channel_id,
            )
        )


def query_batch(keys: list[str], *, more: bool, query_id: str) -> bytes:
    results = [
        chaincode_shim_pb2.QueryResultBytes(
            resultBytes=kv_query_result_pb2.KV(key=key, value=b"v").SerializeToString()
        )
        for key in keys
    ]
    response = chaincode_shim_pb2.QueryResponse(results=results, has_more=more, id=query_id)
    return bytes(response.SerializeToString())


def transaction(txid: str, *args: str, channel: str = CHANNEL, proposal: Any = None) -> Any:
    message = Msg(
        type=Msg.TRANSACTION,
        txid=txid,
        channel_id=channel,
        payload=chaincode_pb2.ChaincodeInput(args=[a.encode() for a in args]).SerializeToString(),
    )
    if proposal is not None:
        message.proposal.CopyFrom(proposal)
    return message


def response_of(completed: Any) -> Any:
    assert completed.type == Msg.COMPLETED
    return proposal_response_pb2.Response.FromString(completed.payload)


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=40) as pool:
        yield pool


@pytest.fixture
def peer(executor: ThreadPoolExecutor) -> Iterator[FakePeer]:
    fake = FakePeer(executor)
    fake.register()
    yield fake
    fake.end_stream()


# --- tests -----------------------------------------------------------------------------


def test_register_then_registered_and_ready(executor: ThreadPoolExecutor) -> None:
    fake = FakePeer(executor)
    register = fake.recv()
    assert register.type == Msg.REGISTER
    assert chaincode_pb2.ChaincodeID.FromString(register.payload).name == CC_ID
    assert not fake.handler.ready.is_set()
    fake.send(Msg(type=Msg.REGISTERED))
    fake.send(Msg(type=Msg.READY))
    assert fake.handler.ready.wait(5)
    fake.assert_silent()
    fake.end_stream()
    fake.wait_stream_end()


def test_transaction_before_ready_is_refused(executor: ThreadPoolExecutor) -> None:
    fake = FakePeer(executor)
    fake.recv()  # REGISTER
    fake.send(Msg(type=Msg.REGISTERED))
    fake.send(transaction("tx-early", "Copy", "a", "b"))
    reply = fake.recv()
    assert reply.type == Msg.ERROR
    assert reply.txid == "tx-early"
    assert b"not ready" in reply.payload
    fake.end_stream()


def test_registration_refused_ends_stream(executor: ThreadPoolExecutor) -> None:
    fake = FakePeer(executor)
    fake.recv()
    fake.send(Msg(type=Msg.ERROR, payload=b"unknown chaincode"))
    fake.wait_stream_end()
    assert fake.handler.closed


def test_get_put_transaction(peer: FakePeer) -> None:
    peer.send(transaction("tx-1", "Copy", "src", "dst"))

    get = peer.recv()
    assert get.type == Msg.GET_STATE
    assert (get.txid, get.channel_id) == ("tx-1", CHANNEL)
    request = chaincode_shim_pb2.GetState.FromString(get.payload)
    assert (request.key, request.collection) == ("src", "")
    peer.answer(get, b"hello")

    put = peer.recv()
    assert put.type == Msg.PUT_STATE
    assert (put.txid, put.channel_id) == ("tx-1", CHANNEL)
    written = chaincode_shim_pb2.PutState.FromString(put.payload)
    assert (written.key, written.value) == ("dst", b"hello!")
    peer.answer(put)

    completed = peer.recv()
    assert (completed.txid, completed.channel_id) == ("tx-1", CHANNEL)
    response = response_of(completed)
    assert response.status == 200
    assert response.message == ""
    assert json.loads(response.payload) == {"read": "hello", "tx": "tx-1"}
    event = completed.chaincode_event
    assert event.event_name == "Copied"
    assert json.loads(event.payload) == {"from": "src", "to": "dst"}
    assert event.chaincode_id == "" and event.tx_id == ""


def test_absent_key_and_delete_with_collection(peer: FakePeer) -> None:
    peer.send(transaction("tx-absent", "Copy", "missing", "dst"))
    peer.answer(peer.recv())  # empty payload = absent
    put = peer.recv()
    assert chaincode_shim_pb2.PutState.FromString(put.payload).value == b"!"
    peer.answer(put)
    assert json.loads(response_of(peer.recv()).payload)["read"] is None

    peer.send(transaction("tx-del", "Delete", "k1"))
    delete_request = peer.recv()
    assert delete_request.type == Msg.DEL_STATE
    deleted = chaincode_shim_pb2.DelState.FromString(delete_request.payload)
    assert (deleted.key, deleted.collection) == ("k1", "private1")
    peer.answer(delete_request)
    assert response_of(peer.recv()).payload == b"deleted"


def test_init_message_runs_like_a_transaction(peer: FakePeer) -> None:
    message = transaction("tx-init", "Copy", "a", "b")
    message.type = Msg.INIT
    peer.send(message)
    peer.answer(peer.recv(), b"x")
    peer.answer(peer.recv())
    assert response_of(peer.recv()).status == 200


def test_proposal_facts_reach_the_stub(peer: FakePeer) -> None:
    creator = identities_pb2.SerializedIdentity(mspid="UnitsMSP", id_bytes=b"pem")
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.ENDORSER_TRANSACTION,
        channel_id=CHANNEL,
        tx_id="tx-who",
        timestamp=Timestamp(seconds=1_609_815_600, nanos=123_456_789),
    )
    header = common_pb2.Header(
        channel_header=channel_header.SerializeToString(),
        signature_header=common_pb2.SignatureHeader(
            creator=creator.SerializeToString(), nonce=b"n"
        ).SerializeToString(),
    )
    payload = proposal_pb2.ChaincodeProposalPayload(TransientMap={"salt": b"pepper"})
    proposal = proposal_pb2.Proposal(
        header=header.SerializeToString(), payload=payload.SerializeToString()
    )
    signed = proposal_pb2.SignedProposal(proposal_bytes=proposal.SerializeToString())
    peer.send(transaction("tx-who", "Who", proposal=signed))
    assert json.loads(response_of(peer.recv()).payload) == {
        "msp": "UnitsMSP",
        "time": "2021-01-05T03:00:00.123456+00:00",
        "salt": "pepper",
        "channel": CHANNEL,
    }


def test_many_interleaved_transactions_get_their_own_answers(peer: FakePeer) -> None:
    count = 25
    for i in range(count):
        peer.send(transaction(f"tx-{i:02d}", "Copy", f"src-{i}", f"dst-{i}"))

    # All transactions are in flight at once: every one has asked for its state.
    gets = [peer.recv() for _ in range(count)]
    assert all(g.type == Msg.GET_STATE for g in gets)
    assert sorted(g.txid for g in gets) == [f"tx-{i:02d}" for i in range(count)]
    rng = random.Random(7)
    rng.shuffle(gets)
    for get in gets:  # answered out of order, each with a value naming its key
        key = chaincode_shim_pb2.GetState.FromString(get.payload).key
        peer.answer(get, f"value-of-{key}".encode())

    puts: list[Any] = []
    completed: dict[str, Any] = {}
    while len(completed) < count:
        message = peer.recv()
        if message.type == Msg.PUT_STATE:
            puts.append(message)
            if len(puts) == count:
                rng.shuffle(puts)
                for put in puts:
                    peer.answer(put)
        else:
            completed[message.txid] = response_of(message)

    for put in puts:
        written = chaincode_shim_pb2.PutState.FromString(put.payload)
        i = int(put.txid.split("-")[1])
        assert (written.key, written.value) == (f"dst-{i}", f"value-of-src-{i}!".encode())
    for txid, response in completed.items():
        i = int(txid.split("-")[1])
        assert response.status == 200
        assert json.loads(response.payload) == {"read": f"value-of-src-{i}", "tx": txid}


def test_peer_error_reply_fails_the_transaction(peer: FakePeer) -> None:
    peer.send(transaction("tx-err", "Copy", "src", "dst"))
    get = peer.recv()
    peer.send(Msg(type=Msg.ERROR, payload=b"ledger unavailable", txid=get.txid, channel_id=CHANNEL))
    completed = peer.recv()
    response = response_of(completed)
    assert response.status == 500
    assert response.message == "Internal [internal]: GET_STATE refused by peer: ledger unavailable"
    assert not completed.HasField("chaincode_event")


def test_unknown_function_is_400(peer: FakePeer) -> None:
    peer.send(transaction("tx-unknown", "NoSuchThing"))
    response = response_of(peer.recv())
    assert response.status == 400
    assert response.message == "InvalidArgument [unknown-function]: unknown function NoSuchThing"


def test_application_error_status(peer: FakePeer) -> None:
    peer.send(transaction("tx-deny", "Deny"))
    response = response_of(peer.recv())
    assert (response.status, response.message) == (403, "Forbidden [not-authorised]: not for you")


def test_raising_function_does_not_kill_the_handler(peer: FakePeer) -> None:
    peer.send(transaction("tx-boom", "Boom"))
    response = response_of(peer.recv())
    assert response.status == 500
    assert "secret internal detail" not in response.message
    assert response.message.startswith("Internal [internal]: unexpected error in Boom")

    # The stream still serves transactions.
    peer.send(transaction("tx-after", "Copy", "a", "b"))
    peer.answer(peer.recv(), b"1")
    peer.answer(peer.recv())
    assert response_of(peer.recv()).status == 200


def test_malformed_input_gets_error_message(peer: FakePeer) -> None:
    peer.send(Msg(type=Msg.TRANSACTION, txid="tx-bad", channel_id=CHANNEL, payload=b"\xff\xff"))
    reply = peer.recv()
    assert reply.type == Msg.ERROR
    assert reply.txid == "tx-bad"


def test_duplicate_txid_in_flight_is_refused(peer: FakePeer) -> None:
    peer.send(transaction("tx-dup", "Copy", "src", "dst"))
    get = peer.recv()  # the first one now waits on the peer
    peer.send(transaction("tx-dup", "Copy", "src", "other"))
    refused = peer.recv()
    assert refused.type == Msg.ERROR
    assert (refused.txid, refused.channel_id) == ("tx-dup", CHANNEL)
    assert b"already in flight" in refused.payload

    # The same tx id on another channel is a different transaction.
    peer.send(transaction("tx-dup", "Copy", "x", "y", channel="otherchannel"))
    other_get = peer.recv()
    assert (other_get.type, other_get.channel_id) == (Msg.GET_STATE, "otherchannel")

    peer.answer(get, b"v")
    put = peer.recv()
    assert chaincode_shim_pb2.PutState.FromString(put.payload).key == "dst"
    peer.answer(put)
    assert response_of(peer.recv()).status == 200

    # Once completed, the tx id may be used again.
    peer.send(transaction("tx-dup", "Deny"))
    assert response_of(peer.recv()).status == 403


def test_keepalive_is_ignored(peer: FakePeer) -> None:
    peer.send(Msg(type=Msg.KEEPALIVE))
    peer.assert_silent()
    peer.send(transaction("tx-ka", "Deny"))
    assert response_of(peer.recv()).status == 403


def test_stream_end_fails_waiting_transactions(peer: FakePeer) -> None:
    stream_closed_seen.clear()
    peer.send(transaction("tx-probe", "Probe"))
    assert peer.recv().type == Msg.GET_STATE
    peer.end_stream()
    peer.wait_stream_end()
    assert stream_closed_seen.wait(5)
    assert peer.handler.closed


# --- queries through the handler -------------------------------------------------------------


def test_concurrent_range_queries_get_their_own_batches(peer: FakePeer) -> None:
    count = 12
    for i in range(count):
        peer.send(transaction(f"tx-scan-{i:02d}", "Scan", f"k{i:02d}", f"k{i:02d}~"))
    rng = random.Random(11)

    def phase(kind: int) -> list[Any]:
        requests = [peer.recv() for _ in range(count)]
        assert all(r.type == kind for r in requests), [Msg.Type.Name(r.type) for r in requests]
        assert sorted(r.txid for r in requests) == [f"tx-scan-{i:02d}" for i in range(count)]
        rng.shuffle(requests)
        return requests

    for opening in phase(Msg.GET_STATE_BY_RANGE):  # answered out of order
        start = chaincode_shim_pb2.GetStateByRange.FromString(opening.payload).startKey
        keys = [f"{start}-1", f"{start}-2"]
        peer.answer(opening, query_batch(keys, more=True, query_id=f"it-{opening.txid}"))
    for following in phase(Msg.QUERY_STATE_NEXT):
        query_id = chaincode_shim_pb2.QueryStateNext.FromString(following.payload).id
        assert query_id == f"it-{following.txid}"
        i = following.txid[-2:]
        peer.answer(following, query_batch([f"k{i}-3"], more=False, query_id=query_id))
    for closing in phase(Msg.QUERY_STATE_CLOSE):
        query_id = chaincode_shim_pb2.QueryStateClose.FromString(closing.payload).id
        assert query_id == f"it-{closing.txid}"
        peer.answer(closing)
    for _ in range(count):
        completed = peer.recv()
        i = completed.txid[-2:]
        response = response_of(completed)
        assert response.status == 200
        assert json.loads(response.payload) == [f"k{i}-1", f"k{i}-2", f"k{i}-3"]


def test_abandoned_query_is_closed_before_completed(peer: FakePeer) -> None:
    peer.send(transaction("tx-first", "First", "a"))
    opening = peer.recv()
    assert opening.type == Msg.GET_STATE_BY_RANGE
    peer.answer(opening, query_batch(["a1", "a2"], more=True, query_id="q-first"))
    closing = peer.recv()
    assert (closing.type, closing.txid) == (Msg.QUERY_STATE_CLOSE, "tx-first")
    assert chaincode_shim_pb2.QueryStateClose.FromString(closing.payload).id == "q-first"
    peer.assert_silent()  # COMPLETED waits for the close to be answered
    peer.answer(closing)
    response = response_of(peer.recv())
    assert (response.status, response.payload) == (200, b"a1")


def test_failed_transaction_still_closes_its_query(peer: FakePeer) -> None:
    peer.send(transaction("tx-fail", "FirstThenDeny", "a"))
    peer.answer(peer.recv(), query_batch(["a1", "a2"], more=True, query_id="q-fail"))
    closing = peer.recv()
    assert closing.type == Msg.QUERY_STATE_CLOSE
    peer.answer(closing)
    assert response_of(peer.recv()).status == 403


def test_peer_error_while_iterating_is_500(peer: FakePeer) -> None:
    peer.send(transaction("tx-qerr", "Scan", "a", "b"))
    peer.answer(peer.recv(), query_batch(["a1"], more=True, query_id="q-err"))
    following = peer.recv()
    assert following.type == Msg.QUERY_STATE_NEXT
    peer.send(
        Msg(type=Msg.ERROR, payload=b"iterator gone", txid=following.txid, channel_id=CHANNEL)
    )
    completed = peer.recv()  # no close for a query the peer dropped
    response = response_of(completed)
    assert response.status == 500
    assert (
        response.message == "Internal [internal]: QUERY_STATE_NEXT refused by peer: iterator gone"
    )


# --- deadlines and per-stream bounds -----------------------------------------------------


def limited_peer(executor: ThreadPoolExecutor, **limits: Any) -> FakePeer:
    fake = FakePeer(executor, **limits)
    fake.register()
    return fake


def test_state_request_without_reply_fails_at_its_deadline(executor: ThreadPoolExecutor) -> None:
    peer = limited_peer(executor, reply_timeout=0.2)
    try:
        peer.send(transaction("tx-late", "Copy", "src", "dst"))
        get = peer.recv()
        assert get.type == Msg.GET_STATE  # never answered
        response = response_of(peer.recv())
        assert response.status == 500
        assert "no reply from the peer to GET_STATE within 0.2s" in response.message
        # A reply after the deadline finds no one waiting and changes nothing.
        peer.answer(get, b"late")
        peer.send(transaction("tx-next", "Deny"))
        assert response_of(peer.recv()).status == 403
    finally:
        peer.end_stream()


def test_deadline_and_bounds_must_be_positive(executor: ThreadPoolExecutor) -> None:
    with pytest.raises(ValueError, match="reply_timeout"):
        Handler(CC_ID, contract, executor, reply_timeout=0)
    with pytest.raises(ValueError, match="max_in_flight"):
        Handler(CC_ID, contract, executor, max_in_flight=0)


def test_one_stream_runs_at_most_max_in_flight_the_rest_wait(executor: ThreadPoolExecutor) -> None:
    peer = limited_peer(executor, max_in_flight=2)
    try:
        for i in range(5):
            peer.send(transaction(f"tx-q{i}", "Copy", f"s{i}", f"d{i}"))
        first = [peer.recv(), peer.recv()]
        assert all(m.type == Msg.GET_STATE for m in first)
        peer.assert_silent()  # three wait in the stream's queue, holding no worker
        assert peer.handler.running == 2
        for request in first:
            peer.answer(request, b"v")
        done = 0
        while done < 5:  # the waiting ones start as slots free, never more than two at once
            message = peer.recv()
            assert peer.handler.running <= 2
            if message.type == Msg.COMPLETED:
                assert response_of(message).status == 200
                done += 1
            else:
                peer.answer(message, b"v")
        assert peer.handler.running == 0
    finally:
        peer.end_stream()


def test_transactions_beyond_the_stream_queue_are_refused(executor: ThreadPoolExecutor) -> None:
    peer = limited_peer(executor, max_in_flight=1, max_queued=1)
    try:
        peer.send(transaction("tx-a", "Copy", "a", "b"))
        get = peer.recv()
        peer.send(transaction("tx-b", "Deny"))  # waits in the queue
        peer.send(transaction("tx-c", "Deny"))  # no room
        refused = peer.recv()
        assert (refused.type, refused.txid) == (Msg.ERROR, "tx-c")
        assert b"too many transactions on this stream" in refused.payload
        peer.answer(get, b"1")
        peer.answer(peer.recv())  # PUT_STATE
        replies = {m.txid: m for m in (peer.recv(), peer.recv())}
        assert response_of(replies["tx-a"]).status == 200
        assert response_of(replies["tx-b"]).status == 403
    finally:
        peer.end_stream()


# --- slow code off the loop --------------------------------------------------------------


def test_run_blocking_lets_the_stream_serve_others_meanwhile(peer: FakePeer) -> None:
    release_slow.clear()
    peer.send(transaction("tx-slow", "Slow"))
    peer.send(transaction("tx-quick", "Copy", "a", "b"))
    # tx-slow waits in a worker thread; tx-quick runs to its end meanwhile
    get = peer.recv()
    assert (get.type, get.txid) == (Msg.GET_STATE, "tx-quick")
    peer.answer(get, b"v")
    put = peer.recv()
    assert put.txid == "tx-quick"
    peer.answer(put)
    quick = peer.recv()
    assert (quick.txid, response_of(quick).status) == ("tx-quick", 200)
    peer.assert_silent()
    release_slow.set()
    slow_done = peer.recv()
    assert slow_done.txid == "tx-slow"
    # it ran in the handler's blocking executor (the fixture's pool), not on the loop
    assert response_of(slow_done).payload.decode().startswith("released=True in ThreadPoolExecutor")


def test_run_blocking_raises_what_the_function_raises(peer: FakePeer) -> None:
    peer.send(transaction("tx-slow-fails", "SlowFails"))
    response = response_of(peer.recv())
    assert response.status == 500
    assert response.message.startswith("Internal [internal]: unexpected error in SlowFails")


def test_run_blocking_outside_a_transaction_just_calls() -> None:
    assert run_blocking(sum, [1, 2, 3]) == 6
    with pytest.raises(ValueError):
        run_blocking(int, "x")
