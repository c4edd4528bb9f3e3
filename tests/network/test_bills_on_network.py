"""Issuance and verification on the real network: read back everywhere, refusals, concurrency."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from chain import Connect, World, eventually, issue, query

import fabricgw
from ebill.samples import HOSPITAL, OUTPATIENT_CODE, outpatient_bill

PEER_ORGS = ("finance", "units", "insurance", "audit")


def test_issued_bill_is_read_back_from_the_peer_of_every_org(
    world: World, connect_as: Connect, next_number: Callable[[], str]
) -> None:
    sample = outpatient_bill(next_number())
    record = issue(connect_as("units", "hospital1"), sample)
    assert record["status"] == "issued"
    assert len(record["checkCode"]) == 6
    assert record["batchId"] == world.outpatient_batch

    for org in PEER_ORGS:
        auditor = connect_as("audit", "auditor1", via=org)  # evaluated on that org's peer
        stored = eventually(lambda a=auditor: query(a, "ReadBill", OUTPATIENT_CODE, sample.number))
        assert stored["billNumber"] == sample.number
        assert stored["totalAmount"] == 26850
        assert stored["checkCodeHash"] == record["checkCodeHash"] and "checkCode" not in stored
        assert stored["unitCode"] == HOSPITAL[0]
        # the public record holds no payer identity and no medical data, only a salted hash
        text = json.dumps(stored, ensure_ascii=False)
        assert len(stored["payerHash"]) == 64
        for personal in (sample.payer["id"], sample.payer["name"], "MZ20261128001"):
            assert personal not in text


def test_verify_with_check_code_needs_no_personal_data(
    world: World, connect_as: Connect, next_number: Callable[[], str]
) -> None:
    record = issue(connect_as("units", "hospital1"), outpatient_bill(next_number()))
    insurer = connect_as("insurance", "medins1")  # not authorised: may still verify
    args = (OUTPATIENT_CODE, record["billNumber"])

    good = query(insurer, "VerifyBill", *args, record["checkCode"])
    assert good["genuine"] is True and good["status"] == "issued" and good["totalAmount"] == 26850
    with_amount = query(insurer, "VerifyBill", *args, record["checkCode"], "26850")
    assert with_amount["genuine"] is True

    wrong = "000000" if record["checkCode"] != "000000" else "111111"
    bad = query(insurer, "VerifyBill", *args, wrong)
    assert bad["genuine"] is False and "totalAmount" not in bad
    assert query(insurer, "VerifyBill", *args, record["checkCode"], "100")["genuine"] is False


def test_duplicate_bill_is_refused(
    world: World, connect_as: Connect, next_number: Callable[[], str]
) -> None:
    hospital = connect_as("units", "hospital1")
    sample = outpatient_bill(next_number())
    first = issue(hospital, sample)
    with pytest.raises(fabricgw.EndorseError) as info:
        issue(hospital, sample)
    assert (
        info.value.chaincode_message == "Conflict [bill-exists]: DepositBillPrivate: bill"
        f" {OUTPATIENT_CODE}/{sample.number} already exists"
    )
    stored = query(hospital, "ReadBill", OUTPATIENT_CODE, sample.number)
    assert stored["checkCodeHash"] == first["checkCodeHash"]


@pytest.mark.parametrize(
    ("org", "user"), [("units", "clerk1"), ("finance", "finance1"), ("audit", "auditor1")]
)
def test_identity_without_issuer_role_is_refused(
    world: World, connect_as: Connect, next_number: Callable[[], str], org: str, user: str
) -> None:
    sample = outpatient_bill(next_number())
    with pytest.raises(fabricgw.EndorseError) as info:
        issue(connect_as(org, user), sample)
    message = info.value.chaincode_message or ""
    assert message.startswith("Forbidden [not-authorised]:") and "issuer" in message, message
    with pytest.raises(fabricgw.EvaluateError) as missing:
        query(connect_as("audit", "auditor1"), "ReadBill", OUTPATIENT_CODE, sample.number)
    assert (missing.value.chaincode_message or "").startswith("NotFound [not-found]:")


def test_issuer_cannot_issue_for_another_unit(
    world: World, connect_as: Connect, next_number: Callable[[], str]
) -> None:
    with pytest.raises(fabricgw.EndorseError) as info:
        issue(connect_as("units", "school1"), outpatient_bill(next_number()))  # a hospital bill
    assert (info.value.chaincode_message or "").startswith("Forbidden [not-authorised]:")


def test_fifty_concurrent_issues_from_several_threads_all_commit(
    world: World, connect_as: Connect, next_number: Callable[[], str]
) -> None:
    hospital = connect_as("units", "hospital1")
    samples = [outpatient_bill(next_number()) for _ in range(50)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        records = list(pool.map(lambda s: issue(hospital, s), samples))
    assert sorted(r["billNumber"] for r in records) == sorted(s.number for s in samples)
    auditor = connect_as("audit", "auditor1")
    for s in samples:
        bill = eventually(lambda n=s.number: query(auditor, "ReadBill", OUTPATIENT_CODE, n))
        assert bill["status"] == "issued"


def test_missing_bill_gives_clear_not_found(world: World, connect_as: Connect) -> None:
    auditor = connect_as("audit", "auditor1")
    with pytest.raises(fabricgw.EvaluateError) as info:
        query(auditor, "ReadBill", OUTPATIENT_CODE, "9999999999")
    assert (info.value.chaincode_message or "").startswith(
        "NotFound [not-found]: bill 46010126/9999999999"
    )
    with pytest.raises(fabricgw.EvaluateError) as verify:
        query(auditor, "VerifyBill", OUTPATIENT_CODE, "9999999999", "ABC123")
    assert (verify.value.chaincode_message or "").startswith("NotFound [not-found]:")


def test_invalid_bill_names_the_field(
    world: World, connect_as: Connect, next_number: Callable[[], str]
) -> None:
    sample = outpatient_bill(next_number())
    sample.bill["totalAmount"] = 100  # the items sum to 26850
    with pytest.raises(fabricgw.EndorseError) as info:
        issue(connect_as("units", "hospital1"), sample)
    message = info.value.chaincode_message or ""
    assert message.startswith("InvalidArgument [invalid-argument]:") and "totalAmount" in message, (
        message
    )
