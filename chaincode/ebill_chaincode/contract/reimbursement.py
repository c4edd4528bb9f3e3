"""Reimbursement: the payer authorises reimbursers; a reimburser locks, claims, unlocks.

Rules (ours where the domain leaves room):

* The payer authorises a reimburser by id (at most :data:`MAX_AUTHORISED` per bill)
  and may revoke it while it is unused: the reimburser neither holds the lock nor has
  claimed.
* One lock at a time. LockBill by an authorised reimburser; the lock remembers the
  status before it. ClaimBill by the lock holder records the claim (irreversible),
  adds it to ``reimbursedTotal`` and releases the lock: the bill becomes
  ``partially_reimbursed`` or, when the total is reached, ``reimbursed``.
* Several reimbursers share a bill one after another (medical insurance pays part, a
  commercial insurer the rest); each claims at most once per bill: a second lock or
  claim by a reimburser that has claimed is the anomaly ``repeated-claim``.
* The reimbursed total never exceeds the bill's total: a claim above what remains is
  the anomaly ``over-claim`` (the lock stays with its holder, who may claim the right
  amount or unlock).
* UnlockBill by the lock holder, or by finance to release a stale lock (there is no
  lock timeout; see :mod:`.clock` for which clock each time rule trusts).
* Two reimbursers acting at the same instant both read and write the bill key: Fabric's
  MVCC check commits one and invalidates the other, so no bill is claimed twice.
"""

from __future__ import annotations

from ..shim.errors import Conflict, NotFound
from ..shim.stub import Stub
from . import access, ledger, lifecycle, privacy
from .access import Actor
from .anomalies import Anomaly
from .bills import load_bill, save_bill
from .model import bill_ref, fen_arg, reimburser_id_arg, text_arg
from .router import transaction

MAX_AUTHORISED = 10


def _has_claimed(bill: ledger.Record, reimburser_id: str | None) -> bool:
    return any(claim["reimburserId"] == reimburser_id for claim in bill.get("claims", []))


def _refuse_repeated_claim(bill: ledger.Record, actor: Actor, function: str) -> None:
    if _has_claimed(bill, actor.reimburser):
        error = Conflict(
            f"{function}: reimburser {actor.reimburser} has already claimed"
            f" {lifecycle.name(bill)}; each reimburser claims a bill once"
        )
        raise Anomaly(error, "repeated-claim", lifecycle.subject(bill))


def _payers_bill(
    stub: Stub, function: str, bill_code: str, bill_number: str
) -> tuple[Actor, ledger.Record]:
    bill_ref(bill_code, bill_number)
    claim = privacy.payer_claim(stub)
    actor = access.allow(stub, function)
    bill = load_bill(stub, bill_code, bill_number)
    access.require_payer_of(actor, bill["payerHash"], claim, function)
    return actor, bill


@transaction("AuthoriseReimburser")
def authorise_reimburser(
    stub: Stub, bill_code: str, bill_number: str, reimburser_id: str
) -> ledger.Record:
    """The payer (through the platform: transient payer and payerSalt) lets a reimburser
    use the bill."""
    reimburser_id_arg(reimburser_id)
    actor, bill = _payers_bill(stub, "AuthoriseReimburser", bill_code, bill_number)
    lifecycle.check(lifecycle.AUTHORISE, bill)
    authorised = bill.setdefault("authorised", {})
    if reimburser_id in authorised:
        raise Conflict(
            f"AuthoriseReimburser: {reimburser_id} is already authorised on {lifecycle.name(bill)}",
            "already-authorised",
        )
    if len(authorised) >= MAX_AUTHORISED:
        raise Conflict(
            f"AuthoriseReimburser: {lifecycle.name(bill)} already has {MAX_AUTHORISED}"
            " authorised reimbursers; revoke an unused one first",
            "too-many-authorised",
        )
    authorised[reimburser_id] = {"at": ledger.now(stub), "txId": stub.tx_id}
    bill["lastAction"] = ledger.last_action(stub, "AuthoriseReimburser", actor)
    save_bill(stub, bill, bill["status"])
    ledger.emit(
        stub,
        "AuthoriseReimburser",
        billCode=bill_code,
        billNumber=bill_number,
        status=bill["status"],
        reimburserId=reimburser_id,
    )
    return bill


@transaction("RevokeAuthorisation")
def revoke_authorisation(
    stub: Stub, bill_code: str, bill_number: str, reimburser_id: str
) -> ledger.Record:
    """The payer withdraws an unused authorisation."""
    reimburser_id_arg(reimburser_id)
    actor, bill = _payers_bill(stub, "RevokeAuthorisation", bill_code, bill_number)
    lifecycle.check(lifecycle.REVOKE, bill)
    authorised = bill.get("authorised", {})
    if reimburser_id not in authorised:
        raise NotFound(
            f"RevokeAuthorisation: {reimburser_id} is not authorised on {lifecycle.name(bill)}"
        )
    if bill.get("lock", {}).get("reimburserId") == reimburser_id:
        raise Conflict(
            f"RevokeAuthorisation: {reimburser_id} holds the lock of {lifecycle.name(bill)};"
            " a used authorisation cannot be revoked",
            "authorisation-in-use",
        )
    if _has_claimed(bill, reimburser_id):
        raise Conflict(
            f"RevokeAuthorisation: {reimburser_id} has claimed {lifecycle.name(bill)};"
            " a used authorisation cannot be revoked",
            "authorisation-in-use",
        )
    del authorised[reimburser_id]
    bill["lastAction"] = ledger.last_action(stub, "RevokeAuthorisation", actor)
    save_bill(stub, bill, bill["status"])
    ledger.emit(
        stub,
        "RevokeAuthorisation",
        billCode=bill_code,
        billNumber=bill_number,
        status=bill["status"],
        reimburserId=reimburser_id,
    )
    return bill


def _reimbursers_bill(
    stub: Stub, function: str, bill_code: str, bill_number: str
) -> tuple[Actor, ledger.Record]:
    actor = access.allow(stub, function)
    bill = load_bill(stub, bill_code, bill_number)
    access.require_authorised(actor, bill, function)
    return actor, bill


@transaction("LockBill")
def lock_bill(stub: Stub, bill_code: str, bill_number: str) -> ledger.Record:
    """An authorised reimburser locks the bill while it processes a claim."""
    bill_ref(bill_code, bill_number)
    actor, bill = _reimbursers_bill(stub, "LockBill", bill_code, bill_number)
    lifecycle.check(lifecycle.LOCK, bill)
    _refuse_repeated_claim(bill, actor, "LockBill")
    old_status = bill["status"]
    bill.update(
        status=lifecycle.LOCKED,
        lock={
            "reimburserId": actor.reimburser,
            "txId": stub.tx_id,
            "at": ledger.now(stub),
            "previousStatus": old_status,
        },
        lastAction=ledger.last_action(stub, "LockBill", actor),
    )
    save_bill(stub, bill, old_status)
    ledger.emit(
        stub,
        "LockBill",
        billCode=bill_code,
        billNumber=bill_number,
        status=lifecycle.LOCKED,
        reimburserId=actor.reimburser,
    )
    return bill


@transaction("ClaimBill")
def claim_bill(
    stub: Stub, bill_code: str, bill_number: str, amount_fen: str, voucher_no: str
) -> ledger.Record:
    """The lock holder closes its claim: records amount and voucher, releases the lock."""
    bill_ref(bill_code, bill_number)
    amount = fen_arg(amount_fen, "amountFen")
    voucher_no = text_arg(voucher_no, "voucherNo", 64)
    actor, bill = _reimbursers_bill(stub, "ClaimBill", bill_code, bill_number)
    lifecycle.check(lifecycle.CLAIM, bill)
    access.require_lock_holder(actor, bill, "ClaimBill")
    _refuse_repeated_claim(bill, actor, "ClaimBill")
    total, before = bill["totalAmount"], bill["reimbursedTotal"]
    if before + amount > total:
        error = Conflict(
            f"ClaimBill: a claim of {amount} fen would take the reimbursed total of"
            f" {lifecycle.name(bill)} to {before + amount} fen, above its {total} fen;"
            f" {total - before} fen remain"
        )
        raise Anomaly(error, "over-claim", lifecycle.subject(bill))
    claim = {
        "reimburserId": actor.reimburser,
        "amount": amount,
        "voucherNo": voucher_no,
        "txId": stub.tx_id,
        "at": ledger.now(stub),
    }
    del bill["lock"]
    bill.update(
        claims=[*bill["claims"], claim],
        reimbursedTotal=before + amount,
        status=lifecycle.claim_status(total, before + amount),
        lastAction=ledger.last_action(stub, "ClaimBill", actor),
    )
    save_bill(stub, bill, lifecycle.LOCKED)
    ledger.emit(
        stub,
        "ClaimBill",
        billCode=bill_code,
        billNumber=bill_number,
        status=bill["status"],
        reimburserId=actor.reimburser,
        amount=amount,
    )
    return bill


@transaction("UnlockBill")
def unlock_bill(stub: Stub, bill_code: str, bill_number: str) -> ledger.Record:
    """Release the lock without a claim (the lock holder, or finance)."""
    bill_ref(bill_code, bill_number)
    actor, bill = _reimbursers_bill(stub, "UnlockBill", bill_code, bill_number)
    lifecycle.check(lifecycle.UNLOCK, bill)
    access.require_lock_holder(actor, bill, "UnlockBill")
    lock = bill.pop("lock")
    bill.update(
        status=lock["previousStatus"],
        lastAction=ledger.last_action(stub, "UnlockBill", actor),
    )
    save_bill(stub, bill, lifecycle.LOCKED)
    ledger.emit(
        stub,
        "UnlockBill",
        billCode=bill_code,
        billNumber=bill_number,
        status=bill["status"],
        reimburserId=lock["reimburserId"],
    )
    return bill
