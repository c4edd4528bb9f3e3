"""KeyEndorsementPolicy: the SignaturePolicyEnvelope bytes, as Go's statebased package."""

from __future__ import annotations

import pytest
from fabric_protos.common import policies_pb2
from fabric_protos.msp import msp_principal_pb2

from ebill_chaincode.shim import KeyEndorsementPolicy

Role = msp_principal_pb2.MSPRole


def principals(envelope: policies_pb2.SignaturePolicyEnvelope) -> list[tuple[str, int]]:
    result = []
    for identity in envelope.identities:
        assert identity.principal_classification == msp_principal_pb2.MSPPrincipal.ROLE
        role = Role.FromString(identity.principal)
        result.append((role.msp_identifier, role.role))
    return result


def test_policy_requires_all_orgs_sorted_by_msp_id() -> None:
    policy = KeyEndorsementPolicy()
    policy.add_orgs("PEER", "UnitsMSP", "FinanceMSP")
    policy.add_orgs("MEMBER", "AuditMSP")
    assert policy.list_orgs() == ["AuditMSP", "FinanceMSP", "UnitsMSP"]

    envelope = policies_pb2.SignaturePolicyEnvelope.FromString(policy.policy())
    assert envelope.version == 0
    assert principals(envelope) == [
        ("AuditMSP", Role.MEMBER),
        ("FinanceMSP", Role.PEER),
        ("UnitsMSP", Role.PEER),
    ]
    assert envelope.rule.WhichOneof("Type") == "n_out_of"
    assert envelope.rule.n_out_of.n == 3
    rules = envelope.rule.n_out_of.rules
    assert [r.WhichOneof("Type") for r in rules] == ["signed_by"] * 3
    assert [r.signed_by for r in rules] == [0, 1, 2]


def test_round_trip_and_changes() -> None:
    original = KeyEndorsementPolicy()
    original.add_orgs("PEER", "Org1MSP", "Org2MSP")
    parsed = KeyEndorsementPolicy(original.policy())
    assert parsed.list_orgs() == ["Org1MSP", "Org2MSP"]
    assert parsed.role_of("Org1MSP") == "PEER"
    assert parsed.policy() == original.policy()  # deterministic bytes

    parsed.del_orgs("Org1MSP", "NotThereMSP")
    parsed.add_orgs("MEMBER", "Org2MSP", "Org3MSP")  # a later add replaces the role
    envelope = policies_pb2.SignaturePolicyEnvelope.FromString(parsed.policy())
    assert principals(envelope) == [("Org2MSP", Role.MEMBER), ("Org3MSP", Role.MEMBER)]
    assert envelope.rule.n_out_of.n == 2


def test_insertion_order_does_not_change_the_bytes() -> None:
    first, second = KeyEndorsementPolicy(), KeyEndorsementPolicy()
    first.add_orgs("PEER", "B", "A", "C")
    second.add_orgs("PEER", "C")
    second.add_orgs("PEER", "A", "B")
    assert first.policy() == second.policy()


def test_only_role_principals_are_read() -> None:
    envelope = policies_pb2.SignaturePolicyEnvelope(
        identities=[
            msp_principal_pb2.MSPPrincipal(
                principal_classification=msp_principal_pb2.MSPPrincipal.ROLE,
                principal=Role(msp_identifier="Org1MSP", role=Role.PEER).SerializeToString(),
            ),
            msp_principal_pb2.MSPPrincipal(
                principal_classification=msp_principal_pb2.MSPPrincipal.IDENTITY,
                principal=b"some identity",
            ),
        ]
    )
    assert KeyEndorsementPolicy(envelope.SerializeToString()).list_orgs() == ["Org1MSP"]


def test_empty_policy() -> None:
    assert KeyEndorsementPolicy(b"").list_orgs() == []
    envelope = policies_pb2.SignaturePolicyEnvelope.FromString(KeyEndorsementPolicy().policy())
    assert envelope.rule.n_out_of.n == 0
    assert list(envelope.identities) == []


def test_bad_input() -> None:
    policy = KeyEndorsementPolicy()
    with pytest.raises(ValueError, match="role"):
        policy.add_orgs("ADMIN", "Org1MSP")
    with pytest.raises(ValueError, match="MSP id"):
        policy.add_orgs("PEER", "")
    with pytest.raises(ValueError, match="SignaturePolicyEnvelope"):
        KeyEndorsementPolicy(b"\xff\xff\xff")
