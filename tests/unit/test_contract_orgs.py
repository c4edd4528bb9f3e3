"""Orgs that joined the channel later: finance registers an org's part and ids on the
ledger (RegisterOrg), and the access rules honour its roles for those ids only."""

from __future__ import annotations

import json

import pytest
from fixtures import (
    CODE,
    COLLECTIONS,
    FINANCE,
    ISSUER,
    MEDINS,
    SUPERVISOR,
    Ledger,
    World,
    identity,
    number,
    reply_key,
    standard_world,
)

N1 = number(1)
NEW_INSURER = identity("Insurer2MSP", "reimburser1", role="reimburser", reimburser="INSURER2")
#: the joined insurer's CA mints a certificate with the founding insurer's reimburser id
IMPOSTOR = identity("Insurer2MSP", "evil1", role="reimburser", reimburser="MEDINS-HN")
NEW_ISSUER = identity("Units2MSP", "issuer1", role="issuer", unit="GD0101")
NEW_AUDITOR = identity("Audit2MSP", "auditor1", role="supervisor")


def _org(msp_id: str, role: str, ids: list[str]) -> str:
    return json.dumps({"mspId": msp_id, "role": role, "ids": ids})


def _world() -> World:
    """The standard world, with the joined orgs in the collection (the new definition)."""
    base = standard_world()
    members = {
        name: frozenset({*msps, "Insurer2MSP", "Units2MSP", "Audit2MSP"})
        for name, msps in COLLECTIONS.items()
    }
    ledger = Ledger(collections=members)
    ledger.state = base.ledger.copy().state
    for name in ledger.private:
        ledger.private[name] = dict(base.ledger.private.get(name, {}))
    world = World(ledger)
    world.hospital_batch = base.hospital_batch
    world.issue(1)
    world.authorise(1, "INSURER2")
    return world


def test_a_joined_insurer_is_refused_until_finance_registers_it() -> None:
    world = _world()
    world.refused(NEW_INSURER, "LockBill", CODE, N1, status=403, message="Forbidden: LockBill")
    world.refused(
        NEW_INSURER, "RegisterOrg", _org("Insurer2MSP", "insurance", ["INSURER2"]),
        status=403, message="Forbidden: RegisterOrg",
    )  # fmt: skip
    world.ok(FINANCE, "RegisterOrg", _org("Insurer2MSP", "insurance", ["INSURER2"]))
    key, transient = reply_key()
    assert world.ok(NEW_INSURER, "ReadBillPrivate", CODE, N1, transient=transient)["sealed"]
    assert world.ok(NEW_INSURER, "ReadBill", CODE, N1)["billNumber"] == N1
    world.ok(NEW_INSURER, "LockBill", CODE, N1)
    claimed = world.ok(NEW_INSURER, "ClaimBill", CODE, N1, "100", "V-2")
    assert claimed["reimbursedTotal"] == 100
    assert claimed["lastAction"]["org"] == "Insurer2MSP"


def test_a_joined_org_acts_only_for_the_ids_finance_registered() -> None:
    world = _world()
    world.authorise(1, "MEDINS-HN")
    world.ok(FINANCE, "RegisterOrg", _org("Insurer2MSP", "insurance", ["INSURER2"]))
    world.refused(IMPOSTOR, "LockBill", CODE, N1, status=403, message="Forbidden: LockBill")
    # the founding insurer is unaffected
    world.ok(MEDINS, "LockBill", CODE, N1)


def test_a_role_outside_the_orgs_part_is_not_honoured() -> None:
    world = _world()
    world.ok(FINANCE, "RegisterOrg", _org("Insurer2MSP", "insurance", ["INSURER2"]))
    supervisor = identity("Insurer2MSP", "x1", role="supervisor")
    finance = identity("Insurer2MSP", "x2", role="finance")
    for who in (supervisor, finance):
        world.refused(who, "BillHistory", CODE, N1, status=403, message="Forbidden: BillHistory")


def test_joined_units_and_audit_orgs() -> None:
    world = _world()
    world.ok(FINANCE, "RegisterOrg", _org("Units2MSP", "units", ["GD0101"]))
    world.ok(FINANCE, "RegisterOrg", _org("Audit2MSP", "audit", []))
    assert world.ok(NEW_AUDITOR, "BillHistory", CODE, N1)
    unit = {"unitCode": "GD0101", "name": "广州医院", "sector": "medical", "region": "44"}
    world.ok(FINANCE, "RegisterUnit", json.dumps(unit, ensure_ascii=False))
    application = {"unitCode": "GD0101", "billCode": "44010126", "startNumber": N1, "count": 5}
    assert world.ok(NEW_ISSUER, "ApplyStock", json.dumps(application))["status"] == "pending"
    other = identity("Units2MSP", "issuer2", role="issuer", unit="HN0101")
    world.refused(
        other, "ApplyStock", json.dumps({**application, "unitCode": "HN0101"}),
        status=403, message="Forbidden: ApplyStock",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("org_json", "field"),
    [
        (_org("InsuranceMSP", "insurance", ["X"]), "mspId"),
        (_org("FinanceMSP", "audit", []), "mspId"),
        (_org("bad msp", "audit", []), "mspId"),
        (_org("Insurer2MSP", "finance", []), "role"),
        (_org("Insurer2MSP", "insurance", []), "ids"),
        (_org("Insurer2MSP", "insurance", ["bad id!"]), "ids[0]"),
        (_org("Audit2MSP", "audit", ["X"]), "ids"),
        (json.dumps({"mspId": "A2MSP", "role": "audit", "extra": 1}), "orgJSON"),
        ("[]", "orgJSON"),
    ],
)
def test_register_org_refuses_bad_input_naming_the_field(org_json: str, field: str) -> None:
    world = standard_world()
    world.refused(FINANCE, "RegisterOrg", org_json, status=400, message=f"InvalidArgument: {field}")


def test_an_org_is_registered_once_and_read_by_supervisors() -> None:
    world = standard_world()
    record = world.ok(FINANCE, "RegisterOrg", _org("Insurer2MSP", "insurance", ["INSURER2"]))
    assert record["role"] == "insurance" and record["ids"] == ["INSURER2"]
    world.refused(
        FINANCE, "RegisterOrg", _org("Insurer2MSP", "audit", []),
        status=409, message="Conflict: RegisterOrg", code="org-exists",
    )  # fmt: skip
    assert world.ok(SUPERVISOR, "ReadOrg", "Insurer2MSP")["mspId"] == "Insurer2MSP"
    world.refused(ISSUER, "ReadOrg", "Insurer2MSP", status=403, message="Forbidden: ReadOrg")
    world.refused(FINANCE, "ReadOrg", "Nobody2MSP", status=404, message="NotFound: ")
