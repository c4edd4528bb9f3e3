"""An issuing unit (hospital, school, court ...): stock, issuance, red-letter, its reads."""

from __future__ import annotations

import functools
import json
import secrets
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import fabricgw
from ebill_chaincode.contract import checkcode, vocabulary
from ebill_chaincode.contract import interface as api
from ebill_chaincode.contract.model import PUBLIC_BILL_FIELDS
from ebill_chaincode.shim.errors import ChaincodeError
from ebill_chaincode.shim.identity import ClientIdentity

from .capabilities import (
    FIRST_DAY,
    LAST_DAY,
    BillArchiver,
    BillReader,
    Day,
    PrivateReader,
    UnitReads,
)
from .errors import (
    RESOLVE_HINT,
    AlreadyExists,
    EbillError,
    InvalidInput,
    NetworkUnavailable,
    NotFound,
)
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


@dataclass(frozen=True)
class IssueRequest:
    """One bill to issue: the full bill JSON, the payer, the medical part, the payer's
    salt and check code (both generated with ``secrets`` when not given)."""

    bill: Mapping[str, Any]
    payer: Mapping[str, str]
    medical: Mapping[str, Any] | None = None
    salt: bytes | None = None
    check_code: str | None = None

    @classmethod
    def of(
        cls,
        bill: IssueRequest | SampleBill | Mapping[str, Any],
        payer: Mapping[str, str] | None = None,
        medical: Mapping[str, Any] | None = None,
        salt: bytes | None = None,
        check_code: str | None = None,
    ) -> IssueRequest:
        """A request from a SampleBill (its payer, medical part, salt unless given) or
        the parts. Raises InvalidInput without a payer."""
        if isinstance(bill, IssueRequest):
            return bill
        if isinstance(bill, SampleBill):
            return cls(
                bill.bill,
                payer if payer is not None else bill.payer,
                medical if medical is not None else bill.medical,
                salt if salt is not None else bill.salt,
                check_code,
            )
        if payer is None:
            raise InvalidInput("issue_bill: the payer is required (type, id, name)")
        return cls(bill, payer, medical, salt, check_code)


@dataclass(frozen=True)
class PreparedBill:
    """A request with its salt, check code, the code's hash (computed by :meth:`of`,
    about 0.1 s of CPU: scrypt releases the GIL, so callers may prepare in parallel)
    and the public part."""

    full: Mapping[str, Any]
    payer: Mapping[str, str]
    medical: Mapping[str, Any] | None
    salt: bytes
    code: str
    code_hash: str
    public: dict[str, Any]

    @classmethod
    def of(cls, request: IssueRequest, *, code_hash: str | None = None) -> PreparedBill:
        """Salt, check code and its hash for ``request``; ``code_hash`` is the hash of
        ``request.check_code`` when the caller computed it already (a pool of codes
        hashed ahead of time), else it is computed here. InvalidInput for a malformed
        code, or a ``code_hash`` without the code it hashes."""
        salt = request.salt if request.salt is not None else secrets.token_bytes(SALT_BYTES)
        if code_hash is not None and request.check_code is None:
            raise InvalidInput("checkCode: a code_hash needs the check code it hashes")
        code = request.check_code if request.check_code is not None else new_check_code()
        if code_hash is not None:
            try:
                checkcode.parse_check_code(code, "checkCode")
                checkcode.parse_check_code_hash(code_hash, "checkCodeHash")
            except ChaincodeError as error:
                raise InvalidInput(error.text) from None
        else:
            try:
                code_hash = checkcode.hash_check_code(code)
            except ValueError as error:
                raise InvalidInput(f"checkCode: {error}") from None
        payer = request.payer
        public = {name: request.bill[name] for name in PUBLIC_FIELDS if name in request.bill}
        public["payerHash"] = hash_of_payer(
            salt, str(payer.get("type", "")), str(payer.get("id", ""))
        )
        return cls(request.bill, payer, request.medical, salt, code, code_hash, public)

    @property
    def bill_code(self) -> str:
        return str(self.full.get("billCode", ""))

    @property
    def bill_number(self) -> str:
        return str(self.full.get("billNumber", ""))

    def deposit_transient(self) -> dict[str, bytes]:
        """DepositBillPrivate's transient map."""
        transient = {
            vocabulary.TRANSIENT_BILL: json.dumps(dict(self.full), ensure_ascii=False).encode(),
            vocabulary.TRANSIENT_PAYER: json.dumps(dict(self.payer), ensure_ascii=False).encode(),
            vocabulary.TRANSIENT_SALT: self.salt,
        }
        if self.medical is not None:
            medical = json.dumps(dict(self.medical), ensure_ascii=False).encode()
            transient[vocabulary.TRANSIENT_MEDICAL] = medical
        return transient

    def batch_entry(self) -> dict[str, Any]:
        """The bill's element of DepositBillsPrivate's transient ``bills``."""
        entry: dict[str, Any] = {
            "bill": dict(self.full),
            "payer": dict(self.payer),
            "payerSalt": self.salt.hex(),
        }
        if self.medical is not None:
            entry["medical"] = dict(self.medical)
        return entry


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
           code's salted scrypt hash (transient ``checkCodeHash``); the code is
           generated here with ``secrets`` and hashed here (about 0.1 s of CPU), so the
           endorsers compute no scrypt and the code never leaves this process.

        Retry-safe: call it again with the same bill, salt and check code after any
        failure; a deposit before issuance is overwritten, and an issued bill whose
        public part equals ours is returned as issued (AlreadyExists otherwise). An
        IssueBill whose outcome stayed unknown is resolved by its transaction id
        (:meth:`resolve`) and, if it did not commit, tried again with the same number;
        NetworkUnavailable (``outcome_unknown``) only if that is still unknown: call
        again with the same bill, never with a new number.
        ``bill`` is a :class:`~ebill.samples.SampleBill` (its payer, medical part and
        salt are used unless given) or the full bill JSON. The returned bill is built
        from the public part and IssueBill's short answer (key, status, tx id, time,
        batch): it equals what ReadBill answers. Raises AlreadyExists (number taken by
        another bill), OutOfStock, UnitSuspended, InvalidInput, NotAuthorised.
        """
        return self.issue_prepared(
            PreparedBill.of(IssueRequest.of(bill, payer, medical, salt, check_code))
        )

    def issue_prepared(self, item: PreparedBill) -> IssuedBill:
        """:meth:`issue_bill` of a prepared bill (its hash already computed)."""
        public, salt, code = item.public, item.salt, item.code
        try:
            self._deposit(
                api.DEPOSIT_BILL_PRIVATE.name,
                item.bill_code,
                item.bill_number,
                transient=item.deposit_transient(),
            )
        except AlreadyExists:
            return self._already_issued(public, salt, code)
        try:
            try:
                answer = self._issue(item)
            except AlreadyExists:
                return self._already_issued(public, salt, code)
            except NetworkUnavailable as error:
                if not (error.outcome_unknown and error.transaction_id):
                    raise
                # Resolve by transaction id first: it may have committed (then it is ours).
                try:
                    status = self.resolve(error.transaction_id)
                except EbillError as unresolved:  # the gateways refused the question
                    unresolved.outcome_unknown = True
                    unresolved.hint = RESOLVE_HINT
                    unresolved.function = api.ISSUE_BILL.name
                    raise
                if status is not None and status.successful:
                    return self._already_issued(public, salt, code)
                try:  # not committed, or still unknown: the same number, never a new one
                    answer = self._issue(item)
                except AlreadyExists:  # the first one committed after all
                    return self._already_issued(public, salt, code)
                except EbillError as again:
                    # A refused endorsement of the retry says nothing of the first
                    # IssueBill: while that is unknown, so is the issuance.
                    if status is None:
                        again.outcome_unknown = True
                        again.hint = RESOLVE_HINT
                        again.transaction_id = again.transaction_id or error.transaction_id
                        again.function = api.ISSUE_BILL.name
                    raise
        except EbillError as error:
            return self._settle(item, error)
        return self._issued(item, answer, answer, api.ISSUE_BILL.name)

    def issue_bills(self, requests: Sequence[IssueRequest | SampleBill]) -> list[IssuedBill]:
        """Issue up to 100 bills (the chaincode's CHAINCODE_MAX_BATCH) in two
        transactions: DepositBillsPrivate (every private part, units peer alone), then
        IssueBills (every public part and check-code hash). All or nothing: a refused
        bill refuses the whole batch (the error names its index) and nothing is issued.

        Retry-safe as :meth:`issue_bill`: if a bill of the batch already exists (a retry
        after a lost answer), each bill is issued or recognised one at a time. Returns
        the issued bills in order. Raises as :meth:`issue_bill`; InvalidInput for an
        empty batch.
        """
        return self.issue_prepared_batch([PreparedBill.of(IssueRequest.of(r)) for r in requests])

    def issue_prepared_batch(self, items: Sequence[PreparedBill]) -> list[IssuedBill]:
        """:meth:`issue_bills` of prepared bills (their hashes already computed)."""
        if not items:
            raise InvalidInput("issue_bills: at least one bill")
        deposits = [item.batch_entry() for item in items]
        try:
            self._deposit(
                api.DEPOSIT_BILLS_PRIVATE.name,
                transient={
                    vocabulary.TRANSIENT_BILLS: json.dumps(deposits, ensure_ascii=False).encode()
                },
            )
            hashes = [item.code_hash for item in items]
            answer = self._submit(
                api.ISSUE_BILLS.name,
                json.dumps([item.public for item in items], ensure_ascii=False),
                transient={vocabulary.TRANSIENT_CHECK_CODE_HASHES: json.dumps(hashes).encode()},
                endorsing_organizations=[self.connection.msp_id, FINANCE_MSP],
            )
        except AlreadyExists:
            return [self.issue_prepared(item) for item in items]
        return [
            self._issued(item, answer, one, api.ISSUE_BILLS.name)
            for item, one in zip(items, answer["bills"], strict=True)
        ]

    @functools.cached_property
    def _issuer_id(self) -> str:
        """The caller's id as the contract writes it (Go's cid.GetID of the certificate)."""
        identity = self.connection.gateway.identity
        return ClientIdentity(identity.msp_id, identity.credentials).get_id()

    def _issued(
        self, item: PreparedBill, answer: Mapping[str, Any], one: Mapping[str, Any], function: str
    ) -> IssuedBill:
        """The issued bill from what this client sent and the contract's short answer
        (the same fields as the contract's new record; ReadBill answers it)."""
        msp, issuer_id, tx_id, at = (
            self.connection.msp_id,
            self._issuer_id,
            str(answer["issueTxId"]),
            str(answer["issuedAt"]),
        )
        record = {
            **item.public,
            "kind": "normal",
            "checkCodeHash": item.code_hash,
            "status": answer["status"],
            "issuedAt": at,
            "issuerMsp": msp,
            "issuerId": issuer_id,
            "issueTxId": tx_id,
            "batchId": one["batchId"],
            "authorised": {},
            "claims": [],
            "reimbursedTotal": 0,
            "lastAction": {
                "function": function,
                "txId": tx_id,
                "org": msp,
                "actorId": issuer_id,
                "at": at,
            },
        }
        issued = Bill.from_json(record)
        return IssuedBill(replace(issued, check_code=item.code), item.salt, item.code)

    def _settle(self, item: PreparedBill, error: EbillError) -> IssuedBill:
        """An IssueBill that failed without a refusal of the contract, after it may have
        reached the orderers: the ledger says what happened. Ours on the ledger: issued.
        Not there: the error, definite only if the transaction committed invalid or was
        never endorsed; otherwise its outcome is unknown (retry with the same bill, salt
        and check code). Raises the error."""
        cause = error.__cause__
        if (
            error.kind is not None
            or error.outcome_unknown
            or isinstance(error, AlreadyExists | InvalidInput)
            or isinstance(cause, fabricgw.EndorseError)
        ):
            raise error
        try:
            return self._read_back(item.public, item.salt, item.code)
        except NotFound:  # on the peer that committed it invalid: definite
            if isinstance(cause, fabricgw.CommitError):
                raise error from cause
        except EbillError:
            pass
        error.outcome_unknown = True
        error.hint = RESOLVE_HINT
        error.function = api.ISSUE_BILL.name
        raise error

    def _deposit(self, function: str, *args: str, transient: Mapping[str, bytes]) -> Any:
        """Submit a deposit of private parts (``function``: DepositBillPrivate or
        DepositBillsPrivate), endorsed by the caller's peer alone, and wait until the
        finance peer has its block; its answer.

        A deposit writes private data, so its signed envelope is never sent again (see
        :mod:`fabricgw.retry`); but the deposit itself may be made again, as a new
        transaction: until the bill is issued it overwrites the same private parts, and
        a late copy after IssueBill commits invalid (it read the bill as absent). So when
        no commit status came within the Gateway's resend interval (5 s by default, then
        twice as long each time) a new deposit is made, until the commit status timeout
        has passed. A deposit dropped by a dying or stopped Raft leader then costs
        seconds; asking its status instead cost 1 + RESUBMIT_ROUNDS whole commit status
        timeouts (3 min by default) before the deposit was made again.

        Raises as ``_submit``: NetworkUnavailable with ``outcome_unknown`` when the last
        deposit's outcome is still unknown at the deadline (nothing is issued yet: call
        again with the same bill).
        """
        gateway = self.connection.gateway
        total = gateway.timeouts.commit_status
        window = gateway.retry.resubmit_interval or total
        deadline = time.monotonic() + total
        while True:
            left = max(deadline - time.monotonic(), 0.01)
            try:
                return self._submit(
                    function,
                    *args,
                    transient=transient,
                    endorsing_organizations=[self.connection.msp_id],
                    wait_peers=[FINANCE_MSP],
                    commit_timeout=min(window, left),
                    rounds=0,
                )
            except NetworkUnavailable as error:
                if not error.outcome_unknown or time.monotonic() >= deadline:
                    raise
            window *= 2

    def _issue(self, item: PreparedBill) -> Any:
        """IssueBill of the public part with the check code's hash; its short answer."""
        return self._submit(
            api.ISSUE_BILL.name,
            json.dumps(item.public, ensure_ascii=False),
            transient={vocabulary.TRANSIENT_CHECK_CODE_HASH: item.code_hash.encode()},
            endorsing_organizations=[self.connection.msp_id, FINANCE_MSP],
        )

    def _already_issued(self, public: Mapping[str, Any], salt: bytes, code: str) -> IssuedBill:
        """The issued bill if it is ours (a retry after a lost answer); else AlreadyExists.

        NetworkUnavailable with ``outcome_unknown`` if it cannot be read back: the bill
        may be ours, so the caller retries with the same number.
        """
        try:
            return self._read_back(public, salt, code)
        except NotFound:
            # The ledger refused the number as taken, or this call may have issued it,
            # but this peer does not show the bill yet (a restarted peer catching up):
            # not a definite answer.
            raise NetworkUnavailable(
                f"bill {public['billCode']}/{public['billNumber']}: not readable yet on this"
                " peer; the issuance may have committed",
                function=api.ISSUE_BILL.name,
                outcome_unknown=True,
                hint=RESOLVE_HINT,
            ) from None
        except NetworkUnavailable as error:
            error.outcome_unknown = True
            error.hint = RESOLVE_HINT
            error.function = api.ISSUE_BILL.name  # the issuance is what stays unknown
            raise

    def _read_back(self, public: Mapping[str, Any], salt: bytes, code: str) -> IssuedBill:
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

        The red bill's check code is generated and hashed here (transient
        checkCodeHash) and set on the returned red bill. Raises BillLocked,
        BillClaimed, BillRedLettered, OutOfStock, AlreadyExists (red number taken),
        NotFound, NotAuthorised.
        """
        code = new_check_code()
        answer = self._submit(
            api.RED_LETTER_BILL.name,
            bill_code,
            bill_number,
            red_bill_number,
            reason,
            transient={
                vocabulary.TRANSIENT_CHECK_CODE_HASH: checkcode.hash_check_code(code).encode()
            },
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
