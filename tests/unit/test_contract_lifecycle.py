"""The status machine: every (action, status) pair of lifecycle.TABLE, through the contract."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fixtures import (
    CODE,
    FINANCE,
    ISSUER,
    MEDINS,
    PAYER,
    PICC,
    World,
    number,
    standard_world,
)

from ebill_chaincode.contract import lifecycle
from ebill_chaincode.contract.anomalies import TYPES, Anomaly
from ebill_chaincode.contract.lifecycle import (
    ACTIONS,
    STATUSES,
    TABLE,
    Refusal,
)
from ebill_chaincode.shim import Conflict, Creator

N1 = number(1)
LATER = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)  # more than 1095 days after issue


def bill_in(status: str) -> World:
    """A world whose bill 1 is in ``status``; MEDINS-HN and PICC-HN are authorised."""
    world = standard_world()
    world.issue(1)
    world.authorise(1, "MEDINS-HN")
    world.authorise(1, "PICC-HN")
    if status in ("locked", "partially_reimbursed", "reimbursed"):
        world.ok(MEDINS, "LockBill", CODE, N1)
    if status == "partially_reimbursed":
        world.ok(MEDINS, "ClaimBill", CODE, N1, "1000", "V1")
    if status == "reimbursed":
        world.ok(MEDINS, "ClaimBill", CODE, N1, "26850", "V1")
    if status in ("red_lettered", "archived"):
        world.ok(ISSUER, "RedLetterBill", CODE, N1, number(2), "x")
    if status == "archived":
        world.ok(FINANCE, "ArchiveBill", CODE, N1)
    assert world.bill(1)["status"] == status
    return world


def call(action: str, status: str) -> tuple[Creator, tuple[str, ...]]:
    """Who performs ``action`` on bill 1 in ``status``, with which arguments."""
    return {
        "LockBill": (PICC, (CODE, N1)),
        "ClaimBill": (MEDINS if status == "locked" else PICC, (CODE, N1, "100", "V9")),
        "UnlockBill": (MEDINS, (CODE, N1)),
        "RedLetterBill": (ISSUER, (CODE, N1, number(3), "voided")),
        "ArchiveBill": (FINANCE, (CODE, N1)),
        "AuthoriseReimburser": (PAYER, (CODE, N1, "EMPLOYER-1")),
        "RevokeAuthorisation": (PAYER, (CODE, N1, "PICC-HN")),
    }[action]


def test_the_table_covers_every_action_and_status() -> None:
    assert set(TABLE) == set(ACTIONS)
    for action in ACTIONS:
        assert set(TABLE[action]) == set(STATUSES), action
        for outcome in TABLE[action].values():
            if isinstance(outcome, Refusal):
                assert outcome.anomaly is None or outcome.anomaly in TYPES
            else:
                assert outcome and set(outcome) <= set(STATUSES)


PAIRS = [(action, status) for action in ACTIONS for status in STATUSES]


@pytest.mark.parametrize(("action", "status"), PAIRS)
def test_each_transition_through_the_contract(action: str, status: str) -> None:
    world = bill_in(status)
    if action == "ArchiveBill":
        world.ledger.clock = LATER  # the age rule is tested on its own below
    creator, args = call(action, status)
    outcome = TABLE[action][status]
    if isinstance(outcome, Refusal):
        if outcome.anomaly:
            record = world.anomaly(creator, action, *args, anomaly_type=outcome.anomaly)
            assert record["refused"]["message"].startswith(f"{action}: bill 46010126/{N1}")
        else:
            world.refused(
                creator,
                action,
                *args,
                status=409,
                message=f"Conflict: {action}: bill 46010126/{N1} {outcome.reason}",
            )
        return
    result: Any = world.ok(creator, action, *args)
    after = world.bill(1)
    assert after["status"] in outcome
    if action == "RedLetterBill":
        assert result["original"] == after
    if action == "UnlockBill":
        assert after["status"] == "issued" and "lock" not in after
    if action == "ArchiveBill":
        assert after["previousStatus"] == status


def test_claim_reaches_reimbursed_only_at_the_total() -> None:
    assert lifecycle.claim_status(100, 99) == "partially_reimbursed"
    assert lifecycle.claim_status(100, 100) == "reimbursed"


def test_unlock_returns_to_the_status_before_the_lock() -> None:
    for before in ("issued", "partially_reimbursed"):
        world = bill_in(before)
        holder = PICC if before == "partially_reimbursed" else MEDINS
        world.ok(holder, "LockBill", CODE, N1)
        assert world.ok(holder, "UnlockBill", CODE, N1)["status"] == before


@pytest.mark.parametrize("status", ["issued", "partially_reimbursed"])
def test_open_bills_are_archived_only_when_old(status: str) -> None:
    world = bill_in(status)
    world.refused(
        FINANCE,
        "ArchiveBill",
        CODE,
        N1,
        status=409,
        message=f"Conflict: ArchiveBill: bill 46010126/{N1} is {status} and",
    )
    world.ledger.clock = dt.datetime(2029, 1, 3, 15, 0, tzinfo=dt.UTC)  # 1094 days, in China
    world.refused(FINANCE, "ArchiveBill", CODE, N1, status=409, message="Conflict: ArchiveBill")
    world.ledger.clock = dt.datetime(2029, 1, 3, 16, 0, tzinfo=dt.UTC)  # 1095 days
    assert world.ok(FINANCE, "ArchiveBill", CODE, N1)["previousStatus"] == status


def bill(**fields: Any) -> dict[str, Any]:
    return {
        "billCode": CODE,
        "billNumber": N1,
        "unitCode": "HN0101",
        "issueDate": "2026-01-05T10:30:00+08:00",
        "status": "issued",
        **fields,
    }


@pytest.mark.parametrize("action", [a for a in ACTIONS if a not in lifecycle.RED_BILL_ACTIONS])
def test_red_bills_are_only_archived(action: str) -> None:
    red = bill(kind="red", redOf={"billCode": CODE, "billNumber": number(7)})
    with pytest.raises(Conflict, match="is a red bill \\(it voids bill 46010126/0000000007\\)"):
        lifecycle.check(action, red)
    assert lifecycle.check("ArchiveBill", red, dt.date(2026, 1, 5)) == ("archived",)


def test_red_letter_after_any_claim_whatever_the_status() -> None:
    claimed = bill(claims=[{"reimburserId": "X", "amount": 1}])
    with pytest.raises(Anomaly) as error:
        lifecycle.check("RedLetterBill", claimed)
    assert error.value.anomaly_type == "red-letter-after-claim"
    assert error.value.kind == "Conflict" and error.value.status == 409


def test_an_anomaly_is_an_error_whose_code_is_its_type() -> None:
    with pytest.raises(Anomaly) as error:
        lifecycle.check("LockBill", bill(status="locked", lock={"reimburserId": "MEDINS-HN"}))
    assert (error.value.status, error.value.code) == (409, "lock-while-locked")
    assert error.value.message == (
        "Conflict [lock-while-locked]: LockBill: bill 46010126/0000000001"
        " is already locked (by MEDINS-HN)"
    )
    with pytest.raises(ValueError, match="unknown anomaly type"):
        Anomaly(Conflict("x"), "made-up", {})
