"""FinanceClient on the real network: units, stock, stale locks, archive; and OutOfStock.

Each test module opens its party clients with one shared BlockSync, so a call
never runs on a peer that has not yet got the previous call's block.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from ebill import errors
from ebill.finance import FinanceClient
from ebill.party import PartyClient
from ebill.payer import PayerClient
from ebill.reimburser import ReimburserClient
from ebill.samples import OUTPATIENT_CODE, PAYER1, outpatient_bill, tuition_bill
from ebill.unit import UnitClient

P = TypeVar("P", bound=PartyClient)
Open = Callable[[type[P], str, str], P]


def test_register_read_list_units(finance: FinanceClient) -> None:
    code = "HNT" + secrets.token_hex(3).upper()
    unit = finance.register_unit(code, "海口市中级人民法院", "court", "46")
    assert (unit.unit_code, unit.status, unit.sector) == (code, "active", "court")
    with pytest.raises(errors.AlreadyExists) as info:
        finance.register_unit(code, "海口市中级人民法院", "court", "46")
    assert info.value.kind == "Conflict" and info.value.transaction_id
    assert finance.read_unit(code).name == "海口市中级人民法院"
    codes = [u.unit_code for u in finance.iter_units(page_size=1)]
    assert {"HN0101", "HN0201", code} <= set(codes)
    assert codes == sorted(codes)
    first = finance.list_units(page_size=1)
    assert len(first.records) == 1 and first.bookmark
    with pytest.raises(errors.NotFound):
        finance.read_unit("NOSUCH1")
    with pytest.raises(errors.InvalidInput):
        finance.register_unit("bad code!", "x", "court", "46")


def test_suspend_and_resume(finance: FinanceClient, school: UnitClient, next_number: Any) -> None:
    suspended = finance.suspend_unit("HN0201", "审计检查")
    try:
        assert suspended.status == "suspended" and suspended.suspension_reason == "审计检查"
        with pytest.raises(errors.Conflict):
            finance.suspend_unit("HN0201", "again")
        with pytest.raises(errors.UnitSuspended) as info:
            school.issue_bill(tuition_bill(next_number()))
        assert info.value.anomaly_type == "issuance-by-suspended-unit"
        assert info.value.anomaly_id
        with pytest.raises(errors.UnitSuspended):
            school.apply_stock("46030226", "0000000001", 10)
    finally:
        resumed = finance.resume_unit("HN0201")
    assert resumed.status == "active" and resumed.suspension_reason is None
    with pytest.raises(errors.Conflict) as conflict:
        finance.resume_unit("HN0201")
    assert "not suspended" in conflict.value.message


def test_stock_apply_reject_approve_reconcile(finance: FinanceClient, hospital: UnitClient) -> None:
    code = "46010226"  # another bill code of region 46: no open batch yet
    applied = hospital.apply_stock(code, "0000000001", 50)
    assert (applied.status, applied.end_number, applied.count) == ("pending", "0000000050", 50)
    with pytest.raises(errors.StockConflict, match="still pending"):
        hospital.apply_stock(code, "0000000051", 50)
    rejected = finance.reject_stock(applied.batch_id, "号段填写错误")
    assert rejected.status == "rejected" and rejected.rejection_reason == "号段填写错误"
    with pytest.raises(errors.StockConflict, match="not pending"):
        finance.approve_stock(applied.batch_id)

    again = hospital.apply_stock(code, "0000000001", 50)
    approved = finance.approve_stock(again.batch_id)
    assert approved.status == "approved" and approved.approved_at
    assert hospital.open_batch(code) == approved
    assert hospital.next_free_number(approved) == "0000000001"
    with pytest.raises(errors.StockConflict, match="not reconciled"):
        hospital.apply_stock(code, "0000000051", 50)

    sample = outpatient_bill("0000000001")
    sample.bill["billCode"] = code
    hospital.issue_bill(sample)
    assert hospital.next_free_number(approved) == "0000000002"
    closed = finance.reconcile_stock(approved.batch_id)
    assert closed.status == "reconciled" and closed.reconciliation is not None
    assert (closed.reconciliation.issued, closed.reconciliation.unused) == (1, 49)
    with pytest.raises(errors.StockConflict, match="only an approved batch"):
        finance.reconcile_stock(approved.batch_id)
    assert finance.read_stock(approved.batch_id).status == "reconciled"
    assert hospital.read_stock(approved.batch_id).batch_id == approved.batch_id

    # the reconciled range is closed: its numbers are outside the stock now
    late = outpatient_bill("0000000002")
    late.bill["billCode"] = code
    with pytest.raises(errors.OutOfStock):
        hospital.issue_bill(late)
    # and an overlapping range is never approved again
    overlap = hospital.apply_stock(code, "0000000040", 20)
    with pytest.raises(errors.StockConflict, match="overlap"):
        finance.approve_stock(overlap.batch_id)
    finance.reject_stock(overlap.batch_id, "overlap")

    listed = [b.batch_id for b in finance.iter_stock("HN0101", page_size=1)]
    assert {applied.batch_id, again.batch_id, overlap.batch_id} <= set(listed)
    assert listed == [b.batch_id for b in hospital.iter_stock("HN0101")]
    with pytest.raises(errors.NotAuthorised):
        hospital.list_stock("HN0201")
    with pytest.raises(errors.StockConflict, match="region"):
        hospital.apply_stock("45010126", "0000000001", 10)


def test_issuance_outside_stock_is_out_of_stock(hospital: UnitClient) -> None:
    with pytest.raises(errors.OutOfStock) as info:
        hospital.issue_bill(outpatient_bill("0000200001"))
    assert info.value.kind == "Forbidden"
    assert info.value.anomaly_type == "issuance-outside-stock"
    assert info.value.anomaly_id == info.value.transaction_id


def test_finance_unlocks_a_stale_lock_and_archives(
    party: Open[Any], finance: FinanceClient, hospital: UnitClient, next_number: Any
) -> None:
    issued = hospital.issue_bill(outpatient_bill(next_number()))
    code, number = issued.bill.bill_code, issued.bill.bill_number
    payer = party(PayerClient, "finance", "platform1").for_payer("person", PAYER1["id"])
    medins = party(ReimburserClient, "insurance", "medins1")
    payer.authorise_reimburser(code, number, "MEDINS-HN", issued.salt)
    assert medins.lock_bill(code, number).status == "locked"
    unlocked = finance.unlock_bill(code, number)
    assert unlocked.status == "issued" and unlocked.lock is None
    with pytest.raises(errors.BillNotLocked):
        finance.unlock_bill(code, number)
    with pytest.raises(errors.TooEarlyToArchive):
        finance.archive_bill(code, number)
    medins.reimburse(code, number, 26850, "YB-ARCH-1")
    archived = finance.archive_bill(code, number)
    assert archived.status == "archived" and archived.previous_status == "reimbursed"
    with pytest.raises(errors.BillArchived):
        finance.archive_bill(code, number)
    assert finance.read_bill(code, number).archived_at
    assert code == OUTPATIENT_CODE
