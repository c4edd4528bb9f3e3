"""A reimbursing unit (medical insurance, commercial insurer, employer)."""

from __future__ import annotations

import contextlib

from ebill_chaincode.contract import interface as api

from .capabilities import BillReader, PrivateReader
from .errors import EbillError, InvalidInput
from .models import Bill


class ReimburserClient(BillReader, PrivateReader):
    """A reimburser (role reimburser, InsuranceMSP); its id is in its certificate.

    It reads and claims only the bills whose payer authorised it.
    """

    @property
    def reimburser_id(self) -> str:
        """The caller's reimburser id (certificate attribute ``reimburser``)."""
        rid = self.connection.attributes.get("reimburser")
        if not rid:
            raise InvalidInput(f"{self.connection.user} has no reimburser attribute")
        return rid

    def lock_bill(self, bill_code: str, bill_number: str) -> Bill:
        """LockBill: hold the bill while processing a claim.

        Raises BillLocked, AlreadyReimbursed, RepeatedClaim, BillRedLettered,
        BillArchived, RedBill, NotAuthorised (not authorised by the payer), NotFound,
        TransactionConflict (another lock at the same instant).
        """
        return Bill.from_json(self._submit(api.LOCK_BILL.name, bill_code, bill_number))

    def claim_bill(self, bill_code: str, bill_number: str, amount: int, voucher_no: str) -> Bill:
        """ClaimBill of ``amount`` fen by the lock holder: recorded for good, lock released.

        Raises OverClaim (the lock stays), BillNotLocked, AlreadyReimbursed,
        RepeatedClaim, NotAuthorised (not the lock holder), InvalidInput, NotFound.
        """
        answer = self._submit(api.CLAIM_BILL.name, bill_code, bill_number, str(amount), voucher_no)
        return Bill.from_json(answer)

    def unlock_bill(self, bill_code: str, bill_number: str) -> Bill:
        """UnlockBill without a claim. Raises BillNotLocked, NotAuthorised (not the holder)."""
        return Bill.from_json(self._submit(api.UNLOCK_BILL.name, bill_code, bill_number))

    def reimburse(self, bill_code: str, bill_number: str, amount: int, voucher_no: str) -> Bill:
        """Lock, then claim ``amount`` fen; when the claim fails, unlock and re-raise.

        Raises what :meth:`lock_bill` and :meth:`claim_bill` raise.
        """
        self.lock_bill(bill_code, bill_number)
        try:
            return self.claim_bill(bill_code, bill_number, amount, voucher_no)
        except EbillError:
            with contextlib.suppress(EbillError):  # the claim's error is the one to report
                self.unlock_bill(bill_code, bill_number)
            raise
