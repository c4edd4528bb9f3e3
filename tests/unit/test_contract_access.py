"""The access matrix: every function x every role, allowed pairs succeed, the rest are
refused with a message and change nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fixtures import (
    CODE,
    FINANCE,
    ISSUER,
    MEDINS,
    OTHER_PAYER_ID,
    PAYER_ID,
    ROLES,
    World,
    batch_hashes,
    batch_transient,
    bill_json,
    check_code,
    hashed,
    number,
    payer_hash,
    proof,
    public_batch,
    public_json,
    reply_key,
    standard_world,
    transient,
)

from ebill_chaincode.contract import access, contract, interface

N1 = number(1)
ALL = frozenset(ROLES)
PAYER_FUNCTIONS = {
    name for name, declared in interface.FUNCTIONS.items() if interface.PAYER_OWN in declared.scope
}

#: The role each caller of the test's cast has.
ROLE_OF = {
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
#: The callers a per-object scope refuses although their role may call the function
#: (in the test's world: bill 1 and the batches are HN0101's, MEDINS-HN is authorised on
#: bill 1 and holds its lock when locked, payer 1 paid it).
SCOPE_REFUSES = {
    interface.OWN_UNIT: {"issuer other unit"},
    interface.AUTHORISED: {"reimburser not authorised"},
    interface.LOCK_HOLDER: set(),
    interface.PAYER_OWN: {"payer other"},
    interface.CHECK_CODE: set(),
}


def allowed_by_interface(function: str) -> set[str]:
    """The callers the interface lets call ``function`` in the test's world."""
    declared = interface.FUNCTIONS[function]
    if not declared.roles:
        return set(ALL)
    callers = {label for label, role in ROLE_OF.items() if role in declared.roles}
    for scope in declared.scope:
        callers -= SCOPE_REFUSES[scope]
    return callers


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
                transient=hashed("R00005"),
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

#: function -> (world state, arguments); who may call it comes from the interface.
MATRIX: dict[str, tuple[str, Args]] = {
    "Ping": ("base", fixed()),
    interface.METADATA_FUNCTION: ("base", fixed()),
    "VerifyBill": ("base", fixed(CODE, N1, check_code(1))),
    "RegisterUnit": ("base", fixed(UNIT)),
    "SuspendUnit": ("base", fixed("HN0101", "audit")),
    "ResumeUnit": ("suspended", fixed("HN0101")),
    "ReadUnit": ("base", fixed("HN0101")),
    "ListUnits": ("base", fixed("10")),
    "ApplyStock": ("base", fixed(APPLICATION)),
    "ApproveStock": ("base", lambda w: (w.pending,)),
    "RejectStock": ("base", lambda w: (w.pending, "no")),
    "ReconcileStock": ("base", lambda w: (w.hospital_batch,)),
    "ReadStock": ("base", lambda w: (w.hospital_batch,)),
    "ListStock": ("base", fixed("HN0101", "10")),
    "DepositBillPrivate": ("base", fixed(CODE, number(4))),
    "IssueBill": ("base", fixed(json.dumps(public_json(2)))),
    "DepositBillsPrivate": ("base", fixed()),
    "IssueBills": ("base", fixed(public_batch([2]))),
    "ReadBill": ("base", fixed(CODE, N1)),
    "ReadBillPrivate": ("base", fixed(CODE, N1)),
    "AuthoriseReimburser": ("base", fixed(CODE, N1, "EMPLOYER-1")),
    "RevokeAuthorisation": ("base", fixed(CODE, N1, "MEDINS-HN")),
    "LockBill": ("base", fixed(CODE, N1)),
    "ClaimBill": ("locked", fixed(CODE, N1, "100", "V1")),
    "UnlockBill": ("locked", fixed(CODE, N1)),
    "RedLetterBill": ("base", fixed(CODE, N1, number(3), "x")),
    "ArchiveBill": ("red_lettered", fixed(CODE, N1)),
    "BillHistory": ("base", fixed(CODE, N1)),
    "ListBillsByUnit": ("base", fixed("HN0101", "20260101", "20261231", "10")),
    "TotalsByUnit": ("base", fixed("HN0101", "20260101", "20261231", "10")),
    "ListBillsByPayer": ("base", fixed(payer_hash(), "10", "")),
    "ListBillsByStatus": ("base", fixed("issued", "10")),
    "ListBillsByPeriod": ("base", fixed("202601", "10")),
    "ListAnomalies": ("base", fixed("20260101", "20261231", "10")),
    "RecordAnomalies": ("base", fixed(SPOOLED)),
    "RegisterOrg": ("base", fixed(ORG)),
    "ReadOrg": ("org", fixed("Insurer2MSP")),
}


def test_the_matrix_covers_every_function() -> None:
    assert sorted(MATRIX) == contract.function_names == sorted(interface.FUNCTIONS)
    assert sorted(access.RULES) == contract.function_names


def test_the_rules_table_is_the_interface() -> None:
    for function, declared in interface.FUNCTIONS.items():
        rule = access.RULES[function]
        assert rule.roles == declared.roles, function
        assert rule.roles <= set(ROLE_OF.values()), function
        if rule.roles == access.ANYONE:
            assert allowed_by_interface(function) == set(ALL), function
        else:
            callers = allowed_by_interface(function)
            assert callers, function
            assert {ROLE_OF[label] for label in callers} == rule.roles, function


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("function", list(MATRIX))
def test_access(function: str, role: str) -> None:
    state, args_of = MATRIX[function]
    allowed = allowed_by_interface(function)
    world = world_in(state)
    args = args_of(world)
    options: dict[str, Any] = {}
    if function == "IssueBill":
        options["transient"] = hashed("C00002")
    elif function == "DepositBillPrivate":
        options["transient"] = transient(bill=bill_json(4))
    elif function == "DepositBillsPrivate":
        options["transient"] = batch_transient([4, 5])
    elif function == "IssueBills":
        options["transient"] = batch_hashes([2])
    elif function == "RedLetterBill":
        options["transient"] = hashed("R00003")
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
