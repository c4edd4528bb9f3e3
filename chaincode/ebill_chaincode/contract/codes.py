"""The one table of refusal codes the contract answers with.

Every error message is ``"<Kind> [<code>]: <text>"`` (see
:mod:`ebill_chaincode.shim.errors`); clients act on the kind and the code, never on the
text. A code not listed here is one of the default per-kind codes
(:data:`~ebill_chaincode.shim.errors.DEFAULT_CODES`) or ``unknown-function``,
``wrong-argument-count``, ``error-not-recorded`` from the shim. The anomaly codes are
exactly the anomaly types (:data:`.vocabulary.ANOMALY_TYPES`): such a refusal is also spooled
by the finance chaincode and anchored on the chain (:mod:`.anomalies`).
"""

from __future__ import annotations

from .vocabulary import ANOMALY_KINDS, ANOMALY_TYPES

#: code -> (kind, meaning); the anomaly types are added below.
CODES: dict[str, tuple[str, str]] = {
    "invalid-argument": ("InvalidArgument", "an argument or a field breaks a rule"),
    "not-authorised": ("Forbidden", "the caller may not do this"),
    "not-found": ("NotFound", "no such unit, batch, bill or authorisation"),
    "conflict": ("Conflict", "the request conflicts with the ledger's state"),
    "internal": ("Internal", "the chaincode failed"),
    "unknown-function": ("InvalidArgument", "no such contract function"),
    "wrong-argument-count": ("InvalidArgument", "the function takes another number of args"),
    "error-not-recorded": ("Internal", "a refusal that could not be spooled as an anomaly"),
    "unit-exists": ("Conflict", "the unit is already registered"),
    "bill-exists": ("Conflict", "the bill number is taken"),
    "already-authorised": ("Conflict", "the reimburser is already authorised on the bill"),
    "too-many-authorised": ("Conflict", "the bill has the maximum of authorised reimbursers"),
    "authorisation-in-use": ("Conflict", "the reimburser holds the lock or has claimed"),
    "stock-conflict": ("Conflict", "open batch, overlap, batch status or region of a code"),
    "unit-suspended": ("Forbidden|Conflict", "the unit is suspended (not an issuance anomaly)"),
    "red-bill": ("Conflict", "the action is not allowed on a red bill"),
    "too-early-to-archive": ("Conflict", "an open bill is archived only after 1095 days"),
    "bill-not-locked": ("Conflict", "claim or unlock of a bill without a lock"),
    "bill-locked": ("Conflict", "another reimburser holds the lock"),
    "bill-reimbursed": ("Conflict", "the bill is fully reimbursed (closed)"),
    "bill-red-lettered": ("Conflict", "the bill is red-lettered (void)"),
    "bill-archived": ("Conflict", "the bill is archived"),
}
CODES.update({name: (ANOMALY_KINDS[name], text) for name, text in ANOMALY_TYPES.items()})
