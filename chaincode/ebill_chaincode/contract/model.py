"""The data model and every validation rule of the contract's inputs.

Every rule failure raises ``InvalidArgument("<field path>: <rule>")``, e.g.
``"items[2].amount: must be an integer number of fen, not a float"``.

Choices made here (ours, not from a rulebook):

* Money is integer fen; JSON floats and booleans are refused even when integral.
* ``quantity`` is a positive JSON integer or a decimal string (up to 12 integer and
  6 fraction digits, e.g. ``"1.5"``); floats are refused because binary floats are
  inexact. It is stored as a canonical decimal string (``2`` -> ``"2"``,
  ``"1.50"`` -> ``"1.5"``).
* ``issueDate`` must be an ISO 8601 extended date-time with seconds optional and a
  UTC offset or ``Z``; it is stored as ``datetime.isoformat()`` (offset kept). The
  bill's calendar date (for the by-unit and by-period indexes and VerifyBill) is the
  date as written, in the bill's own offset: the date printed on the bill.
* Optional strings given as ``null`` or ``""`` count as absent.
* Text must not contain control characters; required text must not be blank.
* Duplicate keys in a JSON object are refused; unknown fields are refused.
* The full issuance JSON (:class:`Bill`) travels only as transient data to
  DepositBillPrivate; IssueBill's argument is :class:`PublicBill` (no line items, staff
  names, payer or medical part; such a field is refused with a message saying so).
* Dates given as arguments (``fromDate``, ``toDate``, VerifyBill's ``issueDate``) are
  ``YYYY-MM-DD`` or ``YYYYMMDD``; periods are ``YYYYMM``; page sizes 1..200.
* Dates the contract derives from the transaction time (anomaly day, archive age,
  a red bill's issue date) are taken in China Standard Time (UTC+08:00).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from ..shim.errors import InvalidArgument
from .vocabulary import PAYER_TYPES, SECTORS

MAX_AMOUNT = 10**13  # fen; 100 billion yuan
MAX_ITEMS = 200
MAX_JSON_BYTES = 512 * 1024

BILL_CODE = re.compile(r"[0-9]{8}")
BILL_NUMBER = re.compile(r"[0-9]{10}")
UNIT_CODE = re.compile(r"[A-Za-z0-9]{1,32}")
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})"
)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_QUANTITY = re.compile(r"[0-9]{1,12}(\.[0-9]{1,6})?")
# Control characters, line/paragraph separators and lone surrogates (not encodable).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")

REGION = re.compile(r"[0-9]{2}")
#: Reimburser ids (certificate attribute ``reimburser``), e.g. MEDINS-HN, PICC-HN.
REIMBURSER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
#: Stock batch ids are the ids of the ApplyStock transactions.
BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
PAYER_HASH = re.compile(r"[0-9a-f]{64}")
MAX_STOCK_COUNT = 1_000_000
MAX_BILL_NUMBER = 10**10 - 1
MAX_PAGE_SIZE = 200
MAX_BOOKMARK = 4096
#: The contract's calendar for dates derived from the transaction time.
CHINA = timezone(timedelta(hours=8), "CST")


# --- field readers ---------------------------------------------------------------------


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidArgument(f"{path}: must be a JSON object")
    return value


def _shown(name: str) -> str:
    """A client-supplied name, made safe to echo in a message."""
    if len(name) <= 40 and name.isprintable():
        return name
    return repr(name[:40])


def _check_keys(
    obj: dict[str, Any], path: str, required: tuple[str, ...], optional: tuple[str, ...]
) -> None:
    unknown = sorted(set(obj) - set(required) - set(optional))
    if unknown:
        names = ", ".join(_join(path, _shown(k)) for k in unknown[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        plural = "s" if len(unknown) > 1 else ""
        raise InvalidArgument(f"{names}{more}: unknown field{plural}")
    for key in required:
        if key not in obj or obj[key] is None:
            raise InvalidArgument(f"{_join(path, key)}: required")


def _text(obj: dict[str, Any], path: str, key: str, max_len: int) -> str:
    field = _join(path, key)
    value = obj[key]
    if not isinstance(value, str):
        raise InvalidArgument(f"{field}: must be a string")
    if not value.strip():
        raise InvalidArgument(f"{field}: must not be blank")
    if len(value) > max_len:
        raise InvalidArgument(f"{field}: must be at most {max_len} characters")
    if _CONTROL.search(value):
        raise InvalidArgument(f"{field}: must not contain control characters or lone surrogates")
    return value


def _optional_text(obj: dict[str, Any], path: str, key: str, max_len: int) -> str | None:
    if obj.get(key) in (None, ""):
        return None
    return _text(obj, path, key, max_len)


def _pattern(obj: dict[str, Any], path: str, key: str, pattern: re.Pattern[str], rule: str) -> str:
    field = _join(path, key)
    value = obj[key]
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InvalidArgument(f"{field}: {rule}")
    return value


def _fen(obj: dict[str, Any], path: str, key: str, *, positive: bool = False) -> int:
    field = _join(path, key)
    value = obj[key]
    if isinstance(value, bool):
        raise InvalidArgument(f"{field}: must be an integer number of fen, not a boolean")
    if isinstance(value, float):
        raise InvalidArgument(f"{field}: must be an integer number of fen, not a float")
    if not isinstance(value, int):
        raise InvalidArgument(f"{field}: must be an integer number of fen")
    if positive and value <= 0:
        raise InvalidArgument(f"{field}: must be greater than 0")
    if value < 0:
        raise InvalidArgument(f"{field}: must not be negative")
    if value > MAX_AMOUNT:
        raise InvalidArgument(f"{field}: must be at most {MAX_AMOUNT} fen")
    return value


def _quantity(obj: dict[str, Any], path: str, key: str) -> str:
    field = _join(path, key)
    value = obj[key]
    rule = 'must be a positive integer or a decimal string such as "1.5"'
    if isinstance(value, bool | float):
        raise InvalidArgument(f"{field}: {rule}")
    if isinstance(value, int):
        if not 0 < value < 10**12:
            raise InvalidArgument(f"{field}: {rule}, below 10^12")
        return str(value)
    if not isinstance(value, str) or not _QUANTITY.fullmatch(value):
        raise InvalidArgument(f"{field}: {rule}")
    try:
        number = Decimal(value)
    except InvalidOperation:  # unreachable after the pattern; kept for safety
        raise InvalidArgument(f"{field}: {rule}") from None
    if number <= 0:
        raise InvalidArgument(f"{field}: must be greater than 0")
    return format(number.normalize(), "f")


def _date_time(obj: dict[str, Any], path: str, key: str) -> str:
    field = _join(path, key)
    value = obj[key]
    rule = "must be an ISO 8601 date-time with offset, e.g. 2021-01-05T10:30:00+08:00"
    if not isinstance(value, str) or not _DATE_TIME.fullmatch(value):
        raise InvalidArgument(f"{field}: {rule}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidArgument(f"{field}: {rule}") from None
    return parsed.isoformat()


def _optional_date(obj: dict[str, Any], path: str, key: str) -> date | None:
    if obj.get(key) in (None, ""):
        return None
    field = _join(path, key)
    value = obj[key]
    rule = "must be a date YYYY-MM-DD"
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise InvalidArgument(f"{field}: {rule}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidArgument(f"{field}: {rule}") from None


# --- the model -------------------------------------------------------------------------


@dataclass(frozen=True)
class Payer:
    """Who paid. Personal data: never stored in clear on the public ledger."""

    type: str
    id: str
    name: str

    @classmethod
    def parse(cls, value: Any, path: str) -> Payer:
        obj = _object(value, path)
        _check_keys(obj, path, ("type", "id", "name"), ())
        kind = obj["type"]
        if kind not in PAYER_TYPES:
            raise InvalidArgument(f'{_join(path, "type")}: must be "person" or "company"')
        return cls(kind, _text(obj, path, "id", 64), _text(obj, path, "name", 100))

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "id": self.id, "name": self.name}


@dataclass(frozen=True)
class LineItem:
    """One charged item."""

    code: str
    name: str
    quantity: str
    unit: str
    standard_price: int
    amount: int

    @classmethod
    def parse(cls, value: Any, path: str) -> LineItem:
        obj = _object(value, path)
        keys = ("code", "name", "quantity", "unit", "standardPrice", "amount")
        _check_keys(obj, path, keys, ())
        return cls(
            code=_text(obj, path, "code", 32),
            name=_text(obj, path, "name", 100),
            quantity=_quantity(obj, path, "quantity"),
            unit=_text(obj, path, "unit", 20),
            standard_price=_fen(obj, path, "standardPrice"),
            amount=_fen(obj, path, "amount"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "quantity": self.quantity,
            "unit": self.unit,
            "standardPrice": self.standard_price,
            "amount": self.amount,
        }


@dataclass(frozen=True)
class MedicalInfo:
    """The medical extension of a hospital bill."""

    patient_number: str
    insurance_type: str
    fund_paid: int
    personal_account_paid: int
    own_paid: int
    admission_date: date | None = None
    discharge_date: date | None = None

    @classmethod
    def parse(cls, value: Any, path: str) -> MedicalInfo:
        obj = _object(value, path)
        required = ("patientNumber", "insuranceType", "fundPaid", "personalAccountPaid", "ownPaid")
        _check_keys(obj, path, required, ("admissionDate", "dischargeDate"))
        info = cls(
            patient_number=_text(obj, path, "patientNumber", 64),
            insurance_type=_text(obj, path, "insuranceType", 50),
            fund_paid=_fen(obj, path, "fundPaid"),
            personal_account_paid=_fen(obj, path, "personalAccountPaid"),
            own_paid=_fen(obj, path, "ownPaid"),
            admission_date=_optional_date(obj, path, "admissionDate"),
            discharge_date=_optional_date(obj, path, "dischargeDate"),
        )
        admitted, discharged = info.admission_date, info.discharge_date
        if admitted is not None and discharged is not None and discharged < admitted:
            raise InvalidArgument(
                f"{_join(path, 'dischargeDate')}: must not be before admissionDate"
            )
        return info

    @property
    def paid_total(self) -> int:
        return self.fund_paid + self.personal_account_paid + self.own_paid

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "patientNumber": self.patient_number,
            "insuranceType": self.insurance_type,
            "fundPaid": self.fund_paid,
            "personalAccountPaid": self.personal_account_paid,
            "ownPaid": self.own_paid,
        }
        if self.admission_date is not None:
            result["admissionDate"] = self.admission_date.isoformat()
        if self.discharge_date is not None:
            result["dischargeDate"] = self.discharge_date.isoformat()
        return result


#: The fields of a bill that the public record keeps (IssueBill's argument adds payerHash).
PUBLIC_BILL_FIELDS = (
    "billCode",
    "billNumber",
    "billName",
    "unitCode",
    "unitName",
    "issueDate",
    "totalAmount",
)
_BILL_REQUIRED = (*PUBLIC_BILL_FIELDS, "items", "clerk")
_BILL_OPTIONAL = ("reviewer", "remark")
#: Personal parts that must not appear in the public JSON, and where they go instead.
_TRANSIENT_ONLY = {"payer": "payer", "medical": "medical"}


@dataclass(frozen=True)
class Bill:
    """The public part of a fiscal e-bill as submitted for issuance, validated."""

    bill_code: str
    bill_number: str
    bill_name: str
    unit_code: str
    unit_name: str
    issue_date: str
    total_amount: int
    items: tuple[LineItem, ...]
    clerk: str
    reviewer: str | None = None
    remark: str | None = None

    @classmethod
    def parse(cls, value: Any) -> Bill:
        """Validate a decoded issuance document (see :func:`parse_bill`)."""
        obj = _object(value, "billJSON")
        for field, transient_key in _TRANSIENT_ONLY.items():
            if field in obj:
                raise InvalidArgument(
                    f"{field}: personal data must not be in billJSON;"
                    f" send it as transient data {transient_key!r}"
                )
        _check_keys(obj, "", _BILL_REQUIRED, _BILL_OPTIONAL)
        bill_code = _pattern(obj, "", "billCode", BILL_CODE, "must be 8 digits")
        bill_number = _pattern(obj, "", "billNumber", BILL_NUMBER, "must be 10 digits")
        bill_name = _text(obj, "", "billName", 100)
        unit_code = _pattern(obj, "", "unitCode", UNIT_CODE, "must be 1 to 32 letters or digits")
        unit_name = _text(obj, "", "unitName", 200)
        issue_date = _date_time(obj, "", "issueDate")
        total_amount = _fen(obj, "", "totalAmount", positive=True)
        raw_items = obj["items"]
        if not isinstance(raw_items, list) or not 1 <= len(raw_items) <= MAX_ITEMS:
            raise InvalidArgument(f"items: must be a list of 1 to {MAX_ITEMS} items")
        items = tuple(LineItem.parse(item, f"items[{i}]") for i, item in enumerate(raw_items))
        item_sum = sum(item.amount for item in items)
        if item_sum != total_amount:
            raise InvalidArgument(
                f"items: amounts sum to {item_sum} fen but totalAmount is {total_amount}"
            )
        return cls(
            bill_code=bill_code,
            bill_number=bill_number,
            bill_name=bill_name,
            unit_code=unit_code,
            unit_name=unit_name,
            issue_date=issue_date,
            total_amount=total_amount,
            items=items,
            clerk=_text(obj, "", "clerk", 50),
            reviewer=_optional_text(obj, "", "reviewer", 50),
            remark=_optional_text(obj, "", "remark", 500),
        )

    @property
    def issue_day(self) -> str:
        """The calendar date of issue as YYYYMMDD, in the bill's own offset."""
        return self.issue_date[:10].replace("-", "")

    def public_json(self) -> dict[str, Any]:
        """The bill in the camelCase shape of the input."""
        result: dict[str, Any] = {
            "billCode": self.bill_code,
            "billNumber": self.bill_number,
            "billName": self.bill_name,
            "unitCode": self.unit_code,
            "unitName": self.unit_name,
            "issueDate": self.issue_date,
            "totalAmount": self.total_amount,
            "items": [item.to_json() for item in self.items],
            "clerk": self.clerk,
        }
        if self.reviewer is not None:
            result["reviewer"] = self.reviewer
        if self.remark is not None:
            result["remark"] = self.remark
        return result


_PUBLIC_REQUIRED = (*PUBLIC_BILL_FIELDS, "payerHash")
_PRIVATE_ONLY = ("items", "clerk", "reviewer", "remark", "payer", "medical")


@dataclass(frozen=True)
class PublicBill:
    """The public part of a bill, IssueBill's argument: what verification and
    supervision need. Line items, staff names, payer and medical part are private
    (deposited first with DepositBillPrivate)."""

    bill_code: str
    bill_number: str
    bill_name: str
    unit_code: str
    unit_name: str
    issue_date: str
    total_amount: int
    payer_hash: str

    @classmethod
    def parse(cls, value: Any) -> PublicBill:
        obj = _object(value, "billJSON")
        for field in _PRIVATE_ONLY:
            if field in obj:
                raise InvalidArgument(
                    f"{field}: private, must not be in billJSON; deposit it with"
                    " DepositBillPrivate (transient data)"
                )
        _check_keys(obj, "", _PUBLIC_REQUIRED, ())
        return cls(
            bill_code=_pattern(obj, "", "billCode", BILL_CODE, "must be 8 digits"),
            bill_number=_pattern(obj, "", "billNumber", BILL_NUMBER, "must be 10 digits"),
            bill_name=_text(obj, "", "billName", 100),
            unit_code=_pattern(obj, "", "unitCode", UNIT_CODE, "must be 1 to 32 letters or digits"),
            unit_name=_text(obj, "", "unitName", 200),
            issue_date=_date_time(obj, "", "issueDate"),
            total_amount=_fen(obj, "", "totalAmount", positive=True),
            payer_hash=_pattern(
                obj, "", "payerHash", PAYER_HASH, "must be 64 lower-case hex digits"
            ),
        )

    def public_json(self) -> dict[str, Any]:
        return {
            "billCode": self.bill_code,
            "billNumber": self.bill_number,
            "billName": self.bill_name,
            "unitCode": self.unit_code,
            "unitName": self.unit_name,
            "issueDate": self.issue_date,
            "totalAmount": self.total_amount,
            "payerHash": self.payer_hash,
        }


@dataclass(frozen=True)
class Unit:
    """An issuing unit as finance registers it."""

    unit_code: str
    name: str
    sector: str
    region: str

    @classmethod
    def parse(cls, value: Any) -> Unit:
        obj = _object(value, "unitJSON")
        _check_keys(obj, "", ("unitCode", "name", "sector", "region"), ())
        unit_code = _pattern(obj, "", "unitCode", UNIT_CODE, "must be 1 to 32 letters or digits")
        name = _text(obj, "", "name", 200)
        if obj["sector"] not in SECTORS:
            raise InvalidArgument(f"sector: must be one of {', '.join(SECTORS)}")
        region = _pattern(obj, "", "region", REGION, "must be 2 digits")
        return cls(unit_code, name, obj["sector"], region)

    def to_json(self) -> dict[str, Any]:
        return {
            "unitCode": self.unit_code,
            "name": self.name,
            "sector": self.sector,
            "region": self.region,
        }


@dataclass(frozen=True)
class StockApplication:
    """A unit's application for a range of numbers of one bill code."""

    unit_code: str
    bill_code: str
    start_number: str
    count: int

    @classmethod
    def parse(cls, value: Any) -> StockApplication:
        obj = _object(value, "applicationJSON")
        _check_keys(obj, "", ("unitCode", "billCode", "startNumber", "count"), ())
        unit_code = _pattern(obj, "", "unitCode", UNIT_CODE, "must be 1 to 32 letters or digits")
        bill_code = _pattern(obj, "", "billCode", BILL_CODE, "must be 8 digits")
        start = _pattern(obj, "", "startNumber", BILL_NUMBER, "must be 10 digits")
        count = obj["count"]
        rule = f"must be an integer from 1 to {MAX_STOCK_COUNT}"
        if isinstance(count, bool) or not isinstance(count, int):
            raise InvalidArgument(f"count: {rule}")
        if not 1 <= count <= MAX_STOCK_COUNT:
            raise InvalidArgument(f"count: {rule}")
        if int(start) + count - 1 > MAX_BILL_NUMBER:
            raise InvalidArgument("count: the range must end at or below 9999999999")
        return cls(unit_code, bill_code, start, count)

    @property
    def end_number(self) -> str:
        return number_text(int(self.start_number) + self.count - 1)


def number_text(number: int) -> str:
    """A bill number as its 10-digit text."""
    return f"{number:010d}"


def decode_json(text: str, argument: str = "billJSON") -> Any:
    """Strict JSON decoding; any failure is InvalidArgument naming ``argument``."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise InvalidArgument(f"{argument}: duplicate key {key!r}")
            result[key] = value
        return result

    def no_constant(name: str) -> Any:
        raise InvalidArgument(f"{argument}: {name} is not valid JSON")

    if len(text.encode("utf-8", errors="surrogatepass")) > MAX_JSON_BYTES:
        raise InvalidArgument(f"{argument}: must be at most {MAX_JSON_BYTES} bytes")
    try:
        return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "too deep or too large"
        raise InvalidArgument(f"{argument}: not valid JSON ({reason})") from None


def parse_bill(text: str) -> Bill:
    """Decode and validate a full issuance document (DepositBillPrivate's transient bill)."""
    return Bill.parse(decode_json(text, "billJSON"))


def parse_public_bill(text: str) -> PublicBill:
    """Decode and validate the IssueBill argument (the public part)."""
    return PublicBill.parse(decode_json(text, "billJSON"))


def parse_unit(text: str) -> Unit:
    """Decode and validate the RegisterUnit argument."""
    return Unit.parse(decode_json(text, "unitJSON"))


def parse_stock_application(text: str) -> StockApplication:
    """Decode and validate the ApplyStock argument."""
    return StockApplication.parse(decode_json(text, "applicationJSON"))


# --- transaction arguments ---------------------------------------------------------------


def _argument(text: str, name: str, pattern: re.Pattern[str], rule: str) -> str:
    if not pattern.fullmatch(text):
        raise InvalidArgument(f"{name}: {rule}")
    return text


def bill_ref(bill_code: str, bill_number: str, number_name: str = "billNumber") -> None:
    """Validate a bill's identity arguments."""
    _argument(bill_code, "billCode", BILL_CODE, "must be 8 digits")
    _argument(bill_number, number_name, BILL_NUMBER, "must be 10 digits")


def unit_code_arg(text: str) -> str:
    return _argument(text, "unitCode", UNIT_CODE, "must be 1 to 32 letters or digits")


def batch_id_arg(text: str, name: str = "batchId") -> str:
    return _argument(text, name, BATCH_ID, "must be 1 to 128 letters, digits, - or _")


def reimburser_id_arg(text: str) -> str:
    rule = "must be 1 to 64 letters, digits, - or _, starting with a letter or digit"
    return _argument(text, "reimburserId", REIMBURSER_ID, rule)


def payer_hash_arg(text: str) -> str:
    return _argument(text, "payerHash", PAYER_HASH, "must be 64 lower-case hex digits")


def text_arg(text: str, name: str, max_len: int) -> str:
    """Required one-line text: not blank, at most ``max_len`` characters."""
    return _text({name: text}, "", name, max_len)


def fen_arg(text: str, name: str) -> int:
    """A positive amount of fen given as decimal digits."""
    if not re.fullmatch(r"[0-9]{1,14}", text):
        raise InvalidArgument(f"{name}: must be an integer number of fen")
    amount = int(text)
    if amount <= 0:
        raise InvalidArgument(f"{name}: must be greater than 0")
    if amount > MAX_AMOUNT:
        raise InvalidArgument(f"{name}: must be at most {MAX_AMOUNT} fen")
    return amount


def page_size_arg(text: str) -> int:
    rule = f"must be an integer from 1 to {MAX_PAGE_SIZE}"
    if not re.fullmatch(r"[0-9]{1,3}", text) or not 1 <= int(text) <= MAX_PAGE_SIZE:
        raise InvalidArgument(f"pageSize: {rule}")
    return int(text)


def bookmark_arg(text: str) -> str:
    """An opaque bookmark from a previous page ("" for the first page)."""
    if len(text) > MAX_BOOKMARK:
        raise InvalidArgument(f"bookmark: must be at most {MAX_BOOKMARK} characters")
    return text


_DAY = re.compile(r"([0-9]{4})-?([0-9]{2})-?([0-9]{2})")


def day_arg(text: str, name: str) -> str:
    """A date given as YYYY-MM-DD or YYYYMMDD, returned as YYYYMMDD."""
    rule = "must be a date YYYY-MM-DD or YYYYMMDD"
    match = _DAY.fullmatch(text)
    if match is None or (("-" in text) and len(text) != 10):
        raise InvalidArgument(f"{name}: {rule}")
    try:
        date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise InvalidArgument(f"{name}: {rule}") from None
    return match[1] + match[2] + match[3]


def day_span(from_text: str, to_text: str) -> tuple[str, str]:
    """An inclusive span of days; from must not be after to."""
    first, last = day_arg(from_text, "fromDate"), day_arg(to_text, "toDate")
    if first > last:
        raise InvalidArgument("fromDate: must not be after toDate")
    return first, last


def period_arg(text: str) -> str:
    """A month as YYYYMM."""
    if not re.fullmatch(r"[0-9]{4}(0[1-9]|1[0-2])", text):
        raise InvalidArgument("period: must be a month YYYYMM")
    return text
