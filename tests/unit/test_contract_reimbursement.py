"""Reimbursement: authorisation by the payer, lock, claim, unlock; shared bills; races."""

from __future__ import annotations

import base64
import json

import pytest
from fixtures import (
    CODE,
    FINANCE,
    ISSUER,
    MEDINS,
    OTHER_PAYER,
    OTHER_SALT,
    PAYER,
    PAYER_ID,
    PICC,
    SUPERVISOR,
    World,
    key,
    number,
    proof,
    standard_world,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from ebill_chaincode.contract import contract
from ebill_chaincode.shim import Creator
from ebill_chaincode.shimtest import MVCC_READ_CONFLICT, VALID

N1 = number(1)


@pytest.fixture
def world() -> World:
    w = standard_world()
    w.issue(1)
    return w


def locked_by_medins(world: World) -> World:
    world.authorise(1, "MEDINS-HN")
    world.ok(MEDINS, "LockBill", CODE, N1)
    return world


# --- AuthoriseReimburser / RevokeAuthorisation ------------------------------------------


def test_authorise(world: World) -> None:
    outcome = world.run(PAYER, "AuthoriseReimburser", CODE, N1, "MEDINS-HN")
    assert outcome.status == 200, outcome.message
    bill = outcome.json()
    assert bill["authorised"] == {
        "MEDINS-HN": {"at": bill["lastAction"]["at"], "txId": outcome.stub.tx_id}
    }
    assert bill["status"] == "issued"
    # the platform signs: its certificate carries no personal attribute
    assert base64.b64decode(bill["lastAction"]["actorId"]).decode().startswith("x509::CN=platform1")
    assert bill["lastAction"]["org"] == "FinanceMSP"
    assert outcome.stub.event is not None
    assert json.loads(outcome.stub.event.payload) == {
        "billCode": CODE,
        "billNumber": N1,
        "status": "issued",
        "reimburserId": "MEDINS-HN",
        "org": "FinanceMSP",
    }


def test_authorise_with_the_proof_in_the_transient_map(world: World) -> None:
    """Submitted arguments are written to the block; the transient map is not."""
    outcome = world.run(PAYER, "AuthoriseReimburser", CODE, N1, "PICC-HN", transient=proof())
    assert outcome.status == 200, outcome.message
    assert "PICC-HN" in world.bill(1)["authorised"]
    assert outcome.stub.params == [CODE, N1, "PICC-HN"]
    assert PAYER_ID not in outcome.response.payload.decode()


@pytest.mark.parametrize(
    ("creator", "reimburser", "proof_map", "status", "message"),
    [
        (PAYER, "MEDINS HN", proof(), 400, "InvalidArgument: reimburserId: must be"),
        (PAYER, "MEDINS-HN", {}, 403, "Forbidden: AuthoriseReimburser: the platform proves"),
        (PAYER, "MEDINS-HN", proof(OTHER_SALT), 403, "Forbidden: AuthoriseReimburser: the payer"),
        (
            OTHER_PAYER,
            "MEDINS-HN",
            proof(payer_id="460100198805055678"),
            403,
            "Forbidden: AuthoriseReimburser: the payer and salt given",
        ),
        (FINANCE, "MEDINS-HN", proof(), 403, "Forbidden: AuthoriseReimburser may be called"),
        (MEDINS, "MEDINS-HN", proof(), 403, "Forbidden: AuthoriseReimburser may be called"),
    ],
)
def test_authorise_refusals(
    world: World,
    creator: Creator,
    reimburser: str,
    proof_map: dict[str, bytes],
    status: int,
    message: str,
) -> None:
    world.refused(
        creator,
        "AuthoriseReimburser",
        CODE,
        N1,
        reimburser,
        transient=proof_map,
        status=status,
        message=message,
    )


def test_authorise_state_conflicts(world: World) -> None:
    world.authorise(1, "MEDINS-HN")
    world.refused(
        PAYER,
        "AuthoriseReimburser",
        CODE,
        N1,
        "MEDINS-HN",
        status=409,
        message="Conflict: AuthoriseReimburser: MEDINS-HN is already authorised",
    )
    for i in range(9):
        world.authorise(1, f"EMPLOYER-{i}")
    world.refused(
        PAYER,
        "AuthoriseReimburser",
        CODE,
        N1,
        "ONE-TOO-MANY",
        status=409,
        message="Conflict: AuthoriseReimburser: bill 46010126/0000000001 already has 10",
    )
    world.ok(ISSUER, "RedLetterBill", CODE, N1, number(2), "x")
    world.refused(
        PAYER,
        "AuthoriseReimburser",
        CODE,
        N1,
        "PICC-HN",
        status=409,
        message="Conflict: AuthoriseReimburser: bill 46010126/0000000001 is red-lettered",
    )
    world.refused(
        PAYER,
        "AuthoriseReimburser",
        CODE,
        number(2),
        "PICC-HN",
        status=409,
        message="Conflict: AuthoriseReimburser: bill 46010126/0000000002 is a red bill",
    )
    world.refused(
        PAYER,
        "AuthoriseReimburser",
        CODE,
        number(9),
        "PICC-HN",
        status=404,
        message="NotFound: bill 46010126/0000000009 not found",
    )


def test_revoke_an_unused_authorisation(world: World) -> None:
    world.authorise(1, "PICC-HN")
    bill = world.ok(PAYER, "RevokeAuthorisation", CODE, N1, "PICC-HN")
    assert bill["authorised"] == {}
    world.refused(
        PAYER,
        "RevokeAuthorisation",
        CODE,
        N1,
        "PICC-HN",
        status=404,
        message="NotFound: RevokeAuthorisation: PICC-HN is not authorised",
    )


def test_a_used_authorisation_cannot_be_revoked(world: World) -> None:
    locked_by_medins(world)
    world.refused(
        PAYER,
        "RevokeAuthorisation",
        CODE,
        N1,
        "MEDINS-HN",
        status=409,
        message="Conflict: RevokeAuthorisation: MEDINS-HN holds the lock",
    )
    world.ok(MEDINS, "ClaimBill", CODE, N1, "100", "V1")
    world.refused(
        PAYER,
        "RevokeAuthorisation",
        CODE,
        N1,
        "MEDINS-HN",
        status=409,
        message="Conflict: RevokeAuthorisation: MEDINS-HN has claimed",
    )
    world.refused(
        OTHER_PAYER,
        "RevokeAuthorisation",
        CODE,
        N1,
        "MEDINS-HN",
        transient=proof(payer_id="460100198805055678"),
        status=403,
        message="Forbidden: RevokeAuthorisation: the payer and salt given",
    )


# --- LockBill ----------------------------------------------------------------------------


def test_lock(world: World) -> None:
    world.authorise(1, "MEDINS-HN")
    outcome = world.run(MEDINS, "LockBill", CODE, N1)
    bill = outcome.json()
    assert bill["status"] == "locked"
    assert bill["lock"] == {
        "reimburserId": "MEDINS-HN",
        "txId": outcome.stub.tx_id,
        "at": bill["lastAction"]["at"],
        "previousStatus": "issued",
    }
    assert key("bill~status", "locked", CODE, N1) in world.ledger.state
    assert key("bill~status", "issued", CODE, N1) not in world.ledger.state


def test_lock_refusals(world: World) -> None:
    world.refused(
        MEDINS,
        "LockBill",
        CODE,
        N1,
        status=403,
        message="Forbidden: LockBill: reimburser MEDINS-HN is not authorised on bill"
        " 46010126/0000000001; the payer must authorise it first",
    )
    world.refused(
        FINANCE, "LockBill", CODE, N1, status=403, message="Forbidden: LockBill may be called"
    )
    world.refused(MEDINS, "LockBill", CODE, "x", status=400, message="InvalidArgument: billNumber")


def test_second_lock_is_an_anomaly(world: World) -> None:
    locked_by_medins(world)
    world.authorise(1, "PICC-HN")
    world.anomaly(
        PICC,
        "LockBill",
        CODE,
        N1,
        anomaly_type="lock-while-locked",
        message="LockBill: bill 46010126/0000000001 is already locked (by MEDINS-HN)",
    )
    world.anomaly(MEDINS, "LockBill", CODE, N1, anomaly_type="lock-while-locked")


@pytest.mark.parametrize(
    ("close", "anomaly_type"),
    [
        ("reimburse", "lock-on-reimbursed-bill"),
        ("red-letter", "lock-on-red-lettered-bill"),
        ("archive", "lock-on-archived-bill"),
    ],
)
def test_lock_on_a_closed_bill_is_an_anomaly(world: World, close: str, anomaly_type: str) -> None:
    world.authorise(1, "MEDINS-HN")
    world.authorise(1, "PICC-HN")
    if close == "reimburse":
        world.ok(MEDINS, "LockBill", CODE, N1)
        world.ok(MEDINS, "ClaimBill", CODE, N1, "26850", "V1")
    else:
        world.ok(ISSUER, "RedLetterBill", CODE, N1, number(2), "x")
        if close == "archive":
            world.ok(FINANCE, "ArchiveBill", CODE, N1)
    world.anomaly(PICC, "LockBill", CODE, N1, anomaly_type=anomaly_type)


def test_lock_after_own_claim_is_a_repeated_claim(world: World) -> None:
    locked_by_medins(world)
    world.ok(MEDINS, "ClaimBill", CODE, N1, "1000", "V1")
    world.anomaly(
        MEDINS,
        "LockBill",
        CODE,
        N1,
        anomaly_type="repeated-claim",
        message="LockBill: reimburser MEDINS-HN has already claimed bill 46010126/0000000001;"
        " each reimburser claims a bill once",
    )


# --- ClaimBill ---------------------------------------------------------------------------


def test_partial_then_full_claim(world: World) -> None:
    locked_by_medins(world)
    bill = world.ok(MEDINS, "ClaimBill", CODE, N1, "20000", "YB-2026-0001")
    assert bill["status"] == "partially_reimbursed" and "lock" not in bill
    assert bill["reimbursedTotal"] == 20000
    assert bill["claims"][0]["reimburserId"] == "MEDINS-HN"
    assert bill["claims"][0]["amount"] == 20000
    assert bill["claims"][0]["voucherNo"] == "YB-2026-0001"
    assert key("bill~status", "partially_reimbursed", CODE, N1) in world.ledger.state
    world.authorise(1, "PICC-HN")
    world.ok(PICC, "LockBill", CODE, N1)
    assert world.bill(1)["lock"]["previousStatus"] == "partially_reimbursed"
    bill = world.ok(PICC, "ClaimBill", CODE, N1, "6850", "PICC-77")
    assert bill["status"] == "reimbursed" and bill["reimbursedTotal"] == 26850
    assert [claim["reimburserId"] for claim in bill["claims"]] == ["MEDINS-HN", "PICC-HN"]


def test_claim_refusals(world: World) -> None:
    world.authorise(1, "MEDINS-HN")
    world.authorise(1, "PICC-HN")
    world.refused(
        MEDINS,
        "ClaimBill",
        CODE,
        N1,
        "100",
        "V1",
        status=409,
        message="Conflict: ClaimBill: bill 46010126/0000000001 is not locked; LockBill first",
    )
    world.ok(MEDINS, "LockBill", CODE, N1)
    world.refused(
        PICC,
        "ClaimBill",
        CODE,
        N1,
        "100",
        "V1",
        status=403,
        message="Forbidden: ClaimBill: bill 46010126/0000000001 is locked by MEDINS-HN,"
        " not by PICC-HN; only the lock holder may do this",
    )
    for amount, message in (
        ("0", "InvalidArgument: amountFen: must be greater than 0"),
        ("12.5", "InvalidArgument: amountFen: must be an integer number of fen"),
    ):
        world.refused(MEDINS, "ClaimBill", CODE, N1, amount, "V1", status=400, message=message)
    world.refused(
        MEDINS,
        "ClaimBill",
        CODE,
        N1,
        "100",
        "V" * 65,
        status=400,
        message="InvalidArgument: voucherNo: must be at most 64 characters",
    )
    world.refused(
        SUPERVISOR,
        "ClaimBill",
        CODE,
        N1,
        "100",
        "V1",
        status=403,
        message="Forbidden: ClaimBill may be called by reimburser (InsuranceMSP)",
    )


def test_over_claim_is_an_anomaly_and_keeps_the_lock(world: World) -> None:
    locked_by_medins(world)
    world.anomaly(
        MEDINS,
        "ClaimBill",
        CODE,
        N1,
        "26851",
        "V1",
        anomaly_type="over-claim",
        message="ClaimBill: a claim of 26851 fen would take the reimbursed total of bill"
        " 46010126/0000000001 to 26851 fen, above its 26850 fen; 26850 fen remain",
    )
    assert world.bill(1)["lock"]["reimburserId"] == "MEDINS-HN"
    world.ok(MEDINS, "ClaimBill", CODE, N1, "26850", "V1")


@pytest.mark.parametrize(
    ("close", "anomaly_type"),
    [
        ("reimburse", "claim-on-reimbursed-bill"),
        ("red-letter", "claim-on-red-lettered-bill"),
        ("archive", "claim-on-archived-bill"),
    ],
)
def test_claim_on_a_closed_bill_is_an_anomaly(world: World, close: str, anomaly_type: str) -> None:
    world.authorise(1, "MEDINS-HN")
    if close == "reimburse":
        world.ok(MEDINS, "LockBill", CODE, N1)
        world.ok(MEDINS, "ClaimBill", CODE, N1, "26850", "V1")
    else:
        world.ok(ISSUER, "RedLetterBill", CODE, N1, number(2), "x")
        if close == "archive":
            world.ok(FINANCE, "ArchiveBill", CODE, N1)
    world.anomaly(MEDINS, "ClaimBill", CODE, N1, "1", "V2", anomaly_type=anomaly_type)


# --- UnlockBill --------------------------------------------------------------------------


def test_unlock_by_the_holder_restores_the_status(world: World) -> None:
    locked_by_medins(world)
    bill = world.ok(MEDINS, "UnlockBill", CODE, N1)
    assert bill["status"] == "issued" and "lock" not in bill
    assert key("bill~status", "issued", CODE, N1) in world.ledger.state
    world.ok(MEDINS, "LockBill", CODE, N1)
    world.ok(MEDINS, "ClaimBill", CODE, N1, "100", "V1")
    world.authorise(1, "PICC-HN")
    world.ok(PICC, "LockBill", CODE, N1)
    assert world.ok(PICC, "UnlockBill", CODE, N1)["status"] == "partially_reimbursed"


def test_finance_releases_a_stale_lock(world: World) -> None:
    locked_by_medins(world)
    bill = world.ok(FINANCE, "UnlockBill", CODE, N1)
    assert bill["status"] == "issued"
    assert bill["lastAction"]["org"] == "FinanceMSP"


def test_unlock_refusals(world: World) -> None:
    world.authorise(1, "PICC-HN")
    world.refused(
        PICC,
        "UnlockBill",
        CODE,
        N1,
        status=409,
        message="Conflict: UnlockBill: bill 46010126/0000000001 is not locked",
    )
    locked_by_medins(world)
    world.refused(
        PICC,
        "UnlockBill",
        CODE,
        N1,
        status=403,
        message="Forbidden: UnlockBill: bill 46010126/0000000001 is locked by MEDINS-HN",
    )
    world.refused(
        SUPERVISOR, "UnlockBill", CODE, N1, status=403, message="Forbidden: UnlockBill may be"
    )


# --- the shared bill and races -----------------------------------------------------------


def test_shared_bill(world: World) -> None:
    """Medical insurance pays part, a commercial insurer the rest; never more than the bill."""
    total = 26850

    def invariant() -> None:
        bill = world.bill(1)
        assert bill["reimbursedTotal"] == sum(claim["amount"] for claim in bill["claims"])
        assert bill["reimbursedTotal"] <= total

    world.authorise(1, "MEDINS-HN")
    world.authorise(1, "PICC-HN")
    world.ok(MEDINS, "LockBill", CODE, N1)
    world.anomaly(PICC, "LockBill", CODE, N1, anomaly_type="lock-while-locked")
    world.ok(MEDINS, "ClaimBill", CODE, N1, "18000", "YB-1")
    invariant()
    world.anomaly(MEDINS, "LockBill", CODE, N1, anomaly_type="repeated-claim")
    world.ok(PICC, "LockBill", CODE, N1)
    world.anomaly(PICC, "ClaimBill", CODE, N1, "9000", "P-1", anomaly_type="over-claim")
    invariant()
    bill = world.ok(PICC, "ClaimBill", CODE, N1, "8850", "P-1")
    assert (bill["status"], bill["reimbursedTotal"]) == ("reimbursed", total)
    invariant()
    world.anomaly(PICC, "LockBill", CODE, N1, anomaly_type="lock-on-reimbursed-bill")
    world.anomaly(
        MEDINS, "ClaimBill", CODE, N1, "1", "YB-2", anomaly_type="claim-on-reimbursed-bill"
    )
    invariant()
    anomalies = world.ok(SUPERVISOR, "ListAnomalies", "20260101", "20261231", "50", submit=False)
    assert [a["type"] for a in anomalies["records"]] == [
        "lock-while-locked",
        "repeated-claim",
        "over-claim",
        "lock-on-reimbursed-bill",
        "claim-on-reimbursed-bill",
    ]


def test_two_reimbursers_locking_at_the_same_instant(world: World) -> None:
    world.authorise(1, "MEDINS-HN")
    world.authorise(1, "PICC-HN")
    first = world.ledger.stub(MEDINS, "LockBill", CODE, N1)
    second = world.ledger.stub(PICC, "LockBill", CODE, N1)
    assert contract(first).status == 200 and contract(second).status == 200
    assert world.ledger.commit(first) == VALID
    assert world.ledger.commit(second) == MVCC_READ_CONFLICT
    assert world.bill(1)["lock"]["reimburserId"] == "MEDINS-HN"


def test_the_same_claim_submitted_twice_commits_once(world: World) -> None:
    locked_by_medins(world)
    first = world.ledger.stub(MEDINS, "ClaimBill", CODE, N1, "26850", "V1")
    second = world.ledger.stub(MEDINS, "ClaimBill", CODE, N1, "26850", "V1")
    assert contract(first).status == 200 and contract(second).status == 200
    assert world.ledger.commit(first) == VALID
    assert world.ledger.commit(second) == MVCC_READ_CONFLICT
    assert world.bill(1)["reimbursedTotal"] == 26850


ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["LockBill", "ClaimBill", "UnlockBill"]),
        st.sampled_from([MEDINS, PICC, FINANCE]),
        st.integers(min_value=1, max_value=30000),
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(ACTIONS)
def test_reimbursed_total_never_exceeds_the_bill(actions: list[tuple[str, Creator, int]]) -> None:
    world = standard_world()
    world.issue(1)
    world.authorise(1, "MEDINS-HN")
    world.authorise(1, "PICC-HN")
    for function, creator, amount in actions:
        args = (str(amount), "V") if function == "ClaimBill" else ()
        outcome = world.run(creator, function, CODE, N1, *args)
        assert outcome.status in (200, 403, 409), outcome.message
        bill = world.bill(1)
        assert bill["reimbursedTotal"] == sum(claim["amount"] for claim in bill["claims"])
        assert bill["reimbursedTotal"] <= bill["totalAmount"]
        claimers = [claim["reimburserId"] for claim in bill["claims"]]
        assert len(claimers) == len(set(claimers))
        assert (bill["status"] == "locked") == ("lock" in bill)
