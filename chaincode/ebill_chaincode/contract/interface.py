"""The contract's interface, declared once, as data.

For every transaction function (:data:`FUNCTIONS`): its name, parameters (type, format,
constraints, optional or not), whether it is evaluated or submitted, the roles that may
call it and the per-object scope (the access table :mod:`.access` checks), its transient
keys, its result schema, the refusal codes it can raise (:mod:`.codes`) and the event
it emits. Plus the record schemas (:mod:`.records`) and the shared vocabularies
(:mod:`.vocabulary`).

Uses of this declaration: :mod:`.access` reads the roles from it; the router refuses
to start when a registered function and the interface disagree (:func:`check_contract`);
``org.hyperledger.fabric:GetMetadata`` answers it in the Fabric contract API's metadata
format (:mod:`.metadata`); ``docs/contract.md`` is generated from it (:mod:`.docs`); the
party clients call the functions by these declarations.

Every argument is a string on the wire: numbers are decimal digits (money in integer
fen), dates ``YYYY-MM-DD`` (or ``YYYYMMDD``), months ``YYYYMM``, optional arguments
``""`` when not given (trailing ones may be left out).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from . import model, records, vocabulary
from .codes import CODES
from .model import MAX_BOOKMARK, MAX_PAGE_SIZE
from .records import camel
from .vocabulary import (
    CLERK,
    FINANCE,
    ISSUER,
    PLATFORM,
    REIMBURSER,
    SUPERVISOR,
    TRANSIENT_BILL,
    TRANSIENT_BILLS,
    TRANSIENT_CHECK_CODE_HASH,
    TRANSIENT_CHECK_CODE_HASHES,
    TRANSIENT_MEDICAL,
    TRANSIENT_PAYER,
    TRANSIENT_REPLY_KEY,
    TRANSIENT_SALT,
)

CONTRACT_NAME = "ebill"
VERSION = "1.0.0"
SUBMIT = "submit"
EVALUATE = "evaluate"
#: The name under which Fabric's contract API answers the metadata.
METADATA_FUNCTION = "org.hyperledger.fabric:GetMetadata"

Schema = dict[str, Any]

# --- the per-object scopes ----------------------------------------------------------------

OWN_UNIT = "own-unit"
AUTHORISED = "authorised"
LOCK_HOLDER = "lock-holder"
PAYER_OWN = "payer-own"
CHECK_CODE = "check-code"

#: Scope -> the rule :mod:`.access` checks once the object is loaded.
SCOPES: dict[str, str] = {
    OWN_UNIT: "unit staff (issuer, clerk) act only on their own unit's units, stock and bills",
    AUTHORISED: "a reimburser acts only on bills the payer authorised it on (and not revoked)",
    LOCK_HOLDER: "a reimburser claims or unlocks only a bill whose lock it holds",
    PAYER_OWN: "the platform acts only for the bill's payer: transient payer {type, id} and"
    " payerSalt must give the bill's payerHash",
    CHECK_CODE: "anyone, but only with the bill's check code; the answer holds nothing personal",
}

#: Codes any function may answer (the router's and the shim's).
COMMON_ERRORS = ("invalid-argument", "wrong-argument-count", "internal", "error-not-recorded")


@dataclass(frozen=True)
class Param:
    """One argument: its wire name, JSON schema of the string, meaning, optional or not;
    ``value``: the JSON schema of what the string stands for when it is not text (an
    integer given as decimal digits), so that a JSON API can carry it typed."""

    name: str
    schema: Schema
    description: str
    optional: bool = False
    value: Schema | None = None


@dataclass(frozen=True)
class TransientKey:
    """One transient-map entry: its name, encoding of the bytes, required or not."""

    name: str
    encoding: str
    description: str
    required: bool = True
    schema: str = ""  # the record schema of a JSON value


@dataclass(frozen=True)
class Event:
    """The chaincode event a function sets: its name and payload fields (+ org)."""

    name: str
    payload: dict[str, Schema]


@dataclass(frozen=True)
class Function:
    """One transaction function of the contract."""

    name: str
    tag: str  # SUBMIT or EVALUATE
    summary: str
    params: tuple[Param, ...]
    roles: frozenset[str]  # empty: anyone (no role checked)
    returns: Schema
    errors: tuple[str, ...]
    event: Event | None
    example: tuple[str, ...]
    scope: tuple[str, ...] = ()
    scope_note: str = ""
    transient: tuple[TransientKey, ...] = ()
    example_transient: dict[str, str] = field(default_factory=dict)
    endorsers: tuple[str, ...] = ()  # MSP ids that must endorse, when not the default

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def all_errors(self) -> tuple[str, ...]:
        """The function's own codes, then the common ones."""
        return (*self.errors, *(c for c in COMMON_ERRORS if c not in self.errors))


# --- parameter and payload schemas -------------------------------------------------------


def _string(pattern: str = "", description: str = "", **extra: Any) -> Schema:
    schema: Schema = {"type": "string", **extra}
    if pattern:
        schema["pattern"] = f"^{pattern}$"
    if description:
        schema["description"] = description
    return schema


def _integer(minimum: int, maximum: int) -> Schema:
    """The value schema of an integer argument from ``minimum`` to ``maximum``."""
    return {"type": "integer", "minimum": minimum, "maximum": maximum}


def _ref(record: type[records.Record]) -> Schema:
    return {"$ref": f"#/components/schemas/{record.schema_name()}"}


_DIGITS = "decimal digits"
BILL_CODE = Param("billCode", _string(model.BILL_CODE.pattern), "the bill code, 8 digits")
BILL_NUMBER = Param("billNumber", _string(model.BILL_NUMBER.pattern), "the bill number, 10 digits")
UNIT_CODE = Param(
    "unitCode", _string(model.UNIT_CODE.pattern), "the unit code, 1-32 letters/digits"
)
PAGE_SIZE = Param(
    "pageSize",
    _string("[0-9]{1,3}", f"integer 1..{MAX_PAGE_SIZE} as {_DIGITS}", format="int32"),
    f"records per page, 1 to {MAX_PAGE_SIZE}",
    value=_integer(1, MAX_PAGE_SIZE),
)
BOOKMARK = Param(
    "bookmark",
    _string(description=f"opaque, at most {MAX_BOOKMARK} characters", maxLength=MAX_BOOKMARK),
    'the previous page\'s bookmark; "" (or left out) for the first page',
    optional=True,
)
_DAY = "[0-9]{4}-?[0-9]{2}-?[0-9]{2}"
FROM_DATE = Param("fromDate", _string(_DAY, "YYYY-MM-DD or YYYYMMDD"), "first day, inclusive")
TO_DATE = Param("toDate", _string(_DAY, "YYYY-MM-DD or YYYYMMDD"), "last day, inclusive")
REASON = Param(
    "reason",
    _string(description="1 to 200 characters, one line", minLength=1, maxLength=200),
    "why (no personal data)",
)
REIMBURSER_ID = Param(
    "reimburserId",
    _string(model.REIMBURSER_ID.pattern),
    "the reimburser's id (its certificate attribute reimburser), e.g. MEDINS-HN",
)
BATCH_ID = Param("batchId", _string(model.BATCH_ID.pattern), "the batch id (ApplyStock's tx id)")
APPLICATION_ID = Param(
    "applicationId", _string(model.BATCH_ID.pattern), "the pending batch's id (ApplyStock's tx id)"
)

_S: Schema = {"type": "string"}
_CODE_EVENT: dict[str, Schema] = {"billCode": _S, "billNumber": _S}
_BILL_EVENT: dict[str, Schema] = {
    **_CODE_EVENT,
    "status": {"type": "string", "enum": list(vocabulary.BILL_STATUSES)},
}
_UNIT_EVENT: dict[str, Schema] = {
    "unitCode": _S,
    "status": {"type": "string", "enum": list(vocabulary.UNIT_STATUSES)},
}
_BATCH_EVENT: dict[str, Schema] = {
    "batchId": _S,
    "unitCode": _S,
    "status": {"type": "string", "enum": list(vocabulary.BATCH_STATUSES)},
}
_REIMBURSER_EVENT: dict[str, Schema] = {**_BILL_EVENT, "reimburserId": _S}
_CODE_REF: Schema = {
    "type": "object",
    "properties": {"billCode": _S, "billNumber": _S},
    "required": ["billCode", "billNumber"],
}
_ISSUE_ERRORS = (
    "not-authorised",
    "not-found",
    "bill-exists",
    "conflict",
    "issuance-by-suspended-unit",
    "issuance-outside-stock",
)

_PAYER_PROOF = (
    TransientKey(
        TRANSIENT_PAYER,
        "UTF-8 JSON",
        'the payer {"type": "person"|"company", "id"} the platform authenticated',
        schema="Payer",
    ),
    TransientKey(TRANSIENT_SALT, "raw bytes", "the bill's payer salt (16 to 64 random bytes)"),
)
_PAYER_PROOF_OPTIONAL = tuple(
    TransientKey(t.name, t.encoding, t.description + " (the platform only)", False, t.schema)
    for t in _PAYER_PROOF
)
_CHECK_CODE_HASH_FORM = "scrypt$15$8$1$<32 hex salt>$<64 hex digest>"
_CHECK_CODE = TransientKey(
    TRANSIENT_CHECK_CODE_HASH,
    "ASCII",
    "the salted scrypt hash of the check code the issuer's system generated (6 characters"
    f" of 0-9A-Z without I and O), {_CHECK_CODE_HASH_FORM}: exactly N=2^15, r=8, p=1, a"
    " fresh random 16-byte salt; the code itself never reaches the chain",
)
_EX_HASH = "scrypt$15$8$1$<salt hex>$<digest hex>"
#: The batch size limit's text (the chaincode server's CHAINCODE_MAX_BATCH).
_MAX_BATCH = "CHAINCODE_MAX_BATCH (default 100)"
_EX_PROOF = {
    TRANSIENT_PAYER: '{"type":"person","id":"460100199001011234"}',
    TRANSIENT_SALT: "<16 random bytes>",
}

READERS = (FINANCE, SUPERVISOR)
UNIT_STAFF = (ISSUER, CLERK)
_CODE, _NUMBER, _HN = "46010126", "0000000001", "HN0101"
_BATCH = "<the ApplyStock tx id>"
_HASH = "<64 hex digits of payerHash>"
_BILL_STATES = ("not-found", "red-bill")

FUNCTIONS: dict[str, Function] = {}


def _declare(function: Function) -> Function:
    unknown = [code for code in function.errors if code not in CODES]
    if unknown:
        raise ValueError(f"{function.name}: unknown refusal codes {unknown}")
    if function.name in FUNCTIONS:
        raise ValueError(f"{function.name} is declared twice")
    FUNCTIONS[function.name] = function
    return function


# --- the functions ----------------------------------------------------------------------

PING = _declare(
    Function(
        "Ping",
        EVALUATE,
        "Liveness: touches no state, needs no proposal time check, emits no event.",
        (),
        frozenset(),
        {"type": "string", "enum": ["pong"]},
        (),
        None,
        (),
    )
)
GET_METADATA = _declare(
    Function(
        METADATA_FUNCTION,
        EVALUATE,
        "This interface in the Fabric contract API metadata format (public, nothing personal).",
        (),
        frozenset(),
        {"type": "object", "description": "the contract metadata (see docs/contract.md)"},
        (),
        None,
        (),
    )
)
VERIFY_BILL = _declare(
    Function(
        "VerifyBill",
        EVALUATE,
        "Is the bill genuine? Amount and date are checked when given.",
        (
            BILL_CODE,
            BILL_NUMBER,
            Param("checkCode", _string("[0-9A-HJ-NP-Za-hj-np-z]{6}"), "the bill's check code"),
            Param(
                "totalAmount",
                _string("-?[0-9]{1,14}", "integer fen as decimal digits"),
                "the bill's total in fen (negative for a red bill); not checked if empty",
                optional=True,
                value=_integer(-model.MAX_AMOUNT, model.MAX_AMOUNT),
            ),
            Param(
                "issueDate",
                _string(_DAY, "YYYY-MM-DD or YYYYMMDD"),
                "the date printed on the bill; not checked if empty",
                optional=True,
            ),
        ),
        frozenset(),
        _ref(records.Verification),
        ("not-found",),
        Event("VerifyBill", _CODE_EVENT),
        (_CODE, _NUMBER, "7K3M9Q", "12000", "2026-03-15"),
        scope=(CHECK_CODE,),
    )
)

# units
REGISTER_UNIT = _declare(
    Function(
        "RegisterUnit",
        SUBMIT,
        "Register an issuing unit; it starts active.",
        (Param("unitJSON", _ref(records.UnitArgument), "the unit, as JSON"),),
        frozenset({FINANCE}),
        _ref(records.Unit),
        ("not-authorised", "unit-exists"),
        Event("RegisterUnit", _UNIT_EVENT),
        ('{"unitCode":"HN0101","name":"海南省人民医院","sector":"medical","region":"46"}',),
    )
)
SUSPEND_UNIT = _declare(
    Function(
        "SuspendUnit",
        SUBMIT,
        "Suspend an active unit: it issues nothing and gets no stock until resumed.",
        (UNIT_CODE, REASON),
        frozenset({FINANCE}),
        _ref(records.Unit),
        ("not-authorised", "not-found", "conflict"),
        Event("SuspendUnit", _UNIT_EVENT),
        (_HN, "audit in progress"),
    )
)
RESUME_UNIT = _declare(
    Function(
        "ResumeUnit",
        SUBMIT,
        "Make a suspended unit active again.",
        (UNIT_CODE,),
        frozenset({FINANCE}),
        _ref(records.Unit),
        ("not-authorised", "not-found", "conflict"),
        Event("ResumeUnit", _UNIT_EVENT),
        (_HN,),
    )
)
READ_UNIT = _declare(
    Function(
        "ReadUnit",
        EVALUATE,
        "The unit record.",
        (UNIT_CODE,),
        frozenset({*READERS, *UNIT_STAFF}),
        _ref(records.Unit),
        ("not-authorised", "not-found"),
        Event("ReadUnit", {"unitCode": _S}),
        (_HN,),
        scope=(OWN_UNIT,),
    )
)
LIST_UNITS = _declare(
    Function(
        "ListUnits",
        EVALUATE,
        "One page of units in unit code order.",
        (PAGE_SIZE, BOOKMARK),
        frozenset(READERS),
        _ref(records.UnitPage),
        ("not-authorised",),
        Event("ListUnits", {}),
        ("100", ""),
    )
)

# stock
APPLY_STOCK = _declare(
    Function(
        "ApplyStock",
        SUBMIT,
        "Apply for a range of numbers of a bill code; one open batch per unit and code, the"
        " code's region must be the unit's. The batch id is this transaction's id.",
        (Param("applicationJSON", _ref(records.StockApplication), "the application, as JSON"),),
        frozenset({ISSUER}),
        _ref(records.StockBatch),
        ("not-authorised", "not-found", "unit-suspended", "stock-conflict"),
        Event("ApplyStock", _BATCH_EVENT),
        ('{"unitCode":"HN0101","billCode":"46010126","startNumber":"0000000001","count":1000}',),
        scope=(OWN_UNIT,),
    )
)
APPROVE_STOCK = _declare(
    Function(
        "ApproveStock",
        SUBMIT,
        "Approve a pending application whose range overlaps no approved range.",
        (APPLICATION_ID,),
        frozenset({FINANCE}),
        _ref(records.StockBatch),
        ("not-authorised", "not-found", "stock-conflict", "unit-suspended"),
        Event("ApproveStock", _BATCH_EVENT),
        (_BATCH,),
    )
)
REJECT_STOCK = _declare(
    Function(
        "RejectStock",
        SUBMIT,
        "Reject a pending application; the unit may apply again.",
        (APPLICATION_ID, REASON),
        frozenset({FINANCE}),
        _ref(records.StockBatch),
        ("not-authorised", "not-found", "stock-conflict"),
        Event("RejectStock", _BATCH_EVENT),
        (_BATCH, "range too large"),
    )
)
RECONCILE_STOCK = _declare(
    Function(
        "ReconcileStock",
        SUBMIT,
        "Close an approved batch with the counts of its used numbers; the unused are void.",
        (BATCH_ID,),
        frozenset({FINANCE}),
        _ref(records.StockBatch),
        ("not-authorised", "not-found", "stock-conflict"),
        Event("ReconcileStock", _BATCH_EVENT),
        (_BATCH,),
    )
)
READ_STOCK = _declare(
    Function(
        "ReadStock",
        EVALUATE,
        "A stock batch.",
        (BATCH_ID,),
        frozenset({*READERS, *UNIT_STAFF}),
        _ref(records.StockBatch),
        ("not-authorised", "not-found"),
        Event("ReadStock", {"batchId": _S, "unitCode": _S}),
        (_BATCH,),
        scope=(OWN_UNIT,),
    )
)
LIST_STOCK = _declare(
    Function(
        "ListStock",
        EVALUATE,
        "One page of a unit's batches, by bill code and start number.",
        (UNIT_CODE, PAGE_SIZE, BOOKMARK),
        frozenset({*READERS, *UNIT_STAFF}),
        _ref(records.StockPage),
        ("not-authorised",),
        Event("ListStock", {"unitCode": _S}),
        (_HN, "100", ""),
        scope=(OWN_UNIT,),
    )
)

# bills
DEPOSIT_BILL_PRIVATE = _declare(
    Function(
        "DepositBillPrivate",
        SUBMIT,
        "Step 1 of issuance: write the bill's private part (collection billPrivate) from"
        " transient data; allowed again (it overwrites) until the bill is issued.",
        (BILL_CODE, BILL_NUMBER),
        frozenset({ISSUER}),
        _ref(records.Deposit),
        ("not-authorised", "bill-exists"),
        Event("DepositBillPrivate", _CODE_EVENT),
        (_CODE, _NUMBER),
        scope=(OWN_UNIT,),
        scope_note="the unit of transient bill; endorsed by the units peer alone",
        transient=(
            TransientKey(
                TRANSIENT_BILL,
                "UTF-8 JSON",
                "the whole bill: the public part, items, clerk, reviewer?, remark?",
                schema="IssuanceBill",
            ),
            TransientKey(
                TRANSIENT_PAYER, "UTF-8 JSON", "the payer {type, id, name}", schema="Payer"
            ),
            TransientKey(TRANSIENT_SALT, "raw bytes", "the payer salt, 16 to 64 random bytes"),
            TransientKey(
                TRANSIENT_MEDICAL,
                "UTF-8 JSON",
                "the medical extension; fundPaid + personalAccountPaid + ownPaid = totalAmount",
                required=False,
                schema="MedicalInfo",
            ),
        ),
        example_transient={
            TRANSIENT_BILL: "<the IssuanceBill JSON>",
            TRANSIENT_PAYER: '{"type":"person","id":"460100199001011234","name":"张三"}',
            TRANSIENT_SALT: "<16 random bytes>",
        },
        endorsers=(vocabulary.UNITS_MSP,),
    )
)
ISSUE_BILL = _declare(
    Function(
        "IssueBill",
        SUBMIT,
        "Step 2 of issuance: the public part of a bill whose private part is deposited;"
        " the number must be in the unit's approved stock.",
        (Param("billJSON", _ref(records.PublicBill), "the public part, as JSON"),),
        frozenset({ISSUER}),
        _ref(records.Issued),
        _ISSUE_ERRORS,
        Event("IssueBill", {**_BILL_EVENT, "unitCode": _S, "batchId": _S}),
        (
            '{"billCode":"46010126","billNumber":"0000000001","billName":"门诊收费票据",'
            '"unitCode":"HN0101","unitName":"海南省人民医院",'
            '"issueDate":"2026-03-15T10:30:00+08:00","totalAmount":12000,'
            f'"payerHash":"{_HASH}"}}',
        ),
        scope=(OWN_UNIT,),
        transient=(_CHECK_CODE,),
        example_transient={TRANSIENT_CHECK_CODE_HASH: _EX_HASH},
    )
)
DEPOSIT_BILLS_PRIVATE = _declare(
    Function(
        "DepositBillsPrivate",
        SUBMIT,
        f"Batch step 1: DepositBillPrivate for 1 to {_MAX_BATCH} bills of the caller's unit"
        " in one transaction, all or nothing (the first refused bill refuses all, its error"
        " names its index).",
        (),
        frozenset({ISSUER}),
        _ref(records.Deposits),
        ("not-authorised", "bill-exists"),
        Event(
            "DepositBillsPrivate",
            {"count": {"type": "integer"}, "bills": {"type": "array", "items": _CODE_REF}},
        ),
        (),
        scope=(OWN_UNIT,),
        scope_note="every bill of the caller's unit; endorsed by the units peer alone",
        transient=(
            TransientKey(
                TRANSIENT_BILLS,
                "UTF-8 JSON",
                "a JSON array of {bill: IssuanceBill, payer: Payer, payerSalt: lower-case hex"
                " of 16 to 64 random bytes, medical?: MedicalInfo}, one per bill",
            ),
        ),
        example_transient={
            TRANSIENT_BILLS: '[{"bill": {...}, "payer": {...}, "payerSalt": "..."}]'
        },
        endorsers=(vocabulary.UNITS_MSP,),
    )
)
ISSUE_BILLS = _declare(
    Function(
        "IssueBills",
        SUBMIT,
        f"Batch step 2: IssueBill for 1 to {_MAX_BATCH} deposited bills of the caller's unit"
        " in one transaction, all or nothing: every rule is checked for every bill and the"
        " first refused bill refuses the whole transaction (its error names its index).",
        (
            Param(
                "billsJSON",
                {"type": "array", "items": _ref(records.PublicBill), "minItems": 1},
                "a JSON array of public parts",
            ),
        ),
        frozenset({ISSUER}),
        _ref(records.IssuedBatch),
        _ISSUE_ERRORS,
        Event(
            "IssueBills",
            {
                "status": _BILL_EVENT["status"],
                "unitCode": _S,
                "count": {"type": "integer"},
                "bills": {"type": "array", "items": _CODE_REF},
            },
        ),
        ("[<PublicBill JSON>, ...]",),
        scope=(OWN_UNIT,),
        transient=(
            TransientKey(
                TRANSIENT_CHECK_CODE_HASHES,
                "UTF-8 JSON",
                f"a JSON array of the bills' check-code hashes ({_CHECK_CODE_HASH_FORM}), one"
                " per bill of billsJSON, in order",
            ),
        ),
        example_transient={TRANSIENT_CHECK_CODE_HASHES: f'["{_EX_HASH}", ...]'},
    )
)
READ_BILL = _declare(
    Function(
        "ReadBill",
        EVALUATE,
        "A bill's public record, for its parties.",
        (BILL_CODE, BILL_NUMBER),
        frozenset({*READERS, *UNIT_STAFF, REIMBURSER, PLATFORM}),
        _ref(records.Bill),
        ("not-authorised", "not-found"),
        Event("ReadBill", _BILL_EVENT),
        (_CODE, _NUMBER),
        scope=(OWN_UNIT, AUTHORISED, PAYER_OWN),
        transient=_PAYER_PROOF_OPTIONAL,
        example_transient=_EX_PROOF,
    )
)
READ_BILL_PRIVATE = _declare(
    Function(
        "ReadBillPrivate",
        EVALUATE,
        "A bill's private part, sealed to the transient replyKey (a red bill answers its"
        " original's); needs a peer of a collection member.",
        (BILL_CODE, BILL_NUMBER),
        frozenset({SUPERVISOR, *UNIT_STAFF, REIMBURSER}),
        _ref(records.SealedReply),
        ("not-authorised", "not-found"),
        Event("ReadBillPrivate", _CODE_EVENT),
        (_CODE, _NUMBER),
        scope=(OWN_UNIT, AUTHORISED),
        scope_note="reimburser: authorised on the bill now; the opened answer is a BillPrivate",
        transient=(
            TransientKey(
                TRANSIENT_REPLY_KEY, "raw bytes", "the caller's X25519 public key, 32 bytes"
            ),
        ),
        example_transient={TRANSIENT_REPLY_KEY: "<32-byte X25519 public key>"},
    )
)
RED_LETTER_BILL = _declare(
    Function(
        "RedLetterBill",
        SUBMIT,
        "Void a bill with a red bill of the same code, numbered from the unit's stock.",
        (
            BILL_CODE,
            BILL_NUMBER,
            Param(
                "redBillNumber",
                _string(model.BILL_NUMBER.pattern),
                "the red bill's number, 10 digits",
            ),
            REASON,
        ),
        frozenset({ISSUER}),
        _ref(records.RedLettering),
        (
            *_BILL_STATES,
            "not-authorised",
            "bill-exists",
            "bill-red-lettered",
            "bill-archived",
            "red-letter-while-locked",
            "red-letter-after-claim",
            "issuance-by-suspended-unit",
            "issuance-outside-stock",
        ),
        Event("RedLetterBill", {**_BILL_EVENT, "redBillNumber": _S, "unitCode": _S}),
        (_CODE, _NUMBER, "0000000002", "wrong amount"),
        scope=(OWN_UNIT,),
        transient=(_CHECK_CODE,),
        example_transient={TRANSIENT_CHECK_CODE_HASH: _EX_HASH},
    )
)
ARCHIVE_BILL = _declare(
    Function(
        "ArchiveBill",
        SUBMIT,
        "Archive a finished bill (reimbursed or red-lettered at any time, open ones after"
        " 1095 days).",
        (BILL_CODE, BILL_NUMBER),
        frozenset({FINANCE, ISSUER}),
        _ref(records.Bill),
        ("not-authorised", "not-found", "bill-locked", "bill-archived", "too-early-to-archive"),
        Event("ArchiveBill", _BILL_EVENT),
        (_CODE, _NUMBER),
        scope=(OWN_UNIT,),
    )
)

# reimbursement
AUTHORISE_REIMBURSER = _declare(
    Function(
        "AuthoriseReimburser",
        SUBMIT,
        "The payer (through the platform) lets a reimburser use the bill (at most 10).",
        (BILL_CODE, BILL_NUMBER, REIMBURSER_ID),
        frozenset({PLATFORM}),
        _ref(records.Bill),
        (
            *_BILL_STATES,
            "not-authorised",
            "bill-reimbursed",
            "bill-red-lettered",
            "bill-archived",
            "already-authorised",
            "too-many-authorised",
        ),
        Event("AuthoriseReimburser", _REIMBURSER_EVENT),
        (_CODE, _NUMBER, "MEDINS-HN"),
        scope=(PAYER_OWN,),
        transient=_PAYER_PROOF,
        example_transient=_EX_PROOF,
    )
)
REVOKE_AUTHORISATION = _declare(
    Function(
        "RevokeAuthorisation",
        SUBMIT,
        "The payer withdraws an unused authorisation.",
        (BILL_CODE, BILL_NUMBER, REIMBURSER_ID),
        frozenset({PLATFORM}),
        _ref(records.Bill),
        ("not-found", "not-authorised", "bill-archived", "authorisation-in-use"),
        Event("RevokeAuthorisation", _REIMBURSER_EVENT),
        (_CODE, _NUMBER, "MEDINS-HN"),
        scope=(PAYER_OWN,),
        transient=_PAYER_PROOF,
        example_transient=_EX_PROOF,
    )
)
LOCK_BILL = _declare(
    Function(
        "LockBill",
        SUBMIT,
        "Lock the bill while a claim is processed (one lock at a time).",
        (BILL_CODE, BILL_NUMBER),
        frozenset({REIMBURSER}),
        _ref(records.Bill),
        (
            *_BILL_STATES,
            "not-authorised",
            "lock-while-locked",
            "lock-on-reimbursed-bill",
            "lock-on-red-lettered-bill",
            "lock-on-archived-bill",
            "repeated-claim",
        ),
        Event("LockBill", _REIMBURSER_EVENT),
        (_CODE, _NUMBER),
        scope=(AUTHORISED,),
    )
)
CLAIM_BILL = _declare(
    Function(
        "ClaimBill",
        SUBMIT,
        "Close the lock holder's claim: records amount and voucher, releases the lock;"
        " the reimbursed total never exceeds the bill's total.",
        (
            BILL_CODE,
            BILL_NUMBER,
            Param(
                "amountFen",
                _string("[0-9]{1,14}", "integer fen as decimal digits, > 0"),
                "the amount paid, in fen",
                value=_integer(1, model.MAX_AMOUNT),
            ),
            Param(
                "voucherNo",
                _string(description="1 to 64 characters", minLength=1, maxLength=64),
                "the reimburser's voucher number",
            ),
        ),
        frozenset({REIMBURSER}),
        _ref(records.Bill),
        (
            *_BILL_STATES,
            "not-authorised",
            "bill-not-locked",
            "claim-on-reimbursed-bill",
            "claim-on-red-lettered-bill",
            "claim-on-archived-bill",
            "repeated-claim",
            "over-claim",
        ),
        Event("ClaimBill", {**_REIMBURSER_EVENT, "amount": {"type": "integer"}}),
        (_CODE, _NUMBER, "8000", "V-2026-0001"),
        scope=(AUTHORISED, LOCK_HOLDER),
    )
)
UNLOCK_BILL = _declare(
    Function(
        "UnlockBill",
        SUBMIT,
        "Release the lock without a claim (the holder, or finance for a stale lock).",
        (BILL_CODE, BILL_NUMBER),
        frozenset({REIMBURSER, FINANCE}),
        _ref(records.Bill),
        (*_BILL_STATES, "not-authorised", "bill-not-locked"),
        Event("UnlockBill", _REIMBURSER_EVENT),
        (_CODE, _NUMBER),
        scope=(AUTHORISED, LOCK_HOLDER),
        scope_note="finance may release any lock",
    )
)

# supervision
BILL_HISTORY = _declare(
    Function(
        "BillHistory",
        EVALUATE,
        "Every committed change of the bill, oldest first.",
        (BILL_CODE, BILL_NUMBER),
        frozenset(READERS),
        _ref(records.History),
        ("not-authorised", "not-found"),
        Event("BillHistory", _CODE_EVENT),
        (_CODE, _NUMBER),
    )
)
_UNIT_SPAN = (UNIT_CODE, FROM_DATE, TO_DATE, PAGE_SIZE, BOOKMARK)
LIST_BILLS_BY_UNIT = _declare(
    Function(
        "ListBillsByUnit",
        EVALUATE,
        "A unit's bills issued from fromDate to toDate (inclusive, the bill's own date), by date.",
        _UNIT_SPAN,
        frozenset({*READERS, *UNIT_STAFF}),
        _ref(records.BillPage),
        ("not-authorised",),
        Event("ListBillsByUnit", {"unitCode": _S}),
        (_HN, "2026-01-01", "2026-12-31", "100", ""),
        scope=(OWN_UNIT,),
    )
)
TOTALS_BY_UNIT = _declare(
    Function(
        "TotalsByUnit",
        EVALUATE,
        "Totals over ONE page of a unit's bills in the span: sum the pages, following the"
        " bookmark.",
        _UNIT_SPAN,
        frozenset({*READERS, *UNIT_STAFF}),
        _ref(records.Totals),
        ("not-authorised",),
        Event("TotalsByUnit", {"unitCode": _S}),
        (_HN, "2026-01-01", "2026-12-31", "200", ""),
        scope=(OWN_UNIT,),
    )
)
LIST_BILLS_BY_PAYER = _declare(
    Function(
        "ListBillsByPayer",
        EVALUATE,
        "The bills of one payerHash.",
        (
            Param("payerHash", _string(model.PAYER_HASH.pattern), vocabulary.PAYER_HASH_FORMULA),
            PAGE_SIZE,
            BOOKMARK,
        ),
        frozenset({*READERS, PLATFORM}),
        _ref(records.BillPage),
        ("not-authorised",),
        Event("ListBillsByPayer", {}),
        (_HASH, "100", ""),
        scope=(PAYER_OWN,),
        transient=_PAYER_PROOF_OPTIONAL,
        example_transient=_EX_PROOF,
    )
)
LIST_BILLS_BY_STATUS = _declare(
    Function(
        "ListBillsByStatus",
        EVALUATE,
        "The bills in one status, by bill code and number.",
        (
            Param(
                "status",
                {"type": "string", "enum": list(vocabulary.BILL_STATUSES)},
                "a bill status",
            ),
            PAGE_SIZE,
            BOOKMARK,
        ),
        frozenset(READERS),
        _ref(records.BillPage),
        ("not-authorised",),
        Event("ListBillsByStatus", {"status": _S}),
        ("issued", "100", ""),
    )
)
LIST_BILLS_BY_PERIOD = _declare(
    Function(
        "ListBillsByPeriod",
        EVALUATE,
        "The bills issued in one month, by bill code and number.",
        (
            Param("period", _string("[0-9]{4}(0[1-9]|1[0-2])", "YYYYMM"), "the month"),
            PAGE_SIZE,
            BOOKMARK,
        ),
        frozenset(READERS),
        _ref(records.BillPage),
        ("not-authorised",),
        Event("ListBillsByPeriod", {}),
        ("202603", "100", ""),
    )
)
LIST_ANOMALIES = _declare(
    Function(
        "ListAnomalies",
        EVALUATE,
        "The anomaly log from fromDate to toDate (days in China time), optionally one type.",
        (
            FROM_DATE,
            TO_DATE,
            PAGE_SIZE,
            BOOKMARK,
            Param(
                "anomalyType",
                {"type": "string", "enum": ["", *vocabulary.ANOMALY_TYPES]},
                'an anomaly type; "" for all',
                optional=True,
            ),
        ),
        frozenset(READERS),
        _ref(records.AnomalyPage),
        ("not-authorised",),
        Event("ListAnomalies", {}),
        ("2026-03-01", "2026-03-31", "100", "", "over-claim"),
    )
)
RECORD_ANOMALIES = _declare(
    Function(
        "RecordAnomalies",
        SUBMIT,
        "Anchor the finance chaincode's spooled anomalies; idempotent by anomaly id.",
        (
            Param(
                "entriesJSON",
                {"type": "array", "items": _ref(records.Anomaly), "minItems": 1, "maxItems": 100},
                "a JSON array of 1 to 100 spool entries (Anomaly without anchor)",
            ),
        ),
        frozenset({FINANCE}),
        _ref(records.Anchoring),
        ("not-authorised",),
        Event(
            "RecordAnomalies",
            {"recorded": {"type": "array", "items": _S}, "known": {"type": "integer"}},
        ),
        ("<JSON array of the spool's entries>",),
        scope_note="anchors the finance chaincode's anomaly spool",
    )
)

# organisations that joined the channel later
MSP_ID = Param(
    "mspId",
    _string(model.MSP_ID.pattern),
    "the joined org's MSP id, 1 to 64 letters, digits, . or -",
)
_ORG_EVENT: dict[str, Schema] = {
    "mspId": _S,
    "role": {"type": "string", "enum": list(vocabulary.ORG_PARTS)},
}
REGISTER_ORG = _declare(
    Function(
        "RegisterOrg",
        SUBMIT,
        "Register an org that joined the channel later (ebill-network add-org): its part"
        " (insurance, units, audit) and the reimburser ids or unit codes its certificates"
        " may carry; from then on its users act in that part's roles for those ids only."
        " Written once.",
        (Param("orgJSON", _ref(records.OrgArgument), "the org, as JSON"),),
        frozenset({FINANCE}),
        _ref(records.Org),
        ("not-authorised", "org-exists"),
        Event("RegisterOrg", _ORG_EVENT),
        ('{"mspId":"Insurer2MSP","role":"insurance","ids":["INSURER2"]}',),
    )
)
READ_ORG = _declare(
    Function(
        "ReadOrg",
        EVALUATE,
        "The registry record of an org that joined later.",
        (MSP_ID,),
        frozenset(READERS),
        _ref(records.Org),
        ("not-authorised", "not-found"),
        Event("ReadOrg", {"mspId": _S}),
        ("Insurer2MSP",),
    )
)


def function(name: str) -> Function:
    """The declaration of ``name``; KeyError if the contract has no such function."""
    return FUNCTIONS[name]


#: The shared vocabularies, as the metadata and the reference show them.
VOCABULARIES: dict[str, Any] = {
    "roles": {
        role: {
            "msp": msp,
            "meaning": vocabulary.ROLE_MEANINGS[role],
            "attributes": ["role", *vocabulary.ROLE_ATTRIBUTES.get(role, ())],
        }
        for role, msp in vocabulary.ROLE_MSP.items()
    },
    "mspIds": list(vocabulary.MSP_IDS),
    "orgParts": {part: list(roles) for part, roles in vocabulary.ORG_PART_ROLES.items()},
    "billStatuses": list(vocabulary.BILL_STATUSES),
    "billKinds": list(vocabulary.BILL_KINDS),
    "unitStatuses": list(vocabulary.UNIT_STATUSES),
    "batchStatuses": list(vocabulary.BATCH_STATUSES),
    "sectors": list(vocabulary.SECTORS),
    "payerTypes": list(vocabulary.PAYER_TYPES),
    "anomalyTypes": dict(vocabulary.ANOMALY_TYPES),
    "transientKeys": [
        vocabulary.TRANSIENT_BILL,
        vocabulary.TRANSIENT_PAYER,
        vocabulary.TRANSIENT_SALT,
        vocabulary.TRANSIENT_MEDICAL,
        vocabulary.TRANSIENT_CHECK_CODE_HASH,
        vocabulary.TRANSIENT_BILLS,
        vocabulary.TRANSIENT_CHECK_CODE_HASHES,
        vocabulary.TRANSIENT_REPLY_KEY,
    ],
    "payerHash": vocabulary.PAYER_HASH_FORMULA,
    "scopes": dict(SCOPES),
    "privateCollection": vocabulary.COLLECTION,
    "chinaTime": vocabulary.CHINA_OFFSET,
    "errorFormat": "<Kind> [<code>]: <text>; act on the kind and the code, never the text",
}


# --- the router check ---------------------------------------------------------------------


class InterfaceMismatch(RuntimeError):
    """The registered functions and the interface disagree (a programming error)."""


def parameters_of(callable_: Any) -> tuple[tuple[str, bool], ...]:
    """(wire name, optional) of each argument of a transaction function after the stub."""
    parameters = list(inspect.signature(callable_).parameters.values())[1:]
    return tuple((camel(p.name), p.default is not inspect.Parameter.empty) for p in parameters)


def mismatches(registered: dict[str, Any], declared: dict[str, Function]) -> list[str]:
    """Every disagreement between registered functions (name -> callable) and the
    declarations: missing or extra names, parameter names, count or optionality."""
    problems = [
        f"{name}: registered but not in the interface"
        for name in sorted(set(registered) - set(declared))
    ]
    problems += [
        f"{name}: in the interface but not registered"
        for name in sorted(set(declared) - set(registered))
    ]
    for name in sorted(set(registered) & set(declared)):
        actual = parameters_of(registered[name])
        expected = tuple((p.name, p.optional) for p in declared[name].params)
        if actual != expected:

            def shown(params: tuple[tuple[str, bool], ...]) -> str:
                return ", ".join(f"{n}{'?' if o else ''}" for n, o in params) or "none"

            problems.append(
                f"{name}: registered with parameters ({shown(actual)}), the interface declares"
                f" ({shown(expected)})"
            )
    return problems


def check_contract(registered: dict[str, Any], declared: dict[str, Function] | None = None) -> None:
    """InterfaceMismatch listing every disagreement; the server does not start with one."""
    problems = mismatches(registered, FUNCTIONS if declared is None else declared)
    if problems:
        raise InterfaceMismatch(
            "the contract's functions and its interface (contract/interface.py) disagree:\n  "
            + "\n  ".join(problems)
        )
