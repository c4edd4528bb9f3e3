"""An issuing unit (hospital, school, court ...): stock, issuance, red-letter, its reads."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from ebill_chaincode.contract import checkcode, vocabulary
from ebill_chaincode.contract import interface as api
from ebill_chaincode.contract.model import PUBLIC_BILL_FIELDS

from .capabilities import (
    FIRST_DAY,
    LAST_DAY,
    BillArchiver,
    BillReader,
    Day,
    PrivateReader,
    UnitReads,
)
from .errors import AlreadyExists, InvalidInput, NotFound
from .models import Bill, IssuedBill, RedLettering, StockBatch, Totals
from .party import PAGE_SIZE
from .payer import payer_hash as hash_of_payer
from .samples import SampleBill

SALT_BYTES = 16
FINANCE_MSP = vocabulary.FINANCE_MSP
#: The check code's alphabet (0-9A-Z without I and O) and length: the contract's own.
CHECK_CODE_ALPHABET = checkcode.ALPHABET
CHECK_CODE_LENGTH = checkcode.LENGTH
#: What IssueBill's public argument carries (with the payerHash): the contract's list.
PUBLIC_FIELDS = PUBLIC_BILL_FIELDS


def new_check_code() -> str:
    """A random check code (``secrets``): 34^6 possibilities."""
    return "".join(secrets.choice(CHECK_CODE_ALPHABET) for _ in range(CHECK_CODE_LENGTH))


class UnitClient(BillArchiver, BillReader, PrivateReader, UnitReads):
    """Staff of one unit (role issuer or clerk, UnitsMSP); the unit is in the certificate.

    A clerk reads; only an issuer applies for stock, issues and red-letters.
    """

    @property
    def unit_code(self) -> str:
        """The caller's unit (certificate attribute ``unit``). Raises InvalidInput if none."""
        unit = self.connection.attributes.get("unit")
        if not unit:
            raise InvalidInput(f"{self.connection.user} has no unit attribute: not unit staff")
        return unit

    def apply_stock(
        self, bill_code: str, start_number: str, count: int, *, unit_code: str | None = None
    ) -> StockBatch:
        """ApplyStock for numbers start_number .. start_number+count-1; the pending batch.

        Raises StockConflict (an open batch, another region), UnitSuspended,
        NotAuthorised, InvalidInput.
        """
        application = {
            "unitCode": unit_code or self.unit_code,
            "billCode": bill_code,
            "startNumber": start_number,
            "count": count,
        }
        return StockBatch.from_json(self._submit(api.APPLY_STOCK.name, json.dumps(application)))

    def issue_bill(
        self,
        bill: SampleBill | Mapping[str, Any],
        payer: Mapping[str, str] | None = None,
        medical: Mapping[str, Any] | None = None,
        *,
        salt: bytes | None = None,
        check_code: str | None = None,
    ) -> IssuedBill:
        """Issue a bill in two transactions; the bill, its salt and its check code.

        1. DepositBillPrivate: the whole bill, payer, salt and medical part as transient
           data, endorsed by the unit's own peer only (it writes only the private
           collection, whose endorsement policy is the units peer): the finance peer
           never receives personal data.
        2. IssueBill: the public part (with the payerHash) as argument and the check
           code, generated here with ``secrets``, as transient data.

        Retry-safe: call it again with the same bill, salt and check code after any
        failure; a deposit before issuance is overwritten, and an issued bill whose
        public part equals ours is returned as issued (AlreadyExists otherwise).
        ``bill`` is a :class:`~ebill.samples.SampleBill` (its payer, medical part and
        salt are used unless given) or the full bill JSON. Raises AlreadyExists (number
        taken by another bill), OutOfStock, UnitSuspended, InvalidInput, NotAuthorised.
        """
        if isinstance(bill, SampleBill):
            full: Mapping[str, Any] = bill.bill
            payer = payer if payer is not None else bill.payer
            medical = medical if medical is not None else bill.medical
            salt = salt if salt is not None else bill.salt
        else:
            full = bill
        if payer is None:
            raise InvalidInput("issue_bill: the payer is required (type, id, name)")
        salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
        code = check_code if check_code is not None else new_check_code()
        payer_hash = hash_of_payer(salt, str(payer.get("type", "")), str(payer.get("id", "")))
        transient = {
            "bill": json.dumps(dict(full), ensure_ascii=False).encode(),
            "payer": json.dumps(dict(payer), ensure_ascii=False).encode(),
            "payerSalt": salt,
        }
        if medical is not None:
            transient["medical"] = json.dumps(dict(medical), ensure_ascii=False).encode()
        bill_code, bill_number = str(full.get("billCode", "")), str(full.get("billNumber", ""))
        public = {name: full[name] for name in PUBLIC_FIELDS if name in full}
        public["payerHash"] = payer_hash
        try:
            self._submit(
                api.DEPOSIT_BILL_PRIVATE.name,
                bill_code,
                bill_number,
                transient=transient,
                endorsing_organizations=[self.connection.msp_id],
                wait_peers=[FINANCE_MSP],
            )
        except AlreadyExists:
            return self._already_issued(public, salt, code)
        try:
            record = self._submit(
                api.ISSUE_BILL.name,
                json.dumps(public, ensure_ascii=False),
                transient={"checkCode": code.encode()},
                endorsing_organizations=[self.connection.msp_id, FINANCE_MSP],
            )
        except AlreadyExists:
            return self._already_issued(public, salt, code)
        issued = Bill.from_json(record)
        return IssuedBill(replace(issued, check_code=code), salt, code)

    def _already_issued(self, public: Mapping[str, Any], salt: bytes, code: str) -> IssuedBill:
        """The issued bill if it is ours (a retry after a lost answer); else AlreadyExists."""
        existing = self.read_bill(str(public["billCode"]), str(public["billNumber"]))
        ours = (existing.payer_hash, existing.total_amount, existing.unit_code) == (
            public["payerHash"],
            public.get("totalAmount"),
            public.get("unitCode"),
        )
        if not ours or not self.verify_bill(existing.bill_code, existing.bill_number, code).genuine:
            raise AlreadyExists(
                f"bill {existing.bill_code}/{existing.bill_number} already exists",
                function=api.ISSUE_BILL.name,
            )
        return IssuedBill(replace(existing, check_code=code), salt, code)

    def red_letter_bill(
        self, bill_code: str, bill_number: str, red_bill_number: str, reason: str
    ) -> RedLettering:
        """RedLetterBill: void the bill with a red bill numbered from the unit's stock.

        The red bill's check code is generated here (transient checkCode) and set on
        the returned red bill. Raises BillLocked, BillClaimed, BillRedLettered,
        OutOfStock, AlreadyExists (red number taken), NotFound, NotAuthorised.
        """
        code = new_check_code()
        answer = self._submit(
            api.RED_LETTER_BILL.name,
            bill_code,
            bill_number,
            red_bill_number,
            reason,
            transient={"checkCode": code.encode()},
        )
        result = RedLettering.from_json(answer)
        return RedLettering(result.original, replace(result.red, check_code=code))

    def iter_bills(
        self, from_date: Day = FIRST_DAY, to_date: Day = LAST_DAY, *, page_size: int = PAGE_SIZE
    ) -> Iterator[Bill]:
        """Every bill of the caller's unit issued in the span (summaries)."""
        return self.iter_bills_by_unit(self.unit_code, from_date, to_date, page_size=page_size)

    def totals(self, from_date: Day = FIRST_DAY, to_date: Day = LAST_DAY) -> Totals:
        """The caller's unit's totals in the span, summed over all pages."""
        return self.unit_totals(self.unit_code, from_date, to_date)

    def open_batch(self, bill_code: str) -> StockBatch | None:
        """The unit's approved, unreconciled batch of ``bill_code``, if any."""
        for batch in self.iter_stock(self.unit_code):
            if batch.bill_code == bill_code and batch.status == "approved":
                return batch
        return None

    def next_free_number(self, batch: StockBatch) -> str | None:
        """The first unused number of the batch, assuming numbers are used in order.

        Binary search with ReadBill (O(log count) queries); None when the batch is
        used up.
        """
        low, high = int(batch.start_number), int(batch.end_number) + 1
        while low < high:
            middle = (low + high) // 2
            if self._exists(batch.bill_code, f"{middle:010d}"):
                low = middle + 1
            else:
                high = middle
        return f"{low:010d}" if low <= int(batch.end_number) else None

    def _exists(self, bill_code: str, bill_number: str) -> bool:
        try:
            self.read_bill(bill_code, bill_number)
        except NotFound:
            return False
        return True
