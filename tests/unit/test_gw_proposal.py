"""Proposals built by the fabricgw Gateway client decode back to what was requested."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from gw_keys import IDENTITY, KEY

import fabricgw
from fabricgw._protos import chaincode_pb2, common_pb2, gateway_pb2, identities_pb2, proposal_pb2
from fabricgw.proposal import build_proposed_transaction, compute_transaction_id


@pytest.fixture
def gateway() -> Iterator[fabricgw.Gateway]:
    # Nothing listens here; building proposals makes no call.
    channel = grpc.insecure_channel("127.0.0.1:9")
    with fabricgw.connect(
        channel, identity=IDENTITY, signer=fabricgw.new_private_key_signer(KEY)
    ) as gw:
        yield gw
    channel.close()


def decode(proposal: fabricgw.Proposal) -> dict[str, Any]:
    proposed = gateway_pb2.ProposedTransaction.FromString(proposal.bytes())
    prop = proposal_pb2.Proposal.FromString(proposed.proposal.proposal_bytes)
    header = common_pb2.Header.FromString(prop.header)
    channel_header = common_pb2.ChannelHeader.FromString(header.channel_header)
    signature_header = common_pb2.SignatureHeader.FromString(header.signature_header)
    extension = proposal_pb2.ChaincodeHeaderExtension.FromString(channel_header.extension)
    payload = proposal_pb2.ChaincodeProposalPayload.FromString(prop.payload)
    spec = chaincode_pb2.ChaincodeInvocationSpec.FromString(payload.input).chaincode_spec
    return {
        "proposed": proposed,
        "channel_header": channel_header,
        "signature_header": signature_header,
        "extension": extension,
        "payload": payload,
        "spec": spec,
    }


def test_proposal_decodes_back_to_request(gateway: fabricgw.Gateway) -> None:
    contract = gateway.get_network("billchannel").get_contract("ebill")
    before = time.time()
    proposal = contract.new_proposal(
        "CreateBill",
        arguments=["B1", b"\x00\xffraw", "ünïcode"],
        transient={"secret": b"\x01\x02", "note": "text"},
        endorsing_organizations=["Org1MSP", "Org2MSP"],
    )
    d = decode(proposal)
    channel_header = d["channel_header"]
    signature_header = d["signature_header"]

    assert channel_header.type == common_pb2.HeaderType.Value("ENDORSER_TRANSACTION")
    assert channel_header.channel_id == "billchannel"
    assert channel_header.epoch == 0
    assert before - 1 <= channel_header.timestamp.seconds <= time.time() + 1
    assert d["extension"].chaincode_id.name == "ebill"

    assert signature_header.creator == IDENTITY.serialize()
    creator = identities_pb2.SerializedIdentity.FromString(signature_header.creator)
    assert creator.mspid == "Org1MSP"
    assert len(signature_header.nonce) == 24

    expected_tx_id = hashlib.sha256(signature_header.nonce + signature_header.creator).hexdigest()
    assert proposal.transaction_id == expected_tx_id
    assert channel_header.tx_id == expected_tx_id
    assert d["proposed"].transaction_id == expected_tx_id

    spec = d["spec"]
    assert spec.type == chaincode_pb2.ChaincodeSpec.Type.Value("NODE")
    assert spec.chaincode_id.name == "ebill"
    assert list(spec.input.args) == [b"CreateBill", b"B1", b"\x00\xffraw", "ünïcode".encode()]
    assert dict(d["payload"].TransientMap) == {"secret": b"\x01\x02", "note": b"text"}
    assert list(d["proposed"].endorsing_organizations) == ["Org1MSP", "Org2MSP"]
    assert proposal.endorsing_organizations == ["Org1MSP", "Org2MSP"]
    assert proposal.channel_id == "billchannel"
    assert proposal.signature == b""  # signed only when sent


def test_contract_name_prefixes_the_function(gateway: fabricgw.Gateway) -> None:
    contract = gateway.get_network("ch").get_contract("ebill", "BillContract")
    assert contract.contract_name == "BillContract"
    spec = decode(contract.new_proposal("ReadBill", arguments=["B1"]))["spec"]
    assert list(spec.input.args) == [b"BillContract:ReadBill", b"B1"]
    default = gateway.get_network("ch").get_contract("ebill")
    assert decode(default.new_proposal("ReadBill"))["spec"].input.args == [b"ReadBill"]


def test_each_proposal_has_a_fresh_nonce_and_transaction_id(gateway: fabricgw.Gateway) -> None:
    contract = gateway.get_network("ch").get_contract("ebill")
    ids = {contract.new_proposal("F").transaction_id for _ in range(50)}
    assert len(ids) == 50


def test_transaction_id_from_fixed_nonce() -> None:
    nonce = bytes(range(24))
    creator = IDENTITY.serialize()
    proposed = build_proposed_transaction(
        creator=creator,
        channel_id="ch",
        chaincode_name="cc",
        transaction_name="fn",
        nonce=nonce,
    )
    expected = hashlib.sha256(nonce + creator).hexdigest()
    assert compute_transaction_id(nonce, creator) == expected
    assert proposed.transaction_id == expected


def test_digest_and_signature_over_proposal_bytes_verify(gateway: fabricgw.Gateway) -> None:
    proposal = gateway.get_network("ch").get_contract("ebill").new_proposal("F", arguments=["a"])
    assert proposal.digest() == hashlib.sha256(proposal.proposal_bytes).digest()
    signature = fabricgw.new_private_key_signer(KEY)(proposal.digest())
    KEY.public_key().verify(signature, proposal.proposal_bytes, ec.ECDSA(hashes.SHA256()))

    # Off-line signing: rebuild from bytes with the signature attached.
    signed = gateway.new_signed_proposal(proposal.bytes(), signature)
    assert signed.signature == signature
    assert signed.transaction_id == proposal.transaction_id
    assert signed.channel_id == "ch"
    assert signed.proposal_bytes == proposal.proposal_bytes


def test_bad_argument_types_and_bytes_are_rejected(gateway: fabricgw.Gateway) -> None:
    contract = gateway.get_network("ch").get_contract("ebill")
    with pytest.raises(TypeError):
        contract.new_proposal("F", arguments=[1])  # type: ignore[list-item]
    with pytest.raises(fabricgw.GatewayError, match="decode"):
        gateway.new_proposal(b"\xff\xff\xff")


def test_connect_validates_timeouts() -> None:
    channel = grpc.insecure_channel("127.0.0.1:9")
    try:
        with pytest.raises(ValueError, match="endorse_timeout"):
            fabricgw.connect(channel, identity=IDENTITY, endorse_timeout=0)
        with pytest.raises(ValueError, match="evaluate_timeout"):
            fabricgw.connect(channel, identity=IDENTITY, evaluate_timeout=float("inf"))
    finally:
        channel.close()
