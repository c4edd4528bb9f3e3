"""A payer: reads its own bills and authorises reimbursers, proving each bill with its salt.

The salt travels as transient data ``payerSalt`` (never as the ``saltHex`` argument of a
submitted transaction: arguments are written to the blocks, and a published salt lets
anyone test candidate ID numbers against the payer hash).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from .errors import InvalidInput
from .models import Bill, Page
from .party import PAGE_SIZE, PartyClient


def payer_hash(salt: bytes, payer_type: str, payer_id: str) -> str:
    """hex sha256(salt || payerType || U+0000 || payerId), as the contract computes it."""
    material = salt + payer_type.encode() + b"\x00" + payer_id.encode()
    return hashlib.sha256(material).hexdigest()


def _salt(salt: bytes | str) -> dict[str, bytes]:
    """The transient map for a salt given as bytes or hex. Raises InvalidInput."""
    if isinstance(salt, str):
        try:
            salt = bytes.fromhex(salt)
        except ValueError:
            raise InvalidInput("salt: must be hex digits, two per byte") from None
    return {"payerSalt": salt}


class PayerClient(PartyClient):
    """A payer (role payer, FinanceMSP) with payerType/payerId in its certificate."""

    def payer_hash(self, salt: bytes | str) -> str:
        """The payerHash of the caller's bills issued with ``salt``."""
        raw = _salt(salt)["payerSalt"]
        attrs = self.connection.attributes
        return payer_hash(raw, attrs.get("payerType", ""), attrs.get("payerId", ""))

    def read_bill(self, bill_code: str, bill_number: str, salt: bytes | str) -> Bill:
        """ReadBill of the caller's own bill. Raises NotFound, NotAuthorised (not its bill)."""
        answer = self._evaluate("ReadBill", bill_code, bill_number, transient=_salt(salt))
        return Bill.from_json(answer)

    def authorise_reimburser(
        self, bill_code: str, bill_number: str, reimburser_id: str, salt: bytes | str
    ) -> Bill:
        """AuthoriseReimburser: let ``reimburser_id`` (e.g. MEDINS-HN) use the bill.

        Raises AlreadyExists (already authorised), TooManyAuthorised, AlreadyReimbursed,
        BillRedLettered, BillArchived, NotAuthorised (not the payer's bill), NotFound.
        """
        answer = self._submit(
            "AuthoriseReimburser", bill_code, bill_number, reimburser_id, transient=_salt(salt)
        )
        return Bill.from_json(answer)

    def revoke_authorisation(
        self, bill_code: str, bill_number: str, reimburser_id: str, salt: bytes | str
    ) -> Bill:
        """RevokeAuthorisation of an unused authorisation.

        Raises NotFound (not authorised), AuthorisationInUse, NotAuthorised.
        """
        answer = self._submit(
            "RevokeAuthorisation", bill_code, bill_number, reimburser_id, transient=_salt(salt)
        )
        return Bill.from_json(answer)

    def list_bills(
        self, salt: bytes | str, *, page_size: int = PAGE_SIZE, bookmark: str = ""
    ) -> Page[Bill]:
        """One page of the caller's bills issued with ``salt`` (summaries).

        Raises NotAuthorised (the salt does not give the caller's hash), InvalidInput.
        """
        answer = self._evaluate(
            "ListBillsByPayer",
            self.payer_hash(salt),
            str(page_size),
            bookmark,
            transient=_salt(salt),
        )
        return Page.from_json(answer, Bill.from_json)

    def iter_bills(self, salt: bytes | str, *, page_size: int = PAGE_SIZE) -> Iterator[Bill]:
        """Every bill of the caller issued with ``salt``."""
        return self._pages(lambda b: self.list_bills(salt, page_size=page_size, bookmark=b))
