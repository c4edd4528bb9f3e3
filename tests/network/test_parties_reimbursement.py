"""PayerClient and ReimburserClient on the real network: authorisation, lock, claim, unlock."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest

from ebill import errors
from ebill.models import IssuedBill
from ebill.party import PartyClient
from ebill.payer import PayerClient, payer_hash
from ebill.reimburser import ReimburserClient
from ebill.samples import PAYER1, outpatient_bill
from ebill.unit import UnitClient

P = TypeVar("P", bound=PartyClient)
Open = Callable[[type[P], str, str], P]


@pytest.fixture
def bill(hospital: UnitClient, next_number: Callable[[], str]) -> IssuedBill:
    """A fresh outpatient bill of 268.50 yuan to payer1."""
    return hospital.issue_bill(outpatient_bill(next_number()))


def ref(issued: IssuedBill) -> tuple[str, str]:
    return issued.bill.bill_code, issued.bill.bill_number


def test_payer_reads_and_lists_own_bills_with_the_salt(
    payer: PayerClient, hospital: UnitClient, next_number: Callable[[], str]
) -> None:
    salt = b"personal-salt-01"  # one salt for the payer's bills: they list together
    numbers = []
    for _ in range(3):
        sample = outpatient_bill(next_number())
        sample.salt = salt
        numbers.append(hospital.issue_bill(sample).bill.bill_number)
    expected_hash = payer_hash(salt, "person", PAYER1["id"])
    assert payer.payer_hash(salt) == payer.payer_hash(salt.hex()) == expected_hash
    own = list(payer.iter_bills(salt, page_size=2))
    assert sorted(b.bill_number for b in own) == sorted(numbers)
    assert all(b.payer_hash == expected_hash for b in own)
    assert payer.read_bill("46010126", numbers[0], salt.hex()).bill_number == numbers[0]
    with pytest.raises(errors.NotAuthorised, match="salt"):
        payer.read_bill("46010126", numbers[0], b"another-salt-123")
    with pytest.raises(errors.InvalidInput):
        payer.read_bill("46010126", numbers[0], "not hex")


def test_authorise_and_revoke(
    payer: PayerClient, medins: ReimburserClient, bill: IssuedBill
) -> None:
    code, number = ref(bill)
    with pytest.raises(errors.NotAuthorised, match="authorise it first"):
        medins.read_bill(code, number)
    authorised = payer.authorise_reimburser(code, number, "MEDINS-HN", bill.salt)
    assert authorised.authorised == ("MEDINS-HN",)
    stored = medins.read_bill(code, number)
    assert stored.check_code is None and "checkCodeHash" in stored.raw  # only its hash
    assert medins.read_bill_private(code, number).payer.name == PAYER1["name"]
    with pytest.raises(errors.AlreadyExists):
        payer.authorise_reimburser(code, number, "MEDINS-HN", bill.salt)
    revoked = payer.revoke_authorisation(code, number, "MEDINS-HN", bill.salt)
    assert revoked.authorised == ()
    with pytest.raises(errors.NotFound):
        payer.revoke_authorisation(code, number, "MEDINS-HN", bill.salt)
    with pytest.raises(errors.NotAuthorised):
        medins.read_bill_private(code, number)
    with pytest.raises(errors.NotAuthorised, match="salt"):
        payer.authorise_reimburser(code, number, "MEDINS-HN", bytes(range(16)))
    with pytest.raises(errors.InvalidInput, match="must be random bytes"):
        payer.authorise_reimburser(code, number, "MEDINS-HN", b"x" * 16)


def test_lock_claim_unlock(
    payer: PayerClient, medins: ReimburserClient, insurer: ReimburserClient, bill: IssuedBill
) -> None:
    code, number = ref(bill)
    assert medins.reimburser_id == "MEDINS-HN" and insurer.reimburser_id == "PICC-HN"
    for reimburser in ("MEDINS-HN", "PICC-HN"):
        payer.authorise_reimburser(code, number, reimburser, bill.salt)
    with pytest.raises(errors.BillNotLocked):
        medins.claim_bill(code, number, 100, "YB-1")
    with pytest.raises(errors.BillNotLocked):
        medins.unlock_bill(code, number)
    locked = medins.lock_bill(code, number)
    assert locked.status == "locked" and locked.lock is not None
    assert locked.lock.reimburser_id == "MEDINS-HN" and locked.lock.previous_status == "issued"
    with pytest.raises(errors.BillLocked) as second:
        insurer.lock_bill(code, number)
    assert second.value.anomaly_type == "lock-while-locked" and second.value.anomaly_id
    with pytest.raises(errors.NotAuthorised, match="lock holder"):
        insurer.claim_bill(code, number, 100, "P-1")
    with pytest.raises(errors.AuthorisationInUse):
        payer.revoke_authorisation(code, number, "MEDINS-HN", bill.salt)
    with pytest.raises(errors.OverClaim) as over:
        medins.claim_bill(code, number, 26851, "YB-1")
    assert over.value.anomaly_type == "over-claim"
    assert medins.read_bill(code, number).status == "locked"  # the lock stays with its holder
    assert medins.unlock_bill(code, number).status == "issued"

    medins.lock_bill(code, number)
    partial = medins.claim_bill(code, number, 16110, "YB-1")
    assert partial.status == "partially_reimbursed"
    assert partial.claims[0].amount == 16110 and partial.claims[0].voucher_no == "YB-1"
    with pytest.raises(errors.RepeatedClaim) as repeated:
        medins.lock_bill(code, number)
    assert repeated.value.anomaly_type == "repeated-claim"
    with pytest.raises(errors.AuthorisationInUse):
        payer.revoke_authorisation(code, number, "MEDINS-HN", bill.salt)
    closed = insurer.reimburse(code, number, partial.remaining, "P-2")
    assert closed.status == "reimbursed" and closed.reimbursed_total == closed.total_amount
    with pytest.raises(errors.AlreadyReimbursed) as again:
        insurer.lock_bill(code, number)
    assert again.value.anomaly_type == "lock-on-reimbursed-bill"
    with pytest.raises(errors.AlreadyReimbursed):
        payer.authorise_reimburser(code, number, "OTHER-1", bill.salt)


def test_reimburse_unlocks_when_the_claim_fails(
    payer: PayerClient, insurer: ReimburserClient, bill: IssuedBill
) -> None:
    code, number = ref(bill)
    payer.authorise_reimburser(code, number, "PICC-HN", bill.salt)
    with pytest.raises(errors.OverClaim):
        insurer.reimburse(code, number, 30000, "P-9")
    after = insurer.read_bill(code, number)
    assert after.status == "issued" and after.lock is None and after.reimbursed_total == 0
    with pytest.raises(errors.InvalidInput):
        insurer.reimburse(code, number, 0, "P-9")
    assert insurer.read_bill(code, number).status == "issued"


def test_two_reimbursers_locking_at_the_same_instant(
    payer: PayerClient, medins: ReimburserClient, insurer: ReimburserClient, bill: IssuedBill
) -> None:
    """Fabric commits one lock; the other is a TransactionConflict (same block) or
    BillLocked (it was endorsed after the first committed)."""
    code, number = ref(bill)
    for reimburser in ("MEDINS-HN", "PICC-HN"):
        payer.authorise_reimburser(code, number, reimburser, bill.salt)

    def lock(client: ReimburserClient) -> str:
        try:
            client.lock_bill(code, number)
            return "locked"
        except (errors.TransactionConflict, errors.BillLocked) as error:
            return type(error).__name__

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(lock, (medins, insurer)))
    assert sorted(outcomes)[-1] == "locked" and outcomes.count("locked") == 1, outcomes
    state = medins.read_bill(code, number)
    assert state.status == "locked" and state.lock is not None
