"""``ebill index verify``: compare the read model with the ledger, through the chaincode's
own paged queries (the source of truth), and report every difference.

Compared: every unit (ListUnits) and its stock batches (ListStock); every bill of every
unit (ListBillsByUnit summaries), from which the counts and sums per unit and day are
computed and compared with the model's daily aggregates; the anomaly log
(ListAnomalies); and the whole public record of a sample of bills by key (ReadBill).
The ledger must be read by a supervisor (or finance); the model should have caught up
first, or the blocks it has not applied show as differences.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from ebill.supervisor import SupervisorClient

from . import records
from .schema import aggregates, anomalies, bills, stock_batches, units
from .store import Store

#: The summary fields ListBillsByUnit shows, with the model's column for each.
SUMMARY = {
    "kind": "kind",
    "unitCode": "unit_code",
    "issueDate": "issue_date",
    "totalAmount": "total_amount",
    "reimbursedTotal": "reimbursed_total",
    "status": "status",
    "payerHash": "payer_hash",
}
#: The daily figures TotalsByUnit also gives, by the model's aggregate column.
DAILY = ("bills", "amount", "red_lettered", "reimbursed")


@dataclass
class Report:
    """The differences found (empty: the model matches) and what was compared."""

    differences: list[str] = field(default_factory=list)
    compared: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.differences

    def count(self, what: str, n: int = 1) -> None:
        self.compared[what] = self.compared.get(what, 0) + n


def _compare_records(
    report: Report, what: str, ledger: Mapping[str, str], model: Mapping[str, str]
) -> None:
    """Records by key (canonical JSON): missing, extra, and each one that differs."""
    for key in sorted(set(ledger) | set(model)):
        if key not in model:
            report.differences.append(f"{what} {key}: on the ledger, missing from the model")
        elif key not in ledger:
            report.differences.append(f"{what} {key}: in the model, not on the ledger")
        elif ledger[key] != model[key]:
            report.differences.append(f"{what} {key}: {_field_diff(ledger[key], model[key])}")
    report.count(what, len(set(ledger) | set(model)))


def _field_diff(ledger_json: str, model_json: str) -> str:
    a, b = json.loads(ledger_json), json.loads(model_json)
    names = sorted(n for n in set(a) | set(b) if a.get(n) != b.get(n))
    return "; ".join(f"{n}: ledger {a.get(n)!r}, model {b.get(n)!r}" for n in names)


def verify(store: Store, ledger: SupervisorClient, *, sample: int = 20, seed: int = 0) -> Report:
    """Compare ``store`` with the ledger read as ``ledger``; the :class:`Report`."""
    report = Report()
    with store.engine.connect() as conn:
        model_units = {r.unit_code: r.record for r in conn.execute(select(units))}
        model_stock = {r.batch_id: r.record for r in conn.execute(select(stock_batches))}
        model_bills = {
            f"{r.bill_code}/{r.bill_number}": r
            for r in conn.execute(select(bills).order_by(bills.c.bill_code, bills.c.bill_number))
        }
        model_days = {
            (r.scope_key, r.day): r
            for r in conn.execute(select(aggregates).where(aggregates.c.scope == "unit"))
        }
        model_anomalies = {
            f"{r.day}/{r.anomaly_id}": r.record for r in conn.execute(select(anomalies))
        }
    ledger_units = {u.raw["unitCode"]: records.canonical(u.raw) for u in ledger.iter_units()}
    _compare_records(report, "unit", ledger_units, model_units)
    ledger_stock: dict[str, str] = {}
    ledger_days: dict[tuple[str, str], dict[str, int]] = {}
    ledger_bills: dict[str, dict[str, Any]] = {}
    for unit_code in sorted(set(ledger_units) | {r.unit_code for r in model_bills.values()}):
        for batch in ledger.iter_stock(unit_code):
            ledger_stock[batch.raw["batchId"]] = records.canonical(batch.raw)
        for bill in ledger.iter_bills_by_unit(unit_code):
            ledger_bills[f"{bill.bill_code}/{bill.bill_number}"] = bill.raw
            day = ledger_days.setdefault(
                (unit_code, records.issue_day(bill.raw)), dict.fromkeys(DAILY, 0)
            )
            figures = records.figures(bill.raw)
            for name in DAILY:
                day[name] += figures[name]
    _compare_records(report, "stock batch", ledger_stock, model_stock)
    _compare_summaries(report, ledger_bills, model_bills)
    _compare_days(report, ledger_days, model_days)
    ledger_anomalies = {
        f"{a['day']}/{a['anomalyId']}": records.canonical(a) for a in _anomalies(ledger)
    }
    _compare_records(report, "anomaly", ledger_anomalies, model_anomalies)
    keys = sorted(set(ledger_bills) & set(model_bills))
    chosen = random.Random(seed).sample(keys, min(sample, len(keys)))
    for key in sorted(chosen):
        code, number = key.split("/")
        raw = ledger.read_bill(code, number).raw
        _compare_records(
            report, "bill record", {key: records.canonical(raw)}, {key: model_bills[key].record}
        )
    return report


def _anomalies(ledger: SupervisorClient) -> Iterable[dict[str, Any]]:
    for anomaly in ledger.iter_anomalies():
        yield anomaly.raw


def _compare_summaries(
    report: Report, ledger: Mapping[str, Mapping[str, Any]], model: Mapping[str, Any]
) -> None:
    for key in sorted(set(ledger) | set(model)):
        if key not in model:
            report.differences.append(f"bill {key}: on the ledger, missing from the model")
            continue
        if key not in ledger:
            report.differences.append(f"bill {key}: in the model, not on the ledger")
            continue
        row = model[key]
        for name, column in SUMMARY.items():
            expected = ledger[key].get(name, 0 if name == "reimbursedTotal" else "normal")
            if getattr(row, column) != expected:
                report.differences.append(
                    f"bill {key}: {name}: ledger {expected!r}, model {getattr(row, column)!r}"
                )
    report.count("bill", len(set(ledger) | set(model)))


def _compare_days(
    report: Report,
    ledger: Mapping[tuple[str, str], Mapping[str, int]],
    model: Mapping[tuple[str, str], Any],
) -> None:
    for unit_code, day in sorted(set(ledger) | set(model)):
        row = model.get((unit_code, day))
        expected = ledger.get((unit_code, day), dict.fromkeys(DAILY, 0))
        for name in DAILY:
            found = 0 if row is None else int(getattr(row, name))
            if found != expected[name]:
                report.differences.append(
                    f"figures of unit {unit_code} on {day}: {name}: ledger {expected[name]},"
                    f" model {found}"
                )
    report.count("unit day", len(set(ledger) | set(model)))
