"""The bill slice on the real network: issue, read back from every org, verify, refusals."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import fabricgw
from ebill.connection import Connection
from ebill.samples import HOSPITAL, OUTPATIENT_CODE, outpatient_bill

ORGS = ("finance", "units", "insurance", "audit")
READERS = {"finance": "finance1", "units": "hospital1", "insurance": "medins1", "audit": "auditor1"}

Connect = Callable[..., Connection]


def issue(conn: Connection, bill: dict[str, Any]) -> dict[str, Any]:
    result = conn.contract.submit_transaction("IssueBill", json.dumps(bill, ensure_ascii=False))
    record = json.loads(result)
    assert isinstance(record, dict)
    return record


def test_issued_bill_is_read_back_from_the_peer_of_every_org(
    connect_as: Connect, next_number: Callable[[], str]
) -> None:
    hospital = connect_as("units", "hospital1")
    bill = outpatient_bill(next_number())
    record = issue(hospital, bill)
    assert record["status"] == "issued"
    assert len(record["checkCode"]) == 6

    for org in ORGS:
        reader = connect_as(org, READERS[org])  # each through its own org's peer
        stored = json.loads(
            reader.contract.evaluate_transaction("ReadBill", OUTPATIENT_CODE, bill["billNumber"])
        )
        assert stored["billNumber"] == bill["billNumber"]
        assert stored["totalAmount"] == 26850
        assert stored["checkCode"] == record["checkCode"]
        assert stored["unitCode"] == HOSPITAL[0]
        # the public record holds no payer identity, only its salted hash
        assert "payer" not in stored and len(stored["payerHash"]) == 64
        assert "张三" not in json.dumps(stored, ensure_ascii=False)


def test_verify_with_check_code(connect_as: Connect, next_number: Callable[[], str]) -> None:
    record = issue(connect_as("units", "hospital1"), outpatient_bill(next_number()))
    insurer = connect_as("insurance", "medins1")
    args = (OUTPATIENT_CODE, record["billNumber"])

    good = json.loads(
        insurer.contract.evaluate_transaction("VerifyBill", *args, record["checkCode"])
    )
    assert good["genuine"] is True and good["status"] == "issued" and good["totalAmount"] == 26850

    wrong = "000000" if record["checkCode"] != "000000" else "111111"
    bad = json.loads(insurer.contract.evaluate_transaction("VerifyBill", *args, wrong))
    assert bad["genuine"] is False
    assert "totalAmount" not in bad


def test_duplicate_bill_is_refused(connect_as: Connect, next_number: Callable[[], str]) -> None:
    hospital = connect_as("units", "hospital1")
    bill = outpatient_bill(next_number())
    first = issue(hospital, bill)
    with pytest.raises(fabricgw.EndorseError) as info:
        issue(hospital, bill)
    assert f"Conflict: bill {OUTPATIENT_CODE}/{bill['billNumber']} already exists" in str(
        info.value
    )
    assert info.value.chaincode_message is not None
    assert info.value.chaincode_message.startswith("Conflict:")
    # the first bill is untouched
    stored = json.loads(
        hospital.contract.evaluate_transaction("ReadBill", OUTPATIENT_CODE, bill["billNumber"])
    )
    assert stored["checkCode"] == first["checkCode"]


@pytest.mark.parametrize(
    ("org", "user"), [("units", "clerk1"), ("finance", "finance1"), ("units", "admin0")]
)
def test_identity_without_issuer_role_is_refused(
    connect_as: Connect, next_number: Callable[[], str], org: str, user: str
) -> None:
    conn = connect_as(org, user)
    bill = outpatient_bill(next_number())
    with pytest.raises(fabricgw.EndorseError) as info:
        issue(conn, bill)
    message = info.value.chaincode_message or ""
    assert message.startswith("Forbidden:"), str(info.value)
    assert "issuer" in message
    # nothing was written
    reader = connect_as("audit", "auditor1")
    with pytest.raises(fabricgw.EvaluateError) as missing:
        reader.contract.evaluate_transaction("ReadBill", OUTPATIENT_CODE, bill["billNumber"])
    assert (missing.value.chaincode_message or "").startswith("NotFound:")


def test_issuer_cannot_issue_for_another_unit(
    connect_as: Connect, next_number: Callable[[], str]
) -> None:
    school = connect_as("units", "school1")
    with pytest.raises(fabricgw.EndorseError) as info:
        issue(school, outpatient_bill(next_number()))  # a hospital bill
    assert (info.value.chaincode_message or "").startswith("Forbidden:")


def test_fifty_concurrent_issues_all_commit(
    connect_as: Connect, next_number: Callable[[], str]
) -> None:
    hospital = connect_as("units", "hospital1")
    numbers = [next_number() for _ in range(50)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        records = list(pool.map(lambda n: issue(hospital, outpatient_bill(n)), numbers))
    assert sorted(r["billNumber"] for r in records) == sorted(numbers)
    auditor = connect_as("audit", "auditor1")
    for n in numbers:
        stored = json.loads(auditor.contract.evaluate_transaction("ReadBill", OUTPATIENT_CODE, n))
        assert stored["status"] == "issued"


def test_missing_bill_gives_clear_not_found(connect_as: Connect) -> None:
    auditor = connect_as("audit", "auditor1")
    with pytest.raises(fabricgw.EvaluateError) as info:
        auditor.contract.evaluate_transaction("ReadBill", OUTPATIENT_CODE, "9999999999")
    assert info.value.chaincode_message == f"NotFound: bill {OUTPATIENT_CODE}/9999999999 not found"
    with pytest.raises(fabricgw.EvaluateError) as verify:
        auditor.contract.evaluate_transaction("VerifyBill", OUTPATIENT_CODE, "9999999999", "ABC123")
    assert (verify.value.chaincode_message or "").startswith("NotFound:")


def test_invalid_bill_names_the_field(connect_as: Connect, next_number: Callable[[], str]) -> None:
    bill = outpatient_bill(next_number())
    bill["totalAmount"] = 100  # items sum to 26850
    with pytest.raises(fabricgw.EndorseError) as info:
        issue(connect_as("units", "hospital1"), bill)
    message = info.value.chaincode_message or ""
    assert message.startswith("InvalidArgument:") and "totalAmount" in message
