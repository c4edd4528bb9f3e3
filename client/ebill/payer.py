"""A payer, through the finance department's public platform.

No certificate that signs a transaction carries a personal attribute (certificates
are in every block): the platform (role ``platform``, FinanceMSP) authenticates the
person off-chain and signs with its own identity. A :class:`PayerClient` is the
platform acting for one payer: it holds the payer's (type, id) and sends them, with
the bill's salt, as TRANSIENT data; the contract recomputes the bill's payerHash from
them before any payer action, so a payer sees and authorises only their own bills.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

from ebill_chaincode.contract import interface as api
from ebill_chaincode.contract import vocabulary

from .connection import Connection
from .errors import InvalidInput
from .models import Bill, Page
from .party import PAGE_SIZE, PartyClient
from .sync import BlockSync

PAYER_TYPES = vocabulary.PAYER_TYPES


def payer_hash(salt: bytes, payer_type: str, payer_id: str) -> str:
    """hex sha256(salt || payerType || U+0000 || payerId), as the contract computes it."""
    material = salt + payer_type.encode() + b"\x00" + payer_id.encode()
    return hashlib.sha256(material).hexdigest()


def _salt_bytes(salt: bytes | str) -> bytes:
    """A salt given as bytes or hex. Raises InvalidInput."""
    if isinstance(salt, str):
        try:
            return bytes.fromhex(salt)
        except ValueError:
            raise InvalidInput("salt: must be hex digits, two per byte") from None
    return salt


class PayerClient(PartyClient):
    """The platform (role platform, FinanceMSP) acting for one payer (type, id)."""

    def __init__(
        self,
        connection: Connection,
        *,
        sync: BlockSync | None = None,
        payer_type: str = "",
        payer_id: str = "",
    ) -> None:
        super().__init__(connection, sync=sync)
        self.payer_type = payer_type
        self.payer_id = payer_id

    def for_payer(self, payer_type: str, payer_id: str) -> PayerClient:
        """The same platform connection acting for another payer (the platform has
        authenticated the person). Raises InvalidInput for an unknown type or blank id."""
        if payer_type not in PAYER_TYPES:
            raise InvalidInput('payer type: must be "person" or "company"')
        if not payer_id.strip():
            raise InvalidInput("payer id: must not be blank")
        return PayerClient(
            self.connection, sync=self.sync, payer_type=payer_type, payer_id=payer_id
        )

    def _proof(self, salt: bytes | str) -> dict[str, bytes]:
        """The transient proof: payer {type, id} and payerSalt. Raises InvalidInput."""
        if not self.payer_id:
            raise InvalidInput("no payer: open the platform client with for_payer(type, id)")
        payer = {"type": self.payer_type, "id": self.payer_id}
        return {"payer": json.dumps(payer).encode(), "payerSalt": _salt_bytes(salt)}

    def payer_hash(self, salt: bytes | str) -> str:
        """The payerHash of this payer's bills issued with ``salt``."""
        return payer_hash(_salt_bytes(salt), self.payer_type, self.payer_id)

    def read_bill(self, bill_code: str, bill_number: str, salt: bytes | str) -> Bill:
        """ReadBill of the payer's own bill. Raises NotFound, NotAuthorised (not its bill)."""
        answer = self._evaluate(
            api.READ_BILL.name, bill_code, bill_number, transient=self._proof(salt)
        )
        return Bill.from_json(answer)

    def authorise_reimburser(
        self, bill_code: str, bill_number: str, reimburser_id: str, salt: bytes | str
    ) -> Bill:
        """AuthoriseReimburser: let ``reimburser_id`` (e.g. MEDINS-HN) use the bill.

        Raises AlreadyExists (already authorised), TooManyAuthorised, AlreadyReimbursed,
        BillRedLettered, BillArchived, NotAuthorised (not the payer's bill), NotFound.
        """
        answer = self._submit(
            api.AUTHORISE_REIMBURSER.name,
            bill_code,
            bill_number,
            reimburser_id,
            transient=self._proof(salt),
        )
        return Bill.from_json(answer)

    def revoke_authorisation(
        self, bill_code: str, bill_number: str, reimburser_id: str, salt: bytes | str
    ) -> Bill:
        """RevokeAuthorisation of an unused authorisation.

        Raises NotFound (not authorised), AuthorisationInUse, NotAuthorised.
        """
        answer = self._submit(
            api.REVOKE_AUTHORISATION.name,
            bill_code,
            bill_number,
            reimburser_id,
            transient=self._proof(salt),
        )
        return Bill.from_json(answer)

    def list_bills(
        self, salt: bytes | str, *, page_size: int = PAGE_SIZE, bookmark: str = ""
    ) -> Page[Bill]:
        """One page of the payer's bills issued with ``salt`` (summaries).

        Raises NotAuthorised (the salt does not give the payer's hash), InvalidInput.
        """
        answer = self._evaluate(
            api.LIST_BILLS_BY_PAYER.name,
            self.payer_hash(salt),
            str(page_size),
            bookmark,
            transient=self._proof(salt),
        )
        return Page.from_json(answer, Bill.from_json)

    def iter_bills(self, salt: bytes | str, *, page_size: int = PAGE_SIZE) -> Iterator[Bill]:
        """Every bill of the payer issued with ``salt``."""
        return self._pages(lambda b: self.list_bills(salt, page_size=page_size, bookmark=b))
