"""The records the contract stores and answers, as typed dataclasses (money in fen).

Each class is one JSON object of the wire: its fields in snake_case are the JSON's
camelCase names (``unit_code`` is ``unitCode``; ``..._json`` is ``...JSON``). A field
that may be absent defaults to ``None`` and is left out of the JSON; one with
``nullable`` metadata is always written, ``null`` when empty.

:meth:`Record.from_json` is strict (``ValueError`` naming the field for an unknown or
missing field or a wrong type), :meth:`Record.to_json` gives back the same JSON.
:func:`json_schema` gives a class's JSON schema for the contract's metadata
(:mod:`.interface`). The chaincode's unit tests read every record the contract writes
with these classes, and the client's models (``ebill.models``) are checked against them.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar, Union

from . import model, vocabulary

R = TypeVar("R", bound="Record")


def camel(name: str) -> str:
    """The JSON name of a snake_case field: ``unit_code`` -> ``unitCode``, ``unit_json`` ->
    ``unitJSON``."""
    head, *rest = name.split("_")
    return head + "".join("JSON" if part == "json" else part.capitalize() for part in rest)


def meta(
    description: str = "",
    *,
    enum: tuple[str, ...] = (),
    pattern: str = "",
    fmt: str = "",
    nullable: bool = False,
    max_length: int = 0,
    bounds: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """Field metadata for the schema: description, enum, pattern, format, nullable, the
    longest a (non-empty) string may be, an integer's (minimum, maximum)."""
    return {
        "description": description,
        "enum": enum,
        "pattern": pattern,
        "format": fmt,
        "nullable": nullable,
        "max_length": max_length,
        "bounds": bounds,
    }


def _field(description: str = "", **kw: Any) -> Any:
    return field(metadata=meta(description, **kw))


def _optional(description: str = "", **kw: Any) -> Any:
    return field(default=None, metadata=meta(description, **kw))


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _unwrap_optional(hint: Any) -> tuple[Any, bool]:
    if typing.get_origin(hint) in (Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(hint)) == 2:
            return args[0], True
    return hint, False


class Record:
    """Base of the records: strict JSON in and out."""

    NAME: ClassVar[str] = ""  # the schema name in the metadata (class name if empty)

    @classmethod
    def schema_name(cls) -> str:
        return cls.NAME or cls.__name__

    @classmethod
    def json_fields(cls) -> tuple[str, ...]:
        """The JSON names of the fields, in declaration order."""
        return tuple(camel(f.name) for f in dataclasses.fields(cls))  # type: ignore[arg-type]

    @classmethod
    def required_fields(cls) -> tuple[str, ...]:
        """The JSON names of the fields that are always present."""
        hints = _hints(cls)
        out = []
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            optional = _unwrap_optional(hints[f.name])[1]
            if not optional or f.metadata.get("nullable"):
                out.append(camel(f.name))
        return tuple(out)

    @classmethod
    def from_json(cls: type[R], data: Any, where: str = "") -> R:
        """The record of decoded JSON ``data``; ValueError naming the field otherwise."""
        where = where or cls.schema_name()
        if not isinstance(data, dict):
            raise ValueError(f"{where}: must be a JSON object")
        hints = _hints(cls)
        fields = {camel(f.name): f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise ValueError(f"{where}: unknown field {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for name, f in fields.items():
            hint, optional = _unwrap_optional(hints[f.name])
            path = f"{where}.{name}"
            if name not in data or data[name] is None:
                if not optional or (f.metadata.get("nullable") and name not in data):
                    raise ValueError(f"{path}: required")
                continue
            values[f.name] = _decode(hint, data[name], path, f.metadata)
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        """The record as JSON (absent fields left out, nullable ones as null)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is None:
                if f.metadata.get("nullable"):
                    out[camel(f.name)] = None
                continue
            out[camel(f.name)] = _encode(value)
        return out


def _decode(hint: Any, value: Any, path: str, metadata: Any) -> Any:
    origin = typing.get_origin(hint)
    if isinstance(hint, type) and issubclass(hint, Record):
        return hint.from_json(value, path)
    if origin is tuple:
        (item,) = typing.get_args(hint)[:1]
        if not isinstance(value, list):
            raise ValueError(f"{path}: must be a JSON array")
        return tuple(_decode(item, v, f"{path}[{i}]", {}) for i, v in enumerate(value))
    if origin is dict:
        item = typing.get_args(hint)[1]
        if not isinstance(value, dict):
            raise ValueError(f"{path}: must be a JSON object")
        return {k: _decode(item, v, f"{path}.{k}", {}) for k, v in value.items()}
    if hint is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{path}: must be true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{path}: must be an integer")
        bounds = metadata.get("bounds") if metadata else None
        if bounds and not bounds[0] <= value <= bounds[1]:
            raise ValueError(f"{path}: must be from {bounds[0]} to {bounds[1]}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ValueError(f"{path}: must be a string")
        enum = metadata.get("enum") if metadata else ()
        if enum and value not in enum:
            raise ValueError(f"{path}: must be one of {', '.join(enum)}")
        pattern = metadata.get("pattern") if metadata else ""
        if pattern and not re.fullmatch(pattern, value):
            raise ValueError(f"{path}: must match {pattern}")
        longest = metadata.get("max_length") if metadata else 0
        if longest and not 1 <= len(value) <= longest:
            raise ValueError(f"{path}: must be 1 to {longest} characters")
        return value
    if hint is Any:
        return value
    raise TypeError(f"{path}: unsupported type {hint!r}")


def _encode(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_json()
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


# --- JSON schema -----------------------------------------------------------------------


def _schema_of(hint: Any, metadata: Any) -> dict[str, Any]:
    if isinstance(hint, type) and issubclass(hint, Record):
        return {"$ref": f"#/components/schemas/{hint.schema_name()}"}
    origin = typing.get_origin(hint)
    if origin is tuple:
        return {"type": "array", "items": _schema_of(typing.get_args(hint)[0], {})}
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema_of(typing.get_args(hint)[1], {})}
    schema: dict[str, Any] = {
        bool: {"type": "boolean"},
        int: {"type": "integer"},
        str: {"type": "string"},
    }.get(hint, {})
    schema = dict(schema)
    if metadata:
        if metadata.get("enum"):
            schema["enum"] = list(metadata["enum"])
        if metadata.get("pattern"):
            schema["pattern"] = f"^{metadata['pattern']}$"
        if metadata.get("format"):
            schema["format"] = metadata["format"]
        if metadata.get("bounds"):
            schema["minimum"], schema["maximum"] = metadata["bounds"]
        if metadata.get("max_length"):
            schema["minLength"], schema["maxLength"] = 1, metadata["max_length"]
        if metadata.get("description"):
            schema["description"] = metadata["description"]
    return schema


def json_schema(cls: type[Record]) -> dict[str, Any]:
    """The JSON schema of a record class (references to the other records by name)."""
    hints = _hints(cls)
    properties: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        hint, _ = _unwrap_optional(hints[f.name])
        schema = _schema_of(hint, f.metadata)
        if f.metadata.get("nullable"):
            schema = {"oneOf": [schema, {"type": "null"}]}
        properties[camel(f.name)] = schema
    schema = {
        "$id": cls.schema_name(),
        "type": "object",
        "description": (cls.__doc__ or "").strip().split("\n\n")[0].replace("\n", " "),
        "properties": properties,
        "required": list(cls.required_fields()),
        "additionalProperties": False,
    }
    return schema


# --- the records -----------------------------------------------------------------------

_UTC = "ISO 8601 in UTC with Z (the transaction time)"
_FEN = "integer fen"
_BILL_CODE = model.BILL_CODE.pattern
_BILL_NUMBER = model.BILL_NUMBER.pattern
_UNIT_CODE = model.UNIT_CODE.pattern


@dataclass(frozen=True)
class LastAction(Record):
    """Who made a record's last change: function, transaction, org, actor, time."""

    function: str = _field("the contract function")
    tx_id: str = _field("the transaction id")
    org: str = _field("the caller's MSP id")
    actor_id: str = _field("the caller's certificate id (base64 x509::subject::issuer)")
    at: str = _field(_UTC, fmt="date-time")


@dataclass(frozen=True)
class Suspension(Record):
    """Why and when finance suspended a unit."""

    reason: str = _field()
    at: str = _field(_UTC, fmt="date-time")


@dataclass(frozen=True)
class Unit(Record):
    """An issuing unit (key unit/unitCode)."""

    unit_code: str = _field(pattern=_UNIT_CODE)
    name: str = _field()
    sector: str = _field(enum=vocabulary.SECTORS)
    region: str = _field("2 digits, the first 2 of the unit's bill codes", pattern="[0-9]{2}")
    status: str = _field(enum=vocabulary.UNIT_STATUSES)
    registered_at: str = _field(_UTC, fmt="date-time")
    last_action: LastAction = _field()
    suspension: Suspension | None = _optional("while suspended")


@dataclass(frozen=True)
class Rejection(Record):
    """Why and when finance rejected an application."""

    reason: str = _field()
    at: str = _field(_UTC, fmt="date-time")


@dataclass(frozen=True)
class Reconciliation(Record):
    """The counts finance recorded when it closed a batch."""

    issued: int = _field("bills issued in the range")
    red_bills: int = _field("red bills among them")
    red_lettered: int = _field("bills voided among them")
    unused: int = _field("numbers never used (now void)")
    at: str = _field(_UTC, fmt="date-time")


@dataclass(frozen=True)
class StockBatch(Record):
    """A unit's range of numbers of one bill code (key stock/batchId; the id is the
    ApplyStock transaction id)."""

    batch_id: str = _field(pattern=model.BATCH_ID.pattern)
    unit_code: str = _field(pattern=_UNIT_CODE)
    bill_code: str = _field(pattern=_BILL_CODE)
    start_number: str = _field(pattern=_BILL_NUMBER)
    end_number: str = _field(pattern=_BILL_NUMBER)
    count: int = _field()
    status: str = _field(enum=vocabulary.BATCH_STATUSES)
    applied_at: str = _field(_UTC, fmt="date-time")
    last_action: LastAction = _field()
    approved_at: str | None = _optional(_UTC, fmt="date-time")
    rejection: Rejection | None = _optional()
    reconciliation: Reconciliation | None = _optional()


@dataclass(frozen=True)
class Authorisation(Record):
    """When the payer authorised a reimburser on a bill."""

    at: str = _field(_UTC, fmt="date-time")
    tx_id: str = _field()


@dataclass(frozen=True)
class Lock(Record):
    """The lock a reimburser holds while it processes a claim."""

    reimburser_id: str = _field(pattern=model.REIMBURSER_ID.pattern)
    tx_id: str = _field()
    at: str = _field(_UTC, fmt="date-time")
    previous_status: str = _field("the status UnlockBill restores", enum=vocabulary.BILL_STATUSES)


@dataclass(frozen=True)
class Claim(Record):
    """One reimburser's closed claim on a bill."""

    reimburser_id: str = _field(pattern=model.REIMBURSER_ID.pattern)
    amount: int = _field(_FEN)
    voucher_no: str = _field()
    tx_id: str = _field()
    at: str = _field(_UTC, fmt="date-time")


@dataclass(frozen=True)
class RedLetter(Record):
    """On a voided bill: the red bill that voids it."""

    red_bill_number: str = _field(pattern=_BILL_NUMBER)
    reason: str = _field()
    tx_id: str = _field()
    at: str = _field(_UTC, fmt="date-time")


@dataclass(frozen=True)
class BillRef(Record):
    """A bill's identity."""

    bill_code: str = _field(pattern=_BILL_CODE)
    bill_number: str = _field(pattern=_BILL_NUMBER)


@dataclass(frozen=True)
class Bill(Record):
    """A bill's public record (key bill/billCode/billNumber): nothing personal."""

    bill_code: str = _field(pattern=_BILL_CODE)
    bill_number: str = _field(pattern=_BILL_NUMBER)
    bill_name: str = _field()
    unit_code: str = _field(pattern=_UNIT_CODE)
    unit_name: str = _field()
    issue_date: str = _field("ISO 8601 date-time with offset, as issued", fmt="date-time")
    total_amount: int = _field(f"{_FEN}; negative on a red bill")
    payer_hash: str = _field(vocabulary.PAYER_HASH_FORMULA, pattern=model.PAYER_HASH.pattern)
    kind: str = _field(enum=vocabulary.BILL_KINDS)
    status: str = _field(enum=vocabulary.BILL_STATUSES)
    check_code_hash: str = _field("slow salted scrypt hash of the check code")
    issued_at: str = _field(_UTC, fmt="date-time")
    issuer_msp: str = _field()
    issuer_id: str = _field("the issuing certificate's id")
    issue_tx_id: str = _field()
    batch_id: str = _field("the stock batch holding the number")
    authorised: dict[str, Authorisation] = _field("reimburser id -> authorisation")
    claims: tuple[Claim, ...] = _field()
    reimbursed_total: int = _field(_FEN)
    last_action: LastAction = _field()
    lock: Lock | None = _optional("while locked")
    red_letter: RedLetter | None = _optional("on a voided bill")
    red_of: BillRef | None = _optional("on a red bill: the bill it voids")
    reason: str | None = _optional("on a red bill: why")
    previous_status: str | None = _optional(
        "when archived: the status before", enum=vocabulary.BILL_STATUSES
    )
    archived_at: str | None = _optional(_UTC, fmt="date-time")


@dataclass(frozen=True)
class BillSummary(Record):
    """What a list shows of a bill."""

    bill_code: str = _field(pattern=_BILL_CODE)
    bill_number: str = _field(pattern=_BILL_NUMBER)
    kind: str = _field(enum=vocabulary.BILL_KINDS)
    unit_code: str = _field(pattern=_UNIT_CODE)
    issue_date: str = _field(fmt="date-time")
    total_amount: int = _field(_FEN)
    reimbursed_total: int = _field(_FEN)
    status: str = _field(enum=vocabulary.BILL_STATUSES)
    payer_hash: str = _field(pattern=model.PAYER_HASH.pattern)


@dataclass(frozen=True)
class Payer(Record):
    """Who paid (personal data: transient and private collection only)."""

    type: str = _field(enum=vocabulary.PAYER_TYPES)
    id: str = _field("1 to 64 characters", max_length=64)
    name: str = _field("1 to 100 characters", max_length=100)


@dataclass(frozen=True)
class LineItem(Record):
    """One charged item."""

    code: str = _field()
    name: str = _field()
    quantity: str = _field('canonical decimal string, e.g. "1.5"')
    unit: str = _field()
    standard_price: int = _field(_FEN)
    amount: int = _field(_FEN)


@dataclass(frozen=True)
class Medical(Record):
    """The medical extension of a hospital bill (personal data)."""

    NAME = "MedicalInfo"
    patient_number: str = _field()
    insurance_type: str = _field()
    fund_paid: int = _field(_FEN)
    personal_account_paid: int = _field(_FEN)
    own_paid: int = _field(_FEN)
    admission_date: str | None = _optional("YYYY-MM-DD", fmt="date")
    discharge_date: str | None = _optional("YYYY-MM-DD", fmt="date")


@dataclass(frozen=True)
class BillPrivate(Record):
    """A bill's private part (collection billPrivate), as ReadBillPrivate answers it
    once opened: the payer, the salt, the medical part, the items and staff names."""

    bill_code: str = _field(pattern=_BILL_CODE)
    bill_number: str = _field(pattern=_BILL_NUMBER)
    payer: Payer = _field()
    salt: str = _field("the payer salt, hex")
    items: tuple[LineItem, ...] = _field()
    clerk: str = _field()
    reviewer: str | None = _optional()
    remark: str | None = _optional()
    medical: Medical | None = _optional()
    red_of: BillRef | None = _optional("a red bill answers its original's part")


@dataclass(frozen=True)
class Sealed(Record):
    """An answer encrypted to the caller's transient replyKey."""

    alg: str = _field(enum=("X25519-HKDF-SHA256-AES256GCM",))
    ephemeral_key: str = _field("base64 X25519 public key")
    nonce: str = _field("base64, 12 bytes")
    ciphertext: str = _field("base64 AES-256-GCM of the canonical JSON; AAD the function")


@dataclass(frozen=True)
class SealedReply(Record):
    """ReadBillPrivate's answer: a BillPrivate sealed to the transient replyKey."""

    sealed: Sealed = _field()


@dataclass(frozen=True)
class Verification(Record):
    """VerifyBill's answer: genuine or not (and why not), nothing personal."""

    genuine: bool = _field()
    reason: str | None = _optional("when not genuine")
    bill_code: str | None = _optional(pattern=_BILL_CODE)
    bill_number: str | None = _optional(pattern=_BILL_NUMBER)
    status: str | None = _optional(enum=vocabulary.BILL_STATUSES)
    kind: str | None = _optional(enum=vocabulary.BILL_KINDS)
    unit_code: str | None = _optional(pattern=_UNIT_CODE)
    unit_name: str | None = _optional()
    issue_date: str | None = _optional(fmt="date-time")
    total_amount: int | None = _optional(_FEN)
    previous_status: str | None = _optional(enum=vocabulary.BILL_STATUSES)
    red_of: BillRef | None = _optional()


@dataclass(frozen=True)
class HistoryEntry(Record):
    """One committed change of a bill."""

    tx_id: str = _field()
    timestamp: str = _field(_UTC, fmt="date-time")
    is_delete: bool = _field()
    status: str | None = _optional(nullable=True, enum=vocabulary.BILL_STATUSES)
    last_action: LastAction | None = _optional(nullable=True)


@dataclass(frozen=True)
class History(Record):
    """BillHistory's answer: every committed change, oldest first."""

    bill_code: str = _field(pattern=_BILL_CODE)
    bill_number: str = _field(pattern=_BILL_NUMBER)
    history: tuple[HistoryEntry, ...] = _field()


@dataclass(frozen=True)
class Refused(Record):
    """The refusal an anomaly records."""

    kind: str = _field()
    code: str = _field()
    message: str = _field()


@dataclass(frozen=True)
class Anchor(Record):
    """The RecordAnomalies transaction that put an anomaly on the chain."""

    tx_id: str = _field()
    org: str = _field()
    at: str = _field(_UTC, fmt="date-time")


@dataclass(frozen=True)
class Anomaly(Record):
    """A logged refusal (key anomaly/yyyymmdd/anomalyId); a spool entry has no anchor."""

    anomaly_id: str = _field("the refused proposal's transaction id")
    type: str = _field(enum=tuple(vocabulary.ANOMALY_TYPES))
    function: str = _field()
    refused: Refused = _field()
    day: str = _field("YYYYMMDD, China time", pattern="[0-9]{8}")
    last_action: LastAction = _field()
    bill_code: str | None = _optional(pattern=_BILL_CODE)
    bill_number: str | None = _optional(pattern=_BILL_NUMBER)
    unit_code: str | None = _optional(pattern=_UNIT_CODE)
    anchor: Anchor | None = _optional("on the chain")


@dataclass(frozen=True)
class Totals(Record):
    """TotalsByUnit's answer: totals over ONE page of a unit's bills."""

    count: int = _field()
    total_amount: int = _field(f"{_FEN}; red bills count negative")
    reimbursed: int = _field(f"{_FEN} claimed")
    red_lettered: int = _field("bills voided")
    bookmark: str = _field('the next page\'s bookmark, "" at the end')


@dataclass(frozen=True)
class UnitPage(Record):
    """One page of units."""

    records: tuple[Unit, ...] = _field()
    count: int = _field()
    bookmark: str = _field('the next page\'s bookmark, "" at the end')


@dataclass(frozen=True)
class StockPage(Record):
    """One page of stock batches."""

    records: tuple[StockBatch, ...] = _field()
    count: int = _field()
    bookmark: str = _field('the next page\'s bookmark, "" at the end')


@dataclass(frozen=True)
class BillPage(Record):
    """One page of bill summaries."""

    records: tuple[BillSummary, ...] = _field()
    count: int = _field()
    bookmark: str = _field('the next page\'s bookmark, "" at the end')


@dataclass(frozen=True)
class AnomalyPage(Record):
    """One page of the anomaly log."""

    records: tuple[Anomaly, ...] = _field()
    count: int = _field()
    bookmark: str = _field('the next page\'s bookmark, "" at the end')


@dataclass(frozen=True)
class Deposit(Record):
    """DepositBillPrivate's answer."""

    bill_code: str = _field(pattern=_BILL_CODE)
    bill_number: str = _field(pattern=_BILL_NUMBER)
    payer_hash: str = _field(pattern=model.PAYER_HASH.pattern)


@dataclass(frozen=True)
class Deposits(Record):
    """DepositBillsPrivate's answer: one Deposit per bill, in the given order."""

    bills: tuple[Deposit, ...] = _field()


@dataclass(frozen=True)
class Issued(Record):
    """IssueBill's answer: what the caller needs (it holds the rest; ReadBill answers
    the whole record)."""

    bill_code: str = _field(pattern=_BILL_CODE)
    bill_number: str = _field(pattern=_BILL_NUMBER)
    status: str = _field(enum=vocabulary.BILL_STATUSES)
    issue_tx_id: str = _field()
    issued_at: str = _field(_UTC, fmt="date-time")
    batch_id: str = _field("the stock batch holding the number")


@dataclass(frozen=True)
class IssuedRef(Record):
    """One bill of an IssueBills answer."""

    bill_code: str = _field(pattern=_BILL_CODE)
    bill_number: str = _field(pattern=_BILL_NUMBER)
    batch_id: str = _field("the stock batch holding the number")


@dataclass(frozen=True)
class IssuedBatch(Record):
    """IssueBills' answer: every bill issued by one transaction, in the given order."""

    status: str = _field(enum=vocabulary.BILL_STATUSES)
    issue_tx_id: str = _field()
    issued_at: str = _field(_UTC, fmt="date-time")
    bills: tuple[IssuedRef, ...] = _field()


@dataclass(frozen=True)
class RedLettering(Record):
    """RedLetterBill's answer: the voided original and the red bill."""

    original: Bill = _field()
    red: Bill = _field()


@dataclass(frozen=True)
class Anchoring(Record):
    """RecordAnomalies' answer: ids written now, ids already on the chain."""

    recorded: tuple[str, ...] = _field()
    known: tuple[str, ...] = _field()


@dataclass(frozen=True)
class Org(Record):
    """An org that joined the channel later, as finance registered it (key org/mspId)."""

    msp_id: str = _field(pattern=model.MSP_ID.pattern)
    role: str = _field("the part it plays", enum=vocabulary.ORG_PARTS)
    ids: tuple[str, ...] = _field(
        "the reimburser ids (insurance) or unit codes (units) its certificates may carry;"
        " none for audit"
    )
    registered_at: str = _field(_UTC, fmt="date-time")
    last_action: LastAction = _field()


# --- arguments that are JSON documents ----------------------------------------------------


@dataclass(frozen=True)
class UnitArgument(Record):
    """RegisterUnit's unitJSON."""

    unit_code: str = _field(pattern=_UNIT_CODE)
    name: str = _field("1 to 200 characters", max_length=200)
    sector: str = _field(enum=vocabulary.SECTORS)
    region: str = _field(pattern="[0-9]{2}")


@dataclass(frozen=True)
class OrgArgument(Record):
    """RegisterOrg's orgJSON: the joined org's MSP id, part and ids."""

    msp_id: str = _field("not a founding org's", pattern=model.MSP_ID.pattern)
    role: str = _field(
        "insurance: reimburser; units: issuer and clerk; audit: supervisor",
        enum=vocabulary.ORG_PARTS,
    )
    ids: tuple[str, ...] | None = _optional(
        f"reimburser ids (insurance) or unit codes (units), 1 to {model.MAX_ORG_IDS};"
        " none for audit"
    )


@dataclass(frozen=True)
class StockApplication(Record):
    """ApplyStock's applicationJSON."""

    unit_code: str = _field(pattern=_UNIT_CODE)
    bill_code: str = _field("its first 2 digits are the unit's region", pattern=_BILL_CODE)
    start_number: str = _field(pattern=_BILL_NUMBER)
    count: int = _field(f"1 to {model.MAX_STOCK_COUNT}", bounds=(1, model.MAX_STOCK_COUNT))


@dataclass(frozen=True)
class PublicBill(Record):
    """IssueBill's billJSON: the public part and the payerHash."""

    bill_code: str = _field(pattern=_BILL_CODE)
    bill_number: str = _field(pattern=_BILL_NUMBER)
    bill_name: str = _field("1 to 100 characters")
    unit_code: str = _field(pattern=_UNIT_CODE)
    unit_name: str = _field("the registered name")
    issue_date: str = _field(
        "ISO 8601 date-time with offset, e.g. 2026-03-15T10:30:00+08:00", fmt="date-time"
    )
    total_amount: int = _field(f"{_FEN}, 1 to {model.MAX_AMOUNT}")
    payer_hash: str = _field(vocabulary.PAYER_HASH_FORMULA, pattern=model.PAYER_HASH.pattern)


@dataclass(frozen=True)
class IssuanceBill(Record):
    """DepositBillPrivate's transient bill: the whole bill without payer and medical."""

    bill_code: str = _field(pattern=_BILL_CODE)
    bill_number: str = _field(pattern=_BILL_NUMBER)
    bill_name: str = _field()
    unit_code: str = _field(pattern=_UNIT_CODE)
    unit_name: str = _field()
    issue_date: str = _field(fmt="date-time")
    total_amount: int = _field(f"{_FEN}: the sum of the items' amounts")
    items: tuple[LineItem, ...] = _field(f"1 to {model.MAX_ITEMS} items")
    clerk: str = _field()
    reviewer: str | None = _optional()
    remark: str | None = _optional()


#: Every record class, by schema name (the metadata's components.schemas).
RECORDS: dict[str, type[Record]] = {
    cls.schema_name(): cls
    for cls in (
        LastAction,
        Suspension,
        Unit,
        Rejection,
        Reconciliation,
        StockBatch,
        Authorisation,
        Lock,
        Claim,
        RedLetter,
        BillRef,
        Bill,
        BillSummary,
        Payer,
        LineItem,
        Medical,
        BillPrivate,
        Sealed,
        SealedReply,
        Verification,
        HistoryEntry,
        History,
        Refused,
        Anchor,
        Anomaly,
        Totals,
        UnitPage,
        StockPage,
        BillPage,
        AnomalyPage,
        Deposit,
        Deposits,
        Issued,
        IssuedRef,
        IssuedBatch,
        RedLettering,
        Anchoring,
        Org,
        UnitArgument,
        OrgArgument,
        StockApplication,
        PublicBill,
        IssuanceBill,
    )
}
