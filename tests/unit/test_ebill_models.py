"""Parsing the contract's JSON answers into the e-bill models (money stays int fen)."""

from __future__ import annotations

import base64
import dataclasses
import re as _re
import typing
from typing import Any

import pytest

from ebill import models
from ebill.errors import InternalError
from ebill.models import (
    Anomaly,
    Bill,
    BillPrivate,
    HistoryEntry,
    Page,
    RedLettering,
    StockBatch,
    Totals,
    Unit,
    Verification,
)
from ebill_chaincode.contract import records

ACTOR = base64.b64encode(b"x509::CN=medins1,OU=client::CN=ca.insurance").decode()
LAST = {"function": "ClaimBill", "txId": "t9", "org": "InsuranceMSP", "actorId": ACTOR, "at": "z"}


def bill_json(**extra: Any) -> dict[str, Any]:
    bill: dict[str, Any] = {
        "billCode": "46010126",
        "billNumber": "0000000001",
        "billName": "海南省医疗门诊收费票据（电子）",
        "unitCode": "HN0101",
        "unitName": "海南省人民医院",
        "issueDate": "2026-11-28T09:30:00+08:00",
        "totalAmount": 26850,
        "items": [
            {"code": "310100001", "name": "门诊诊查费", "quantity": "1", "unit": "次",
             "standardPrice": 2500, "amount": 2500},
        ],
        "clerk": "李护士",
        "kind": "normal",
        "payerHash": "ab" * 32,
        "status": "partially_reimbursed",
        "checkCode": "PPU3JE",
        "issuedAt": "2026-11-28T01:30:00Z",
        "issuerMsp": "UnitsMSP",
        "issuerId": "x",
        "issueTxId": "t1",
        "batchId": "b1",
        "authorised": {"PICC-HN": {"at": "a", "txId": "t2"},
                       "MEDINS-HN": {"at": "a", "txId": "t3"}},
        "claims": [{"reimburserId": "MEDINS-HN", "amount": 16110, "voucherNo": "YB-1",
                    "txId": "t4", "at": "b"}],
        "reimbursedTotal": 16110,
        "lastAction": LAST,
    }  # fmt: skip
    bill.update(extra)
    return bill


def test_bill_record() -> None:
    bill = Bill.from_json(bill_json(futureField={"x": 1}))
    assert bill.ref.__str__() == "46010126/0000000001"
    assert bill.total_amount == 26850 and isinstance(bill.total_amount, int)
    assert bill.reimbursed_total == 16110 and bill.remaining == 10740
    assert bill.authorised == ("MEDINS-HN", "PICC-HN")
    assert bill.claims[0].amount == 16110 and bill.claims[0].voucher_no == "YB-1"
    assert bill.items[0].standard_price == 2500
    assert bill.check_code == "PPU3JE"
    assert bill.last_action is not None and bill.last_action.actor_name == "medins1"
    assert bill.raw["futureField"] == {"x": 1}
    assert bill.extra == {"futureField": {"x": 1}}


def test_locked_red_lettered_and_red_bills() -> None:
    lock = {"reimburserId": "PICC-HN", "txId": "t5", "at": "c", "previousStatus": "issued"}
    locked = Bill.from_json(bill_json(status="locked", lock=lock))
    assert locked.lock is not None and locked.lock.previous_status == "issued"
    voided = Bill.from_json(
        bill_json(status="red_lettered", redLetter={"redBillNumber": "0000000002", "reason": "退费",
                                                    "txId": "t6", "at": "d"})
    )  # fmt: skip
    assert voided.red_bill_number == "0000000002" and voided.reason == "退费"
    red = Bill.from_json(
        bill_json(kind="red", totalAmount=-26850, redOf={"billCode": "46010126",
                  "billNumber": "0000000001"}, reason="退费")
    )  # fmt: skip
    assert red.kind == "red" and red.total_amount == -26850
    assert str(red.red_of) == "46010126/0000000001"


def test_a_list_summary_parses_as_a_bill() -> None:
    summary = {k: bill_json()[k] for k in ("billCode", "billNumber", "kind", "unitCode",
               "issueDate", "totalAmount", "reimbursedTotal", "status", "payerHash")}  # fmt: skip
    bill = Bill.from_json(summary)
    assert bill.items == () and bill.check_code is None and bill.claims == ()


@pytest.mark.parametrize("field", ["billCode", "totalAmount", "status"])
def test_missing_required_fields_are_internal_errors(field: str) -> None:
    data = bill_json()
    del data[field]
    with pytest.raises(InternalError, match=field):
        Bill.from_json(data)


def test_a_float_amount_is_refused() -> None:
    with pytest.raises(InternalError):
        Bill.from_json(bill_json(totalAmount=268.5))


def test_not_an_object() -> None:
    with pytest.raises(InternalError):
        Bill.from_json(["not", "a", "bill"])


def test_unit() -> None:
    unit = Unit.from_json(
        {"unitCode": "HN0101", "name": "海南省人民医院", "sector": "medical", "region": "46",
         "status": "suspended", "suspension": {"reason": "audit", "at": "x"},
         "registeredAt": "r", "lastAction": LAST}
    )  # fmt: skip
    assert unit.status == "suspended" and unit.suspension_reason == "audit"
    assert unit.registered_at == "r" and unit.extra == {}


def test_stock_batch() -> None:
    batch = StockBatch.from_json(
        {"batchId": "b1", "unitCode": "HN0101", "billCode": "46010126",
         "startNumber": "0000000001", "endNumber": "0000001000", "count": 1000,
         "status": "reconciled", "appliedAt": "a", "approvedAt": "b",
         "reconciliation": {"issued": 3, "redBills": 1, "redLettered": 1, "unused": 997, "at": "c"}}
    )  # fmt: skip
    assert batch.count == 1000 and batch.holds("0000000500") and not batch.holds("0000001001")
    assert batch.reconciliation is not None and batch.reconciliation.unused == 997


def test_private_part() -> None:
    private = BillPrivate.from_json(
        {"billCode": "46010126", "billNumber": "0000000001",
         "payer": {"type": "person", "id": "460100199001011234", "name": "张三"},
         "medical": {"patientNumber": "MZ1", "insuranceType": "职工医保", "fundPaid": 16110,
                     "personalAccountPaid": 5370, "ownPaid": 5370},
         "salt": "00" * 16}
    )  # fmt: skip
    assert private.payer.name == "张三" and private.salt_hex == "00" * 16
    assert private.medical is not None and private.medical.fund_paid == 16110


def test_verification() -> None:
    genuine = Verification.from_json(
        {"genuine": True, "billCode": "46010126", "billNumber": "0000000001",
         "status": "reimbursed", "kind": "normal", "unitCode": "HN0101", "unitName": "u",
         "issueDate": "d", "totalAmount": 26850}
    )  # fmt: skip
    assert genuine.genuine and genuine.total_amount == 26850
    fake = Verification.from_json(
        {"genuine": False, "reason": "check code does not match"}, "46010126", "0000000001"
    )
    assert not fake.genuine and fake.bill_number == "0000000001" and fake.total_amount is None


def test_history_anomaly_totals_page_red_lettering() -> None:
    entry = HistoryEntry.from_json(
        {"txId": "t1", "timestamp": "ts", "isDelete": False, "status": "issued", "lastAction": LAST}
    )
    assert entry.status == "issued" and not entry.is_delete
    anomaly = Anomaly.from_json(
        {"anomalyId": "a1", "type": "over-claim", "function": "ClaimBill",
         "refused": {"kind": "Conflict", "message": "m"}, "day": "20261128",
         "billCode": "46010126", "billNumber": "0000000001", "unitCode": "HN0101",
         "lastAction": LAST}
    )  # fmt: skip
    assert anomaly.kind == "Conflict" and anomaly.type == "over-claim"
    totals = Totals.from_json({"count": 2, "totalAmount": 100, "reimbursed": 50,
                               "redLettered": 1, "bookmark": "x"})  # fmt: skip
    assert totals + totals == Totals(4, 200, 100, 2)
    page = Page.from_json({"records": [bill_json()], "count": 1, "bookmark": "bm"}, Bill.from_json)
    assert len(page.records) == 1 and page.bookmark == "bm" and not page.last
    both = RedLettering.from_json({"original": bill_json(), "red": bill_json(kind="red")})
    assert both.red.kind == "red"


def test_actor_name_of_a_payer_is_kept() -> None:
    entry = HistoryEntry.from_json(
        {"txId": "t", "timestamp": "", "isDelete": False, "status": "issued",
         "lastAction": {**LAST, "actorId": "payer"}}
    )  # fmt: skip
    assert entry.last_action is not None and entry.last_action.actor_name == "payer"


# --- the client's models cover the contract's records ----------------------------------


def _sample(cls: type[records.Record]) -> dict[str, Any]:
    """A JSON of ``cls`` with every field, optional ones included, set to a value."""
    hints = typing.get_type_hints(cls)
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        out[records.camel(f.name)] = _value(hints[f.name], f.metadata, f.name)
    return out


def _value(hint: Any, metadata: Any, name: str) -> Any:
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, type(int | None)) and len(args) == 1:
        hint = args[0]
    origin = typing.get_origin(hint)
    if isinstance(hint, type) and issubclass(hint, records.Record):
        return _sample(hint)
    if origin is tuple:
        return [_value(typing.get_args(hint)[0], {}, name)]
    if origin is dict:
        return {"K-1": _value(typing.get_args(hint)[1], {}, name)}
    if hint is bool:
        return True
    if hint is int:
        return 7
    enum = metadata.get("enum") if metadata else ()
    return enum[-1] if enum else f"v-{name}"


def _snake(name: str) -> str:
    return _re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().replace("_j_s_o_n", "_json")


#: client model, its record, record field -> the model attribute that reads it (when
#: the name differs), fields another call reads.
COVERAGE: list[tuple[Any, type[records.Record], dict[str, str], set[str]]] = [
    (models.Unit, records.Unit, {"suspension": "suspension_reason"}, set()),
    (models.StockBatch, records.StockBatch, {"rejection": "rejection_reason"}, set()),
    (models.Bill, records.Bill, {"redLetter": "red_bill_number"}, set()),
    (models.Bill, records.BillSummary, {}, set()),
    (models.BillPrivate, records.BillPrivate, {"salt": "salt_hex"}, set()),
    (models.Verification, records.Verification, {}, set()),
    (models.HistoryEntry, records.HistoryEntry, {}, set()),
    (models.Anomaly, records.Anomaly, {"refused": "code", "anchor": "anchor_tx_id"}, set()),
    # TotalsByUnit's bookmark is read by UnitReads.totals_page beside the Totals
    (models.Totals, records.Totals, {}, {"bookmark"}),
    (models.LineItem, records.LineItem, {}, set()),
    (models.Claim, records.Claim, {}, set()),
    (models.LastAction, records.LastAction, {}, set()),
]


@pytest.mark.parametrize(
    ("model", "record", "renamed", "elsewhere"),
    COVERAGE,
    ids=[f"{m.__name__}-{r.__name__}" for m, r, _, _ in COVERAGE],
)
def test_a_client_model_reads_every_field_of_its_record(
    model: Any, record: type[records.Record], renamed: dict[str, str], elsewhere: set[str]
) -> None:
    sample = _sample(record)
    parsed = model.from_json(sample)
    if hasattr(parsed, "extra"):
        assert parsed.extra == {}, f"{model.__name__} does not name {sorted(parsed.extra)}"
    for field_name in record.json_fields():
        if field_name in elsewhere:
            continue
        attribute = renamed.get(field_name, _snake(field_name))
        value = getattr(parsed, attribute)
        assert value not in (None, "", (), {}), f"{model.__name__}.{attribute} <- {field_name}"


def test_every_bill_part_of_a_record_is_read() -> None:
    """The nested parts a Bill carries: lock, claims, authorised, redOf."""
    bill = models.Bill.from_json(_sample(records.Bill))
    assert bill.lock is not None
    assert {f.name for f in dataclasses.fields(bill.lock)} == {
        _snake(name) for name in records.Lock.json_fields()
    }
    assert all(getattr(bill.lock, f.name) for f in dataclasses.fields(bill.lock))
    assert bill.authorised == ("K-1",) and bill.red_of is not None and bill.claims
    private = models.BillPrivate.from_json(_sample(records.BillPrivate))
    assert private.medical is not None and all(
        getattr(private.medical, _snake(name)) for name in records.Medical.json_fields()
    )
    assert all(getattr(private.payer, name) for name in records.Payer.json_fields())
    batch = models.StockBatch.from_json(_sample(records.StockBatch))
    assert batch.reconciliation is not None and all(
        getattr(batch.reconciliation, _snake(name)) for name in records.Reconciliation.json_fields()
    )
