"""UnitClient on the real network: issuance, reads, red-letter, own lists and totals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import pytest
from chain import World

from ebill import errors
from ebill.parties import open_party
from ebill.party import PartyClient
from ebill.payer import PayerClient
from ebill.reimburser import ReimburserClient
from ebill.samples import (
    HOSPITAL,
    OUTPATIENT_CODE,
    PAYER1,
    outpatient_bill,
    tuition_bill,
)
from ebill.supervisor import SupervisorClient
from ebill.unit import UnitClient

P = TypeVar("P", bound=PartyClient)
Open = Callable[[type[P], str, str], P]


def test_open_party_picks_the_client_of_the_role(description: dict[str, Any]) -> None:
    expected = {
        ("finance", "finance1"): "FinanceClient",
        ("finance", "platform1"): "PayerClient",
        ("units", "hospital1"): "UnitClient",
        ("units", "clerk1"): "UnitClient",
        ("insurance", "insurer1"): "ReimburserClient",
        ("audit", "auditor1"): "SupervisorClient",
        ("audit", "admin0"): "PartyClient",
    }
    for (org, user), name in expected.items():
        with open_party(description, org, user) as client:
            assert type(client).__name__ == name
            assert client.ping() == "pong"
    with pytest.raises(errors.InvalidInput, match="unknown user"):
        open_party(description, "units", "nobody")


def test_issue_a_sample_and_read_it_back(hospital: UnitClient, next_number: Any) -> None:
    sample = outpatient_bill(next_number())
    issued = hospital.issue_bill(sample)
    bill = issued.bill
    assert issued.salt == sample.salt
    assert (bill.bill_code, bill.bill_number) == (OUTPATIENT_CODE, sample.number)
    assert (
        bill.status == "issued" and bill.total_amount == 26850 and len(bill.check_code or "") == 6
    )
    assert bill.unit_code == HOSPITAL[0] and bill.items == ()  # line items are private
    assert bill.raw["issueTxId"] == bill.last_action.tx_id  # type: ignore[union-attr]
    assert hospital.unit_code == "HN0101"
    assert hospital.read_bill(bill.bill_code, bill.bill_number) == replace(bill, check_code=None)
    private = hospital.read_bill_private(bill.bill_code, bill.bill_number)
    assert private.payer.id == PAYER1["id"] and private.salt_hex == sample.salt.hex()
    assert private.medical is not None and private.medical.fund_paid == 16110
    assert len(private.items) == 3 and private.clerk == sample.bill["clerk"]


def test_issue_from_json_parts_with_a_fresh_salt(hospital: UnitClient, next_number: Any) -> None:
    sample = outpatient_bill(next_number())
    issued = hospital.issue_bill(dict(sample.bill), dict(sample.payer), sample.medical)
    assert len(issued.salt) == 16 and issued.salt != sample.salt
    with pytest.raises(errors.InvalidInput, match="payer"):
        hospital.issue_bill(dict(outpatient_bill(next_number()).bill))


def test_issuance_refusals(
    party: Open[Any], hospital: UnitClient, school: UnitClient, next_number: Any
) -> None:
    sample = outpatient_bill(next_number())
    hospital.issue_bill(sample)
    with pytest.raises(errors.AlreadyExists):
        hospital.issue_bill(sample)
    wrong = outpatient_bill(next_number())
    wrong.bill["totalAmount"] = 1
    with pytest.raises(errors.InvalidInput, match="totalAmount"):
        hospital.issue_bill(wrong)
    with pytest.raises(errors.NotAuthorised, match="own"):
        school.issue_bill(outpatient_bill(next_number()))
    clerk = party(UnitClient, "units", "clerk1")
    with pytest.raises(errors.NotAuthorised, match="issuer"):
        clerk.issue_bill(outpatient_bill(next_number()))
    assert clerk.read_bill(OUTPATIENT_CODE, sample.number).bill_number == sample.number
    with pytest.raises(errors.NotAuthorised):
        school.read_bill(OUTPATIENT_CODE, sample.number)
    with pytest.raises(errors.NotFound):
        hospital.read_bill(OUTPATIENT_CODE, "0000099999")


def test_red_letter(school: UnitClient, party: Open[Any], next_number: Any) -> None:
    issued = school.issue_bill(tuition_bill(next_number()))
    code, number = issued.bill.bill_code, issued.bill.bill_number
    red_number = next_number()
    voided = school.red_letter_bill(code, number, red_number, "学生退宿")
    assert voided.original.status == "red_lettered"
    assert voided.original.red_bill_number == red_number
    assert voided.red.kind == "red" and voided.red.total_amount == -120000
    assert voided.red.red_of is not None and voided.red.red_of.bill_number == number
    with pytest.raises(errors.BillRedLettered):
        school.red_letter_bill(code, number, next_number(), "again")
    with pytest.raises(errors.RedBill):
        school.red_letter_bill(code, red_number, next_number(), "red of red")
    # a red bill answers its original's private part
    assert school.read_bill_private(code, red_number).red_of is not None

    other = school.issue_bill(tuition_bill(next_number()))
    with pytest.raises(errors.AlreadyExists):
        school.red_letter_bill(code, other.bill.bill_number, red_number, "number taken")
    with pytest.raises(errors.OutOfStock):
        school.red_letter_bill(code, other.bill.bill_number, "0000300000", "outside")


def test_red_letter_of_a_claimed_or_locked_bill_is_refused(
    hospital: UnitClient, party: Open[Any], next_number: Any
) -> None:
    payer = party(PayerClient, "finance", "platform1").for_payer(PAYER1["type"], PAYER1["id"])
    medins = party(ReimburserClient, "insurance", "medins1")
    issued = hospital.issue_bill(outpatient_bill(next_number()))
    code, number = issued.bill.bill_code, issued.bill.bill_number
    payer.authorise_reimburser(code, number, "MEDINS-HN", issued.salt)
    medins.lock_bill(code, number)
    with pytest.raises(errors.BillLocked) as locked:
        hospital.red_letter_bill(code, number, next_number(), "locked")
    assert locked.value.anomaly_type == "red-letter-while-locked"
    medins.claim_bill(code, number, 100, "YB-RL-1")
    with pytest.raises(errors.BillClaimed) as claimed:
        hospital.red_letter_bill(code, number, next_number(), "claimed")
    assert claimed.value.anomaly_type == "red-letter-after-claim"
    with pytest.raises(errors.TooEarlyToArchive):
        hospital.archive_bill(code, number)


def test_own_lists_totals_and_next_free_number(
    hospital: UnitClient, party: Open[Any], world: World, next_number: Any
) -> None:
    numbers = [next_number() for _ in range(3)]
    for number in numbers:
        hospital.issue_bill(outpatient_bill(number))
    listed = list(hospital.iter_bills(page_size=2))
    assert set(numbers) <= {b.bill_number for b in listed}
    assert all(b.unit_code == "HN0101" for b in listed)
    totals = hospital.totals()
    assert totals.count == len(listed)
    assert totals.total_amount == sum(b.total_amount for b in listed)
    assert totals.reimbursed == sum(b.reimbursed_total for b in listed)
    auditor = party(SupervisorClient, "audit", "auditor1")
    assert auditor.unit_totals("HN0101") == totals
    with pytest.raises(errors.NotAuthorised):
        hospital.unit_totals("HN0201")
    batch = hospital.open_batch(OUTPATIENT_CODE)
    assert batch is not None and batch.batch_id == world.outpatient_batch
    free = hospital.next_free_number(batch)
    assert free is not None
    with pytest.raises(errors.NotFound):
        hospital.read_bill(OUTPATIENT_CODE, free)
    if free != batch.start_number:
        assert hospital.read_bill(OUTPATIENT_CODE, f"{int(free) - 1:010d}")
    assert hospital.read_unit("HN0101").status == "active"
    with pytest.raises(errors.NotAuthorised):
        hospital.read_unit("HN0201")
    assert hospital.open_batch("46019926") is None
