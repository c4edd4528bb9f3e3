"""The access matrix: every function x every role, allowed pairs succeed, the rest are
refused with a message and change nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fake_stub import (
    CODE,
    FINANCE,
    ISSUER,
    MEDINS,
    OTHER_PAYER_ID,
    PAYER_ID,
    ROLES,
    World,
    bill_json,
    check_code,
    number,
    payer_hash,
    proof,
    public_json,
    reply_key,
    standard_world,
    transient,
)

from ebill_chaincode.contract import access, contract

N1 = number(1)
ALL = frozenset(ROLES)
READERS = {"finance", "supervisor"}
UNIT_STAFF = {"issuer own unit", "clerk"}
PAYER_ROLES = {"payer own", "payer other"}
PAYER_FUNCTIONS = {"ReadBill", "AuthoriseReimburser", "RevokeAuthorisation", "ListBillsByPayer"}


def base_world() -> World:
    """Bill 1 issued, MEDINS-HN authorised on it, bill 2 deposited, a pending application
    of HN0101."""
    world = standard_world()
    world.issue(1)
    world.deposit(2)
    world.authorise(1, "MEDINS-HN")
    application = {"unitCode": "HN0101", "billCode": "46010226", "startNumber": N1, "count": 5}
    world.pending = world.ok(ISSUER, "ApplyStock", json.dumps(application))["batchId"]
    return world


_WORLDS: dict[str, World] = {}


def world_in(state: str) -> World:
    if state not in _WORLDS:
        world = base_world()
        if state == "locked":
            world.ok(MEDINS, "LockBill", CODE, N1)
        elif state == "org":
            world.ok(FINANCE, "RegisterOrg", ORG)
        elif state == "suspended":
            world.ok(FINANCE, "SuspendUnit", "HN0101", "audit")
        elif state == "red_lettered":
            world.ok(
                ISSUER,
                "RedLetterBill",
                CODE,
                N1,
                number(5),
                "x",
                transient={"checkCode": b"R00005"},
            )
        _WORLDS[state] = world
    return _WORLDS[state].copy()


Args = Callable[[World], tuple[str, ...]]


def fixed(*args: str) -> Args:
    return lambda world: args


UNIT = json.dumps({"unitCode": "HN0301", "name": "法院", "sector": "court", "region": "46"})
ORG = json.dumps({"mspId": "Insurer2MSP", "role": "insurance", "ids": ["INSURER2"]})
APPLICATION = json.dumps(
    {"unitCode": "HN0101", "billCode": "46010326", "startNumber": N1, "count": 5}
)

#: A spool entry as the finance chaincode writes it (a claim on a closed bill).
SPOOLED = json.dumps(
    [
        {
            "anomalyId": "tx-offender",
            "type": "claim-on-reimbursed-bill",
            "function": "ClaimBill",
            "refused": {
                "kind": "Conflict",
                "code": "claim-on-reimbursed-bill",
                "message": f"ClaimBill: bill {CODE}/{N1} is fully reimbursed (closed)",
            },
            "day": "20260315",
            "billCode": CODE,
            "billNumber": N1,
            "unitCode": "HN0101",
            "lastAction": {
                "function": "ClaimBill",
                "txId": "tx-offender",
                "org": "InsuranceMSP",
                "actorId": "x509::CN=medins1",
                "at": "2026-03-15T02:00:00Z",
            },
        }
    ]
)

#: function -> (world state, arguments, roles allowed). Written from the brief, not from
#: access.RULES, so that the table and the behaviour are checked against each other.
MATRIX: dict[str, tuple[str, Args, set[str]]] = {
    "Ping": ("base", fixed(), set(ALL)),
    "VerifyBill": ("base", fixed(CODE, N1, check_code(1)), set(ALL)),
    "RegisterUnit": ("base", fixed(UNIT), {"finance"}),
    "SuspendUnit": ("base", fixed("HN0101", "audit"), {"finance"}),
    "ResumeUnit": ("suspended", fixed("HN0101"), {"finance"}),
    "ReadUnit": ("base", fixed("HN0101"), READERS | UNIT_STAFF),
    "ListUnits": ("base", fixed("10"), READERS),
    "ApplyStock": ("base", fixed(APPLICATION), {"issuer own unit"}),
    "ApproveStock": ("base", lambda w: (w.pending,), {"finance"}),
    "RejectStock": ("base", lambda w: (w.pending, "no"), {"finance"}),
    "ReconcileStock": ("base", lambda w: (w.hospital_batch,), {"finance"}),
    "ReadStock": ("base", lambda w: (w.hospital_batch,), READERS | UNIT_STAFF),
    "ListStock": ("base", fixed("HN0101", "10"), READERS | UNIT_STAFF),
    "DepositBillPrivate": ("base", fixed(CODE, number(4)), {"issuer own unit"}),
    "IssueBill": ("base", fixed(json.dumps(public_json(2))), {"issuer own unit"}),
    "ReadBill": (
        "base",
        fixed(CODE, N1),
        READERS | UNIT_STAFF | {"reimburser authorised", "payer own"},
    ),
    "ReadBillPrivate": (
        "base",
        fixed(CODE, N1),
        {"supervisor", "reimburser authorised"} | UNIT_STAFF,
    ),
    "AuthoriseReimburser": ("base", fixed(CODE, N1, "EMPLOYER-1"), {"payer own"}),
    "RevokeAuthorisation": ("base", fixed(CODE, N1, "MEDINS-HN"), {"payer own"}),
    "LockBill": ("base", fixed(CODE, N1), {"reimburser authorised"}),
    "ClaimBill": ("locked", fixed(CODE, N1, "100", "V1"), {"reimburser authorised"}),
    "UnlockBill": ("locked", fixed(CODE, N1), {"reimburser authorised", "finance"}),
    "RedLetterBill": ("base", fixed(CODE, N1, number(3), "x"), {"issuer own unit"}),
    "ArchiveBill": ("red_lettered", fixed(CODE, N1), {"finance", "issuer own unit"}),
    "BillHistory": ("base", fixed(CODE, N1), READERS),
    "ListBillsByUnit": (
        "base",
        fixed("HN0101", "20260101", "20261231", "10"),
        READERS | UNIT_STAFF,
    ),
    "TotalsByUnit": ("base", fixed("HN0101", "20260101", "20261231", "10"), READERS | UNIT_STAFF),
    "ListBillsByPayer": (
        "base",
        fixed(payer_hash(), "10", ""),
        READERS | {"payer own"},
    ),
    "ListBillsByStatus": ("base", fixed("issued", "10"), READERS),
    "ListBillsByPeriod": ("base", fixed("202601", "10"), READERS),
    "ListAnomalies": ("base", fixed("20260101", "20261231", "10"), READERS),
    "RecordAnomalies": ("base", fixed(SPOOLED), {"finance"}),
    "RegisterOrg": ("base", fixed(ORG), {"finance"}),
    "ReadOrg": ("org", fixed("Insurer2MSP"), READERS),
}


def test_the_matrix_covers_every_function() -> None:
    assert sorted(MATRIX) == contract.function_names
    assert sorted(access.RULES) == contract.function_names


def test_the_rules_table_says_what_the_matrix_says() -> None:
    roles_of = {
        "finance": "finance",
        "issuer own unit": "issuer",
        "issuer other unit": "issuer",
        "clerk": "clerk",
        "reimburser authorised": "reimburser",
        "reimburser not authorised": "reimburser",
        "payer own": "platform",
        "payer other": "platform",
        "supervisor": "supervisor",
    }
    for function, (_, _, allowed) in MATRIX.items():
        rule = access.RULES[function]
        if rule.roles == access.ANYONE:
            assert allowed == set(ALL), function
        else:
            assert rule.roles == {roles_of[label] for label in allowed}, function


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("function", list(MATRIX))
def test_access(function: str, role: str) -> None:
    state, args_of, allowed = MATRIX[function]
    world = world_in(state)
    args = args_of(world)
    options: dict[str, Any] = {}
    if function == "IssueBill":
        options["transient"] = {"checkCode": b"C00002"}
    elif function == "DepositBillPrivate":
        options["transient"] = transient(bill=bill_json(4))
    elif function == "RedLetterBill":
        options["transient"] = {"checkCode": b"R00003"}
    elif function == "ReadBillPrivate":
        options["transient"] = reply_key()[1]
    elif function in PAYER_FUNCTIONS:
        # the platform acts for payer 1 ("payer own") or another person ("payer other")
        options["transient"] = proof(payer_id=OTHER_PAYER_ID if role == "payer other" else PAYER_ID)
    creator = ROLES[role]
    if role in allowed:
        world.ok(creator, function, *args, **options)
        return
    outcome = world.refused(creator, function, *args, status=403, message="Forbidden: ", **options)
    why = outcome.message.removeprefix("Forbidden: ")
    assert why.startswith(function), outcome.message
    assert len(why) > len(function) + 20
