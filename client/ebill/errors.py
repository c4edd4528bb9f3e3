"""The e-bill domain errors, and the one function that maps chain answers to them.

Hierarchy (``kind`` is the chaincode's error kind when the chaincode answered)::

    EbillError                       message, kind, transaction_id, function, anomaly_id
    +-- InvalidInput                 InvalidArgument: a field or argument breaks a rule
    +-- NotAuthorised                Forbidden: the caller may not do this
    +-- NotFound                     NotFound: no such unit, batch, bill, authorisation
    +-- Conflict                     Conflict: the request conflicts with the ledger's state
    |   +-- AlreadyExists            unit already registered, bill number taken, already authorised
    |   +-- StockConflict            open batch, overlapping range, batch not pending/approved,
    |   |                            bill code of another region
    |   +-- AuthorisationInUse       revoking a reimburser that holds the lock or has claimed
    |   +-- TooManyAuthorised        the bill has the maximum of authorised reimbursers
    |   +-- TransactionConflict      committed invalid (MVCC_READ_CONFLICT, PHANTOM_READ_CONFLICT):
    |   |                            someone changed the same bill at the same instant; or
    |   |                            endorsers disagreed because one peer was a block behind
    |   +-- Refused                  a life-cycle or stock rule refuses it (anomalies among them)
    |       +-- OutOfStock           issuance outside the unit's approved, unreconciled stock
    |       +-- UnitSuspended        the unit is suspended
    |       +-- BillLocked           another reimburser holds the lock
    |       +-- BillNotLocked        claim or unlock without a lock
    |       +-- AlreadyReimbursed    the bill is fully reimbursed (closed)
    |       +-- OverClaim            the claim exceeds what remains of the bill's amount
    |       +-- RepeatedClaim        this reimburser has already claimed the bill
    |       +-- BillClaimed          red-letter of a bill that has been claimed
    |       +-- BillRedLettered      the bill is red-lettered (void)
    |       +-- BillArchived         the bill is archived
    |       +-- RedBill              the action is not allowed on a red bill
    |       +-- TooEarlyToArchive    an open bill is archived only after 1095 days
    +-- TransactionFailed            committed invalid for another reason (e.g. endorsement policy)
    +-- NetworkUnavailable           no peer answers at all, a deadline passed, or network.json
    |   |                            missing
    |   +-- NodeUnavailable          the gateway answered that nodes failed (a peer down, the
    |                                chaincode unreachable, no orderer took it): ``details``
    +-- InternalError                the chaincode failed (Internal) or answered nonsense

Every chaincode refusal is an error answer ``"<Kind> [<code>]: <text>"``; the class
comes from the code through one table (:data:`CODE_ERRORS`), never from the prose.
A refusal whose code is an anomaly type has ``anomaly_id`` (the refused proposal's
transaction id: the finance chaincode spooled it, finance anchors it) and
``anomaly_type`` set. Every class has a ``hint``: one sentence saying what to do.

An error that did not come from the chaincode keeps the gateway's per-node
``details`` (address, MSP id, message: which peer or orderer failed and how). One
whose ``outcome_unknown`` is true (no commit status came, or the gateway went away
during the submit) carries the ``transaction_id`` to resolve it with
``PartyClient.resolve(tx_id)`` / ``Network.get_commit_status`` before a retry.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import grpc

import fabricgw

from .consistency import STALE_ENDORSEMENT


class EbillError(Exception):
    """Base of the e-bill errors: what was refused and why, and where.

    ``message`` is the chaincode's text without its kind prefix; ``kind`` the
    chaincode kind (``InvalidArgument``, ``Forbidden``, ``NotFound``, ``Conflict``,
    ``Internal``) or ``None``; ``code`` the chaincode's stable refusal code or
    ``None``; ``transaction_id`` when known; ``function`` the
    contract function called; ``anomaly_id`` when the chaincode logged an anomaly.
    """

    hint = "see the message"

    def __init__(
        self,
        message: str,
        *,
        kind: str | None = None,
        transaction_id: str | None = None,
        function: str | None = None,
        anomaly_id: str | None = None,
        anomaly_type: str | None = None,
        code: str | None = None,
        details: Sequence[fabricgw.ErrorDetail] = (),
        outcome_unknown: bool | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.code = code
        self.transaction_id = transaction_id
        self.function = function
        self.anomaly_id = anomaly_id
        self.anomaly_type = anomaly_type
        self.details: tuple[fabricgw.ErrorDetail, ...] = tuple(details)
        """What each node the gateway called reported (not for chaincode refusals)."""
        self.outcome_unknown = outcome_unknown
        """True: the transaction may still commit (resolve ``transaction_id`` before
        retrying); False: it did not and will not; None: not said (an error made
        without a gateway answer, or a chaincode refusal: nothing was submitted)."""
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        return "\n".join([self.message, *(f"  - {detail}" for detail in self.details)])

    def one_line(self) -> str:
        """The message and the hint on one line, for a console (the details not included)."""
        text = " ".join(self.message.split())
        logged = f" (logged as anomaly {self.anomaly_type})" if self.anomaly_id else ""
        return f"{text}{logged}; {self.hint}"


class InvalidInput(EbillError):
    """An argument or a field breaks a validation rule (chaincode InvalidArgument)."""

    hint = "fix the named field or argument and try again"


class NotAuthorised(EbillError):
    """The caller's role or relation to the object does not allow this (Forbidden)."""

    hint = "act as a party allowed to do this (--as ORG/USER)"


class NotFound(EbillError):
    """The unit, batch, bill or authorisation does not exist (NotFound)."""

    hint = "check the code and number"


class Conflict(EbillError):
    """The request conflicts with the current state of the ledger (Conflict)."""

    hint = "read the current state and try what it allows"


class AlreadyExists(Conflict):
    """The unit is registered, the bill number is taken, or the reimburser authorised."""

    hint = "nothing to do if it is yours; otherwise use another code or number"


class StockConflict(Conflict):
    """A stock rule: an open batch, an overlapping range, a batch in the wrong status."""

    hint = "list the unit's stock (ebill stock list UNIT) and settle the open batch first"


class AuthorisationInUse(Conflict):
    """The reimburser holds the bill's lock or has claimed it: it cannot be revoked."""

    hint = "an authorisation that was used stays"


class TooManyAuthorised(Conflict):
    """The bill has the maximum number of authorised reimbursers."""

    hint = "revoke an unused authorisation first"


class TransactionConflict(Conflict):
    """Committed invalid by Fabric's MVCC check: another transaction changed the same
    keys at the same instant, so this one changed nothing."""

    hint = "read the bill again and retry if it still applies"


class Refused(Conflict):
    """A life-cycle or stock rule refuses the action; ``anomaly_id`` if it was logged."""

    hint = "read the bill (ebill bill show) to see its status"


class OutOfStock(Refused):
    """The bill number is outside the unit's approved, unreconciled stock."""

    hint = "use a number of an approved batch (ebill stock list UNIT) or apply for stock"


class UnitSuspended(Refused):
    """The unit is suspended: it issues nothing and gets no stock."""

    hint = "finance must resume the unit first (ebill units resume CODE)"


class BillLocked(Refused):
    """A reimburser holds the bill's lock."""

    hint = "wait for the lock holder to claim or unlock (finance can unlock a stale lock)"


class BillNotLocked(Refused):
    """Claim or unlock of a bill that is not locked."""

    hint = "lock the bill first (ebill reimburse lock)"


class AlreadyReimbursed(Refused):
    """The bill is fully reimbursed (closed): no lock, claim or authorisation."""

    hint = "the bill is closed; it cannot be reimbursed again"


class OverClaim(Refused):
    """The claim would take the reimbursed total above the bill's amount."""

    hint = "claim at most what remains, or unlock the bill"


class RepeatedClaim(Refused):
    """This reimburser has already claimed the bill; each claims a bill once."""

    hint = "a reimburser claims a bill once"


class BillClaimed(Refused):
    """The bill has been (partly) reimbursed, so it can no longer be red-lettered."""

    hint = "a claimed bill cannot be voided"


class BillRedLettered(Refused):
    """The bill is red-lettered (void)."""

    hint = "the bill is void; use its red bill's history"


class BillArchived(Refused):
    """The bill is archived."""

    hint = "an archived bill is read only"


class RedBill(Refused):
    """A red bill (the bill voiding another) is only archived."""

    hint = "act on the original bill instead"


class TooEarlyToArchive(Refused):
    """An issued or partially reimbursed bill is archived only after 1095 days."""

    hint = "archive it when it is reimbursed, red-lettered or old enough"


class TransactionFailed(EbillError):
    """The transaction committed invalid for a reason other than a conflict."""

    hint = "check the network's endorsement policy and peers, then retry"


class NetworkUnavailable(EbillError):
    """No peer answers at all, a deadline passed, or no network description."""

    hint = "start the network (make network-up) or check --network"


class NodeUnavailable(NetworkUnavailable):
    """The gateway answered, but nodes it needed failed: ``details`` say which and how
    (a peer down, the chaincode unreachable, no orderer accepting)."""

    hint = (
        "a node of the network failed (see the details): check `ebill network status`"
        " and restart it (ebill-network restart NODE), then retry"
    )


#: The hint of an error whose transaction may still commit.
RESOLVE_HINT = (
    "the transaction may still commit: resolve its transaction id"
    " (ebill tx status TXID, PartyClient.resolve) before retrying, and retry with the same"
    " bill number"
)


class InternalError(EbillError):
    """The chaincode failed or answered something this client does not understand."""

    hint = "look at the chaincode log (.data/logs) and report it"


#: The one table from the chaincode's refusal codes (``"<Kind> [<code>]: <text>"``, see
#: ``ebill_chaincode.contract.codes``) to classes. Anomaly codes are the anomaly types.
CODE_ERRORS: dict[str, type[EbillError]] = {
    "invalid-argument": InvalidInput,
    "unknown-function": InvalidInput,
    "wrong-argument-count": InvalidInput,
    "not-authorised": NotAuthorised,
    "not-found": NotFound,
    "conflict": Conflict,
    "internal": InternalError,
    "error-not-recorded": InternalError,
    "unit-exists": AlreadyExists,
    "org-exists": AlreadyExists,
    "bill-exists": AlreadyExists,
    "already-authorised": AlreadyExists,
    "too-many-authorised": TooManyAuthorised,
    "authorisation-in-use": AuthorisationInUse,
    "stock-conflict": StockConflict,
    "unit-suspended": UnitSuspended,
    "red-bill": RedBill,
    "too-early-to-archive": TooEarlyToArchive,
    "bill-not-locked": BillNotLocked,
    "bill-locked": BillLocked,
    "bill-reimbursed": AlreadyReimbursed,
    "bill-red-lettered": BillRedLettered,
    "bill-archived": BillArchived,
    # anomalies (spooled by the finance chaincode and anchored on the chain)
    "issuance-outside-stock": OutOfStock,
    "issuance-by-suspended-unit": UnitSuspended,
    "lock-while-locked": BillLocked,
    "lock-on-reimbursed-bill": AlreadyReimbursed,
    "lock-on-red-lettered-bill": BillRedLettered,
    "lock-on-archived-bill": BillArchived,
    "claim-on-reimbursed-bill": AlreadyReimbursed,
    "claim-on-red-lettered-bill": BillRedLettered,
    "claim-on-archived-bill": BillArchived,
    "over-claim": OverClaim,
    "repeated-claim": RepeatedClaim,
    "red-letter-while-locked": BillLocked,
    "red-letter-after-claim": BillClaimed,
}
#: The codes whose refusal the chaincode logs as an anomaly.
ANOMALY_CODES = frozenset(
    code for code in CODE_ERRORS if code.startswith(("issuance-", "lock-", "claim-", "red-letter-"))
) | {"over-claim", "repeated-claim"}
_KIND_ERRORS: dict[str, type[EbillError]] = {
    "InvalidArgument": InvalidInput,
    "Forbidden": NotAuthorised,
    "NotFound": NotFound,
    "Conflict": Conflict,
    "Internal": InternalError,
}
#: The chaincode's message form; the kind and code are machine-readable, the text prose.
MESSAGE_FORMAT = re.compile(
    r"(?P<kind>InvalidArgument|Forbidden|NotFound|Conflict|Internal)"
    r" \[(?P<code>[a-z0-9]+(?:-[a-z0-9]+)*)\]: (?P<text>.*)",
    re.S,
)
_CONFLICT_CODES = frozenset({"MVCC_READ_CONFLICT", "PHANTOM_READ_CONFLICT"})
_UNREACHABLE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
#: What gRPC itself says when no server answered (a refused or broken connection, or a
#: deadline with no answer), as opposed to an UNAVAILABLE the gateway sent.
_NO_ANSWER = re.compile(
    r"failed to connect|Socket closed|Stream removed|Connection reset|Connection refused"
    r"|recvmsg|Deadline Exceeded|DNS resolution failed|connections to all backends failing",
    re.I,
)
#: Codes by which the gateway says that nodes it called failed.
_NODE_FAILURES = _UNREACHABLE | {
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.CANCELLED,
}


def from_message(
    message: str, *, function: str | None = None, transaction_id: str | None = None
) -> EbillError | None:
    """The domain error for a chaincode message ``"<Kind> [<code>]: <text>"``; None if
    the message is not of that form. An unknown code falls back to its kind's class."""
    match = MESSAGE_FORMAT.fullmatch(message)
    if match is None:
        return None
    kind, code, text = match["kind"], match["code"], match["text"]
    error = CODE_ERRORS.get(code) or _KIND_ERRORS[kind]
    logged = code in ANOMALY_CODES
    return error(
        text,
        kind=kind,
        code=code,
        transaction_id=transaction_id,
        function=function,
        anomaly_id=transaction_id if logged else None,
        anomaly_type=code if logged else None,
    )


def _from_gateway(
    error: fabricgw.GatewayError, function: str | None, transaction_id: str | None
) -> EbillError:
    tx_id = getattr(error, "transaction_id", None) or transaction_id
    if isinstance(error, fabricgw.CommitError):
        cls = TransactionConflict if error.code_name in _CONFLICT_CODES else TransactionFailed
        what = (
            "another transaction changed the same bill at the same instant"
            if cls is TransactionConflict
            else "the transaction was committed as invalid"
        )
        return cls(
            f"{function or 'transaction'} {tx_id} changed nothing: {what} ({error.code_name})",
            transaction_id=tx_id,
            function=function,
        )
    if STALE_ENDORSEMENT in str(error):
        return TransactionConflict(
            f"{function or 'transaction'} {tx_id} was not submitted: the endorsing peers"
            " answered differently (one of them had not yet committed the latest block)",
            transaction_id=tx_id,
            function=function,
        )
    message = error.chaincode_message
    if message is not None:
        mapped = from_message(message, function=function, transaction_id=tx_id)
        if mapped is not None:
            return mapped
        return InternalError(message, transaction_id=tx_id, function=function)
    first_line = error.message.splitlines()[0] if error.message else type(error).__name__
    unknown = isinstance(error, fabricgw.TransactionError) and error.outcome_unknown
    kind: type[EbillError] = EbillError
    text, hint = first_line, None
    if error.code is grpc.StatusCode.PERMISSION_DENIED:
        kind, text = NotAuthorised, f"the gateway refused the caller: {first_line}"
    elif error.code in _NODE_FAILURES or unknown:
        silent = error.code in _UNREACHABLE and not error.details
        if not silent or not _NO_ANSWER.search(first_line):  # the gateway answered
            kind, what = NodeUnavailable, "a node of the network failed"
        else:  # the gateway peer itself did not answer
            kind, what = NetworkUnavailable, "the network did not answer"
        text = f"{what}: {first_line}" + ("; the transaction may still commit" if unknown else "")
        hint = f"{RESOLVE_HINT}; {kind.hint}" if unknown else None
    return kind(
        text,
        transaction_id=tx_id,
        function=function,
        details=error.details,
        outcome_unknown=unknown,
        hint=hint,
    )


def domain_error(
    source: fabricgw.GatewayError,
    *,
    function: str | None = None,
    transaction_id: str | None = None,
) -> EbillError:
    """The domain error for a fabricgw error, by the chaincode's refusal code.

    Never raises: something unrecognised becomes :class:`InternalError` or a plain
    :class:`EbillError` carrying the original text.
    """
    return _from_gateway(source, function, transaction_id)


__all__ = [
    "AlreadyExists",
    "AlreadyReimbursed",
    "AuthorisationInUse",
    "BillArchived",
    "BillClaimed",
    "BillLocked",
    "BillNotLocked",
    "BillRedLettered",
    "Conflict",
    "EbillError",
    "InternalError",
    "InvalidInput",
    "NetworkUnavailable",
    "NodeUnavailable",
    "NotAuthorised",
    "NotFound",
    "OutOfStock",
    "OverClaim",
    "RedBill",
    "Refused",
    "RepeatedClaim",
    "StockConflict",
    "TooEarlyToArchive",
    "TooManyAuthorised",
    "TransactionConflict",
    "TransactionFailed",
    "UnitSuspended",
    "CODE_ERRORS",
    "domain_error",
    "from_message",
]
