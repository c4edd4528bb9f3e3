"""Batch issuance on the real network: UnitClient.issue_bills, GroupCommit, all or nothing.

Every bill of a batch is read back on every peer (finance, units, insurance, audit) as
the supervisor, verified with its own check code, and its private part read by the
issuing unit; a batch with one bad bill issues nothing; GroupCommit gathers concurrent
callers into batches and gives each its own result or error.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest
from chain import Connect, eventually

from ebill import errors
from ebill.groupcommit import GroupCommit
from ebill.samples import OUTPATIENT_CODE, PAYER1, outpatient_bill
from ebill.unit import IssueRequest, UnitClient

PEERS = ("FinanceMSP", "UnitsMSP", "InsuranceMSP", "AuditMSP")


def read_everywhere(connect_as: Connect, code: str, number: str) -> list[dict[str, Any]]:
    """ReadBill as the supervisor on each org's peer (polling until the block arrives)."""
    auditor = connect_as("audit", "auditor1")

    def read(msp: str) -> dict[str, Any]:
        raw = auditor.contract.evaluate(
            "ReadBill", arguments=[code, number], target_organizations=[msp]
        )
        record: dict[str, Any] = json.loads(raw)
        return record

    return [eventually(lambda msp=msp: read(msp)) for msp in PEERS]


def test_issue_bills_issues_every_bill_in_two_transactions(
    hospital: UnitClient, connect_as: Connect, next_number: Callable[[], str]
) -> None:
    samples = [outpatient_bill(next_number()) for _ in range(5)]
    issued = hospital.issue_bills(samples)
    assert [i.bill.bill_number for i in issued] == [s.number for s in samples]
    tx_ids = {i.bill.issue_tx_id for i in issued}
    assert len(tx_ids) == 1  # one IssueBills transaction for the whole batch
    for sample, one in zip(samples, issued, strict=True):
        assert one.salt == sample.salt and len(one.check_code) == 6
        stored = read_everywhere(connect_as, OUTPATIENT_CODE, sample.number)
        assert all(record == stored[0] for record in stored)  # the same on every peer
        assert stored[0]["status"] == "issued" and stored[0]["issueTxId"] in tx_ids
        assert sample.payer["id"] not in json.dumps(stored[0], ensure_ascii=False)
        # the SDK's bill, built from the short answer, is the stored record
        assert hospital.read_bill(OUTPATIENT_CODE, sample.number) == replace(
            one.bill, check_code=None
        )
        assert hospital.verify_bill(OUTPATIENT_CODE, sample.number, one.check_code).genuine
        private = hospital.read_bill_private(OUTPATIENT_CODE, sample.number)
        assert private.payer.id == PAYER1["id"] and private.salt_hex == sample.salt.hex()


def test_a_batch_with_one_bad_bill_issues_nothing(
    hospital: UnitClient, next_number: Callable[[], str]
) -> None:
    good = outpatient_bill(next_number())
    outside = outpatient_bill("0200000001")  # beyond the approved stock
    with pytest.raises(errors.OutOfStock, match="0200000001"):
        hospital.issue_bills([good, outside])
    with pytest.raises(errors.NotFound):
        hospital.read_bill(OUTPATIENT_CODE, good.number)
    # retry-safe: the same good bill issues later, once
    again = hospital.issue_bills([good])
    assert again[0].bill.bill_number == good.number
    assert hospital.issue_bills([IssueRequest.of(good, check_code=again[0].check_code)]) == again


def test_group_commit_batches_concurrent_callers(
    hospital: UnitClient, next_number: Callable[[], str]
) -> None:
    samples = [outpatient_bill(next_number()) for _ in range(12)]
    bad = outpatient_bill("0200000002")  # its caller alone gets the refusal
    with (
        GroupCommit(hospital, window=0.2, max_bills=100, workers=2) as group,
        ThreadPoolExecutor(max_workers=13) as pool,
    ):
        futures = [pool.submit(group.issue, s) for s in samples]
        refused = pool.submit(group.issue, bad)
        results = [f.result() for f in futures]
        with pytest.raises(errors.OutOfStock):
            refused.result()
    assert [r.bill.bill_number for r in results] == [s.number for s in samples]
    assert sum(group.batch_sizes) == 13 and max(group.batch_sizes) > 1
    for sample, result in zip(samples, results, strict=True):
        assert hospital.verify_bill(OUTPATIENT_CODE, sample.number, result.check_code).genuine
