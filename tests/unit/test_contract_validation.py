"""Validation of every input: each rule names its field; nothing else escapes."""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ebill_chaincode.contract import model
from ebill_chaincode.contract.model import (
    Bill,
    MedicalInfo,
    Payer,
    parse_bill,
    parse_stock_application,
    parse_unit,
)
from ebill_chaincode.shim import ChaincodeError, InvalidArgument


def good_bill() -> dict[str, Any]:
    return {
        "billCode": "46010126",
        "billNumber": "0000000001",
        "billName": "海南省医疗门诊收费票据",
        "unitCode": "H460100001",
        "unitName": "海南省人民医院",
        "issueDate": "2026-01-05T10:30:00+08:00",
        "totalAmount": 12550,
        "items": [
            {
                "code": "F001",
                "name": "挂号费",
                "quantity": 1,
                "unit": "次",
                "standardPrice": 550,
                "amount": 550,
            },
            {
                "code": "F002",
                "name": "检查费",
                "quantity": "2.5",
                "unit": "项",
                "standardPrice": 4800,
                "amount": 12000,
            },
        ],
        "clerk": "李四",
        "reviewer": "王五",
        "remark": "门诊",
    }


def good_medical() -> dict[str, Any]:
    return {
        "patientNumber": "MZ2026000123",
        "insuranceType": "城镇职工",
        "fundPaid": 8000,
        "personalAccountPaid": 2000,
        "ownPaid": 2550,
        "admissionDate": "2026-01-01",
        "dischargeDate": "2026-01-05",
    }


def good_payer() -> dict[str, Any]:
    return {"type": "person", "id": "460100199001011234", "name": "张三"}


def parse(document: Any) -> Bill:
    return parse_bill(json.dumps(document, ensure_ascii=False))


def rejected(document: Any) -> str:
    with pytest.raises(InvalidArgument) as error:
        parse(document)
    return error.value.message


def with_change(path: str, value: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """good_bill() (or ``base``) with the field at a dotted path (e.g. "items.0.amount")
    replaced."""
    document = good_bill() if base is None else base
    *parents, last = path.split(".")
    target: Any = document
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return document


def without(path: str) -> dict[str, Any]:
    document = good_bill()
    *parents, last = path.split(".")
    target: Any = document
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    del target[last]
    return document


# --- good bills --------------------------------------------------------------------------


def test_good_bill_parses() -> None:
    bill = parse(good_bill())
    assert bill.bill_code == "46010126"
    assert bill.total_amount == 12550
    assert [item.quantity for item in bill.items] == ["1", "2.5"]
    assert bill.issue_day == "20260105"
    public = bill.public_json()
    assert "payer" not in public and "medical" not in public
    assert public["issueDate"] == "2026-01-05T10:30:00+08:00"


def test_minimal_bill_without_optional_parts() -> None:
    document = good_bill()
    for key in ("reviewer", "remark"):
        del document[key]
    bill = parse(document)
    assert (bill.reviewer, bill.remark) == (None, None)
    assert set(bill.public_json()) == {
        "billCode",
        "billNumber",
        "billName",
        "unitCode",
        "unitName",
        "issueDate",
        "totalAmount",
        "items",
        "clerk",
    }


def test_optional_fields_null_or_empty_count_as_absent() -> None:
    document = good_bill()
    document.update(reviewer="", remark=None)
    bill = parse(document)
    assert (bill.reviewer, bill.remark) == (None, None)


@pytest.mark.parametrize(
    ("given_value", "stored"),
    [("2026-01-05T10:30Z", "2026-01-05T10:30:00+00:00"), ("2026-01-05T02:30:00.5+00:00", None)],
)
def test_issue_date_forms(given_value: str, stored: str | None) -> None:
    bill = parse(with_change("issueDate", given_value))
    assert bill.issue_date == (stored or given_value.replace(".5", ".500000"))


def test_issue_day_is_the_date_as_written_in_its_offset() -> None:
    assert parse(with_change("issueDate", "2026-01-05T23:30:00-05:00")).issue_day == "20260105"
    assert parse(with_change("issueDate", "2026-01-06T01:30:00+08:00")).issue_day == "20260106"


@pytest.mark.parametrize(
    ("quantity", "stored"), [(3, "3"), ("1.50", "1.5"), ("100", "100"), ("0.000001", "0.000001")]
)
def test_quantity_is_canonical_decimal_text(quantity: Any, stored: str) -> None:
    assert parse(with_change("items.0.quantity", quantity)).items[0].quantity == stored


def test_zero_price_item() -> None:
    document = good_bill()
    document["items"][0].update(standardPrice=0, amount=0)
    document["items"][1]["amount"] = 12550
    assert parse(document).items[0].amount == 0


@pytest.mark.parametrize("field", ["payer", "medical"])
def test_personal_parts_must_travel_as_transient_data(field: str) -> None:
    document = good_bill()
    document[field] = good_payer() if field == "payer" else good_medical()
    assert rejected(document) == (
        f"InvalidArgument [invalid-argument]: {field}: personal data must not be in billJSON;"
        f" send it as transient data {field!r}"
    )


# --- each rule names its field -----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("billCode", "4601012", "billCode: must be 8 digits"),
        ("billCode", 46010126, "billCode: must be 8 digits"),
        ("billCode", "4601012a", "billCode: must be 8 digits"),
        ("billCode", "４６０１０１２６", "billCode: must be 8 digits"),  # full-width digits
        ("billNumber", "000000001", "billNumber: must be 10 digits"),
        ("billName", "", "billName: must not be blank"),
        ("billName", "   ", "billName: must not be blank"),
        ("billName", "x" * 101, "billName: must be at most 100 characters"),
        ("billName", 5, "billName: must be a string"),
        ("billName", "a\nb", "billName: must not contain control characters"),
        ("unitCode", "U-01", "unitCode: must be 1 to 32 letters or digits"),
        ("unitCode", "U" * 33, "unitCode: must be 1 to 32 letters or digits"),
        ("unitName", "n" * 201, "unitName: must be at most 200 characters"),
        ("issueDate", "2026-01-05T10:30:00", "issueDate: must be an ISO 8601 date-time"),
        ("issueDate", "2026-01-05", "issueDate: must be an ISO 8601 date-time"),
        ("issueDate", "2026-02-30T10:30:00+08:00", "issueDate: must be an ISO 8601 date-time"),
        ("issueDate", "20260105T103000Z", "issueDate: must be an ISO 8601 date-time"),
        ("totalAmount", 0, "totalAmount: must be greater than 0"),
        ("totalAmount", -5, "totalAmount: must be greater than 0"),
        ("totalAmount", 125.5, "totalAmount: must be an integer number of fen, not a float"),
        ("totalAmount", 12550.0, "totalAmount: must be an integer number of fen, not a float"),
        ("totalAmount", True, "totalAmount: must be an integer number of fen, not a boolean"),
        ("totalAmount", "12550", "totalAmount: must be an integer number of fen"),
        ("totalAmount", 10**13 + 1, "totalAmount: must be at most 10000000000000 fen"),
        ("items", [], "items: must be a list of 1 to 200 items"),
        ("items", {"code": "F"}, "items: must be a list of 1 to 200 items"),
        ("items.0", "F001", "items[0]: must be a JSON object"),
        ("items.1.code", "c" * 33, "items[1].code: must be at most 32 characters"),
        ("items.1.amount", -1, "items[1].amount: must not be negative"),
        ("items.1.amount", 1.0, "items[1].amount: must be an integer number of fen, not a float"),
        ("items.0.standardPrice", False, "items[0].standardPrice: must be an integer number"),
        ("items.0.standardPrice", 10**14, "items[0].standardPrice: must be at most"),
        ("items.0.quantity", 0, "items[0].quantity: must be a positive integer"),
        ("items.0.quantity", 1.5, "items[0].quantity: must be a positive integer"),
        ("items.0.quantity", "1e3", "items[0].quantity: must be a positive integer"),
        ("items.0.quantity", "0.0", "items[0].quantity: must be greater than 0"),
        ("items.0.quantity", "-1", "items[0].quantity: must be a positive integer"),
        ("items.0.unit", "", "items[0].unit: must not be blank"),
        ("clerk", None, "clerk: required"),
        ("reviewer", "r" * 51, "reviewer: must be at most 50 characters"),
        ("remark", "r" * 501, "remark: must be at most 500 characters"),
        ("remark", 7, "remark: must be a string"),
    ],
)
def test_rule_violation_names_the_field(path: str, value: Any, message: str) -> None:
    assert rejected(with_change(path, value)).startswith(
        f"InvalidArgument [invalid-argument]: {message}"
    )


@pytest.mark.parametrize("path", ["billCode", "billName", "items", "items.0.amount", "clerk"])
def test_missing_required_field(path: str) -> None:
    shown = path.replace("items.0", "items[0]")
    assert rejected(without(path)) == f"InvalidArgument [invalid-argument]: {shown}: required"


def test_unknown_fields_are_named() -> None:
    document = good_bill()
    document["colour"] = "red"
    document["size"] = 3
    assert rejected(document) == "InvalidArgument [invalid-argument]: colour, size: unknown fields"
    document = good_bill()
    document["items"][1]["discount"] = 5
    assert (
        rejected(document) == "InvalidArgument [invalid-argument]: items[1].discount: unknown field"
    )


def test_item_sum_must_equal_total() -> None:
    document = with_change("items.1.amount", 11999)
    assert rejected(document) == (
        "InvalidArgument [invalid-argument]: items: amounts sum to 12549 fen"
        " but totalAmount is 12550"
    )


def test_too_many_items() -> None:
    document = good_bill()
    item = document["items"][0]
    document["items"] = [dict(item, amount=1) for _ in range(201)]
    document["totalAmount"] = 201
    assert (
        rejected(document)
        == "InvalidArgument [invalid-argument]: items: must be a list of 1 to 200 items"
    )
    document["items"] = document["items"][:200]
    document["totalAmount"] = 200
    assert len(parse(document).items) == 200


# --- the payer and the medical extension (transient data) --------------------------------


def test_payer_parses() -> None:
    assert Payer.parse(good_payer(), "payer") == Payer("person", "460100199001011234", "张三")
    company = {"type": "company", "id": "91460000MA5T000000", "name": "X"}
    assert Payer.parse(company, "payer").type == "company"


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("type", "alien", 'payer.type: must be "person" or "company"'),
        ("id", "", "payer.id: must not be blank"),
        ("id", "x" * 65, "payer.id: must be at most 64 characters"),
        ("name", "n" * 101, "payer.name: must be at most 100 characters"),
        ("age", 30, "payer.age: unknown field"),
    ],
)
def test_payer_rules(path: str, value: Any, message: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        Payer.parse(with_change(path, value, good_payer()), "payer")
    assert error.value.message.startswith(f"InvalidArgument [invalid-argument]: {message}")
    with pytest.raises(InvalidArgument, match="payer: must be a JSON object"):
        Payer.parse("张三", "payer")


def test_medical_parses() -> None:
    info = MedicalInfo.parse(good_medical(), "medical")
    assert info.paid_total == 12550
    assert info.to_json()["admissionDate"] == "2026-01-01"


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("fundPaid", -1, "medical.fundPaid: must not be negative"),
        ("ownPaid", 2550.0, "medical.ownPaid: must be an integer number of fen"),
        ("patientNumber", "", "medical.patientNumber: must not be blank"),
        ("admissionDate", "2026/01/01", "medical.admissionDate: must be a date"),
        ("dischargeDate", "2026-13-01", "medical.dischargeDate: must be a date"),
        ("dischargeDate", "2025-12-31", "medical.dischargeDate: must not be before admissionDate"),
        ("ward", "3", "medical.ward: unknown field"),
    ],
)
def test_medical_rules(path: str, value: Any, message: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        MedicalInfo.parse(with_change(path, value, good_medical()), "medical")
    assert error.value.message.startswith(f"InvalidArgument [invalid-argument]: {message}")


# --- units and stock applications --------------------------------------------------------


def good_unit() -> dict[str, Any]:
    return {"unitCode": "HN0101", "name": "海南省人民医院", "sector": "medical", "region": "46"}


def test_unit_parses() -> None:
    unit = parse_unit(json.dumps(good_unit()))
    assert unit.to_json() == good_unit()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("unitCode", "HN-0101", "unitCode: must be 1 to 32 letters or digits"),
        ("name", " ", "name: must not be blank"),
        ("sector", "bank", "sector: must be one of medical, education, court, police"),
        ("region", "460", "region: must be 2 digits"),
        ("region", 46, "region: must be 2 digits"),
        ("extra", 1, "extra: unknown field"),
    ],
)
def test_unit_rules(path: str, value: Any, message: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        parse_unit(json.dumps(with_change(path, value, good_unit())))
    assert error.value.message.startswith(f"InvalidArgument [invalid-argument]: {message}")


def good_application() -> dict[str, Any]:
    return {"unitCode": "HN0101", "billCode": "46010126", "startNumber": "0000000001", "count": 500}


def test_stock_application_parses() -> None:
    application = parse_stock_application(json.dumps(good_application()))
    assert (application.start_number, application.end_number) == ("0000000001", "0000000500")
    top = with_change("startNumber", "9999999000", good_application())
    top["count"] = 1000
    assert parse_stock_application(json.dumps(top)).end_number == "9999999999"


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("billCode", "460101", "billCode: must be 8 digits"),
        ("startNumber", "1", "startNumber: must be 10 digits"),
        ("count", 0, "count: must be an integer from 1 to 1000000"),
        ("count", 1_000_001, "count: must be an integer from 1 to 1000000"),
        ("count", 5.0, "count: must be an integer from 1 to 1000000"),
        ("count", True, "count: must be an integer from 1 to 1000000"),
        ("count", "5", "count: must be an integer from 1 to 1000000"),
        ("startNumber", "9999999999", "count: the range must end at or below 9999999999"),
    ],
)
def test_stock_application_rules(path: str, value: Any, message: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        parse_stock_application(json.dumps(with_change(path, value, good_application())))
    assert error.value.message.startswith(f"InvalidArgument [invalid-argument]: {message}")


# --- transaction arguments ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: model.bill_ref("4601012", "0000000001"), "billCode: must be 8 digits"),
        (lambda: model.bill_ref("46010126", "１"), "billNumber: must be 10 digits"),
        (lambda: model.unit_code_arg(""), "unitCode: must be 1 to 32"),
        (lambda: model.batch_id_arg("a b"), "batchId: must be 1 to 128"),
        (lambda: model.batch_id_arg("", "applicationId"), "applicationId: must be 1 to 128"),
        (lambda: model.reimburser_id_arg("-X"), "reimburserId: must be 1 to 64"),
        (lambda: model.payer_hash_arg("AB" * 32), "payerHash: must be 64 lower-case hex"),
        (lambda: model.text_arg("", "reason", 5), "reason: must not be blank"),
        (lambda: model.text_arg("x" * 6, "reason", 5), "reason: must be at most 5"),
        (lambda: model.fen_arg("0", "amountFen"), "amountFen: must be greater than 0"),
        (lambda: model.fen_arg("1.5", "amountFen"), "amountFen: must be an integer number"),
        (lambda: model.fen_arg("-3", "amountFen"), "amountFen: must be an integer number"),
        (lambda: model.fen_arg("9" * 14, "amountFen"), "amountFen: must be at most"),
        (lambda: model.page_size_arg("0"), "pageSize: must be an integer from 1 to 200"),
        (lambda: model.page_size_arg("201"), "pageSize: must be an integer from 1 to 200"),
        (lambda: model.page_size_arg("ten"), "pageSize: must be an integer from 1 to 200"),
        (lambda: model.bookmark_arg("b" * 4097), "bookmark: must be at most 4096"),
        (lambda: model.day_arg("2026-1-5", "fromDate"), "fromDate: must be a date"),
        (lambda: model.day_arg("2026-0105", "fromDate"), "fromDate: must be a date"),
        (lambda: model.day_arg("20260230", "toDate"), "toDate: must be a date"),
        (lambda: model.day_span("20260102", "20260101"), "fromDate: must not be after toDate"),
        (lambda: model.period_arg("202613"), "period: must be a month YYYYMM"),
        (lambda: model.period_arg("2026-01"), "period: must be a month YYYYMM"),
    ],
)
def test_argument_rules(call: Any, message: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        call()
    assert error.value.message.startswith(f"InvalidArgument [invalid-argument]: {message}")


def test_arguments_accepted() -> None:
    assert model.day_arg("2026-01-05", "fromDate") == model.day_arg("20260105", "x") == "20260105"
    assert model.day_span("2026-01-01", "20260101") == ("20260101", "20260101")
    assert model.page_size_arg("200") == 200
    assert model.fen_arg("26850", "amountFen") == 26850
    assert model.reimburser_id_arg("MEDINS-HN") == "MEDINS-HN"
    assert model.period_arg("202612") == "202612"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "billJSON: not valid JSON"),
        ("{", "billJSON: not valid JSON"),
        ("[1, 2]", "billJSON: must be a JSON object"),
        ('"bill"', "billJSON: must be a JSON object"),
        ('{"billCode": NaN}', "billJSON: NaN is not valid JSON"),
        ('{"billCode": "1", "billCode": "2"}', "billJSON: duplicate key 'billCode'"),
        ("[" * 100_000, "billJSON: not valid JSON"),
        ('{"totalAmount": ' + "9" * 5000 + "}", "billJSON: not valid JSON"),
        (" " * (512 * 1024 + 1), "billJSON: must be at most"),
    ],
)
def test_malformed_json_names_the_argument(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        parse_bill(text)
    assert error.value.message.startswith(f"InvalidArgument [invalid-argument]: {message}")


def test_lone_surrogate_is_rejected_not_crashing() -> None:
    text = json.dumps(good_bill()).replace('"clerk": "', '"clerk": "\\ud800')
    with pytest.raises(InvalidArgument, match="clerk: must not contain"):
        parse_bill(text)


# --- property: random input never raises anything but ChaincodeError --------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**15), max_value=10**15)
    | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
FIELD_PATHS = [
    "billCode",
    "billNumber",
    "billName",
    "unitCode",
    "unitName",
    "issueDate",
    "totalAmount",
    "items",
    "items.0",
    "items.0.quantity",
    "items.1.amount",
    "items.1.standardPrice",
    "clerk",
    "reviewer",
    "remark",
    "payer",
    "medical",
]


def only_chaincode_errors(text: str) -> None:
    for parser in (parse_bill, parse_unit, parse_stock_application):
        try:
            result = parser(text)
        except ChaincodeError as error:
            assert isinstance(error, InvalidArgument)
            assert error.message.startswith("InvalidArgument [invalid-argument]: ")
        else:
            if isinstance(result, Bill):
                json.dumps(result.public_json(), ensure_ascii=False).encode("utf-8")


def only_chaincode_errors_from(parse_part: Any, value: Any) -> None:
    try:
        parse_part(value, "part")
    except ChaincodeError as error:
        assert isinstance(error, InvalidArgument)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_random_documents_only_raise_chaincode_errors(value: Any) -> None:
    only_chaincode_errors(json.dumps(value))
    only_chaincode_errors_from(Payer.parse, value)
    only_chaincode_errors_from(MedicalInfo.parse, value)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(FIELD_PATHS), json_values)
def test_random_field_values_only_raise_chaincode_errors(path: str, value: Any) -> None:
    only_chaincode_errors(json.dumps(with_change(path, copy.deepcopy(value))))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["type", "id", "name"]), json_values)
def test_random_payer_fields_only_raise_chaincode_errors(path: str, value: Any) -> None:
    only_chaincode_errors_from(Payer.parse, with_change(path, copy.deepcopy(value), good_payer()))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_random_text_only_raises_chaincode_errors(text: str) -> None:
    only_chaincode_errors(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_random_arguments_only_raise_chaincode_errors(text: str) -> None:
    parsers: list[Callable[[str], object]] = [
        model.unit_code_arg,
        model.batch_id_arg,
        model.reimburser_id_arg,
        model.payer_hash_arg,
        model.page_size_arg,
        model.bookmark_arg,
        model.period_arg,
        lambda t: model.fen_arg(t, "amountFen"),
        lambda t: model.day_arg(t, "fromDate"),
        lambda t: model.text_arg(t, "reason", 20),
        lambda t: model.bill_ref(t, t),
    ]
    for parser in parsers:
        with contextlib.suppress(InvalidArgument):
            parser(text)


def test_unknown_field_names_are_echoed_safely() -> None:
    document = good_bill()
    document["bad\nname"] = 1
    document["x" * 100] = 2
    message = rejected(document)
    assert "\n" not in message
    assert len(message) < 200
    assert message.endswith(": unknown fields")
    document = good_bill()
    document.update({f"f{i:02d}": i for i in range(12)})
    assert rejected(document).endswith("f09 and 2 more: unknown fields")
