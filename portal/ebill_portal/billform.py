"""The issuing unit's bill form: its fields as typed, checked, and turned into the body of
the service's ``POST /v1/bills``.

Prices are yuan with at most two decimals and become integer fen exactly (text to
integer, never a float); a line's amount is its price times its quantity, which must be
a whole number of fen. Every refusal names the field (``items[1].price``...) and the rule.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .i18n import CHINA, china_today

# ASCII digits only: Python's \d also matches full-width and other digits
BILL_CODE = re.compile(r"[0-9]{8}")
BILL_NUMBER = re.compile(r"[0-9]{10}")
YUAN = re.compile(r"[0-9]{1,13}(\.[0-9]{1,2})?")
QUANTITY = re.compile(r"[0-9]{1,12}(\.[0-9]{1,6})?")
PAYER_TYPES = ("person", "company")
ITEM_FIELDS = ("code", "name", "quantity", "unit", "price")
MAX_ITEMS = 100
EMPTY_ROWS = 3


def fen(text: str, name: str) -> int:
    """Yuan with up to two decimals -> integer fen. Raises ValueError naming ``name``."""
    if not YUAN.fullmatch(text):
        raise ValueError(f"{name}: yuan with at most two decimals, e.g. 25.00")
    whole, _, cents = text.partition(".")
    return int(whole) * 100 + int((cents + "00")[:2])


def line_amount(price_fen: int, quantity: str, name: str) -> int:
    """``price_fen`` times ``quantity`` in fen. Raises ValueError when it is no whole fen."""
    amount = Decimal(price_fen) * Decimal(quantity)
    if amount != amount.to_integral_value():
        raise ValueError(f"{name}: price times quantity must be a whole number of fen")
    return int(amount)


@dataclass
class BillForm:
    """The form as typed (strings), with one dict per line item row."""

    bill_code: str = ""
    bill_number: str = ""
    bill_name: str = ""
    day: str = ""
    payer_type: str = "person"
    payer_id: str = ""
    payer_name: str = ""
    remark: str = ""
    items: list[dict[str, str]] = field(default_factory=list)
    #: when the form was opened (ISO, China time): a resubmitted form has the same
    #: issueDate, so that its idempotency key finds the same request
    opened: str = ""

    @classmethod
    def blank(cls, bill_name: str, rows: int = EMPTY_ROWS) -> BillForm:
        opened = dt.datetime.now(CHINA).replace(microsecond=0).isoformat()
        form = cls(bill_name=bill_name, day=china_today(), opened=opened)
        form.items = [dict.fromkeys(ITEM_FIELDS, "") for _ in range(rows)]
        return form

    @classmethod
    def read(cls, form: Any) -> BillForm:
        """The typed values of a submitted form (a Starlette FormData)."""

        def one(key: str) -> str:
            return str(form.get(key, "")).strip()

        columns = {k: [str(v).strip() for v in form.getlist(f"item_{k}")] for k in ITEM_FIELDS}
        rows = max((len(c) for c in columns.values()), default=0)
        items = [
            {k: (columns[k][i] if i < len(columns[k]) else "") for k in ITEM_FIELDS}
            for i in range(min(rows, MAX_ITEMS + 1))
        ]
        return cls(
            bill_code=one("billCode"),
            bill_number=one("billNumber"),
            bill_name=one("billName"),
            day=one("day"),
            payer_type=one("payerType"),
            payer_id=one("payerId"),
            payer_name=one("payerName"),
            remark=one("remark"),
            items=items,
            opened=one("opened"),
        )

    def with_row(self) -> BillForm:
        """The same form with one more empty line item row (the "add a row" button)."""
        if len(self.items) < MAX_ITEMS:
            self.items.append(dict.fromkeys(ITEM_FIELDS, ""))
        return self

    def filled_items(self) -> list[tuple[int, dict[str, str]]]:
        """The rows with anything typed in them, with their 1-based row number."""
        return [(i + 1, row) for i, row in enumerate(self.items) if any(row.values())]

    def issue_date(self) -> str:
        """The form's day as the contract's issueDate: the time the form was opened (China
        time) when that was on the day, else noon China time. Raises ValueError."""
        try:
            current = dt.datetime.fromisoformat(self.opened).astimezone(CHINA)
        except ValueError:
            current = dt.datetime.now(CHINA).replace(microsecond=0)
        day = dt.date.fromisoformat(self.day)
        if day == current.date():
            return current.isoformat()
        return dt.datetime.combine(day, dt.time(12), CHINA).isoformat()

    def body(self, unit_code: str, unit_name: str, clerk: str) -> tuple[dict[str, Any], list[str]]:
        """The service's issuance body and the errors found (each naming its field); the
        body is only to be sent when there are no errors."""
        errors: list[str] = []
        if not BILL_CODE.fullmatch(self.bill_code):
            errors.append("billCode: 8 digits")
        if not BILL_NUMBER.fullmatch(self.bill_number):
            errors.append("billNumber: 10 digits")
        if not self.bill_name:
            errors.append("billName: required")
        try:
            issue_date = self.issue_date()
        except ValueError:
            issue_date = ""
            errors.append("day: a date YYYY-MM-DD")
        if self.payer_type not in PAYER_TYPES:
            errors.append("payerType: person or company")
        if not self.payer_id:
            errors.append("payerId: required")
        if not self.payer_name:
            errors.append("payerName: required")
        items: list[dict[str, Any]] = []
        filled = self.filled_items()
        if not filled:
            errors.append("items: at least one line item")
        if len(filled) > MAX_ITEMS:
            errors.append(f"items: at most {MAX_ITEMS}")
        for row, item in filled:
            where = f"items[{row}]"
            for key in ("code", "name", "unit"):
                if not item[key]:
                    errors.append(f"{where}.{key}: required")
            quantity = item["quantity"]
            if not QUANTITY.fullmatch(quantity) or Decimal(quantity) <= 0:
                errors.append(f'{where}.quantity: a number greater than 0, e.g. 1 or "1.5"')
                continue
            try:
                price = fen(item["price"], f"{where}.price")
                amount = line_amount(price, quantity, f"{where}.price")
            except ValueError as exc:
                errors.append(str(exc))
                continue
            items.append(
                {
                    "code": item["code"],
                    "name": item["name"],
                    "quantity": format(Decimal(quantity).normalize(), "f"),
                    "unit": item["unit"],
                    "standardPrice": price,
                    "amount": amount,
                }
            )
        total = sum(int(i["amount"]) for i in items)
        if items and not errors and total <= 0:
            errors.append("items: the total must be greater than 0")
        bill: dict[str, Any] = {
            "billCode": self.bill_code,
            "billNumber": self.bill_number,
            "billName": self.bill_name,
            "unitCode": unit_code,
            "unitName": unit_name,
            "issueDate": issue_date,
            "totalAmount": total,
            "items": items,
            "clerk": clerk,
        }
        if self.remark:
            bill["remark"] = self.remark
        payer = {"type": self.payer_type, "id": self.payer_id, "name": self.payer_name}
        return {"bill": bill, "payer": payer}, errors
