"""SupervisorClient on the real network: history, lists with paging, totals, anomalies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from chain import World

from ebill import errors
from ebill.clock import today_in_china
from ebill.finance import FinanceClient
from ebill.party import PartyClient
from ebill.payer import PayerClient
from ebill.reimburser import ReimburserClient
from ebill.samples import OUTPATIENT_CODE, PAYER1, outpatient_bill
from ebill.supervisor import SupervisorClient
from ebill.unit import UnitClient

P = TypeVar("P", bound=PartyClient)
Open = Callable[[type[P], str, str], P]


_story: dict[str, Any] = {}


@pytest.fixture
def story(party: Open[Any], world: World, next_number: Callable[[], str]) -> dict[str, Any]:
    """One bill taken through authorise, an over-claim, a claim; and two more bills.

    Made once for the module (next_number is function-scoped, hence the cache).
    """
    if _story:
        return _story
    hospital = party(UnitClient, "units", "hospital1")
    payer = party(PayerClient, "finance", "platform1").for_payer("person", PAYER1["id"])
    medins = party(ReimburserClient, "insurance", "medins1")
    issued = hospital.issue_bill(outpatient_bill(next_number()))
    code, number = issued.bill.bill_code, issued.bill.bill_number
    payer.authorise_reimburser(code, number, "MEDINS-HN", issued.salt)
    try:
        medins.reimburse(code, number, 99999, "YB-OVER")
    except errors.OverClaim as error:
        over_claim = error
    medins.reimburse(code, number, 16110, "YB-SUP-1")
    others = [hospital.issue_bill(outpatient_bill(next_number())) for _ in range(2)]
    _story.update(bill=issued, over_claim=over_claim, others=others)
    return _story


def test_history_tells_who_did_what(auditor: SupervisorClient, story: dict[str, Any]) -> None:
    bill = story["bill"].bill
    history = auditor.bill_history(bill.bill_code, bill.bill_number)
    functions = [entry.last_action.function for entry in history if entry.last_action]
    assert functions == [
        "IssueBill", "AuthoriseReimburser", "LockBill", "UnlockBill", "LockBill", "ClaimBill",
    ]  # fmt: skip
    assert [entry.status for entry in history][-1] == "partially_reimbursed"
    assert history[0].last_action is not None and history[0].last_action.actor_name == "hospital1"
    assert history[1].last_action is not None and history[1].last_action.actor_name == "platform1"
    assert all(not entry.is_delete and entry.tx_id for entry in history)
    with pytest.raises(errors.NotFound):
        auditor.bill_history(OUTPATIENT_CODE, "0000099998")


def test_lists_follow_bookmarks(auditor: SupervisorClient, story: dict[str, Any]) -> None:
    bill = story["bill"].bill
    partial = list(auditor.iter_bills_by_status("partially_reimbursed", page_size=1))
    assert bill.bill_number in {b.bill_number for b in partial}
    assert all(b.status == "partially_reimbursed" for b in partial)
    period = bill.issue_date[:7].replace("-", "")
    by_period = list(auditor.iter_bills_by_period(period, page_size=2))
    numbers = {b.bill_number for b in by_period}
    assert {bill.bill_number, *(o.bill.bill_number for o in story["others"])} <= numbers
    first = auditor.list_bills_by_period(period, page_size=1)
    assert len(first.records) == 1 and first.bookmark
    by_payer = list(auditor.iter_bills_by_payer(bill.payer_hash or ""))
    assert [b.bill_number for b in by_payer] == [bill.bill_number]
    by_unit = list(auditor.iter_bills_by_unit("HN0101", page_size=3))
    assert numbers & {b.bill_number for b in by_unit} >= {bill.bill_number}
    with pytest.raises(errors.InvalidInput):
        auditor.list_bills_by_status("lost")
    with pytest.raises(errors.InvalidInput):
        auditor.list_bills_by_period("2026-11")


def test_totals_sum_every_page(auditor: SupervisorClient, story: dict[str, Any]) -> None:
    bills = list(auditor.iter_bills_by_unit("HN0101"))
    totals = auditor.unit_totals("HN0101")
    assert totals.count == len(bills) >= 3
    assert totals.total_amount == sum(b.total_amount for b in bills)
    assert totals.reimbursed == sum(b.reimbursed_total for b in bills) >= 16110
    page, bookmark = auditor.totals_page("HN0101", page_size=1)
    assert page.count == 1 and bookmark
    day = story["bill"].bill.issue_date[:10]
    assert auditor.unit_totals("HN0101", day, day).count >= 3


def test_anomalies_are_logged_for_supervisors(
    auditor: SupervisorClient,
    party: Open[Any],
    story: dict[str, Any],
    description: dict[str, Any],
) -> None:
    over_claim = story["over_claim"]
    assert over_claim.code == "over-claim"
    finance = party(FinanceClient, "finance", "finance1")
    finance.anchor_anomalies(Path(description["anomaly_spool"]))  # finance's spool -> chain
    today = today_in_china()
    found = list(auditor.iter_anomalies(today, today, anomaly_type="over-claim"))
    logged = {a.anomaly_id: a for a in found}
    assert over_claim.anomaly_id in logged
    anomaly = logged[over_claim.anomaly_id]
    assert anomaly.function == "ClaimBill" and anomaly.kind == "Conflict"
    assert anomaly.bill_number == story["bill"].bill.bill_number
    assert anomaly.last_action is not None and anomaly.last_action.org == "InsuranceMSP"
    everything = list(auditor.iter_anomalies(today, today, page_size=1))
    assert over_claim.anomaly_id in {a.anomaly_id for a in everything}
    assert over_claim.anomaly_id in {a.anomaly_id for a in finance.iter_anomalies(today, today)}
    with pytest.raises(errors.InvalidInput):
        auditor.list_anomalies(today, today, anomaly_type="no-such-type")


def test_supervisor_reads_everything_and_verifies(
    auditor: SupervisorClient, story: dict[str, Any]
) -> None:
    issued = story["bill"]
    code, number = issued.bill.bill_code, issued.bill.bill_number
    assert auditor.read_bill(code, number).claims[0].voucher_no == "YB-SUP-1"
    assert auditor.read_bill_private(code, number).salt_hex == issued.salt_hex
    assert auditor.read_unit("HN0201").unit_code == "HN0201"
    assert {u.unit_code for u in auditor.iter_units()} >= {"HN0101", "HN0201"}
    genuine = auditor.verify_bill(code, number, issued.bill.check_code or "")
    assert genuine.genuine and genuine.status == "partially_reimbursed"
    assert genuine.total_amount == 26850
    checked = auditor.verify_bill(
        code, number, issued.bill.check_code or "", total_amount=26850,
        issue_date=issued.bill.issue_date[:10],
    )  # fmt: skip
    assert checked.genuine
    wrong_amount = auditor.verify_bill(code, number, issued.bill.check_code or "", total_amount=1)
    assert not wrong_amount.genuine and wrong_amount.reason == "total amount does not match"
    with pytest.raises(errors.InvalidInput):
        auditor.verify_bill(code, number, "bad")
    with pytest.raises(errors.NotFound):
        auditor.verify_bill(code, "0000099997", "AAAAAA")
