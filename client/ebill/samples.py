"""Realistic sample bills for the demo, the benchmark and tests (money in fen)."""

from __future__ import annotations

from typing import Any

HOSPITAL = ("HN0101", "海南省人民医院")
SCHOOL = ("HN0201", "海口市第一中学")
# Region 46 (Hainan), class 01 (medical), kind 01 (outpatient), year 26.
OUTPATIENT_CODE = "46010126"
# Region 46, class 03 (education), kind 01 (tuition), year 26.
TUITION_CODE = "46030126"


def outpatient_bill(
    number: str,
    *,
    unit: tuple[str, str] = HOSPITAL,
    payer_id: str = "460100199001011234",
    payer_name: str = "张三",
    code: str = OUTPATIENT_CODE,
) -> dict[str, Any]:
    """An outpatient medical bill of 3 items, 268.50 yuan, with the medical extension."""
    items: list[dict[str, Any]] = [
        {
            "code": "310100001",
            "name": "门诊诊查费",
            "quantity": "1",
            "unit": "次",
            "standardPrice": 2500,
            "amount": 2500,
        },
        {
            "code": "250101001",
            "name": "血常规检查",
            "quantity": "1",
            "unit": "项",
            "standardPrice": 3850,
            "amount": 3850,
        },
        {
            "code": "XY0001",
            "name": "阿莫西林胶囊",
            "quantity": "2",
            "unit": "盒",
            "standardPrice": 10250,
            "amount": 20500,
        },
    ]
    total = sum(i["amount"] for i in items)
    return {
        "billCode": code,
        "billNumber": number,
        "billName": "海南省医疗门诊收费票据（电子）",
        "unitCode": unit[0],
        "unitName": unit[1],
        "payer": {"type": "person", "id": payer_id, "name": payer_name},
        "issueDate": "2026-11-28T09:30:00+08:00",
        "totalAmount": total,
        "items": items,
        "clerk": "李护士",
        "reviewer": "王会计",
        "remark": "",
        "medical": {
            "patientNumber": "MZ20261128001",
            "insuranceType": "城镇职工基本医疗保险",
            "fundPaid": 16110,
            "personalAccountPaid": 5370,
            "ownPaid": total - 16110 - 5370,
        },
    }


def tuition_bill(
    number: str,
    *,
    unit: tuple[str, str] = SCHOOL,
    payer_id: str = "460100201001015678",
    payer_name: str = "李四",
    code: str = TUITION_CODE,
) -> dict[str, Any]:
    """A school fee bill of one item, 1,200.00 yuan."""
    return {
        "billCode": code,
        "billNumber": number,
        "billName": "海南省非税收入统一票据（电子）",
        "unitCode": unit[0],
        "unitName": unit[1],
        "payer": {"type": "person", "id": payer_id, "name": payer_name},
        "issueDate": "2026-09-01T10:00:00+08:00",
        "totalAmount": 120000,
        "items": [
            {
                "code": "JY0101",
                "name": "住宿费",
                "quantity": "1",
                "unit": "学期",
                "standardPrice": 120000,
                "amount": 120000,
            }
        ],
        "clerk": "赵老师",
    }
