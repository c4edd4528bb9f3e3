"""Realistic sample bills for the demo, the benchmark and tests (money in fen).

A sample is the full issuance document (public part, line items, staff), the
personal part (payer, medical details) and the payer's salt; ``UnitClient.issue_bill``
deposits the private part and issues the public part. Samples are dated now: the
chain accepts an issueDate only near the transaction time.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from ebill_chaincode.contract.model import PUBLIC_BILL_FIELDS
from ebill_chaincode.contract.privacy import payer_hash

from .clock import issue_date_now

HOSPITAL = ("HN0101", "海南省人民医院")
SCHOOL = ("HN0201", "海口市第一中学")
HOSPITAL_UNIT = {"unitCode": HOSPITAL[0], "name": HOSPITAL[1], "sector": "medical", "region": "46"}
SCHOOL_UNIT = {"unitCode": SCHOOL[0], "name": SCHOOL[1], "sector": "education", "region": "46"}
# Region 46 (Hainan), class 01 (medical), kind 01 (outpatient), year 26.
OUTPATIENT_CODE = "46010126"
# Region 46, class 03 (education), kind 01 (tuition), year 26.
TUITION_CODE = "46030126"
PAYER1 = {"type": "person", "id": "460100199001011234", "name": "张三"}
PAYER2 = {"type": "person", "id": "460100201001015678", "name": "李四"}


@dataclass
class SampleBill:
    """A bill ready to issue: public JSON, personal part, and the payer's salt."""

    bill: dict[str, Any]
    payer: dict[str, str]
    medical: dict[str, Any] | None = None
    salt: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def code(self) -> str:
        return str(self.bill["billCode"])

    @property
    def number(self) -> str:
        return str(self.bill["billNumber"])

    def argument(self) -> str:
        return json.dumps(self.bill, ensure_ascii=False)

    def public(self) -> dict[str, Any]:
        """IssueBill's argument: the public fields and the payer hash of this salt."""
        result = {name: self.bill[name] for name in PUBLIC_BILL_FIELDS if name in self.bill}
        result["payerHash"] = payer_hash(self.salt, self.payer["type"], self.payer["id"])
        return result

    def transient(self) -> dict[str, bytes]:
        data = {
            "payer": json.dumps(self.payer, ensure_ascii=False).encode(),
            "payerSalt": self.salt,
        }
        if self.medical is not None:
            data["medical"] = json.dumps(self.medical, ensure_ascii=False).encode()
        return data


def outpatient_bill(
    number: str, *, unit: tuple[str, str] = HOSPITAL, payer: dict[str, str] | None = None
) -> SampleBill:
    """An outpatient medical bill of 3 items, 268.50 yuan, with the medical extension."""
    items: list[dict[str, Any]] = [
        {"code": "310100001", "name": "门诊诊查费", "quantity": "1", "unit": "次",
         "standardPrice": 2500, "amount": 2500},
        {"code": "250101001", "name": "血常规检查", "quantity": "1", "unit": "项",
         "standardPrice": 3850, "amount": 3850},
        {"code": "XY0001", "name": "阿莫西林胶囊", "quantity": "2", "unit": "盒",
         "standardPrice": 10250, "amount": 20500},
    ]  # fmt: skip
    total = sum(int(i["amount"]) for i in items)
    bill = {
        "billCode": OUTPATIENT_CODE,
        "billNumber": number,
        "billName": "海南省医疗门诊收费票据（电子）",
        "unitCode": unit[0],
        "unitName": unit[1],
        "issueDate": issue_date_now(),
        "totalAmount": total,
        "items": items,
        "clerk": "李护士",
        "reviewer": "王会计",
        "remark": "",
    }
    medical = {
        "patientNumber": "MZ20261128001",
        "insuranceType": "城镇职工基本医疗保险",
        "fundPaid": 16110,
        "personalAccountPaid": 5370,
        "ownPaid": total - 16110 - 5370,
    }
    return SampleBill(bill, dict(payer or PAYER1), medical)


def tuition_bill(
    number: str, *, unit: tuple[str, str] = SCHOOL, payer: dict[str, str] | None = None
) -> SampleBill:
    """A school accommodation fee bill of one item, 1,200.00 yuan."""
    bill = {
        "billCode": TUITION_CODE,
        "billNumber": number,
        "billName": "海南省非税收入统一票据（电子）",
        "unitCode": unit[0],
        "unitName": unit[1],
        "issueDate": issue_date_now(),
        "totalAmount": 120000,
        "items": [
            {"code": "JY0101", "name": "住宿费", "quantity": "1", "unit": "学期",
             "standardPrice": 120000, "amount": 120000},
        ],
        "clerk": "赵老师",
    }  # fmt: skip
    return SampleBill(bill, dict(payer or PAYER2))
