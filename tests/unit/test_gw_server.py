"""The fabricgw Gateway client against a fake in-process Gateway gRPC server."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from gw_keys import IDENTITY, KEY, self_signed_pem, verify_p256

import fabricgw
from fabricgw import hash as gwhash
from fabricgw._protos import (
    common_pb2,
    gateway_pb2,
    gateway_pb2_grpc,
    proposal_pb2,
    proposal_response_pb2,
    status_pb2,
    transaction_pb2,
)

Failure = tuple[grpc.StatusCode, str, list[tuple[str, str, str]]]


def abort(context: grpc.ServicerContext, failure: Failure) -> None:
    """Abort the call the way the Fabric gateway does: a Status carrying ErrorDetails."""
    code, message, details = failure
    status = status_pb2.Status(code=code.value[0], message=message)
    for address, msp_id, detail in details:
        status.details.add().Pack(
            gateway_pb2.ErrorDetail(address=address, msp_id=msp_id, message=detail)
        )
    context.set_trailing_metadata((("grpc-status-details-bin", status.SerializeToString()),))
    context.abort(code, message)


def prepared_envelope(signed_proposal: Any, result: bytes) -> Any:
    """Transaction envelope as the gateway assembles it from a proposal and its responses."""
    proposal = proposal_pb2.Proposal.FromString(signed_proposal.proposal_bytes)
    chaincode_action = proposal_pb2.ChaincodeAction(
        response=proposal_response_pb2.Response(status=200, message="", payload=result)
    )
    response_payload = proposal_response_pb2.ProposalResponsePayload(
        proposal_hash=hashlib.sha256(proposal.SerializeToString()).digest(),
        extension=chaincode_action.SerializeToString(),
    )
    action_payload = transaction_pb2.ChaincodeActionPayload(
        chaincode_proposal_payload=proposal.payload,
        action=transaction_pb2.ChaincodeEndorsedAction(
            proposal_response_payload=response_payload.SerializeToString(),
        ),
    )
    header = common_pb2.Header.FromString(proposal.header)
    transaction = transaction_pb2.Transaction(
        actions=[
            transaction_pb2.TransactionAction(
                header=header.signature_header, payload=action_payload.SerializeToString()
            )
        ]
    )
    payload = common_pb2.Payload(header=header, data=transaction.SerializeToString())
    return common_pb2.Envelope(payload=payload.SerializeToString())


@dataclass
class FakeGateway(gateway_pb2_grpc.GatewayServicer):  # type: ignore[misc]
    result: bytes = b'{"id":"B1"}'
    commit_code: int = 0
    block_number: int = 7
    evaluate_failure: Failure | None = None
    endorse_failure: Failure | None = None
    submit_failure: Failure | None = None
    commit_failure: Failure | None = None
    commit_delay: float = 0.0
    requests: dict[str, list[Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _record(self, name: str, request: Any) -> None:
        with self.lock:
            self.requests.setdefault(name, []).append(request)

    def Evaluate(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        self._record("evaluate", request)
        if self.evaluate_failure:
            abort(context, self.evaluate_failure)
        return gateway_pb2.EvaluateResponse(
            result=proposal_response_pb2.Response(status=200, payload=self.result)
        )

    def Endorse(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        self._record("endorse", request)
        if self.endorse_failure:
            abort(context, self.endorse_failure)
        envelope = prepared_envelope(request.proposed_transaction, self.result)
        return gateway_pb2.EndorseResponse(prepared_transaction=envelope)

    def Submit(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        self._record("submit", request)
        if self.submit_failure:
            abort(context, self.submit_failure)
        return gateway_pb2.SubmitResponse()

    def CommitStatus(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        self._record("commit_status", request)
        if self.commit_delay:
            time.sleep(self.commit_delay)
        if self.commit_failure:
            abort(context, self.commit_failure)
        return gateway_pb2.CommitStatusResponse(
            result=self.commit_code, block_number=self.block_number
        )


@dataclass
class Harness:
    fake: FakeGateway
    channel: grpc.Channel
    connect: Callable[..., fabricgw.Gateway]


@pytest.fixture
def harness() -> Iterator[Harness]:
    fake = FakeGateway()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    gateway_pb2_grpc.add_GatewayServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")

    def connect(**options: Any) -> fabricgw.Gateway:
        options.setdefault("identity", IDENTITY)
        options.setdefault("signer", fabricgw.new_private_key_signer(KEY))
        return fabricgw.connect(channel, **options)

    try:
        yield Harness(fake, channel, connect)
    finally:
        channel.close()
        server.stop(grace=None)


ENDORSE_DETAILS = [
    (
        "peer0.org1.example.com:7051",
        "Org1MSP",
        "chaincode response 409, Conflict: bill B1 already exists",
    ),
    (
        "peer0.org2.example.com:9051",
        "Org2MSP",
        "chaincode response 409, Conflict: bill B1 already exists",
    ),
]


# --- evaluate -----------------------------------------------------------------------


def test_evaluate_returns_payload_and_sends_signed_proposal(harness: Harness) -> None:
    gateway = harness.connect()
    contract = gateway.get_network("billchannel").get_contract("ebill")
    assert contract.evaluate_transaction("ReadBill", "B1") == b'{"id":"B1"}'

    (request,) = harness.fake.requests["evaluate"]
    assert request.channel_id == "billchannel"
    assert list(request.target_organizations) == []
    signed = request.proposed_transaction
    verify_p256(signed.signature, signed.proposal_bytes)
    proposal = proposal_pb2.Proposal.FromString(signed.proposal_bytes)
    header = common_pb2.Header.FromString(proposal.header)
    channel_header = common_pb2.ChannelHeader.FromString(header.channel_header)
    assert request.transaction_id == channel_header.tx_id


def test_evaluate_with_options(harness: Harness) -> None:
    contract = harness.connect().get_network("ch").get_contract("ebill")
    result = contract.evaluate(
        "ReadBill",
        arguments=[b"B1"],
        transient={"k": b"v"},
        target_organizations=["Org2MSP"],
        timeout=2,
    )
    assert result == b'{"id":"B1"}'
    (request,) = harness.fake.requests["evaluate"]
    assert list(request.target_organizations) == ["Org2MSP"]


def test_evaluate_failure_raises_evaluate_error_with_details(harness: Harness) -> None:
    harness.fake.evaluate_failure = (
        grpc.StatusCode.UNKNOWN,
        "evaluate call to endorser returned error: chaincode response 404, NotFound: bill B9",
        [("peer0.org1.example.com:7051", "Org1MSP", "chaincode response 404, NotFound: bill B9")],
    )
    contract = harness.connect().get_network("ch").get_contract("ebill")
    with pytest.raises(fabricgw.EvaluateError) as info:
        contract.evaluate_transaction("ReadBill", "B9")
    err = info.value
    assert isinstance(err, fabricgw.GatewayError)
    assert err.code is grpc.StatusCode.UNKNOWN
    assert err.transaction_id == harness.fake.requests["evaluate"][0].transaction_id
    assert err.details == (
        fabricgw.ErrorDetail(
            "peer0.org1.example.com:7051", "Org1MSP", "chaincode response 404, NotFound: bill B9"
        ),
    )
    assert err.chaincode_message == "NotFound: bill B9"
    assert "NotFound: bill B9" in str(err)
    assert isinstance(err.__cause__, grpc.RpcError)


# --- endorse / submit / commit ------------------------------------------------------


def test_endorse_failure_raises_endorse_error_with_details(harness: Harness) -> None:
    harness.fake.endorse_failure = (
        grpc.StatusCode.ABORTED,
        "failed to endorse transaction, see attached details for more info",
        ENDORSE_DETAILS,
    )
    contract = harness.connect().get_network("ch").get_contract("ebill")
    with pytest.raises(fabricgw.EndorseError) as info:
        contract.submit_transaction("CreateBill", "B1", "{}")
    err = info.value
    assert err.code is grpc.StatusCode.ABORTED
    assert err.transaction_id == harness.fake.requests["endorse"][0].transaction_id
    assert [d.msp_id for d in err.details] == ["Org1MSP", "Org2MSP"]
    assert err.details[0].address == "peer0.org1.example.com:7051"
    assert err.chaincode_message == "Conflict: bill B1 already exists"
    text = str(err)
    assert "ABORTED: failed to endorse transaction" in text
    assert "chaincode response 409, Conflict: bill B1 already exists" in text
    assert "peer0.org2.example.com:9051 (Org2MSP)" in text
    assert "submit" not in harness.fake.requests


def test_submit_transaction_flow(harness: Harness) -> None:
    harness.fake.result = b"created"
    contract = harness.connect().get_network("billchannel").get_contract("ebill", "Bills")
    assert contract.submit_transaction("CreateBill", "B1", b'{"a":1}') == b"created"

    (endorse,) = harness.fake.requests["endorse"]
    (submit,) = harness.fake.requests["submit"]
    (commit,) = harness.fake.requests["commit_status"]
    tx_id = endorse.transaction_id
    assert endorse.channel_id == "billchannel"
    verify_p256(endorse.proposed_transaction.signature, endorse.proposed_transaction.proposal_bytes)

    assert submit.transaction_id == tx_id
    assert submit.channel_id == "billchannel"
    verify_p256(submit.prepared_transaction.signature, submit.prepared_transaction.payload)

    request = gateway_pb2.CommitStatusRequest.FromString(commit.request)
    assert request.transaction_id == tx_id
    assert request.channel_id == "billchannel"
    assert request.identity == IDENTITY.serialize()
    verify_p256(commit.signature, commit.request)


def test_fine_grained_flow_exposes_result_and_status(harness: Harness) -> None:
    harness.fake.result = b"r1"
    harness.fake.block_number = 42
    contract = harness.connect().get_network("ch").get_contract("ebill")
    proposal = contract.new_proposal(
        "CreateBill", arguments=["B1"], endorsing_organizations=["Org1MSP"]
    )
    transaction = proposal.endorse()
    assert transaction.result == b"r1"
    assert transaction.transaction_id == proposal.transaction_id
    assert transaction.channel_id == "ch"
    assert list(harness.fake.requests["endorse"][0].endorsing_organizations) == ["Org1MSP"]
    commit = transaction.submit()
    assert commit.transaction_id == proposal.transaction_id
    status = commit.status()
    assert status == fabricgw.Status(
        transaction_id=proposal.transaction_id,
        code=0,
        code_name="VALID",
        successful=True,
        block_number=42,
    )


def test_submit_async_returns_result_and_commit(harness: Harness) -> None:
    harness.fake.result = b"async"
    contract = harness.connect().get_network("ch").get_contract("ebill")
    result, commit = contract.submit_async("CreateBill", "B1", transient={"price": b"10"})
    assert result == b"async"
    assert "commit_status" not in harness.fake.requests
    assert commit.status().successful


def test_invalid_commit_raises_commit_error(harness: Harness) -> None:
    harness.fake.commit_code = 11
    contract = harness.connect().get_network("ch").get_contract("ebill")
    with pytest.raises(fabricgw.CommitError) as info:
        contract.submit_transaction("CreateBill", "B1")
    err = info.value
    assert err.code_name == "MVCC_READ_CONFLICT"
    assert err.validation_code == 11
    assert err.block_number == 7
    assert err.transaction_id == harness.fake.requests["endorse"][0].transaction_id
    assert "MVCC_READ_CONFLICT" in str(err)

    # The lower level API reports it as a status, not an error.
    _, commit = contract.submit_async("CreateBill", "B2")
    status = commit.status()
    assert not status.successful
    assert (status.code, status.code_name) == (11, "MVCC_READ_CONFLICT")


def test_submit_failure_raises_submit_error(harness: Harness) -> None:
    harness.fake.submit_failure = (
        grpc.StatusCode.UNAVAILABLE,
        "no orderers could successfully process transaction",
        [("orderer.example.com:7050", "OrdererMSP", "rpc error: service unavailable")],
    )
    contract = harness.connect().get_network("ch").get_contract("ebill")
    with pytest.raises(fabricgw.SubmitError) as info:
        contract.submit_transaction("CreateBill", "B1")
    assert info.value.code is grpc.StatusCode.UNAVAILABLE
    assert info.value.details[0].msp_id == "OrdererMSP"
    assert info.value.transaction_id == harness.fake.requests["submit"][0].transaction_id


def test_commit_status_failure_and_timeout_raise_commit_status_error(harness: Harness) -> None:
    harness.fake.commit_failure = (grpc.StatusCode.NOT_FOUND, "channel not found", [])
    contract = harness.connect().get_network("ch").get_contract("ebill")
    with pytest.raises(fabricgw.CommitStatusError) as info:
        contract.submit_transaction("CreateBill", "B1")
    assert info.value.code is grpc.StatusCode.NOT_FOUND
    assert info.value.transaction_id == harness.fake.requests["submit"][0].transaction_id

    harness.fake.commit_failure = None
    harness.fake.commit_delay = 1.0
    started = time.monotonic()
    with pytest.raises(fabricgw.CommitStatusError) as info:
        contract.submit("CreateBill", arguments=["B2"], commit_status_timeout=0.2)
    assert info.value.code is grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.monotonic() - started < 0.9


def test_default_timeout_from_connect(harness: Harness) -> None:
    harness.fake.commit_delay = 1.0
    contract = harness.connect(commit_status_timeout=0.2).get_network("ch").get_contract("cc")
    _, commit = contract.submit_async("F")
    with pytest.raises(fabricgw.CommitStatusError) as info:
        commit.status()
    assert info.value.code is grpc.StatusCode.DEADLINE_EXCEEDED


# --- off-line signing, Ed25519, close -------------------------------------------------


def test_offline_signing_flow(harness: Harness) -> None:
    harness.fake.result = b"offline"
    sign = fabricgw.new_private_key_signer(KEY)
    gateway = harness.connect(signer=None)
    contract = gateway.get_network("ch").get_contract("ebill")

    unsigned = contract.new_proposal("CreateBill", arguments=["B1"])
    with pytest.raises(fabricgw.GatewayError, match="no signer") as info:
        unsigned.endorse()
    assert not isinstance(info.value, fabricgw.TransactionError)
    assert "endorse" not in harness.fake.requests

    proposal = gateway.new_signed_proposal(unsigned.bytes(), sign(unsigned.digest()))
    unsigned_tx = proposal.endorse()
    assert unsigned_tx.result == b"offline"
    transaction = gateway.new_signed_transaction(unsigned_tx.bytes(), sign(unsigned_tx.digest()))
    assert transaction.result == b"offline"
    assert transaction.transaction_id == unsigned.transaction_id
    unsigned_commit = transaction.submit()
    commit = gateway.new_signed_commit(unsigned_commit.bytes(), sign(unsigned_commit.digest()))
    assert commit.transaction_id == unsigned.transaction_id
    assert commit.status().successful

    endorse = harness.fake.requests["endorse"][0]
    submit = harness.fake.requests["submit"][0]
    status_request = harness.fake.requests["commit_status"][0]
    verify_p256(endorse.proposed_transaction.signature, endorse.proposed_transaction.proposal_bytes)
    verify_p256(submit.prepared_transaction.signature, submit.prepared_transaction.payload)
    verify_p256(status_request.signature, status_request.request)


def test_ed25519_signer_with_hash_none(harness: Harness) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    gateway = harness.connect(
        identity=fabricgw.Identity("Org1MSP", self_signed_pem(key)),
        signer=fabricgw.new_private_key_signer(key),
        hash=gwhash.NONE,
    )
    contract = gateway.get_network("ch").get_contract("ebill")
    assert contract.submit_transaction("CreateBill", "B1") == b'{"id":"B1"}'
    endorse = harness.fake.requests["endorse"][0]
    key.public_key().verify(
        endorse.proposed_transaction.signature, endorse.proposed_transaction.proposal_bytes
    )
    # The transaction id stays sha256(nonce + creator) whatever the signing hash.
    proposal = proposal_pb2.Proposal.FromString(endorse.proposed_transaction.proposal_bytes)
    header = common_pb2.Header.FromString(proposal.header)
    signature_header = common_pb2.SignatureHeader.FromString(header.signature_header)
    expected = hashlib.sha256(signature_header.nonce + signature_header.creator).hexdigest()
    assert endorse.transaction_id == expected


def test_close_does_not_close_the_channel(harness: Harness) -> None:
    first = harness.connect()
    contract = first.get_network("ch").get_contract("ebill")
    with first:
        assert contract.evaluate_transaction("ReadBill", "B1") == b'{"id":"B1"}'
    assert first.closed
    with pytest.raises(fabricgw.GatewayError, match="closed"):
        contract.evaluate_transaction("ReadBill", "B1")
    second = harness.connect()
    assert second.get_network("ch").get_contract("ebill").evaluate_transaction("R") == (
        b'{"id":"B1"}'
    )
