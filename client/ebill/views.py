"""How the CLI shows results: readable text (tables, yuan) or JSON for machines."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

from .models import (
    Anomaly,
    Bill,
    BillPrivate,
    HistoryEntry,
    IssuedBill,
    RedLettering,
    StockBatch,
    Totals,
    Unit,
    Verification,
)
from .money import yuan
from .table import render, render_pairs


def to_json(value: Any) -> Any:
    """A JSON-able form of a result: models as the chaincode's JSON (``raw``)."""
    if isinstance(value, IssuedBill):
        # the check code is the issuer's to hand over: the chain keeps only its hash
        bill = {**value.bill.raw, "checkCode": value.check_code or value.bill.check_code}
        return {"bill": bill, "salt": value.salt_hex}
    if isinstance(value, RedLettering):
        red = {**value.red.raw, "checkCode": value.red.check_code}
        return {"original": value.original.raw, "red": red}
    if isinstance(value, Totals):
        return {
            "count": value.count,
            "totalAmount": value.total_amount,
            "reimbursed": value.reimbursed,
            "redLettered": value.red_lettered,
        }
    raw = getattr(value, "raw", None)
    if isinstance(raw, dict) and raw:
        return raw
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: to_json(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return value


def _or(value: str | None, default: str = "-") -> str:
    return value if value else default


def unit_detail(unit: Unit) -> str:
    pairs = [
        ("unit", unit.unit_code),
        ("name", unit.name),
        ("sector", unit.sector),
        ("region", unit.region),
        ("status", unit.status),
        ("registered", _or(unit.registered_at)),
    ]
    if unit.suspension_reason:
        pairs.append(("suspended for", unit.suspension_reason))
    return render_pairs(pairs)


def unit_table(units: Iterable[Unit]) -> str:
    rows = [[u.unit_code, u.name, u.sector, u.region, u.status] for u in units]
    return render(["unit", "name", "sector", "region", "status"], rows)


def stock_detail(batch: StockBatch) -> str:
    pairs = [
        ("batch", batch.batch_id),
        ("unit", batch.unit_code),
        ("bill code", batch.bill_code),
        ("numbers", f"{batch.start_number}-{batch.end_number} ({batch.count:,})"),
        ("status", batch.status),
        ("applied", _or(batch.applied_at)),
    ]
    if batch.approved_at:
        pairs.append(("approved", batch.approved_at))
    if batch.rejection_reason:
        pairs.append(("rejected for", batch.rejection_reason))
    rec = batch.reconciliation
    if rec is not None:
        pairs.append(
            (
                "reconciled",
                f"{rec.issued} issued ({rec.red_bills} red bills, {rec.red_lettered}"
                f" red-lettered), {rec.unused} unused, at {rec.at}",
            )
        )
    return render_pairs(pairs)


def stock_table(batches: Iterable[StockBatch]) -> str:
    rows = [
        [b.batch_id[:16], b.unit_code, b.bill_code, b.start_number, b.end_number,
         f"{b.count:,}", b.status]
        for b in batches
    ]  # fmt: skip
    return render(["batch", "unit", "code", "from", "to", "count", "status"], rows, right=[5])


def bill_detail(bill: Bill) -> str:
    pairs = [
        ("bill", f"{bill.bill_code}/{bill.bill_number}" + (" (RED)" if bill.kind == "red" else "")),
        ("name", _or(bill.bill_name)),
        ("unit", f"{bill.unit_code} {bill.unit_name or ''}".strip()),
        ("issued", bill.issue_date),
        ("amount", f"{yuan(bill.total_amount)} yuan"),
        ("reimbursed", f"{yuan(bill.reimbursed_total)} yuan"),
        (
            "status",
            bill.status + (f" (was {bill.previous_status})" if bill.previous_status else ""),
        ),
    ]
    if bill.check_code:
        pairs.append(("check code", bill.check_code))
    if bill.payer_hash:
        pairs.append(("payer hash", bill.payer_hash))
    if bill.authorised:
        pairs.append(("authorised", ", ".join(bill.authorised)))
    if bill.lock is not None:
        pairs.append(("locked by", f"{bill.lock.reimburser_id} at {bill.lock.at}"))
    if bill.red_bill_number:
        pairs.append(("voided by", f"red bill {bill.bill_code}/{bill.red_bill_number}"))
    if bill.red_of is not None:
        pairs.append(("voids", str(bill.red_of)))
    if bill.reason:
        pairs.append(("reason", bill.reason))
    if bill.last_action is not None:
        la = bill.last_action
        pairs.append(("last action", f"{la.function} by {la.actor_name} ({la.org}) at {la.at}"))
    parts = [render_pairs(pairs)]
    if bill.items:
        rows = [
            [i.code, i.name, i.quantity, i.unit, yuan(i.standard_price), yuan(i.amount)]
            for i in bill.items
        ]
        parts.append(render(["item", "name", "qty", "unit", "price", "amount"], rows, [2, 4, 5]))
    if bill.claims:
        rows = [[c.reimburser_id, yuan(c.amount), c.voucher_no, c.at] for c in bill.claims]
        parts.append(render(["claimed by", "amount", "voucher", "at"], rows, right=[1]))
    return "\n\n".join(parts)


def bill_table(bills: Iterable[Bill]) -> str:
    rows = [
        [b.bill_code, b.bill_number, b.kind, b.unit_code, b.issue_date[:10],
         yuan(b.total_amount), yuan(b.reimbursed_total), b.status]
        for b in bills
    ]  # fmt: skip
    headers = ["code", "number", "kind", "unit", "issued", "amount", "reimbursed", "status"]
    return render(headers, rows, right=[5, 6])


def issued_detail(issued: IssuedBill) -> str:
    return (
        bill_detail(issued.bill)
        + f"\n\nsalt for the payer: {issued.salt_hex}  (the payer proves the bill with it)"
    )


def red_letter_detail(result: RedLettering) -> str:
    o, r = result.original, result.red
    return render_pairs(
        [
            ("voided", f"{o.bill_code}/{o.bill_number} ({yuan(o.total_amount)} yuan): {o.status}"),
            ("red bill", f"{r.bill_code}/{r.bill_number} ({yuan(r.total_amount)} yuan)"),
            ("check code", _or(r.check_code)),
            ("reason", _or(o.reason)),
        ]
    )


def private_detail(private: BillPrivate) -> str:
    p = private.payer
    pairs = [
        ("bill", f"{private.bill_code}/{private.bill_number}"),
        ("payer", f"{p.name} ({p.type} {p.id})"),
        ("salt", private.salt_hex),
    ]
    m = private.medical
    if m is not None:
        pairs += [
            ("patient number", m.patient_number),
            ("insurance", m.insurance_type),
            ("fund paid", f"{yuan(m.fund_paid)} yuan"),
            ("personal account", f"{yuan(m.personal_account_paid)} yuan"),
            ("own paid", f"{yuan(m.own_paid)} yuan"),
        ]
    if private.red_of is not None:
        pairs.append(("red bill of", str(private.red_of)))
    return render_pairs(pairs)


def verification_detail(v: Verification) -> str:
    if not v.genuine:
        return render_pairs(
            [("bill", f"{v.bill_code}/{v.bill_number}"), ("genuine", "NO"), ("why", _or(v.reason))]
        )
    pairs = [
        ("bill", f"{v.bill_code}/{v.bill_number}"),
        ("genuine", "yes"),
        ("status", _or(v.status) + (f" (was {v.previous_status})" if v.previous_status else "")),
        ("kind", _or(v.kind)),
        ("unit", f"{_or(v.unit_code)} {v.unit_name or ''}".strip()),
        ("issued", _or(v.issue_date)),
        ("amount", "-" if v.total_amount is None else f"{yuan(v.total_amount)} yuan"),
    ]
    if v.red_of is not None:
        pairs.append(("voids", str(v.red_of)))
    return render_pairs(pairs)


def history_table(entries: Sequence[HistoryEntry]) -> str:
    rows = []
    for e in entries:
        la = e.last_action
        who = f"{la.actor_name} ({la.org})" if la else "-"
        function = la.function if la else "-"
        rows.append([e.timestamp[:19], function, _or(e.status), who, e.tx_id[:12]])
    return render(["time (UTC)", "function", "status", "by", "tx"], rows)


def anomaly_table(anomalies: Iterable[Anomaly]) -> str:
    rows = [
        [a.day, a.type, a.function,
         f"{a.bill_code}/{a.bill_number}" if a.bill_code else "-", a.anomaly_id[:12]]
        for a in anomalies
    ]  # fmt: skip
    return render(["day", "type", "function", "bill", "anomaly"], rows)


def totals_table(rows: Sequence[tuple[str, Totals]]) -> str:
    body = [
        [unit, str(t.count), yuan(t.total_amount), yuan(t.reimbursed), str(t.red_lettered)]
        for unit, t in rows
    ]
    if len(rows) > 1:
        total = sum((t for _, t in rows), Totals())
        body.append(
            ["all", str(total.count), yuan(total.total_amount), yuan(total.reimbursed),
             str(total.red_lettered)]
        )  # fmt: skip
    headers = ["unit", "bills", "amount (yuan)", "reimbursed (yuan)", "red-lettered"]
    return render(headers, body, right=[1, 2, 3, 4])
