"""The e-bill transaction functions: Ping, IssueBill, VerifyBill, ReadBill.

State: one public record per bill under composite key ("bill", billCode, billNumber).
The record is the validated bill without the payer, plus ``payerHash``, ``status``,
``checkCode``, ``issuedAt``, ``issuerMsp``, ``issuerId`` and ``issueTxId``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

from ..shim.contract import Contract, canonical_json
from ..shim.errors import Conflict, InvalidArgument, NotFound
from ..shim.stub import Stub
from . import access
from .checkcode import derive_check_code, normalize_check_code
from .model import BILL_CODE, BILL_NUMBER, MAX_AMOUNT, Payer, parse_bill

BILL_OBJECT = "bill"
STATUS_ISSUED = "issued"
EVENT_BILL_ISSUED = "BillIssued"
PAYER_SALT_KEY = "payerSalt"
MAX_SALT_BYTES = 1024

contract = Contract("ebill")


def bill_key(stub: Stub, bill_code: str, bill_number: str) -> str:
    """The state key of a bill."""
    return stub.create_composite_key(BILL_OBJECT, [bill_code, bill_number])


def _check_identity(bill_code: str, bill_number: str) -> None:
    if not BILL_CODE.fullmatch(bill_code):
        raise InvalidArgument("billCode: must be 8 digits")
    if not BILL_NUMBER.fullmatch(bill_number):
        raise InvalidArgument("billNumber: must be 10 digits")


def _payer_salt(stub: Stub) -> bytes:
    """Transient ``payerSalt`` if the client gave one, else sha256(tx id)."""
    salt = stub.transient.get(PAYER_SALT_KEY)
    if salt is None:
        return hashlib.sha256(stub.tx_id.encode("utf-8")).digest()
    if not 1 <= len(salt) <= MAX_SALT_BYTES:
        raise InvalidArgument(f"{PAYER_SALT_KEY}: must be 1 to {MAX_SALT_BYTES} bytes")
    return salt


def payer_hash(salt: bytes, payer: Payer) -> str:
    """hex sha256(salt || canonical JSON of the payer)."""
    return hashlib.sha256(salt + canonical_json(payer.to_json())).hexdigest()


def _timestamp(stub: Stub) -> str:
    return stub.tx_timestamp.isoformat().replace("+00:00", "Z")


def _load(stub: Stub, bill_code: str, bill_number: str) -> bytes:
    stored = stub.get_state(bill_key(stub, bill_code, bill_number))
    if stored is None:
        raise NotFound(f"bill {bill_code}/{bill_number} not found")
    return stored


@contract.transaction("Ping")
def ping(stub: Stub) -> str:
    """Liveness: touches no state."""
    return "pong"


@contract.transaction("IssueBill")
def issue_bill(stub: Stub, bill_json: str) -> dict[str, Any]:
    """Issue a bill; returns the stored public record (with its check code)."""
    identity = access.caller(stub)
    access.require_issuer(identity)
    bill = parse_bill(bill_json)
    access.require_own_unit(identity, bill.unit_code)
    salt = _payer_salt(stub)
    key = bill_key(stub, bill.bill_code, bill.bill_number)
    if stub.get_state(key) is not None:
        raise Conflict(f"bill {bill.bill_code}/{bill.bill_number} already exists")
    record = bill.public_json()
    record.update(
        payerHash=payer_hash(salt, bill.payer),
        status=STATUS_ISSUED,
        checkCode=derive_check_code(stub.tx_id, bill.bill_code, bill.bill_number),
        issuedAt=_timestamp(stub),
        issuerMsp=identity.msp_id,
        issuerId=identity.get_id(),
        issueTxId=stub.tx_id,
    )
    stub.put_state(key, canonical_json(record))
    event = {
        "billCode": bill.bill_code,
        "billNumber": bill.bill_number,
        "status": STATUS_ISSUED,
        "org": identity.msp_id,
    }
    stub.set_event(EVENT_BILL_ISSUED, canonical_json(event))
    return record


@contract.transaction("VerifyBill")
def verify_bill(
    stub: Stub, bill_code: str, bill_number: str, check_code: str, total_amount: str = ""
) -> dict[str, Any]:
    """Is the bill genuine? Needs the check code; the amount is checked when given."""
    _check_identity(bill_code, bill_number)
    code = normalize_check_code(check_code)
    if code is None:
        raise InvalidArgument("checkCode: must be 6 characters of 0-9 and A-Z without I and O")
    amount: int | None = None
    if total_amount.strip():
        if not re.fullmatch(r"[0-9]{1,14}", total_amount.strip()):
            raise InvalidArgument("totalAmount: must be an integer number of fen")
        amount = int(total_amount)
        if amount > MAX_AMOUNT:
            raise InvalidArgument(f"totalAmount: must be at most {MAX_AMOUNT} fen")
    record = json.loads(_load(stub, bill_code, bill_number))
    if not hmac.compare_digest(code, str(record.get("checkCode", ""))):
        return {"genuine": False, "reason": "check code does not match"}
    if amount is not None and amount != record.get("totalAmount"):
        return {"genuine": False, "reason": "total amount does not match"}
    return {
        "genuine": True,
        "status": record.get("status"),
        "billCode": bill_code,
        "billNumber": bill_number,
        "unitCode": record.get("unitCode"),
        "unitName": record.get("unitName"),
        "issueDate": record.get("issueDate"),
        "totalAmount": record.get("totalAmount"),
    }


@contract.transaction("ReadBill")
def read_bill(stub: Stub, bill_code: str, bill_number: str) -> bytes:
    """The stored public record (canonical JSON), NotFound if absent."""
    _check_identity(bill_code, bill_number)
    return _load(stub, bill_code, bill_number)
