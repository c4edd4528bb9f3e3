"""ChaincodeStub: arguments, state requests, proposal facts, composite keys."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fabric_protos.common import common_pb2
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import chaincode_pb2, chaincode_shim_pb2, proposal_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from ebill_chaincode.shim import (
    ChaincodeStub,
    InvalidArgument,
    PeerError,
    ShimError,
    create_composite_key,
    split_composite_key,
)

Msg = chaincode_shim_pb2.ChaincodeMessage


class RecordingPeer:
    """Answers each request with a RESPONSE carrying a preset payload."""

    def __init__(self, payload: bytes = b"", kind: int = Msg.RESPONSE) -> None:
        self.requests: list[Any] = []
        self.payload = payload
        self.kind = kind

    def __call__(self, request: Any) -> Any:
        self.requests.append(request)
        return Msg(type=self.kind, payload=self.payload, txid=request.txid)


def make_stub(args: list[bytes], peer: RecordingPeer | None = None, proposal: Any = None) -> Any:
    return ChaincodeStub("ch1", "tx-9", args, peer or RecordingPeer(), proposal)


def signed_proposal(seconds: int, nanos: int, transient: dict[str, bytes]) -> Any:
    creator = identities_pb2.SerializedIdentity(mspid="FinanceMSP", id_bytes=b"-----BEGIN")
    header = common_pb2.Header(
        channel_header=common_pb2.ChannelHeader(
            type=common_pb2.ENDORSER_TRANSACTION,
            timestamp=Timestamp(seconds=seconds, nanos=nanos),
        ).SerializeToString(),
        signature_header=common_pb2.SignatureHeader(
            creator=creator.SerializeToString()
        ).SerializeToString(),
    )
    payload = proposal_pb2.ChaincodeProposalPayload(TransientMap=transient)
    proposal = proposal_pb2.Proposal(
        header=header.SerializeToString(), payload=payload.SerializeToString()
    )
    return proposal_pb2.SignedProposal(proposal_bytes=proposal.SerializeToString())


def test_function_and_params() -> None:
    stub = make_stub([b"IssueBill", '{"a": "票据"}'.encode(), b""])
    assert stub.function == "IssueBill"
    assert stub.params == ['{"a": "票据"}', ""]
    assert stub.raw_args[0] == b"IssueBill"
    assert (stub.tx_id, stub.channel_id) == ("tx-9", "ch1")


def test_params_not_utf8_is_invalid_argument() -> None:
    stub = make_stub([b"F", b"ok", b"\xff"])
    with pytest.raises(InvalidArgument, match="argument 2 is not valid UTF-8"):
        _ = stub.params


def test_no_args_gives_empty_function() -> None:
    assert make_stub([]).function == ""


def test_get_state_absent_is_none_and_present_is_bytes() -> None:
    assert make_stub([b"F"], RecordingPeer(b"")).get_state("k") is None
    peer = RecordingPeer(b"v")
    assert make_stub([b"F"], peer).get_state("k", collection="c") == b"v"
    request = peer.requests[0]
    assert (request.type, request.txid, request.channel_id) == (Msg.GET_STATE, "tx-9", "ch1")
    decoded = chaincode_shim_pb2.GetState.FromString(request.payload)
    assert (decoded.key, decoded.collection) == ("k", "c")


def test_put_state_encodes_text_and_refuses_empty_key() -> None:
    peer = RecordingPeer()
    stub = make_stub([b"F"], peer)
    stub.put_state("k", "värde")
    assert (
        chaincode_shim_pb2.PutState.FromString(peer.requests[0].payload).value == "värde".encode()
    )
    with pytest.raises(ValueError):
        stub.put_state("", b"x")


def test_peer_error_and_unexpected_reply() -> None:
    with pytest.raises(PeerError, match="PUT_STATE refused by peer: no"):
        make_stub([b"F"], RecordingPeer(b"no", Msg.ERROR)).put_state("k", b"v")
    with pytest.raises(PeerError, match="unexpected COMPLETED"):
        make_stub([b"F"], RecordingPeer(b"", Msg.COMPLETED)).delete_state("k")


def test_event_last_call_wins() -> None:
    stub = make_stub([b"F"])
    assert stub.event is None
    stub.set_event("A", b"1")
    stub.set_event("B", "2")
    assert (stub.event.name, stub.event.payload) == ("B", b"2")
    with pytest.raises(ValueError):
        stub.set_event("", b"")


def test_proposal_facts() -> None:
    stub = make_stub([b"F"], proposal=signed_proposal(1_700_000_000, 5_000_999, {"k": b"v"}))
    assert stub.tx_timestamp == datetime(2023, 11, 14, 22, 13, 20, 5000, tzinfo=UTC)
    assert stub.creator.msp_id == "FinanceMSP"
    assert stub.creator.id_bytes == b"-----BEGIN"
    assert dict(stub.transient) == {"k": b"v"}


def test_without_proposal_facts_are_unavailable() -> None:
    stub = make_stub([b"F"])
    assert dict(stub.transient) == {}
    with pytest.raises(ShimError):
        _ = stub.tx_timestamp
    with pytest.raises(ShimError):
        _ = stub.creator


def test_from_message_rejects_garbage() -> None:
    with pytest.raises(ShimError):
        ChaincodeStub.from_message(Msg(type=Msg.TRANSACTION, payload=b"\xff\xff"), RecordingPeer())
    bad_proposal = Msg(
        type=Msg.TRANSACTION,
        payload=chaincode_pb2.ChaincodeInput(args=[b"F"]).SerializeToString(),
    )
    bad_proposal.proposal.proposal_bytes = b"\xff\xff"
    with pytest.raises(ShimError, match="signed proposal"):
        ChaincodeStub.from_message(bad_proposal, RecordingPeer())


def test_composite_key_format_and_round_trip() -> None:
    key = create_composite_key("bill", ["46010126", "0000000001"])
    assert key == "\x00bill\x0046010126\x000000000001\x00"
    assert split_composite_key(key) == ("bill", ["46010126", "0000000001"])
    assert split_composite_key(create_composite_key("t", [])) == ("t", [])
    stub = make_stub([b"F"])
    assert stub.split_composite_key(stub.create_composite_key("a", ["", "b"])) == ("a", ["", "b"])


def test_composite_key_rejects_separator_characters() -> None:
    with pytest.raises(InvalidArgument):
        create_composite_key("bill", ["a\x00b"])
    with pytest.raises(InvalidArgument):
        create_composite_key("bi\U0010ffffll", [])
    with pytest.raises(ValueError):
        split_composite_key("plain-key")
