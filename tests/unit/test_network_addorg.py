"""The parts of add-org that need no network: the joined org's shape and ports, the
chaincode definition it leads to, the registry entry, majority."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from ebill_network import addorg, chaincode, signatures
from ebill_network.layout import FIRST_JOINED_INDEX, PEER_ORGS, Layout, joined_org
from ebill_network.processes import InvalidOrg


def test_the_founding_orgs_give_the_definition_they_always_had() -> None:
    assert chaincode.endorsement_policy(PEER_ORGS) == chaincode.ENDORSEMENT_POLICY
    assert chaincode.collections_for(PEER_ORGS) == chaincode.COLLECTIONS
    # and the digest of their definition is the one a network deployed before orgs could
    # join recorded (package, policy, collections): no new sequence on an upgrade
    package = chaincode.Package("ebill_x", b"pkg")
    h = hashlib.sha256()
    for part in (
        package.package_id,
        chaincode.ENDORSEMENT_POLICY,
        json.dumps(chaincode.COLLECTIONS, sort_keys=True),
    ):
        h.update(part.encode() + b"\0")
    assert chaincode.definition_digest(package) == h.hexdigest()
    assert chaincode.definition_digest(package, orgs=PEER_ORGS) == h.hexdigest()


def test_a_services_definition_covers_the_orgs_that_approve_it() -> None:
    package = chaincode.Package("kvgo_x", b"pkg")
    policy = chaincode.ENDORSEMENT_POLICY
    founding = chaincode.definition_digest(package, policy, ())
    joined = (*PEER_ORGS, joined_org("insurer2", "insurance", FIRST_JOINED_INDEX))
    assert chaincode.definition_digest(package, policy, (), orgs=joined) != founding
    assert chaincode.definition_digest(package, policy, ()) != chaincode.definition_digest(package)


def test_a_joined_org_extends_the_policy_and_the_collection() -> None:
    insurer = joined_org("insurer2", "insurance", FIRST_JOINED_INDEX)
    units = joined_org("units2", "units", FIRST_JOINED_INDEX + 1, unit="GD0101")
    orgs = (*PEER_ORGS, insurer, units)
    assert chaincode.endorsement_policy(orgs) == (
        "AND('FinanceMSP.peer', OR('UnitsMSP.peer', 'InsuranceMSP.peer', 'AuditMSP.peer',"
        " 'Insurer2MSP.peer', 'Units2MSP.peer'))"
    )
    [private] = chaincode.collections_for(orgs)
    assert "'Insurer2MSP.member'" in private["policy"]
    assert "'Units2MSP.member'" in private["policy"]
    assert "FinanceMSP" not in private["policy"]
    assert private["endorsementPolicy"] == {
        "signaturePolicy": "OR('UnitsMSP.peer', 'Units2MSP.peer')"
    }
    package = chaincode.Package("ebill_x", b"pkg")
    assert chaincode.definition_digest(package, orgs=orgs) != chaincode.definition_digest(package)


def test_joined_orgs_are_recorded_and_get_ports_of_their_own(tmp_path: Path) -> None:
    layout = Layout(data_dir=tmp_path, base_port=20000)
    founding = set(layout.all_ports())
    first = joined_org("insurer2", "insurance", FIRST_JOINED_INDEX)
    second = joined_org("audit2", "audit", FIRST_JOINED_INDEX + 1)
    layout.save_joined(first)
    layout.save_joined(second)
    layout.save_joined(first)  # once
    assert [o.key for o in layout.peer_orgs()] == [
        "finance", "units", "insurance", "audit", "insurer2", "audit2",
    ]  # fmt: skip
    assert layout.peer_org("insurer2") == first
    ports = set(layout.all_ports())
    assert len(ports) == len(layout.all_ports())  # no port twice
    assert len(ports - founding) == 10
    assert max(ports) < 32768


def test_joined_org_users_carry_the_roles_attributes() -> None:
    insurer = joined_org("insurer2", "insurance", 5)
    assert insurer.msp_id == "Insurer2MSP"
    assert [(u.name, u.attrs) for u in insurer.users] == [
        ("reimburser1", {"role": "reimburser", "reimburser": "INSURER2"})
    ]
    assert addorg.registry_entry(insurer) == {
        "mspId": "Insurer2MSP", "role": "insurance", "ids": ["INSURER2"],
    }  # fmt: skip
    units = joined_org("units2", "units", 6, unit="GD0101")
    assert addorg.registry_entry(units)["ids"] == ["GD0101"]
    assert addorg.registry_entry(joined_org("audit2", "audit", 7))["ids"] == []


@pytest.mark.parametrize(
    ("name", "role", "unit", "field"),
    [
        ("Insurer2", "insurance", "", "org name"),
        ("x", "insurance", "", "org name"),
        ("insurer-2", "insurance", "", "org name"),
        ("insurer2", "finance", "", "role"),
        ("units2", "units", "", "unit"),
        ("units2", "units", "GD 01", "unit"),
    ],
)
def test_bad_org_input_is_refused_naming_the_field(
    tmp_path: Path, name: str, role: str, unit: str, field: str
) -> None:
    with pytest.raises(ValueError, match=f"^{field}"):
        joined_org(name, role, 5, unit=unit)
    with pytest.raises(InvalidOrg, match=f"^{field}"):
        addorg.new_org(Layout(data_dir=tmp_path), name, role, unit=unit)
    assert not (tmp_path / "orgs.json").exists()


def test_a_taken_name_is_refused(tmp_path: Path) -> None:
    layout = Layout(data_dir=tmp_path)
    for name in ("insurance", "orderer"):
        with pytest.raises(InvalidOrg, match="taken"):
            addorg.new_org(layout, name, "insurance")
    org = addorg.new_org(layout, "insurer2", "insurance")
    layout.save_joined(org)
    assert addorg.new_org(layout, "insurer2", "insurance") == org  # resumes
    with pytest.raises(InvalidOrg, match="taken"):
        addorg.new_org(layout, "insurer2", "audit")


def test_majority() -> None:
    assert [signatures.majority(n) for n in (1, 2, 3, 4, 5, 6)] == [1, 2, 2, 3, 3, 4]
