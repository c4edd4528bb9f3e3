"""An issuing unit (hospital, school, court ...): stock, issuance, red-letter, its reads."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

from .capabilities import (
    FIRST_DAY,
    LAST_DAY,
    BillArchiver,
    BillReader,
    Day,
    PrivateReader,
    UnitReads,
)
from .errors import InvalidInput, NotFound
from .models import Bill, IssuedBill, RedLettering, StockBatch, Totals
from .party import PAGE_SIZE
from .samples import SampleBill

SALT_BYTES = 16
FINANCE_MSP = "FinanceMSP"


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
        return StockBatch.from_json(self._submit("ApplyStock", json.dumps(application)))

    def issue_bill(
        self,
        bill: SampleBill | Mapping[str, Any],
        payer: Mapping[str, str] | None = None,
        medical: Mapping[str, Any] | None = None,
        *,
        salt: bytes | None = None,
    ) -> IssuedBill:
        """IssueBill: the public JSON as argument, payer/medical/salt as transient data.

        ``bill`` is a :class:`~ebill.samples.SampleBill` (its payer, medical part and
        salt are used unless given) or the public bill JSON with ``payer``. Returns the
        stored bill and the salt to hand to the payer. Raises AlreadyExists (number
        taken), OutOfStock, UnitSuspended, InvalidInput, NotAuthorised.
        """
        if isinstance(bill, SampleBill):
            public: Mapping[str, Any] = bill.bill
            payer = payer if payer is not None else bill.payer
            medical = medical if medical is not None else bill.medical
            salt = salt if salt is not None else bill.salt
        else:
            public = bill
        if payer is None:
            raise InvalidInput("issue_bill: the payer is required (type, id, name)")
        salt = salt if salt is not None else os.urandom(SALT_BYTES)
        transient = {
            "payer": json.dumps(dict(payer), ensure_ascii=False).encode(),
            "payerSalt": salt,
        }
        if medical is not None:
            transient["medical"] = json.dumps(dict(medical), ensure_ascii=False).encode()
        argument = json.dumps(dict(public), ensure_ascii=False)
        # The gateway sends transient data only to endorsers that may hold the private
        # collection, unless told which orgs to trust: the unit's own and finance (which
        # writes the collection without being a member of it).
        endorsers = [self.connection.msp_id, FINANCE_MSP]
        record = self._submit(
            "IssueBill", argument, transient=transient, endorsing_organizations=endorsers
        )
        return IssuedBill(Bill.from_json(record), salt)

    def red_letter_bill(
        self, bill_code: str, bill_number: str, red_bill_number: str, reason: str
    ) -> RedLettering:
        """RedLetterBill: void the bill with a red bill numbered from the unit's stock.

        Raises BillLocked, BillClaimed, BillRedLettered, OutOfStock, AlreadyExists
        (red number taken), NotFound, NotAuthorised.
        """
        answer = self._submit("RedLetterBill", bill_code, bill_number, red_bill_number, reason)
        return RedLettering.from_json(answer)

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
