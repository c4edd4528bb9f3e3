"""Bills: issuance, verification, reading, red-letter, archive.

Issuance is two transactions, so that no personal data reaches the finance peer
(see :mod:`.privacy`): DepositBillPrivate (endorsed by the units peer alone, writes
only the collection) and IssueBill (finance and units; public part only; checks the
deposited seal by its hash). DepositBillsPrivate and IssueBills do the same for up to
``CHAINCODE_MAX_BATCH`` (default 100) bills in one transaction each, all or nothing.
No scrypt runs at issuance: the issuer's system sends the check code's hash.

The public record of a bill (key ``bill / billCode / billNumber``) is the validated
public part (:class:`~.model.PublicBill`: code, number, name, unit, issue date,
total, payerHash) plus::

    kind: "normal" | "red", status, checkCodeHash, issuedAt, issuerMsp, issuerId,
    issueTxId, batchId, authorised: {reimburserId: {at, txId}}, lock?: {reimburserId,
    txId, at, previousStatus}, claims: [{reimburserId, amount, voucherNo, txId, at}],
    reimbursedTotal, redLetter?: {redBillNumber, reason, txId, at} (on a voided bill),
    redOf?: {billCode, billNumber} and reason (on a red bill), previousStatus and
    archivedAt (when archived), lastAction: {function, txId, org, actorId, at}

The private part (payer, medical extension, salt, line items, clerk, reviewer,
remark) is in collection ``billPrivate`` under the same key (see :mod:`.privacy`).
Each new bill also writes its indexes ``bill~unit``, ``bill~payer``, ``bill~status``
and ``bill~period`` (see :mod:`.keys`); nothing is shared by all issuances (no counter, no hot key).

A red bill voids a bill: it is a new bill of the same code with its own number from
the unit's stock, kind ``red``, ``redOf`` pointing to the original, the original's
total with a negative amount (so totals net out), the original's payerHash,
issued now; it has no private record of its own (ReadBillPrivate of a red bill
answers the original's). The original becomes ``red_lettered``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from typing import Any

from ..shim.contract import canonical_json
from ..shim.errors import Conflict, Forbidden, InvalidArgument, NotFound
from ..shim.stub import Stub
from . import access, clock, keys, ledger, lifecycle, privacy
from .access import Actor
from .anomalies import Anomaly
from .checkcode import check_code_matches, parse_check_code, parse_check_code_hash
from .model import (
    CHINA,
    MAX_AMOUNT,
    PublicBill,
    bill_ref,
    day_arg,
    decode_json,
    parse_public_bill,
    text_arg,
)
from .router import transaction
from .stock import batch_holding
from .units import SUSPENDED

BATCH_VARIABLE = "CHAINCODE_MAX_BATCH"
DEFAULT_MAX_BATCH = 100


def load_bill(stub: Stub, bill_code: str, bill_number: str) -> ledger.Record:
    return ledger.load(stub, keys.bill(bill_code, bill_number), f"bill {bill_code}/{bill_number}")


def save_bill(stub: Stub, bill: ledger.Record, old_status: str) -> None:
    """Write a changed bill and move its status index entry."""
    code, number = bill["billCode"], bill["billNumber"]
    ledger.put(stub, keys.bill(code, number), bill)
    if bill["status"] != old_status:
        stub.delete_state(keys.bill_by_status(old_status, code, number))
        ledger.mark(stub, keys.bill_by_status(bill["status"], code, number))


def _add_new_bill(stub: Stub, bill: ledger.Record) -> None:
    """Write a new bill's public record and its four indexes."""
    code, number = bill["billCode"], bill["billNumber"]
    day = bill["issueDate"][:10].replace("-", "")
    ledger.put(stub, keys.bill(code, number), bill)
    ledger.mark(stub, keys.bill_by_unit(bill["unitCode"], day, code, number))
    ledger.mark(stub, keys.bill_by_payer(bill["payerHash"], code, number))
    ledger.mark(stub, keys.bill_by_status(bill["status"], code, number))
    ledger.mark(stub, keys.bill_by_period(day[:6], code, number))


def _active_unit(
    stub: Stub, unit_code: str, function: str, subject: dict[str, str]
) -> ledger.Record:
    unit = ledger.get(stub, keys.unit(unit_code))
    if unit is None:
        raise NotFound(f"{function}: unit {unit_code} is not registered")
    if unit["status"] == SUSPENDED:
        reason = unit.get("suspension", {}).get("reason", "")
        error = Forbidden(f"{function}: unit {unit_code} is suspended ({reason})")
        raise Anomaly(error, "issuance-by-suspended-unit", subject)
    return unit


def _issued_fields(stub: Stub, actor: Actor, function: str, batch: ledger.Record) -> ledger.Record:
    """The fields every new bill (normal or red) gets at issuance."""
    return {
        "status": lifecycle.ISSUED,
        "issuedAt": ledger.now(stub),
        "issuerMsp": actor.msp_id,
        "issuerId": actor.certificate_id,
        "issueTxId": stub.tx_id,
        "batchId": batch["batchId"],
        "authorised": {},
        "claims": [],
        "reimbursedTotal": 0,
        "lastAction": ledger.last_action(stub, function, actor),
    }


def max_batch() -> int:
    """The most bills one IssueBills / DepositBillsPrivate takes: the chaincode server's
    environment ``CHAINCODE_MAX_BATCH`` (1 to 1000), default 100."""
    text = os.environ.get(BATCH_VARIABLE, "").strip()
    value = int(text) if text.isdigit() else DEFAULT_MAX_BATCH
    return min(max(value, 1), 1000)


def _transient_check_code_hash(stub: Stub, function: str) -> str:
    """The check code's hash the issuer's system computed, from transient
    ``checkCodeHash``; its form checked, no scrypt computed (see :mod:`.checkcode`)."""
    name = privacy.TRANSIENT_CHECK_CODE_HASH
    privacy.refuse_unknown_transient(stub, (name,))
    raw = stub.transient.get(name)
    if raw is None:
        raise InvalidArgument(
            f"transient {name}: required ({function} takes the salted scrypt hash of the check"
            " code the issuer's system generated; the code itself never reaches the chain)"
        )
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        text = ""
    return parse_check_code_hash(text, f"transient {name}")


@transaction("DepositBillPrivate")
def deposit_bill_private(stub: Stub, bill_code: str, bill_number: str) -> ledger.Record:
    """Step 1 of issuance: write the bill's private part; everything comes as transient
    data (bill, payer, payerSalt, medical?). Endorsed by the units peer alone: it writes
    only collection billPrivate, whose endorsement policy is OR('UnitsMSP.peer').

    Allowed again (it overwrites) until the bill is issued; Conflict after. Returns
    {billCode, billNumber, payerHash}.
    """
    bill_ref(bill_code, bill_number)
    part = privacy.PrivatePart.from_transient(stub)
    if (part.bill.bill_code, part.bill.bill_number) != (bill_code, bill_number):
        raise InvalidArgument("billNumber: the arguments must name the bill in transient bill")
    actor = access.allow(stub, "DepositBillPrivate")
    access.require_own_unit(actor, part.bill.unit_code, "DepositBillPrivate")
    clock.check_issue_date(stub, part.bill.issue_date)
    key = keys.bill(bill_code, bill_number)
    if stub.get_state(key) is not None:
        raise Conflict(
            f"DepositBillPrivate: bill {bill_code}/{bill_number} already exists", "bill-exists"
        )
    stub.put_private_data(privacy.COLLECTION, key, canonical_json(part.to_json()))
    stub.put_private_data(privacy.COLLECTION, keys.bill_seal(bill_code, bill_number), part.seal())
    ledger.emit(stub, "DepositBillPrivate", billCode=bill_code, billNumber=bill_number)
    return {"billCode": bill_code, "billNumber": bill_number, "payerHash": part.payer_hash}


@transaction("DepositBillsPrivate")
def deposit_bills_private(stub: Stub) -> ledger.Record:
    """Step 1 of batch issuance: DepositBillPrivate for up to :func:`max_batch` bills of
    the caller's unit in one transaction, all or nothing; transient ``bills`` is a JSON
    array of {bill, payer, payerSalt (hex), medical?}. Endorsed by the units peer alone.

    Returns {bills: [{billCode, billNumber, payerHash}]} in the given order.
    """
    parts = privacy.PrivatePart.batch_from_transient(stub, max_batch())
    actor = access.allow(stub, "DepositBillsPrivate")
    seen: set[tuple[str, str]] = set()
    answers = []
    existing = stub.get_states([keys.bill(p.bill.bill_code, p.bill.bill_number) for p in parts])
    for index, part in enumerate(parts):
        code, number = part.bill.bill_code, part.bill.bill_number
        if (code, number) in seen:
            raise InvalidArgument(
                f"transient bills[{index}]: bill {code}/{number} appears twice in the batch"
            )
        seen.add((code, number))
        access.require_own_unit(actor, part.bill.unit_code, "DepositBillsPrivate")
        clock.check_issue_date(stub, part.bill.issue_date)
        if existing[index] is not None:
            raise Conflict(
                f"DepositBillsPrivate: bill {code}/{number} (bills[{index}]) already exists",
                "bill-exists",
            )
        answers.append({"billCode": code, "billNumber": number, "payerHash": part.payer_hash})
    for part in parts:  # every bill checked before the first write
        code, number = part.bill.bill_code, part.bill.bill_number
        key = keys.bill(code, number)
        stub.put_private_data(privacy.COLLECTION, key, canonical_json(part.to_json()))
        stub.put_private_data(privacy.COLLECTION, keys.bill_seal(code, number), part.seal())
    refs = [{"billCode": a["billCode"], "billNumber": a["billNumber"]} for a in answers]
    ledger.emit(stub, "DepositBillsPrivate", count=len(refs), bills=refs)
    return {"bills": answers}


def _check_deposit(stub: Stub, bill: ledger.Record, function: str = "IssueBill") -> None:
    """Conflict unless the deposited seal's hash matches the public record's fields."""
    code, number = bill["billCode"], bill["billNumber"]
    deposited = stub.get_private_data_hash(privacy.COLLECTION, keys.bill_seal(code, number))
    if deposited is None:
        raise Conflict(
            f"{function}: no private part deposited for bill {code}/{number};"
            " call DepositBillPrivate first"
        )
    expected = privacy.seal(code, number, bill["unitCode"], bill["totalAmount"], bill["payerHash"])
    if not hmac.compare_digest(deposited, hashlib.sha256(expected).digest()):
        raise Conflict(
            f"{function}: the private part deposited for bill {code}/{number} does not match"
            " (unitCode, totalAmount or payerHash differ); deposit it again"
        )


class _Issuer:
    """Issues the bills of one transaction: every rule per bill; the unit and stock
    batches read once per transaction (approved ranges never overlap, so a batch that
    holds one number is the batch of every number in its range)."""

    def __init__(self, stub: Stub, function: str) -> None:
        self.stub = stub
        self.function = function
        self.actor = access.allow(stub, function)
        self.units: dict[str, ledger.Record] = {}
        self.batches: list[ledger.Record] = []
        self.seen: set[tuple[str, str]] = set()
        self.existing: dict[str, bytes | None] = {}

    def prefetch(self, bills: list[PublicBill]) -> None:
        """Read the bill keys of a batch in one multi-key read (one message to the peer
        where it offers GET_STATE_MULTIPLE); :meth:`check` then reads none of them."""
        names = [keys.bill(bill.bill_code, bill.bill_number) for bill in bills]
        self.existing = dict(zip(names, self.stub.get_states(names), strict=True))

    def _unit(self, unit_code: str, subject: dict[str, str]) -> ledger.Record:
        if unit_code not in self.units:
            self.units[unit_code] = _active_unit(self.stub, unit_code, self.function, subject)
        return self.units[unit_code]

    def _batch(self, unit_code: str, code: str, number: str) -> ledger.Record:
        for batch in self.batches:
            same = (batch["unitCode"], batch["billCode"]) == (unit_code, code)
            if same and batch["startNumber"] <= number <= batch["endNumber"]:
                return batch
        batch = batch_holding(self.stub, unit_code, code, number, self.function)
        self.batches.append(batch)
        return batch

    def check(self, bill: PublicBill, check_code_hash: str, where: str) -> ledger.Record:
        """Check every rule for one bill (reads only); the record to write."""
        stub, function = self.stub, self.function
        access.require_own_unit(self.actor, bill.unit_code, function)
        clock.check_issue_date(stub, bill.issue_date)
        code, number = bill.bill_code, bill.bill_number
        if (code, number) in self.seen:
            raise InvalidArgument(f"{where}: bill {code}/{number} appears twice in the batch")
        self.seen.add((code, number))
        key = keys.bill(code, number)
        if (self.existing[key] if key in self.existing else stub.get_state(key)) is not None:
            raise Conflict(f"bill {code}/{number} already exists", "bill-exists")
        subject = {"billCode": code, "billNumber": number, "unitCode": bill.unit_code}
        unit = self._unit(bill.unit_code, subject)
        if unit["name"] != bill.unit_name:
            raise Conflict(
                f"{function}: unitName {bill.unit_name!r} is not the registered name"
                f" {unit['name']!r} of unit {bill.unit_code}"
            )
        batch = self._batch(bill.unit_code, code, number)
        record = {
            **bill.public_json(),
            "kind": lifecycle.KIND_NORMAL,
            "checkCodeHash": check_code_hash,
            **_issued_fields(stub, self.actor, function, batch),
        }
        _check_deposit(stub, record, function)
        return record


@transaction("IssueBill")
def issue_bill(stub: Stub, bill_json: str) -> ledger.Record:
    """Step 2 of issuance: the public part (argument) of a bill whose private part is
    deposited; the check code's salted hash comes as transient ``checkCodeHash``.

    Returns only what the caller needs: {billCode, billNumber, status, issueTxId,
    issuedAt, batchId} (the caller holds the rest; ReadBill answers the record).
    """
    bill = parse_public_bill(bill_json)
    check_code_hash = _transient_check_code_hash(stub, "IssueBill")
    record = _Issuer(stub, "IssueBill").check(bill, check_code_hash, "billJSON")
    _add_new_bill(stub, record)
    ledger.emit(
        stub,
        "IssueBill",
        billCode=bill.bill_code,
        billNumber=bill.bill_number,
        status=lifecycle.ISSUED,
        unitCode=bill.unit_code,
        batchId=record["batchId"],
    )
    return {name: record[name] for name in ISSUED_FIELDS}


#: The fields of a bill's record that IssueBill answers.
ISSUED_FIELDS = ("billCode", "billNumber", "status", "issueTxId", "issuedAt", "batchId")


def _parse_public_bills(bills_json: str, limit: int) -> list[PublicBill]:
    values = decode_json(bills_json, "billsJSON")
    if not isinstance(values, list) or not 1 <= len(values) <= limit:
        raise InvalidArgument(f"billsJSON: must be a JSON array of 1 to {limit} public parts")
    bills = []
    for index, value in enumerate(values):
        try:
            bills.append(PublicBill.parse(value))
        except InvalidArgument as error:
            raise InvalidArgument(f"billsJSON[{index}]: {error.text}", error.code) from None
    return bills


def _transient_check_code_hashes(stub: Stub, count: int) -> list[str]:
    name = privacy.TRANSIENT_CHECK_CODE_HASHES
    privacy.refuse_unknown_transient(stub, (name,))
    raw = stub.transient.get(name)
    if raw is None:
        raise InvalidArgument(
            f"transient {name}: required (a JSON array of each bill's check-code hash, in order)"
        )
    try:
        values = decode_json(raw.decode("utf-8"), f"transient {name}")
    except UnicodeDecodeError:
        raise InvalidArgument(f"transient {name}: must be UTF-8 JSON") from None
    if not isinstance(values, list) or len(values) != count:
        raise InvalidArgument(
            f"transient {name}: must be a JSON array of {count} hashes, one per bill in billsJSON"
        )
    return [
        parse_check_code_hash(v if isinstance(v, str) else "", f"transient {name}[{i}]")
        for i, v in enumerate(values)
    ]


@transaction("IssueBills")
def issue_bills(stub: Stub, bills_json: str) -> ledger.Record:
    """Batch step 2: IssueBill for up to :func:`max_batch` bills of the caller's unit in
    one transaction, ALL OR NOTHING: every rule is checked for every bill, and the first
    refused bill refuses the whole transaction (its error names the bill's index; an
    anomaly is recorded as for IssueBill). ``billsJSON`` is a JSON array of public
    parts; transient ``checkCodeHashes`` the array of their check-code hashes.

    Returns {status, issueTxId, issuedAt, bills: [{billCode, billNumber, batchId}]}.
    """
    bills = _parse_public_bills(bills_json, max_batch())
    hashes = _transient_check_code_hashes(stub, len(bills))
    issuer = _Issuer(stub, "IssueBills")
    issuer.prefetch(bills)
    checked = [
        issuer.check(bill, check_code_hash, f"billsJSON[{index}]")
        for index, (bill, check_code_hash) in enumerate(zip(bills, hashes, strict=True))
    ]
    # every bill checked before the first write: a refused batch writes nothing at all
    issued = []
    for record in checked:
        _add_new_bill(stub, record)
        issued.append({name: record[name] for name in ("billCode", "billNumber", "batchId")})
    ledger.emit(
        stub,
        "IssueBills",
        status=lifecycle.ISSUED,
        unitCode=bills[0].unit_code,
        count=len(issued),
        bills=[{"billCode": b["billCode"], "billNumber": b["billNumber"]} for b in issued],
    )
    return {
        "status": lifecycle.ISSUED,
        "issueTxId": stub.tx_id,
        "issuedAt": ledger.now(stub),
        "bills": issued,
    }


def _signed_fen(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not re.fullmatch(r"-?[0-9]{1,14}", text):
        raise InvalidArgument("totalAmount: must be an integer number of fen")
    amount = int(text)
    if abs(amount) > MAX_AMOUNT:
        raise InvalidArgument(f"totalAmount: must be at most {MAX_AMOUNT} fen")
    return amount


@transaction("VerifyBill")
def verify_bill(
    stub: Stub,
    bill_code: str,
    bill_number: str,
    check_code: str,
    total_amount: str = "",
    issue_date: str = "",
) -> dict[str, Any]:
    """Is the bill genuine? Anyone with the check code; amount and date checked if given.

    Answers {genuine: false, reason} or {genuine: true, status, kind, billCode,
    billNumber, unitCode, unitName, issueDate, totalAmount[, previousStatus, redOf]}:
    nothing personal.
    """
    bill_ref(bill_code, bill_number)
    code = parse_check_code(check_code, "checkCode")
    clock.check_proposal_time(stub)
    amount = _signed_fen(total_amount)
    day = day_arg(issue_date.strip(), "issueDate") if issue_date.strip() else None
    record = load_bill(stub, bill_code, bill_number)
    ledger.emit(stub, "VerifyBill", billCode=bill_code, billNumber=bill_number)
    if not check_code_matches(code, str(record.get("checkCodeHash", ""))):
        return {"genuine": False, "reason": "check code does not match"}
    if amount is not None and amount != record["totalAmount"]:
        return {"genuine": False, "reason": "total amount does not match"}
    if day is not None and day != record["issueDate"][:10].replace("-", ""):
        return {"genuine": False, "reason": "issue date does not match"}
    answer = {"genuine": True, "billCode": bill_code, "billNumber": bill_number}
    shown = ("status", "kind", "unitCode", "unitName", "issueDate", "totalAmount")
    answer.update({name: record[name] for name in shown})
    answer.update({name: record[name] for name in ("previousStatus", "redOf") if name in record})
    return answer


@transaction("ReadBill")
def read_bill(stub: Stub, bill_code: str, bill_number: str) -> bytes:
    """The public record (canonical JSON) for the bill's parties; the platform gives the
    payer and salt as transient data."""
    bill_ref(bill_code, bill_number)
    claim = privacy.payer_claim(stub)
    actor = access.allow(stub, "ReadBill")
    raw = stub.get_state(keys.bill(bill_code, bill_number))
    if raw is None:
        raise NotFound(f"bill {bill_code}/{bill_number} not found")
    bill = ledger.decode(raw, "bill")
    access.require_bill_reader(actor, bill, claim, "ReadBill")
    ledger.emit(stub, "ReadBill", billCode=bill_code, billNumber=bill_number, status=bill["status"])
    return raw


@transaction("ReadBillPrivate")
def read_bill_private(stub: Stub, bill_code: str, bill_number: str) -> ledger.Record:
    """The private part {billCode, billNumber, payer, medical?, salt, items, clerk...},
    encrypted to the transient ``replyKey`` (see :func:`.privacy.seal_reply`): even a
    submitted call writes only ciphertext to the block.

    For the issuing unit, the reimbursers authorised on the bill now, supervisors.
    Needs a peer of a collection member; a red bill answers its original's part.
    """
    bill_ref(bill_code, bill_number)
    recipient = privacy.reply_key(stub)
    actor = access.allow(stub, "ReadBillPrivate")
    bill = load_bill(stub, bill_code, bill_number)
    access.require_private_reader(actor, bill, "ReadBillPrivate")
    source = bill.get("redOf", {"billCode": bill_code, "billNumber": bill_number})
    raw = stub.get_private_data(
        privacy.COLLECTION, keys.bill(source["billCode"], source["billNumber"])
    )
    if raw is None:
        raise NotFound(f"private part of bill {bill_code}/{bill_number} not found on this peer")
    ledger.emit(stub, "ReadBillPrivate", billCode=bill_code, billNumber=bill_number)
    answer = {
        "billCode": bill_code,
        "billNumber": bill_number,
        **ledger.decode(raw, "private bill"),
        **({"redOf": bill["redOf"]} if "redOf" in bill else {}),
    }
    return privacy.seal_reply(recipient, canonical_json(answer), "ReadBillPrivate")


def _red_bill(
    stub: Stub,
    original: ledger.Record,
    red_number: str,
    reason: str,
    actor: Actor,
    batch: ledger.Record,
    check_code_hash: str,
) -> ledger.Record:
    code = original["billCode"]
    return {
        "billCode": code,
        "billNumber": red_number,
        "billName": original["billName"],
        "unitCode": original["unitCode"],
        "unitName": original["unitName"],
        "issueDate": stub.tx_timestamp.astimezone(CHINA).isoformat(),
        "totalAmount": -original["totalAmount"],
        "kind": lifecycle.KIND_RED,
        "redOf": {"billCode": code, "billNumber": original["billNumber"]},
        "reason": reason,
        "payerHash": original["payerHash"],
        "checkCodeHash": check_code_hash,
        **_issued_fields(stub, actor, "RedLetterBill", batch),
    }


@transaction("RedLetterBill")
def red_letter_bill(
    stub: Stub, bill_code: str, bill_number: str, red_bill_number: str, reason: str
) -> dict[str, ledger.Record]:
    """Void a bill with a red bill from the unit's stock; the red bill's check-code hash
    comes as transient ``checkCodeHash``. Returns {original, red}."""
    bill_ref(bill_code, bill_number)
    bill_ref(bill_code, red_bill_number, "redBillNumber")
    if red_bill_number == bill_number:
        raise InvalidArgument("redBillNumber: must differ from billNumber")
    reason = text_arg(reason, "reason", 200)
    check_code_hash = _transient_check_code_hash(stub, "RedLetterBill")
    actor = access.allow(stub, "RedLetterBill")
    original = load_bill(stub, bill_code, bill_number)
    unit_code = original["unitCode"]
    access.require_own_unit(actor, unit_code, "RedLetterBill")
    lifecycle.check(lifecycle.RED_LETTER, original)
    if stub.get_state(keys.bill(bill_code, red_bill_number)) is not None:
        raise Conflict(
            f"RedLetterBill: bill {bill_code}/{red_bill_number} already exists", "bill-exists"
        )
    subject = lifecycle.subject(original)
    _active_unit(stub, unit_code, "RedLetterBill", subject)
    batch = batch_holding(stub, unit_code, bill_code, red_bill_number, "RedLetterBill")
    red = _red_bill(stub, original, red_bill_number, reason, actor, batch, check_code_hash)
    _add_new_bill(stub, red)
    original.update(
        status=lifecycle.RED_LETTERED,
        redLetter={
            "redBillNumber": red_bill_number,
            "reason": reason,
            "txId": stub.tx_id,
            "at": ledger.now(stub),
        },
        lastAction=ledger.last_action(stub, "RedLetterBill", actor),
    )
    save_bill(stub, original, lifecycle.ISSUED)
    ledger.emit(
        stub,
        "RedLetterBill",
        billCode=bill_code,
        billNumber=bill_number,
        status=lifecycle.RED_LETTERED,
        redBillNumber=red_bill_number,
        unitCode=unit_code,
    )
    return {"original": original, "red": red}


@transaction("ArchiveBill")
def archive_bill(stub: Stub, bill_code: str, bill_number: str) -> ledger.Record:
    """Archive a finished bill (finance or the issuing unit); see :mod:`.lifecycle`."""
    bill_ref(bill_code, bill_number)
    actor = access.allow(stub, "ArchiveBill")
    bill = load_bill(stub, bill_code, bill_number)
    access.require_own_unit(actor, bill["unitCode"], "ArchiveBill")
    lifecycle.check(lifecycle.ARCHIVE, bill, stub.tx_timestamp.astimezone(CHINA).date())
    old_status = bill["status"]
    bill.update(
        status=lifecycle.ARCHIVED,
        previousStatus=old_status,
        archivedAt=ledger.now(stub),
        lastAction=ledger.last_action(stub, "ArchiveBill", actor),
    )
    save_bill(stub, bill, old_status)
    ledger.emit(
        stub, "ArchiveBill", billCode=bill_code, billNumber=bill_number, status=lifecycle.ARCHIVED
    )
    return bill
