"""Bill stock: applications, approval, reconciliation.

A unit applies for a range of numbers of one bill code; finance approves or rejects
it; the unit issues numbers of the approved range; finance reconciles the batch, which
closes it (its unused numbers are void) and lets the unit apply again.

A batch record (key ``stock / batchId``, the batch id is the ApplyStock tx id)::

    {batchId, unitCode, billCode, startNumber, endNumber, count,
     status: "pending" | "approved" | "rejected" | "reconciled",
     appliedAt, approvedAt?, rejection?: {reason, at},
     reconciliation?: {issued, redBills, redLettered, unused, at}, lastAction}

Rules (ours where the domain leaves room):

* One open batch per unit and bill code: ApplyStock is refused while the unit's
  previous application for that code is pending or approved and not reconciled.
* The bill code's region (first 2 digits) must be the unit's region.
* Approval refuses a range that overlaps another approved range of the bill code
  (``stockrange`` index, one bounded read: see :mod:`.keys`).
* Nothing is written per issued bill: the stock a batch used is the set of bill keys
  in its range. ReconcileStock counts them with unpaged range queries of at most
  :data:`RECONCILE_CHUNK` numbers each (Fabric silently caps one query's results at
  the peer's ``totalQueryLimit``, 100000 by default; a batch holds at most 1,000,000).
"""

from __future__ import annotations

from typing import Any

from ..shim.errors import Conflict, Forbidden
from ..shim.stub import Stub
from . import access, keys, ledger, lifecycle
from .anomalies import Anomaly
from .model import (
    MAX_BILL_NUMBER,
    MAX_STOCK_COUNT,
    batch_id_arg,
    bookmark_arg,
    number_text,
    page_size_arg,
    parse_stock_application,
    text_arg,
    unit_code_arg,
)
from .router import transaction
from .units import SUSPENDED, listing, load_unit
from .vocabulary import BATCH_APPROVED, BATCH_PENDING, BATCH_RECONCILED, BATCH_REJECTED

PENDING = BATCH_PENDING
APPROVED = BATCH_APPROVED
REJECTED = BATCH_REJECTED
RECONCILED = BATCH_RECONCILED
RECONCILE_CHUNK = 10_000


def load_batch(stub: Stub, batch_id: str, what: str = "stock batch") -> ledger.Record:
    return ledger.load(stub, keys.stock(batch_id), f"{what} {batch_id}")


def _span(batch: ledger.Record) -> str:
    return f"{batch['billCode']} numbers {batch['startNumber']}-{batch['endNumber']}"


def _overlapping_range(stub: Stub, bill_code: str, start: str, end: str) -> ledger.Record | None:
    """An approved range of ``bill_code`` that shares a number with [start, end], if any.

    Approved ranges never overlap each other and are keyed by end number, so the first
    one ending at or after ``start`` is the only candidate; a range holds at most
    MAX_STOCK_COUNT numbers, so it ends before end + MAX_STOCK_COUNT (bounded query).
    """
    last = number_text(min(int(end) + MAX_STOCK_COUNT - 1, MAX_BILL_NUMBER))
    hit = ledger.first_in(stub, keys.between(keys.STOCK_RANGE, (bill_code,), start, last))
    if hit is None:
        return None
    entry = ledger.decode(hit.value, "stockrange")
    return entry if entry["startNumber"] <= end else None


def batch_holding(
    stub: Stub, unit_code: str, bill_code: str, bill_number: str, function: str
) -> ledger.Record:
    """The unit's approved, unreconciled batch holding the number; else the anomaly
    ``issuance-outside-stock``."""
    subject = {"billCode": bill_code, "billNumber": bill_number, "unitCode": unit_code}

    def outside(why: str) -> Anomaly:
        message = f"{function}: bill {bill_code}/{bill_number} is outside the stock of unit"
        return Anomaly(
            Forbidden(f"{message} {unit_code}: {why}"), "issuance-outside-stock", subject
        )

    entry = _overlapping_range(stub, bill_code, bill_number, bill_number)
    if entry is None:
        raise outside("no approved batch holds this number")
    batch = load_batch(stub, entry["batchId"])
    if batch["unitCode"] != unit_code:
        raise outside(f"the number belongs to batch {batch['batchId']} of another unit")
    if batch["status"] != APPROVED:
        raise outside(f"batch {batch['batchId']} is {batch['status']}; its numbers are closed")
    return batch


@transaction("ApplyStock")
def apply_stock(stub: Stub, application_json: str) -> ledger.Record:
    """A unit applies for a range of numbers of a bill code. Returns the pending batch."""
    application = parse_stock_application(application_json)
    actor = access.allow(stub, "ApplyStock")
    unit_code, bill_code = application.unit_code, application.bill_code
    access.require_own_unit(actor, unit_code, "ApplyStock")
    unit = load_unit(stub, unit_code)
    if unit["status"] == SUSPENDED:
        raise Forbidden(f"ApplyStock: unit {unit_code} is suspended", "unit-suspended")
    if bill_code[:2] != unit["region"]:
        raise Conflict(
            f"ApplyStock: bill code {bill_code} is of region {bill_code[:2]}"
            f" but unit {unit_code} is in region {unit['region']}",
            "stock-conflict",
        )
    current = ledger.get(stub, keys.stock_open(unit_code, bill_code))
    if current is not None:
        previous = load_batch(stub, current["batchId"])
        if previous["status"] == PENDING:
            raise Conflict(
                f"ApplyStock: application {previous['batchId']} of unit {unit_code} for"
                f" {_span(previous)} is still pending; finance must approve or reject it first",
                "stock-conflict",
            )
        raise Conflict(
            f"ApplyStock: batch {previous['batchId']} of unit {unit_code} ({_span(previous)})"
            " is approved and not reconciled; finance must reconcile it before a new application",
            "stock-conflict",
        )
    batch_id = stub.tx_id
    batch = {
        "batchId": batch_id,
        "unitCode": unit_code,
        "billCode": bill_code,
        "startNumber": application.start_number,
        "endNumber": application.end_number,
        "count": application.count,
        "status": PENDING,
        "appliedAt": ledger.now(stub),
        "lastAction": ledger.last_action(stub, "ApplyStock", actor),
    }
    ledger.put(stub, keys.stock(batch_id), batch)
    ledger.mark(stub, keys.stock_by_unit(unit_code, bill_code, application.start_number, batch_id))
    ledger.put(stub, keys.stock_open(unit_code, bill_code), {"batchId": batch_id})
    ledger.emit(stub, "ApplyStock", batchId=batch_id, unitCode=unit_code, status=PENDING)
    return batch


def _pending(stub: Stub, batch_id: str, function: str) -> ledger.Record:
    batch = load_batch(stub, batch_id, "stock application")
    if batch["status"] != PENDING:
        raise Conflict(
            f"{function}: application {batch_id} is {batch['status']}, not pending",
            "stock-conflict",
        )
    return batch


@transaction("ApproveStock")
def approve_stock(stub: Stub, application_id: str) -> ledger.Record:
    """Finance approves a pending application whose range overlaps no approved range."""
    batch_id_arg(application_id, "applicationId")
    actor = access.allow(stub, "ApproveStock")
    batch = _pending(stub, application_id, "ApproveStock")
    unit = load_unit(stub, batch["unitCode"])
    if unit["status"] == SUSPENDED:
        raise Conflict(f"ApproveStock: unit {batch['unitCode']} is suspended", "unit-suspended")
    clash = _overlapping_range(stub, batch["billCode"], batch["startNumber"], batch["endNumber"])
    if clash is not None:
        raise Conflict(
            f"ApproveStock: {_span(batch)} overlap batch {clash['batchId']}"
            f" (numbers {clash['startNumber']}-{clash['endNumber']}) of unit {clash['unitCode']}",
            "stock-conflict",
        )
    batch.update(
        status=APPROVED,
        approvedAt=ledger.now(stub),
        lastAction=ledger.last_action(stub, "ApproveStock", actor),
    )
    ledger.put(stub, keys.stock(application_id), batch)
    range_entry = {key: batch[key] for key in ("batchId", "unitCode", "startNumber", "endNumber")}
    ledger.put(stub, keys.stock_range(batch["billCode"], batch["endNumber"]), range_entry)
    ledger.emit(
        stub, "ApproveStock", batchId=application_id, unitCode=batch["unitCode"], status=APPROVED
    )
    return batch


@transaction("RejectStock")
def reject_stock(stub: Stub, application_id: str, reason: str) -> ledger.Record:
    """Finance rejects a pending application; the unit may apply again."""
    batch_id_arg(application_id, "applicationId")
    reason = text_arg(reason, "reason", 200)
    actor = access.allow(stub, "RejectStock")
    batch = _pending(stub, application_id, "RejectStock")
    batch.update(
        status=REJECTED,
        rejection={"reason": reason, "at": ledger.now(stub)},
        lastAction=ledger.last_action(stub, "RejectStock", actor),
    )
    ledger.put(stub, keys.stock(application_id), batch)
    stub.delete_state(keys.stock_open(batch["unitCode"], batch["billCode"]))
    ledger.emit(
        stub, "RejectStock", batchId=application_id, unitCode=batch["unitCode"], status=REJECTED
    )
    return batch


def count_bills(stub: Stub, batch: ledger.Record) -> dict[str, int]:
    """Issued numbers, red bills and red-lettered bills in the batch's range."""
    issued = red_bills = red_lettered = 0
    first, last = int(batch["startNumber"]), int(batch["endNumber"])
    for chunk_start in range(first, last + 1, RECONCILE_CHUNK):
        chunk_end = min(chunk_start + RECONCILE_CHUNK - 1, last)
        bounds = keys.between(
            keys.BILL, (batch["billCode"],), number_text(chunk_start), number_text(chunk_end)
        )
        for kv in ledger.scan(stub, bounds):
            bill = ledger.decode(kv.value, "bill")
            issued += 1
            if bill.get("kind") == lifecycle.KIND_RED:
                red_bills += 1
            if lifecycle.RED_LETTERED in (bill["status"], bill.get("previousStatus")):
                red_lettered += 1
    return {
        "issued": issued,
        "redBills": red_bills,
        "redLettered": red_lettered,
        "unused": batch["count"] - issued,
    }


@transaction("ReconcileStock")
def reconcile_stock(stub: Stub, batch_id: str) -> ledger.Record:
    """Finance closes an approved batch with the counts of its used numbers."""
    batch_id_arg(batch_id)
    actor = access.allow(stub, "ReconcileStock")
    batch = load_batch(stub, batch_id)
    if batch["status"] != APPROVED:
        raise Conflict(
            f"ReconcileStock: batch {batch_id} is {batch['status']}; only an approved batch"
            " is reconciled",
            "stock-conflict",
        )
    batch.update(
        status=RECONCILED,
        reconciliation={**count_bills(stub, batch), "at": ledger.now(stub)},
        lastAction=ledger.last_action(stub, "ReconcileStock", actor),
    )
    ledger.put(stub, keys.stock(batch_id), batch)
    stub.delete_state(keys.stock_open(batch["unitCode"], batch["billCode"]))
    ledger.emit(
        stub, "ReconcileStock", batchId=batch_id, unitCode=batch["unitCode"], status=RECONCILED
    )
    return batch


@transaction("ReadStock")
def read_stock(stub: Stub, batch_id: str) -> ledger.Record:
    """A batch (finance, supervisors, the unit's own staff)."""
    batch_id_arg(batch_id)
    actor = access.allow(stub, "ReadStock")
    batch = load_batch(stub, batch_id)
    access.require_own_unit(actor, batch["unitCode"], "ReadStock")
    ledger.emit(stub, "ReadStock", batchId=batch_id, unitCode=batch["unitCode"])
    return batch


@transaction("ListStock")
def list_stock(stub: Stub, unit_code: str, page_size: str, bookmark: str = "") -> dict[str, Any]:
    """One page of a unit's batches, by bill code and start number."""
    unit_code_arg(unit_code)
    size, bookmark = page_size_arg(page_size), bookmark_arg(bookmark)
    actor = access.allow(stub, "ListStock")
    access.require_own_unit(actor, unit_code, "ListStock")
    bounds = keys.starting_with(keys.STOCK_BY_UNIT, unit_code)
    results, next_bookmark = ledger.page(stub, bounds, size, bookmark)
    records = [load_batch(stub, keys.split(kv.key)[-1]) for kv in results]
    ledger.emit(stub, "ListStock", unitCode=unit_code)
    return listing(records, next_bookmark)
