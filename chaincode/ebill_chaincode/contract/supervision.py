"""Supervision: a bill's history, lists by index, totals, the anomaly log.

All functions here are read-only (evaluate them): lists are paginated range queries,
which Fabric allows only in transactions that write nothing. A list answers
``{records, count, bookmark}``; pass ``bookmark`` back for the next page, ``""`` means
no more. Bill lists give a summary per bill (no items, no check code); ReadBill gives
the whole record. Page sizes are 1..200; the cost of a call depends on its page only,
never on the size of the ledger.
"""

from __future__ import annotations

from typing import Any

from ..shim.errors import InvalidArgument, NotFound
from ..shim.stub import Stub
from . import access, keys, ledger, lifecycle, privacy
from .anomalies import TYPES
from .model import (
    bill_ref,
    bookmark_arg,
    day_span,
    page_size_arg,
    payer_hash_arg,
    period_arg,
    unit_code_arg,
)
from .router import transaction
from .units import listing

SUMMARY_FIELDS = (
    "billCode",
    "billNumber",
    "kind",
    "unitCode",
    "issueDate",
    "totalAmount",
    "reimbursedTotal",
    "status",
    "payerHash",
)


def summary(bill: ledger.Record) -> ledger.Record:
    """What a list shows of a bill."""
    return {name: bill[name] for name in SUMMARY_FIELDS if name in bill}


def _bills_page(
    stub: Stub, bounds: keys.Bounds, page_size: int, bookmark: str
) -> tuple[list[ledger.Record], str]:
    """A page of an index whose keys end in billCode/billNumber, as the bills: the bills
    are read in one multi-key read (one message to a peer that offers it), not one
    read per bill."""
    results, next_bookmark = ledger.page(stub, bounds, page_size, bookmark)
    refs = [keys.split(kv.key)[-2:] for kv in results]
    return ledger.load_many(stub, [keys.bill(*ref) for ref in refs], "bill"), next_bookmark


@transaction("BillHistory")
def bill_history(stub: Stub, bill_code: str, bill_number: str) -> dict[str, Any]:
    """Every committed change of the bill, oldest first: {billCode, billNumber, history:
    [{txId, timestamp, isDelete, status, lastAction}]}."""
    bill_ref(bill_code, bill_number)
    access.allow(stub, "BillHistory")
    history = []
    for change in stub.get_history_for_key(keys.bill(bill_code, bill_number)):
        value = None if change.is_delete else ledger.decode(change.value, "bill history")
        history.append(
            {
                "txId": change.tx_id,
                "timestamp": change.timestamp.isoformat().replace("+00:00", "Z"),
                "isDelete": change.is_delete,
                "status": value.get("status") if value else None,
                "lastAction": value.get("lastAction") if value else None,
            }
        )
    if not history:
        raise NotFound(f"bill {bill_code}/{bill_number} has no history")
    history.reverse()  # Fabric 2.x returns the newest change first
    ledger.emit(stub, "BillHistory", billCode=bill_code, billNumber=bill_number)
    return {"billCode": bill_code, "billNumber": bill_number, "history": history}


def _unit_page(
    stub: Stub,
    function: str,
    unit_code: str,
    from_date: str,
    to_date: str,
    page_size: str,
    bookmark: str,
) -> tuple[list[ledger.Record], str]:
    unit_code_arg(unit_code)
    first, last = day_span(from_date, to_date)
    size, bookmark = page_size_arg(page_size), bookmark_arg(bookmark)
    actor = access.allow(stub, function)
    access.require_own_unit(actor, unit_code, function)
    bounds = keys.between(keys.BILL_BY_UNIT, (unit_code,), first, last)
    return _bills_page(stub, bounds, size, bookmark)


@transaction("ListBillsByUnit")
def list_bills_by_unit(
    stub: Stub, unit_code: str, from_date: str, to_date: str, page_size: str, bookmark: str = ""
) -> dict[str, Any]:
    """A unit's bills issued from fromDate to toDate (inclusive), by date."""
    bills, next_bookmark = _unit_page(
        stub, "ListBillsByUnit", unit_code, from_date, to_date, page_size, bookmark
    )
    ledger.emit(stub, "ListBillsByUnit", unitCode=unit_code)
    return listing([summary(bill) for bill in bills], next_bookmark)


@transaction("TotalsByUnit")
def totals_by_unit(
    stub: Stub, unit_code: str, from_date: str, to_date: str, page_size: str, bookmark: str = ""
) -> dict[str, Any]:
    """Totals over ONE page of a unit's bills (the client sums the pages):

    {count, totalAmount (red bills count negative), reimbursed (fen claimed),
    redLettered (bills voided), bookmark}.
    """
    bills, next_bookmark = _unit_page(
        stub, "TotalsByUnit", unit_code, from_date, to_date, page_size, bookmark
    )
    red_lettered = [
        bill
        for bill in bills
        if lifecycle.RED_LETTERED in (bill["status"], bill.get("previousStatus"))
    ]
    ledger.emit(stub, "TotalsByUnit", unitCode=unit_code)
    return {
        "count": len(bills),
        "totalAmount": sum(bill["totalAmount"] for bill in bills),
        "reimbursed": sum(bill.get("reimbursedTotal", 0) for bill in bills),
        "redLettered": len(red_lettered),
        "bookmark": next_bookmark,
    }


@transaction("ListBillsByPayer")
def list_bills_by_payer(
    stub: Stub, payer_hash: str, page_size: str, bookmark: str = ""
) -> dict[str, Any]:
    """The bills of one payerHash; the platform lists a payer's own, proving it with
    transient payer and payerSalt."""
    payer_hash_arg(payer_hash)
    size, bookmark = page_size_arg(page_size), bookmark_arg(bookmark)
    claim = privacy.payer_claim(stub)
    actor = access.allow(stub, "ListBillsByPayer")
    access.require_payer_of(actor, payer_hash, claim, "ListBillsByPayer")
    bounds = keys.starting_with(keys.BILL_BY_PAYER, payer_hash)
    bills, next_bookmark = _bills_page(stub, bounds, size, bookmark)
    ledger.emit(stub, "ListBillsByPayer")
    return listing([summary(bill) for bill in bills], next_bookmark)


@transaction("ListBillsByStatus")
def list_bills_by_status(
    stub: Stub, status: str, page_size: str, bookmark: str = ""
) -> dict[str, Any]:
    """The bills in one status, by bill code and number."""
    if status not in lifecycle.STATUSES:
        raise InvalidArgument(f"status: must be one of {', '.join(lifecycle.STATUSES)}")
    size, bookmark = page_size_arg(page_size), bookmark_arg(bookmark)
    access.allow(stub, "ListBillsByStatus")
    bounds = keys.starting_with(keys.BILL_BY_STATUS, status)
    bills, next_bookmark = _bills_page(stub, bounds, size, bookmark)
    ledger.emit(stub, "ListBillsByStatus", status=status)
    return listing([summary(bill) for bill in bills], next_bookmark)


@transaction("ListBillsByPeriod")
def list_bills_by_period(
    stub: Stub, period: str, page_size: str, bookmark: str = ""
) -> dict[str, Any]:
    """The bills issued in one month (YYYYMM), by bill code and number."""
    period_arg(period)
    size, bookmark = page_size_arg(page_size), bookmark_arg(bookmark)
    access.allow(stub, "ListBillsByPeriod")
    bounds = keys.starting_with(keys.BILL_BY_PERIOD, period)
    bills, next_bookmark = _bills_page(stub, bounds, size, bookmark)
    ledger.emit(stub, "ListBillsByPeriod")
    return listing([summary(bill) for bill in bills], next_bookmark)


@transaction("ListAnomalies")
def list_anomalies(
    stub: Stub,
    from_date: str,
    to_date: str,
    page_size: str,
    bookmark: str = "",
    anomaly_type: str = "",
) -> dict[str, Any]:
    """The anomaly log from fromDate to toDate (days in China time), optionally one type."""
    first, last = day_span(from_date, to_date)
    size, bookmark = page_size_arg(page_size), bookmark_arg(bookmark)
    if anomaly_type and anomaly_type not in TYPES:
        raise InvalidArgument(f"anomalyType: must be one of {', '.join(TYPES)}")
    access.allow(stub, "ListAnomalies")
    if anomaly_type:
        bounds = keys.between(keys.ANOMALY_BY_TYPE, (anomaly_type,), first, last)
        results, next_bookmark = ledger.page(stub, bounds, size, bookmark)
        records = [
            ledger.load(stub, keys.anomaly(*keys.split(kv.key)[-2:]), "anomaly") for kv in results
        ]
    else:
        bounds = keys.between(keys.ANOMALY, (), first, last)
        results, next_bookmark = ledger.page(stub, bounds, size, bookmark)
        records = [ledger.decode(kv.value, "anomaly") for kv in results]
    ledger.emit(stub, "ListAnomalies")
    return listing(records, next_bookmark)
