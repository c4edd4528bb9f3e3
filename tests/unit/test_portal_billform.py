"""The unit's bill form: yuan to fen exactly, amounts from quantity and price, refusals
naming the field, and the issueDate a resubmitted form keeps."""

from __future__ import annotations

import pytest
from starlette.datastructures import FormData

from ebill_portal.billform import BillForm, fen, line_amount


def _form(**fields: str | list[str]) -> FormData:
    pairs: list[tuple[str, str]] = []
    for key, value in fields.items():
        pairs.extend((key, v) for v in ([value] if isinstance(value, str) else value))
    return FormData(pairs)


GOOD = {
    "billCode": "46010126",
    "billNumber": "0000000007",
    "billName": "非税收入统一票据（电子）",
    "day": "2026-11-30",
    "opened": "2026-11-30T09:15:00+08:00",
    "payerType": "person",
    "payerId": "460100199001011234",
    "payerName": "张三",
    "item_code": ["A1", "B2", ""],
    "item_name": ["挂号费", "药品", ""],
    "item_quantity": ["1", "2.5", ""],
    "item_unit": ["次", "盒", ""],
    "item_price": ["0.10", "19.90", ""],
}


def test_yuan_become_fen_exactly() -> None:
    assert fen("0.10", "p") == 10
    assert fen("19.9", "p") == 1990
    assert fen("1234567890123.45", "p") == 123456789012345
    assert line_amount(1990, "2.5", "p") == 4975
    assert line_amount(10, "0.3", "p") == 3  # a float would give 3.0000000000000004
    for bad in ("1.234", "-1", "1e3", "", "１"):
        with pytest.raises(ValueError, match="^items\\[2\\].price: yuan"):
            fen(bad, "items[2].price")
    with pytest.raises(ValueError, match="whole number of fen"):
        line_amount(1, "0.5", "items[1].price")


def test_a_good_form_gives_the_service_body() -> None:
    body, errors = BillForm.read(_form(**GOOD)).body("HN0101", "海南省人民医院", "clerk")
    assert errors == []
    bill = body["bill"]
    assert bill["totalAmount"] == 10 + 4975
    assert [i["amount"] for i in bill["items"]] == [10, 4975]
    assert bill["items"][1] == {
        "code": "B2", "name": "药品", "quantity": "2.5", "unit": "盒",
        "standardPrice": 1990, "amount": 4975,
    }  # fmt: skip
    assert bill["issueDate"] == "2026-11-30T09:15:00+08:00"
    assert body["payer"] == {"type": "person", "id": "460100199001011234", "name": "张三"}
    assert "remark" not in bill


def test_an_earlier_day_is_issued_at_noon_china_time() -> None:
    body, errors = BillForm.read(_form(**{**GOOD, "day": "2026-11-29"})).body("U", "N", "c")
    assert errors == [] and body["bill"]["issueDate"] == "2026-11-29T12:00:00+08:00"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("item_price", ["0.10", "19.901", ""], "items[2].price: yuan with at most two decimals"),
        ("item_price", ["abc", "19.90", ""], "items[1].price: yuan with at most two decimals"),
        ("item_quantity", ["0", "2.5", ""], "items[1].quantity: a number greater than 0"),
        ("item_name", ["挂号费", "", ""], "items[2].name: required"),
        ("billNumber", "12345", "billNumber: 10 digits"),
        ("billCode", "4601012x", "billCode: 8 digits"),
        ("payerName", "", "payerName: required"),
        ("payerType", "alien", "payerType: person or company"),
        ("day", "2026-02-30", "day: a date YYYY-MM-DD"),
        ("item_code", ["", "", ""], "items[1].code: required"),
    ],
)
def test_bad_fields_are_named(field: str, value: str | list[str], message: str) -> None:
    _, errors = BillForm.read(_form(**{**GOOD, field: value})).body("U", "N", "c")
    assert any(e.startswith(message) for e in errors), errors


def test_a_form_without_items_is_refused_and_rows_can_be_added() -> None:
    empty = {**GOOD, **{k: ["", ""] for k in GOOD if k.startswith("item_")}}
    form = BillForm.read(_form(**empty))
    assert form.body("U", "N", "c")[1] == ["items: at least one line item"]
    assert len(form.with_row().items) == 3
    assert len(BillForm.blank("票据").items) == 3
