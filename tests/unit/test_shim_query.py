"""ChaincodeStub queries, private data, key-level endorsement, binding: the wire messages."""

from __future__ import annotations

import hashlib
import struct
from datetime import UTC, datetime
from typing import Any

import pytest
from fabric_protos.common import common_pb2
from fabric_protos.ledger.queryresult import kv_query_result_pb2
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import chaincode_shim_pb2, proposal_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from ebill_chaincode.shim import (
    KV,
    ChaincodeStub,
    InvalidArgument,
    KeyModification,
    PeerError,
    QueryPage,
    ShimError,
)

Msg = chaincode_shim_pb2.ChaincodeMessage


class ScriptedPeer:
    """Answers the stub's requests, in order, with the scripted replies."""

    def __init__(self, *replies: bytes | Any) -> None:
        self.replies = list(replies)
        self.requests: list[Any] = []

    def __call__(self, request: Any) -> Any:
        self.requests.append(request)
        assert self.replies, f"unexpected {Msg.Type.Name(request.type)}"
        reply = self.replies.pop(0)
        if isinstance(reply, bytes):
            return Msg(type=Msg.RESPONSE, payload=reply, txid=request.txid)
        return reply

    @property
    def kinds(self) -> list[str]:
        return [Msg.Type.Name(r.type) for r in self.requests]


def make_stub(peer: ScriptedPeer, proposal: Any = None) -> ChaincodeStub:
    return ChaincodeStub("ch1", "tx-q", [b"F"], peer, proposal)


def batch(keys: list[str], *, more: bool, query_id: str = "q1", metadata: bytes = b"") -> bytes:
    results = [
        chaincode_shim_pb2.QueryResultBytes(
            resultBytes=kv_query_result_pb2.KV(
                namespace="ebill", key=key, value=f"v-{key}".encode()
            ).SerializeToString()
        )
        for key in keys
    ]
    response = chaincode_shim_pb2.QueryResponse(
        results=results, has_more=more, id=query_id, metadata=metadata
    )
    return bytes(response.SerializeToString())


def closed(query_id: str = "q1") -> bytes:
    return bytes(chaincode_shim_pb2.QueryResponse(id=query_id).SerializeToString())


def kvs(*keys: str) -> list[KV]:
    return [KV(key, f"v-{key}".encode()) for key in keys]


def error(text: str) -> Any:
    return Msg(type=Msg.ERROR, payload=text.encode(), txid="tx-q")


# --- range queries ---------------------------------------------------------------------


def test_range_reads_two_batches_lazily_then_closes() -> None:
    peer = ScriptedPeer(batch(["a", "b"], more=True), batch(["c"], more=False), closed())
    stub = make_stub(peer)
    iterator = stub.get_state_by_range("a", "z")
    assert peer.kinds == ["GET_STATE_BY_RANGE"]
    request = chaincode_shim_pb2.GetStateByRange.FromString(peer.requests[0].payload)
    assert (request.startKey, request.endKey, request.collection, request.metadata) == (
        "a",
        "z",
        "",
        b"",
    )
    assert (peer.requests[0].txid, peer.requests[0].channel_id) == ("tx-q", "ch1")

    assert [next(iterator), next(iterator)] == kvs("a", "b")
    assert peer.kinds == ["GET_STATE_BY_RANGE"]  # the next batch only when needed
    assert next(iterator) == kvs("c")[0]
    assert peer.kinds == ["GET_STATE_BY_RANGE", "QUERY_STATE_NEXT"]
    assert chaincode_shim_pb2.QueryStateNext.FromString(peer.requests[1].payload).id == "q1"
    assert not iterator.closed

    assert list(iterator) == []
    assert peer.kinds == ["GET_STATE_BY_RANGE", "QUERY_STATE_NEXT", "QUERY_STATE_CLOSE"]
    assert chaincode_shim_pb2.QueryStateClose.FromString(peer.requests[2].payload).id == "q1"
    assert iterator.closed
    stub.close_open_queries()  # nothing left to close
    assert len(peer.requests) == 3


def test_range_bounds_follow_go_rules() -> None:
    peer = ScriptedPeer(batch([], more=False), closed())
    assert list(make_stub(peer).get_state_by_range("", "")) == []
    request = chaincode_shim_pb2.GetStateByRange.FromString(peer.requests[0].payload)
    assert (request.startKey, request.endKey) == ("\x01", "")

    stub = make_stub(ScriptedPeer())
    with pytest.raises(InvalidArgument):
        stub.get_state_by_range("\x00bill\x00", "")
    with pytest.raises(InvalidArgument):
        stub.get_state_by_range("a", "\x00")


def test_early_stop_closes_the_query() -> None:
    peer = ScriptedPeer(batch(["a", "b"], more=True), closed())
    stub = make_stub(peer)
    with stub.get_state_by_range("a", "") as iterator:
        for kv in iterator:
            assert kv.key == "a"
            break
    assert peer.kinds == ["GET_STATE_BY_RANGE", "QUERY_STATE_CLOSE"]
    iterator.close()  # idempotent
    assert list(iterator) == []
    assert len(peer.requests) == 2


def test_abandoned_queries_are_closed_by_the_stub() -> None:
    peer = ScriptedPeer(
        batch(["a", "b"], more=True, query_id="q1"),
        batch(["x"], more=True, query_id="q2"),
        closed("q1"),
        closed("q2"),
    )
    stub = make_stub(peer)
    first = stub.get_state_by_range("a", "")
    second = stub.get_state_by_range("x", "")
    assert next(first).key == "a"
    assert next(second).key == "x"
    stub.close_open_queries()
    assert peer.kinds[2:] == ["QUERY_STATE_CLOSE", "QUERY_STATE_CLOSE"]
    ids = [chaincode_shim_pb2.QueryStateClose.FromString(r.payload).id for r in peer.requests[2:]]
    assert ids == ["q1", "q2"]
    assert first.closed and second.closed


def test_close_failure_at_transaction_end_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    peer = ScriptedPeer(batch(["a"], more=True), error("gone"))
    stub = make_stub(peer)
    stub.get_state_by_range("a", "")
    stub.close_open_queries()
    assert "could not close query q1" in caplog.text
    stub.close_open_queries()
    assert len(peer.requests) == 2


def test_peer_error_while_iterating_is_a_clean_error() -> None:
    peer = ScriptedPeer(batch(["a"], more=True), error("ledger unavailable"))
    stub = make_stub(peer)
    iterator = stub.get_state_by_range("a", "")
    assert next(iterator).key == "a"
    with pytest.raises(PeerError, match="QUERY_STATE_NEXT refused by peer: ledger unavailable"):
        next(iterator)
    assert iterator.closed  # the peer dropped the query: no close is sent for it
    assert list(iterator) == []
    stub.close_open_queries()
    assert peer.kinds == ["GET_STATE_BY_RANGE", "QUERY_STATE_NEXT"]


def test_refused_or_garbled_query_opens_nothing() -> None:
    peer = ScriptedPeer(error("no such collection"), b"\xff\xff\xff")
    stub = make_stub(peer)
    with pytest.raises(PeerError, match="GET_STATE_BY_RANGE refused by peer"):
        stub.get_state_by_range("a", "b")
    with pytest.raises(ShimError, match="cannot decode"):
        stub.get_state_by_range("a", "b")
    stub.close_open_queries()
    assert len(peer.requests) == 2


def test_garbled_result_raises_and_closes() -> None:
    bad = chaincode_shim_pb2.QueryResponse(
        results=[chaincode_shim_pb2.QueryResultBytes(resultBytes=b"\xff\xff")], id="q1"
    )
    peer = ScriptedPeer(bad.SerializeToString(), closed())
    iterator = make_stub(peer).get_state_by_range("a", "b")
    with pytest.raises(ShimError, match="cannot decode a query result"):
        next(iterator)
    assert iterator.closed
    assert peer.kinds == ["GET_STATE_BY_RANGE", "QUERY_STATE_CLOSE"]


# --- pagination --------------------------------------------------------------------------


def test_pagination_sends_query_metadata_and_returns_the_bookmark() -> None:
    metadata = chaincode_shim_pb2.QueryResponseMetadata(fetched_records_count=2, bookmark="b3")
    peer = ScriptedPeer(
        batch(["b1", "b2"], more=False, metadata=metadata.SerializeToString()), closed()
    )
    results, page = make_stub(peer).get_state_by_range_with_pagination("b1", "b9", 2, "b0")
    assert results == kvs("b1", "b2")
    assert page == QueryPage(fetched=2, bookmark="b3")
    request = chaincode_shim_pb2.GetStateByRange.FromString(peer.requests[0].payload)
    assert (request.startKey, request.endKey) == ("b1", "b9")
    sent = chaincode_shim_pb2.QueryMetadata.FromString(request.metadata)
    assert (sent.pageSize, sent.bookmark) == (2, "b0")
    assert peer.kinds == ["GET_STATE_BY_RANGE", "QUERY_STATE_CLOSE"]


def test_pagination_reads_every_batch_and_takes_the_last_metadata() -> None:
    metadata = chaincode_shim_pb2.QueryResponseMetadata(fetched_records_count=3, bookmark="d")
    peer = ScriptedPeer(
        batch(["a", "b"], more=True),
        batch(["c"], more=False, metadata=metadata.SerializeToString()),
        closed(),
    )
    results, page = make_stub(peer).get_state_by_range_with_pagination("", "", 3)
    assert results == kvs("a", "b", "c")
    assert page == QueryPage(3, "d")
    request = chaincode_shim_pb2.GetStateByRange.FromString(peer.requests[0].payload)
    assert request.startKey == "\x01"
    assert chaincode_shim_pb2.QueryMetadata.FromString(request.metadata).bookmark == ""


def test_pagination_without_metadata_counts_the_results() -> None:
    peer = ScriptedPeer(batch(["a"], more=False), closed())
    assert make_stub(peer).get_state_by_range_with_pagination("a", "b", 5) == (
        kvs("a"),
        QueryPage(1, ""),
    )


@pytest.mark.parametrize("page_size", [0, -1, 2**31, True])
def test_pagination_refuses_bad_page_size(page_size: Any) -> None:
    stub = make_stub(ScriptedPeer())
    with pytest.raises(InvalidArgument, match="page size"):
        stub.get_state_by_range_with_pagination("a", "b", page_size)
    with pytest.raises(InvalidArgument, match="page size"):
        stub.get_state_by_partial_composite_key_with_pagination("bill", [], page_size)


# --- partial composite keys -------------------------------------------------------------


def test_partial_composite_key_range() -> None:
    peer = ScriptedPeer(batch(["\x00bill\x0046010126\x000001\x00"], more=False), closed())
    results = list(make_stub(peer).get_state_by_partial_composite_key("bill", ["46010126"]))
    assert [kv.key for kv in results] == ["\x00bill\x0046010126\x000001\x00"]
    request = chaincode_shim_pb2.GetStateByRange.FromString(peer.requests[0].payload)
    assert request.startKey == "\x00bill\x0046010126\x00"
    assert request.endKey == "\x00bill\x0046010126\x00\U0010ffff"
    assert (request.collection, request.metadata) == ("", b"")


def test_partial_composite_key_with_pagination() -> None:
    metadata = chaincode_shim_pb2.QueryResponseMetadata(fetched_records_count=1, bookmark="nx")
    peer = ScriptedPeer(batch(["k"], more=False, metadata=metadata.SerializeToString()), closed())
    stub = make_stub(peer)
    results, page = stub.get_state_by_partial_composite_key_with_pagination("bill", [], 10, "bm")
    assert (results, page) == (kvs("k"), QueryPage(1, "nx"))
    request = chaincode_shim_pb2.GetStateByRange.FromString(peer.requests[0].payload)
    assert (request.startKey, request.endKey) == ("\x00bill\x00", "\x00bill\x00\U0010ffff")
    sent = chaincode_shim_pb2.QueryMetadata.FromString(request.metadata)
    assert (sent.pageSize, sent.bookmark) == (10, "bm")


def test_partial_composite_key_refuses_bad_attributes() -> None:
    stub = make_stub(ScriptedPeer())
    with pytest.raises(InvalidArgument):
        stub.get_state_by_partial_composite_key("bill", ["a\x00"])
    with pytest.raises(InvalidArgument, match="not a string"):
        stub.get_state_by_partial_composite_key("bill", "46010126")


# --- history -----------------------------------------------------------------------------


def test_history_is_decoded() -> None:
    changes = [
        kv_query_result_pb2.KeyModification(
            tx_id="t1",
            value=b"v1",
            timestamp=Timestamp(seconds=1_700_000_000, nanos=123_456_789),
        ),
        kv_query_result_pb2.KeyModification(
            tx_id="t2", timestamp=Timestamp(seconds=1_700_000_060), is_delete=True
        ),
    ]
    response = chaincode_shim_pb2.QueryResponse(
        results=[
            chaincode_shim_pb2.QueryResultBytes(resultBytes=c.SerializeToString()) for c in changes
        ],
        id="h1",
    )
    peer = ScriptedPeer(response.SerializeToString(), closed("h1"))
    history = list(make_stub(peer).get_history_for_key("bill-1"))
    assert history == [
        KeyModification("t1", b"v1", datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC), False),
        KeyModification("t2", b"", datetime(2023, 11, 14, 22, 14, 20, tzinfo=UTC), True),
    ]
    assert peer.kinds == ["GET_HISTORY_FOR_KEY", "QUERY_STATE_CLOSE"]
    assert chaincode_shim_pb2.GetHistoryForKey.FromString(peer.requests[0].payload).key == "bill-1"


# --- private data ------------------------------------------------------------------------


def test_private_data_messages_carry_the_collection() -> None:
    peer = ScriptedPeer(b"secret", b"", b"", b"")
    stub = make_stub(peer)
    assert stub.get_private_data("payers", "p1") == b"secret"
    assert stub.get_private_data("payers", "p2") is None
    stub.put_private_data("payers", "p1", "värde")
    stub.delete_private_data("payers", "p1")
    assert peer.kinds == ["GET_STATE", "GET_STATE", "PUT_STATE", "DEL_STATE"]
    get = chaincode_shim_pb2.GetState.FromString(peer.requests[0].payload)
    put = chaincode_shim_pb2.PutState.FromString(peer.requests[2].payload)
    delete = chaincode_shim_pb2.DelState.FromString(peer.requests[3].payload)
    assert (get.collection, get.key) == ("payers", "p1")
    assert (put.collection, put.key, put.value) == ("payers", "p1", "värde".encode())
    assert (delete.collection, delete.key) == ("payers", "p1")


def test_private_data_needs_a_collection() -> None:
    stub = make_stub(ScriptedPeer())
    calls = [
        lambda: stub.get_private_data("", "k"),
        lambda: stub.put_private_data("", "k", b"v"),
        lambda: stub.delete_private_data("", "k"),
        lambda: stub.get_private_data_hash("", "k"),
        lambda: stub.get_private_data_by_range("", "a", "b"),
        lambda: stub.get_private_data_by_partial_composite_key("", "bill", []),
        lambda: stub.set_private_data_validation_parameter("", "k", b"p"),
        lambda: stub.get_private_data_validation_parameter("", "k"),
    ]
    for call in calls:
        with pytest.raises(InvalidArgument, match="collection must not be empty"):
            call()
    with pytest.raises(InvalidArgument, match="key must not be empty"):
        stub.put_private_data("payers", "", b"v")


def test_private_data_hash() -> None:
    digest = hashlib.sha256(b"secret").digest()
    peer = ScriptedPeer(digest, b"")
    stub = make_stub(peer)
    assert stub.get_private_data_hash("payers", "p1") == digest
    assert stub.get_private_data_hash("payers", "p2") is None
    assert peer.kinds == ["GET_PRIVATE_DATA_HASH", "GET_PRIVATE_DATA_HASH"]
    request = chaincode_shim_pb2.GetState.FromString(peer.requests[0].payload)
    assert (request.collection, request.key) == ("payers", "p1")


def test_private_data_queries_carry_the_collection() -> None:
    peer = ScriptedPeer(batch(["a"], more=False), closed(), batch([], more=False), closed())
    stub = make_stub(peer)
    assert list(stub.get_private_data_by_range("payers", "", "z")) == kvs("a")
    assert list(stub.get_private_data_by_partial_composite_key("payers", "payer", ["x"])) == []
    first = chaincode_shim_pb2.GetStateByRange.FromString(peer.requests[0].payload)
    assert (first.collection, first.startKey, first.endKey) == ("payers", "\x01", "z")
    second = chaincode_shim_pb2.GetStateByRange.FromString(peer.requests[2].payload)
    assert (second.collection, second.startKey, second.endKey) == (
        "payers",
        "\x00payer\x00x\x00",
        "\x00payer\x00x\x00\U0010ffff",
    )


# --- key-level endorsement ---------------------------------------------------------------


def metadata_result(entries: dict[str, bytes]) -> bytes:
    result = chaincode_shim_pb2.StateMetadataResult(
        entries=[chaincode_shim_pb2.StateMetadata(metakey=k, value=v) for k, v in entries.items()]
    )
    return bytes(result.SerializeToString())


def test_validation_parameter_put_and_get() -> None:
    peer = ScriptedPeer(
        b"",
        metadata_result({"OTHER": b"x", "VALIDATION_PARAMETER": b"policy-bytes"}),
        metadata_result({}),
    )
    stub = make_stub(peer)
    stub.set_state_validation_parameter("bill-1", b"policy-bytes")
    assert stub.get_state_validation_parameter("bill-1") == b"policy-bytes"
    assert stub.get_state_validation_parameter("bill-2") is None
    assert peer.kinds == ["PUT_STATE_METADATA", "GET_STATE_METADATA", "GET_STATE_METADATA"]
    put = chaincode_shim_pb2.PutStateMetadata.FromString(peer.requests[0].payload)
    assert (put.key, put.collection) == ("bill-1", "")
    assert (put.metadata.metakey, put.metadata.value) == ("VALIDATION_PARAMETER", b"policy-bytes")
    get = chaincode_shim_pb2.GetStateMetadata.FromString(peer.requests[1].payload)
    assert (get.key, get.collection) == ("bill-1", "")


def test_private_validation_parameter_put_and_get() -> None:
    peer = ScriptedPeer(b"", metadata_result({"VALIDATION_PARAMETER": b"p"}))
    stub = make_stub(peer)
    stub.set_private_data_validation_parameter("payers", "p1", b"p")
    assert stub.get_private_data_validation_parameter("payers", "p1") == b"p"
    put = chaincode_shim_pb2.PutStateMetadata.FromString(peer.requests[0].payload)
    assert (put.key, put.collection, put.metadata.metakey) == (
        "p1",
        "payers",
        "VALIDATION_PARAMETER",
    )
    get = chaincode_shim_pb2.GetStateMetadata.FromString(peer.requests[1].payload)
    assert (get.key, get.collection) == ("p1", "payers")


def test_validation_parameter_errors() -> None:
    peer = ScriptedPeer(b"\xff\xff", error("no"))
    stub = make_stub(peer)
    with pytest.raises(ShimError, match="GET_STATE_METADATA"):
        stub.get_state_validation_parameter("k")
    with pytest.raises(PeerError, match="PUT_STATE_METADATA refused by peer: no"):
        stub.set_state_validation_parameter("k", b"p")
    with pytest.raises(InvalidArgument):
        stub.set_state_validation_parameter("", b"p")


# --- proposal binding ----------------------------------------------------------------------


def test_binding_and_signed_proposal() -> None:
    creator = identities_pb2.SerializedIdentity(
        mspid="FinanceMSP", id_bytes=b"pem"
    ).SerializeToString()
    header = common_pb2.Header(
        channel_header=common_pb2.ChannelHeader(
            type=common_pb2.ENDORSER_TRANSACTION, epoch=7
        ).SerializeToString(),
        signature_header=common_pb2.SignatureHeader(
            creator=creator, nonce=b"nonce-123"
        ).SerializeToString(),
    )
    proposal = proposal_pb2.Proposal(header=header.SerializeToString())
    signed = proposal_pb2.SignedProposal(
        proposal_bytes=proposal.SerializeToString(), signature=b"sig"
    )
    stub = make_stub(ScriptedPeer(), signed)
    expected = hashlib.sha256(b"nonce-123" + creator + struct.pack("<Q", 7)).digest()
    assert stub.get_binding() == expected
    copy = stub.get_signed_proposal()
    assert copy == signed
    copy.signature = b"changed"
    assert stub.get_signed_proposal().signature == b"sig"


def test_binding_needs_a_proposal() -> None:
    stub = make_stub(ScriptedPeer())
    with pytest.raises(ShimError):
        stub.get_binding()
    with pytest.raises(ShimError):
        stub.get_signed_proposal()
