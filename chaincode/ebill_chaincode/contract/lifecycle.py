"""The life cycle of a bill: its statuses and every allowed transition, in one table.

Statuses: ``issued``, ``locked``, ``partially_reimbursed``, ``reimbursed``,
``red_lettered``, ``archived``.

:data:`TABLE` below is the whole status machine: for each action (a transaction
function) and each current status, either the statuses the bill may move to (its own
status: allowed, unchanged) or a :class:`Refusal`. A refusal with an anomaly type is
logged as an anomaly (see :mod:`.anomalies`); the others are ordinary Conflict errors.
In short::

    issued --LockBill--> locked --ClaimBill--> partially_reimbursed --LockBill--> locked
    locked --ClaimBill (total reached)--> reimbursed --ArchiveBill--> archived
    locked --UnlockBill--> the status before the lock
    issued --RedLetterBill--> red_lettered --ArchiveBill--> archived

Rules beside the table, checked by :func:`check` too:

* ArchiveBill: an issued or partially reimbursed bill is archived only when its issue date
  is at least :data:`ARCHIVE_AFTER_DAYS` days old (an unreimbursed bill stays open for
  claims for three years); reimbursed and red-lettered bills are archived at any time.
  ``archived`` keeps the status before it in ``previousStatus``.
* A red bill (kind ``red``, the bill that voids another) is never locked, claimed,
  authorised or red-lettered; it is only archived (at any time) or has an
  authorisation revoked.
* RedLetterBill after any claim is the anomaly ``red-letter-after-claim`` whatever the
  status says.
* Claims: each reimburser claims at most once per bill (``repeated-claim``, refused
  already at LockBill); a claim must not take the reimbursed total above the bill's
  total (``over-claim``); see :mod:`.reimbursement`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ..shim.errors import ChaincodeError, Conflict
from . import vocabulary
from .anomalies import Anomaly

ISSUED = vocabulary.BILL_ISSUED
LOCKED = vocabulary.BILL_LOCKED
PARTIALLY_REIMBURSED = vocabulary.BILL_PARTIALLY_REIMBURSED
REIMBURSED = vocabulary.BILL_REIMBURSED
RED_LETTERED = vocabulary.BILL_RED_LETTERED
ARCHIVED = vocabulary.BILL_ARCHIVED
STATUSES = vocabulary.BILL_STATUSES

KIND_NORMAL = vocabulary.KIND_NORMAL
KIND_RED = vocabulary.KIND_RED

ARCHIVE_AFTER_DAYS = 1095

LOCK = "LockBill"
CLAIM = "ClaimBill"
UNLOCK = "UnlockBill"
RED_LETTER = "RedLetterBill"
ARCHIVE = "ArchiveBill"
AUTHORISE = "AuthoriseReimburser"
REVOKE = "RevokeAuthorisation"
ACTIONS = (LOCK, CLAIM, UNLOCK, RED_LETTER, ARCHIVE, AUTHORISE, REVOKE)


@dataclass(frozen=True)
class Refusal:
    """Why an action is refused in a status; ``anomaly`` names the anomaly type if any."""

    reason: str
    anomaly: str | None = None
    kind: type[ChaincodeError] = Conflict
    code: str | None = None  # the refusal code when it is no anomaly (see .codes)


Outcome = tuple[str, ...] | Refusal

_NOT_LOCKED = Refusal("is not locked; LockBill first", code="bill-not-locked")
_ARCHIVED = Refusal("is archived", code="bill-archived")

TABLE: dict[str, dict[str, Outcome]] = {
    LOCK: {
        ISSUED: (LOCKED,),
        LOCKED: Refusal("is already locked", "lock-while-locked"),
        PARTIALLY_REIMBURSED: (LOCKED,),
        REIMBURSED: Refusal("is fully reimbursed (closed)", "lock-on-reimbursed-bill"),
        RED_LETTERED: Refusal("is red-lettered (void)", "lock-on-red-lettered-bill"),
        ARCHIVED: Refusal("is archived", "lock-on-archived-bill"),
    },
    CLAIM: {
        ISSUED: _NOT_LOCKED,
        LOCKED: (PARTIALLY_REIMBURSED, REIMBURSED),
        PARTIALLY_REIMBURSED: _NOT_LOCKED,
        REIMBURSED: Refusal("is fully reimbursed (closed)", "claim-on-reimbursed-bill"),
        RED_LETTERED: Refusal("is red-lettered (void)", "claim-on-red-lettered-bill"),
        ARCHIVED: Refusal("is archived", "claim-on-archived-bill"),
    },
    UNLOCK: {
        ISSUED: Refusal("is not locked", code="bill-not-locked"),
        LOCKED: (ISSUED, PARTIALLY_REIMBURSED),
        PARTIALLY_REIMBURSED: Refusal("is not locked", code="bill-not-locked"),
        REIMBURSED: Refusal("is not locked", code="bill-not-locked"),
        RED_LETTERED: Refusal("is not locked", code="bill-not-locked"),
        ARCHIVED: Refusal("is not locked", code="bill-not-locked"),
    },
    RED_LETTER: {
        ISSUED: (RED_LETTERED,),
        LOCKED: Refusal("is locked for a claim", "red-letter-while-locked"),
        PARTIALLY_REIMBURSED: Refusal("has been claimed", "red-letter-after-claim"),
        REIMBURSED: Refusal("has been claimed", "red-letter-after-claim"),
        RED_LETTERED: Refusal("is already red-lettered", code="bill-red-lettered"),
        ARCHIVED: _ARCHIVED,
    },
    ARCHIVE: {
        ISSUED: (ARCHIVED,),
        LOCKED: Refusal("is locked for a claim", code="bill-locked"),
        PARTIALLY_REIMBURSED: (ARCHIVED,),
        REIMBURSED: (ARCHIVED,),
        RED_LETTERED: (ARCHIVED,),
        ARCHIVED: Refusal("is already archived", code="bill-archived"),
    },
    AUTHORISE: {
        ISSUED: (ISSUED,),
        LOCKED: (LOCKED,),
        PARTIALLY_REIMBURSED: (PARTIALLY_REIMBURSED,),
        REIMBURSED: Refusal("is fully reimbursed (closed)", code="bill-reimbursed"),
        RED_LETTERED: Refusal("is red-lettered (void)", code="bill-red-lettered"),
        ARCHIVED: _ARCHIVED,
    },
    REVOKE: {
        ISSUED: (ISSUED,),
        LOCKED: (LOCKED,),
        PARTIALLY_REIMBURSED: (PARTIALLY_REIMBURSED,),
        REIMBURSED: (REIMBURSED,),
        RED_LETTERED: (RED_LETTERED,),
        ARCHIVED: _ARCHIVED,
    },
}

#: Actions allowed on a red bill (kind red); the others are refused.
RED_BILL_ACTIONS = (ARCHIVE, REVOKE)


def name(bill: dict[str, Any]) -> str:
    return f"bill {bill['billCode']}/{bill['billNumber']}"


def subject(bill: dict[str, Any]) -> dict[str, str]:
    """The fields an anomaly record keeps about the bill."""
    return {
        "billCode": bill["billCode"],
        "billNumber": bill["billNumber"],
        "unitCode": bill["unitCode"],
    }


def refuse(action: str, bill: dict[str, Any], refusal: Refusal) -> ChaincodeError:
    """The error for a refusal: an Anomaly if the refusal is one."""
    reason = refusal.reason
    holder = bill.get("lock", {}).get("reimburserId")
    if bill["status"] == LOCKED and holder:
        reason += f" (by {holder})"
    error = refusal.kind(f"{action}: {name(bill)} {reason}", refusal.code)
    if refusal.anomaly is None:
        return error
    return Anomaly(error, refusal.anomaly, subject(bill))


def age_in_days(bill: dict[str, Any], today: date) -> int:
    return (today - date.fromisoformat(bill["issueDate"][:10])).days


def check(action: str, bill: dict[str, Any], today: date | None = None) -> tuple[str, ...]:
    """The statuses ``action`` may move the bill to; raises the refusal otherwise.

    ``today`` (the transaction's date) is needed for ArchiveBill.
    """
    if bill.get("kind") == KIND_RED and action not in RED_BILL_ACTIONS:
        original = bill.get("redOf", {})
        raise Conflict(
            f"{action}: {name(bill)} is a red bill (it voids bill"
            f" {original.get('billCode')}/{original.get('billNumber')}); it can only be archived",
            "red-bill",
        )
    outcome = TABLE[action][bill["status"]]
    if isinstance(outcome, Refusal):
        raise refuse(action, bill, outcome)
    if action == RED_LETTER and bill.get("claims"):
        raise refuse(action, bill, Refusal("has been claimed", "red-letter-after-claim"))
    if (
        action == ARCHIVE
        and bill.get("kind") != KIND_RED
        and bill["status"] in (ISSUED, PARTIALLY_REIMBURSED)
    ):
        if today is None:
            raise ValueError("ArchiveBill needs today's date")
        age = age_in_days(bill, today)
        if age < ARCHIVE_AFTER_DAYS:
            raise Conflict(
                f"{action}: {name(bill)} is {bill['status']} and {age} days old; a bill not"
                f" reimbursed or red-lettered is archived only after {ARCHIVE_AFTER_DAYS} days",
                "too-early-to-archive",
            )
    return outcome


def claim_status(total_amount: int, reimbursed_total: int) -> str:
    """The status after a claim brings the reimbursed total to ``reimbursed_total``."""
    return REIMBURSED if reimbursed_total >= total_amount else PARTIALLY_REIMBURSED
