"""The rules that only the real network can prove: endorsement policy, private data,
races between reimbursers, no hot keys under concurrent issuance, the anomaly log."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from chain import (
    ISSUING_ORGS,
    Connect,
    World,
    call,
    eventually,
    hashed,
    issue,
    query,
    refusal,
    refused_tx,
)

import fabricgw
from ebill import consistency
from ebill.connection import Connection
from ebill.finance import FinanceClient
from ebill.samples import OUTPATIENT_CODE, SampleBill, outpatient_bill
from ebill.sealed import ReplyKey

REIMBURSERS = {"medins1": "MEDINS-HN", "insurer1": "PICC-HN"}


def authorise(connect_as: Connect, sample: SampleBill, *reimbursers: str) -> None:
    """The platform, for the sample's payer, authorises each reimburser, proving the
    claim with payer and salt as transient data (an argument would be in the block).
    """
    payer = connect_as("finance", "platform1")
    who = json.dumps({"type": sample.payer["type"], "id": sample.payer["id"]}).encode()
    for user in reimbursers:
        record = call(
            payer,
            "AuthoriseReimburser",
            sample.code,
            sample.number,
            REIMBURSERS[user],
            transient={"payer": who, "payerSalt": sample.salt},
        )
        assert "refused" not in record, record  # a refusal is an error, never an answer


def test_issuance_endorsed_without_finance_is_invalidated_at_commit(
    world: World, connect_as: Connect, next_number: Callable[[], str]
) -> None:
    hospital = connect_as("units", "hospital1")
    sample = outpatient_bill(next_number())
    deposit = {**sample.transient(), "bill": sample.argument().encode()}
    consistency.submit(
        hospital,
        "DepositBillPrivate",
        sample.code,
        sample.number,
        transient=deposit,
        endorsing_organizations=["UnitsMSP"],
    )
    proposal = hospital.contract.new_proposal(
        "IssueBill",
        arguments=[json.dumps(sample.public(), ensure_ascii=False)],
        transient=hashed("ABC123"),
        endorsing_organizations=["UnitsMSP", "AuditMSP"],  # no FinanceMSP
    )
    transaction = proposal.endorse()  # the peers endorse: the rule is the policy's
    status = transaction.submit().status()
    assert not status.successful
    assert status.code_name == "ENDORSEMENT_POLICY_FAILURE"
    with pytest.raises(fabricgw.EvaluateError) as missing:
        query(connect_as("audit", "auditor1"), "ReadBill", OUTPATIENT_CODE, sample.number)
    assert (missing.value.chaincode_message or "").startswith("NotFound [not-found]:")
    # the same bill endorsed by finance and the unit commits
    assert issue(hospital, sample)["status"] == "issued"


def test_private_part_is_read_on_member_peers_only(
    world: World, connect_as: Connect, next_number: Callable[[], str]
) -> None:
    sample = outpatient_bill(next_number())
    issue(connect_as("units", "hospital1"), sample)
    args = (sample.code, sample.number)

    for org, user in (("units", "hospital1"), ("audit", "auditor1")):
        reader = connect_as(org, user)
        private = eventually(lambda c=reader: private_read(c, *args))
        assert private["payer"] == sample.payer
        assert private["medical"]["patientNumber"] == "MZ20261128001"
        assert private["salt"] == sample.salt.hex()

    # an authorised reimburser reads it on its own (member) peer; before, it is refused
    medins = connect_as("insurance", "medins1")
    with pytest.raises(fabricgw.EvaluateError) as refused:
        private_read(medins, *args)
    assert (refused.value.chaincode_message or "").startswith("Forbidden [not-authorised]:")
    authorise(connect_as, sample, "medins1")
    private = eventually(lambda: private_read(medins, *args))
    assert private["payer"]["id"] == sample.payer["id"]

    # the finance peer is not a collection member: it holds no private data to give,
    # even to a supervisor whom the access rules allow
    on_finance = connect_as("audit", "auditor1", via="finance")
    with pytest.raises(fabricgw.EvaluateError) as non_member:
        private_read(on_finance, *args)
    assert sample.payer["name"] not in str(non_member.value)
    # while the public part is there on every peer
    assert eventually(lambda: query(on_finance, "ReadBill", *args))["billNumber"] == sample.number


def private_read(conn: Connection, *args: str) -> Any:
    """ReadBillPrivate with a fresh reply key; the opened answer."""
    key = ReplyKey()
    raw = conn.contract.evaluate("ReadBillPrivate", arguments=args, transient=key.transient())
    return key.open(json.loads(raw), "ReadBillPrivate")


def _race(connect_as: Connect, sample: SampleBill) -> tuple[str, str]:
    """Two reimbursers lock one bill at the same instant; returns (winner, loser's outcome)."""
    proposals = {
        user: connect_as("insurance", user).contract.new_proposal(
            "LockBill", arguments=[sample.code, sample.number]
        )
        for user in REIMBURSERS
    }
    # both endorsed on the same state, then submitted together
    endorsed = {user: p.endorse() for user, p in proposals.items()}
    barrier = threading.Barrier(len(endorsed))

    def submit(user: str) -> fabricgw.Status:
        barrier.wait()
        return endorsed[user].submit().status()

    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = dict(zip(endorsed, pool.map(submit, endorsed), strict=True))
    winners = [u for u, s in statuses.items() if s.successful]
    assert len(winners) == 1, {u: s.code_name for u, s in statuses.items()}
    loser = next(u for u in statuses if u not in winners)
    # the next steps are endorsed by other peers too: let them all have the lock's block
    winner = connect_as("insurance", winners[0])
    consistency.wait_for_block(winner, statuses[winners[0]].block_number)
    return winners[0], statuses[loser].code_name


def test_hundred_lock_races_give_one_lock_and_no_double_claim(
    world: World, connect_as: Connect, next_number: Callable[[], str]
) -> None:
    hospital = connect_as("units", "hospital1")

    def one_race(_: int) -> str:
        sample = outpatient_bill(next_number())
        issue(hospital, sample)
        authorise(connect_as, sample, *REIMBURSERS)
        winner, loser_outcome = _race(connect_as, sample)
        assert loser_outcome in ("MVCC_READ_CONFLICT", "PHANTOM_READ_CONFLICT")
        bill = query(connect_as("insurance", winner), "ReadBill", sample.code, sample.number)
        assert bill["status"] == "locked" and bill["lock"]["reimburserId"] == REIMBURSERS[winner]

        # the winner claims the whole bill; the loser can no longer lock or claim it
        claimed = call(
            connect_as("insurance", winner), "ClaimBill", sample.code, sample.number, "26850", "V-1"
        )
        assert claimed["status"] == "reimbursed"
        loser = next(u for u in REIMBURSERS if u != winner)
        late = refusal(connect_as("insurance", loser), "LockBill", sample.code, sample.number)
        assert late.startswith("Conflict [lock-on-reimbursed-bill]: ")
        final = query(connect_as("insurance", loser), "ReadBill", sample.code, sample.number)
        assert final["reimbursedTotal"] == 26850 and len(final["claims"]) == 1
        return winner

    with ThreadPoolExecutor(max_workers=10) as pool:
        winners = list(pool.map(one_race, range(100)))
    assert len(winners) == 100  # 100 races, each with exactly one lock and one claim


def test_two_reimbursers_share_one_bill_and_never_exceed_it(
    world: World, connect_as: Connect, next_number: Callable[[], str]
) -> None:
    sample = outpatient_bill(next_number())
    issue(connect_as("units", "hospital1"), sample)
    authorise(connect_as, sample, *REIMBURSERS)
    medins, insurer = connect_as("insurance", "medins1"), connect_as("insurance", "insurer1")
    call(medins, "LockBill", sample.code, sample.number)
    part = call(medins, "ClaimBill", sample.code, sample.number, "16110", "MI-2026-0001")
    assert part["status"] == "partially_reimbursed" and part["reimbursedTotal"] == 16110

    call(insurer, "LockBill", sample.code, sample.number)
    over = refusal(insurer, "ClaimBill", sample.code, sample.number, "20000", "PICC-0001")
    assert over.startswith("Conflict [over-claim]: ")
    rest = call(insurer, "ClaimBill", sample.code, sample.number, "10740", "PICC-0001")
    assert rest["status"] == "reimbursed" and rest["reimbursedTotal"] == 26850

    again = refusal(medins, "LockBill", sample.code, sample.number)
    assert again.startswith("Conflict [")


def test_hundreds_of_concurrent_issues_do_not_conflict(
    world: World, connect_as: Connect, next_number: Callable[[], str]
) -> None:
    hospital = connect_as("units", "hospital1")
    samples = [outpatient_bill(next_number()) for _ in range(300)]
    with ThreadPoolExecutor(max_workers=50) as pool:
        records = list(
            pool.map(lambda s: issue(hospital, s), samples)
        )  # CommitError on any conflict
    assert len({r["billNumber"] for r in records}) == 300


def test_refusals_that_are_anomalies_are_logged_for_supervisors(
    world: World,
    connect_as: Connect,
    party: Callable[..., Any],
    description: dict[str, Any],
    next_number: Callable[[], str],
) -> None:
    hospital = connect_as("units", "hospital1")
    sample = outpatient_bill(next_number())
    issue(hospital, sample)
    authorise(connect_as, sample, "medins1")
    medins = connect_as("insurance", "medins1")
    call(medins, "LockBill", sample.code, sample.number)
    call(medins, "ClaimBill", sample.code, sample.number, "26850", "MI-2026-0002")

    claim_again = refused_tx(medins, "LockBill", sample.code, sample.number)  # on a closed bill
    red_after_claim = refused_tx(
        hospital,
        "RedLetterBill",
        sample.code,
        sample.number,
        next_number(),
        "refund",
        transient=hashed("RED123"),
    )
    outside = outpatient_bill("0200000000")  # beyond the approved batch
    out_of_stock = refused_tx(
        hospital,
        "IssueBill",
        json.dumps(outside.public(), ensure_ascii=False),
        transient=hashed("ABC123"),
        endorsing_organizations=ISSUING_ORGS,
    )
    # the refused transactions changed nothing; finance anchors its chaincode's spool
    party(FinanceClient, "finance", "finance1").anchor_anomalies(Path(description["anomaly_spool"]))

    china = datetime.now(UTC) + timedelta(hours=8)
    days = (
        (china - timedelta(days=1)).strftime("%Y-%m-%d"),
        (china + timedelta(days=1)).strftime("%Y-%m-%d"),
    )
    logged: dict[str, dict[str, object]] = {}
    auditor = connect_as("audit", "auditor1")
    bookmark = ""
    while True:
        page = query(auditor, "ListAnomalies", *days, "200", bookmark)
        logged.update({a["txId"] if "txId" in a else a["anomalyId"]: a for a in page["records"]})
        bookmark = page["bookmark"]
        if not bookmark:
            break
    found = json.dumps(list(logged.values()), ensure_ascii=False)
    for tx_id in (claim_again, red_after_claim, out_of_stock):
        assert tx_id in found
    with pytest.raises(fabricgw.EvaluateError) as forbidden:
        query(hospital, "ListAnomalies", *days, "10")
    assert (forbidden.value.chaincode_message or "").startswith("Forbidden [not-authorised]:")
