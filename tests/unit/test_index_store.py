"""The read model's row writer and queries on SQLite, with transactions made here
(the network tests replay the real ledger)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ebill_chaincode.contract import keys
from ebill_index import Store, queries
from ebill_index.blocks import Tx, Write
from ebill_index.records import RecordError

UNIT = {"unitCode": "HN0101", "name": "hospital", "sector": "medical", "region": "46",
        "status": "active"}  # fmt: skip


def bill(number: str, **changes: Any) -> dict[str, Any]:
    record = {
        "billCode": "46010126", "billNumber": number, "billName": "outpatient",
        "unitCode": "HN0101", "unitName": "hospital", "issueDate": "2026-01-05T10:00:00+08:00",
        "totalAmount": 1000, "payerHash": "a" * 64, "kind": "normal", "status": "issued",
        "issueTxId": f"issue-{number}", "claims": [], "reimbursedTotal": 0,
    }  # fmt: skip
    record.update(changes)
    return record


def tx(n: int, *writes: tuple[str, dict[str, Any]], code: int = 0, fn: str = "IssueBill") -> Tx:
    encoded = tuple(Write(k, json.dumps(v).encode()) for k, v in writes)
    return Tx(n, 0, f"tx{n}", "ENDORSER_TRANSACTION", code, "2026-01-05T02:00:00Z",
              chaincode="ebill", function=fn, writes={"ebill": encoded})  # fmt: skip


def bill_key(record: dict[str, Any]) -> str:
    return keys.bill(record["billCode"], record["billNumber"])


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = Store.open(f"sqlite:///{tmp_path / 'model.sqlite'}")
    yield s
    s.close()


def apply(store: Store, *txs: Tx) -> None:
    with store.engine.connect() as conn:
        writer = store.writer(conn, chaincode="ebill", channel="c")
        for t in txs:
            writer.apply(t)
        writer.commit()


def test_figures_follow_issue_claim_and_red_letter(store: Store) -> None:
    one, two = bill("0000000001"), bill("0000000002", totalAmount=500)
    claim = {"reimburserId": "MEDINS-HN", "amount": 1000, "voucherNo": "V1", "txId": "tx4",
             "at": "2026-01-06T00:00:00Z"}  # fmt: skip
    paid = bill("0000000001", status="reimbursed", reimbursedTotal=1000, claims=[claim])
    apply(
        store,
        tx(1, (keys.unit("HN0101"), UNIT), fn="RegisterUnit"),
        tx(2, (bill_key(one), one)),
        tx(3, (bill_key(two), two)),
        tx(4, (bill_key(one), paid), fn="ClaimBill"),
    )
    red = bill("0000000003", kind="red", totalAmount=-500)
    voided = bill("0000000002", totalAmount=500, status="red_lettered")
    apply(store, tx(5, (bill_key(red), red), (bill_key(voided), voided), fn="RedLetterBill"))
    apply(store, tx(6, (bill_key(red), bill("0000000003")), code=11))  # invalid: no change
    figures = queries.totals(store, "unit", "HN0101", "2026-01-05", "2026-01-05")
    assert figures == queries.Figures(
        bills=3, amount=1000, issued=2, issued_amount=1500, red_bills=1, red_amount=-500,
        red_lettered=1, reimbursed=1000,
    )  # fmt: skip
    assert queries.totals(store, "sector", "medical") == figures == queries.totals(store, "all")
    assert queries.totals(store, "region", "46") == figures
    assert queries.totals(store, "unit", "HN0101", "2026-01-06", "2026-12-31").bills == 0
    dump = store.dump()
    assert [row[:4] for row in dump["claims"]] == [("46010126", "0000000001", "MEDINS-HN", 1000)]
    assert [(row[0], row[8]) for row in dump["transactions"]][-1] == (6, 11)  # kept, as invalid
    position = store.position()
    assert position is not None and (position.block_number, position.tx_id) == (6, "tx6")
    behind = queries.figure_transactions(store, "sector", "medical").rows
    assert {row["function"] for row in behind} == {"IssueBill", "ClaimBill", "RedLetterBill"}


def test_lists_page_by_cursor_and_refuse_bad_arguments(store: Store) -> None:
    txs = [tx(1, (keys.unit("HN0101"), UNIT))]
    for n in range(2, 9):
        record = bill(f"{n:010d}")
        txs.append(tx(n, (bill_key(record), record)))
    apply(store, *txs)
    seen, cursor = [], ""
    while True:
        page = queries.list_bills(store, unit_code="HN0101", page_size=3, cursor=cursor)
        seen += [r["bill_number"] for r in page.rows]
        cursor = page.cursor
        if not cursor:
            break
    assert seen == [f"{n:010d}" for n in range(2, 9)]
    with pytest.raises(queries.QueryError, match="cursor"):
        queries.list_bills(store, cursor="[1]")
    with pytest.raises(queries.QueryError, match="cursor"):  # values of the wrong types
        queries.list_bills(store, cursor='[1, {"a": 1}, null]')
    with pytest.raises(queries.QueryError, match="page_size"):
        queries.list_bills(store, page_size=0)
    with pytest.raises(queries.QueryError, match="scope"):
        queries.totals(store, "planet")


def test_a_damaged_record_names_its_key_and_writes_nothing(store: Store) -> None:
    writes = {"ebill": (Write(keys.unit("X1"), b"not json"),)}
    broken = Tx(1, 0, "tx1", "ENDORSER_TRANSACTION", 0, "2026-01-05T02:00:00Z", writes=writes)
    with pytest.raises(RecordError, match="unit/X1"):
        apply(store, broken)
    assert store.position() is None and store.dump()["transactions"] == []


SCHOOL = {"unitCode": "HN0201", "name": "school", "sector": "education", "region": "46",
          "status": "active"}  # fmt: skip


def test_series_breakdown_and_anomalies_by_period_sum_to_the_totals(store: Store) -> None:
    days = ["2026-01-05", "2026-01-31", "2026-02-01"]
    txs = [tx(1, (keys.unit("HN0101"), UNIT)), tx(2, (keys.unit("HN0201"), SCHOOL))]
    for n, day in enumerate(days, start=3):
        record = bill(f"{n:010d}", issueDate=f"{day}T10:00:00+08:00", totalAmount=100 * n)
        txs.append(tx(n, (bill_key(record), record)))
    school = bill("0000000009", unitCode="HN0201", totalAmount=5000)
    txs.append(tx(9, (bill_key(school), school)))
    anomaly = {"anomalyId": "a1", "type": "over-claim", "function": "ClaimBill",
               "day": "20260105", "unitCode": "HN0101"}  # fmt: skip
    txs.append(tx(10, (keys.anomaly("20260105", "a1"), anomaly), fn="ClaimBill"))
    apply(store, *txs)
    whole = queries.totals(store, "all")
    by_month = queries.series(store, "all", period="month")
    assert list(by_month) == ["202601", "202602"]
    assert by_month["202602"].amount == 500
    by_day = queries.series(store, "unit", "HN0101", "2026-01-01", "2026-01-31")
    assert list(by_day) == ["20260105", "20260131"]
    assert sum(f.bills for f in by_month.values()) == whole.bills == 4
    assert sum(f.amount for f in by_month.values()) == whole.amount == 300 + 400 + 500 + 5000
    sectors = queries.breakdown(store, "sector")
    assert [key for key, _ in sectors] == ["education", "medical"]  # the largest amount first
    assert sum(f.amount for _, f in sectors) == whole.amount
    assert queries.breakdown(store, "region") == [("46", whole)]
    units = dict(queries.breakdown(store, "unit", "2026-01-01", "2026-01-31"))
    assert units["HN0101"].bills == 2 and units["HN0201"].bills == 1
    assert queries.anomaly_series(store, period="month") == [("202601", "over-claim", 1)]
    assert queries.anomalies_by_type(store) == {"over-claim": 1}
    with pytest.raises(queries.QueryError, match="period"):
        queries.series(store, "all", period="week")
    with pytest.raises(queries.QueryError, match="by"):
        queries.breakdown(store, "planet")
