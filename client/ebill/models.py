"""What the e-bill contract answers, as dataclasses (money in integer fen).

Each model is built with ``Model.from_json(record)`` from the chaincode's JSON and
keeps that JSON, unknown fields included, in ``raw`` (``extra`` lists the fields the
model does not name). The fields a model names are those of the contract's typed
record (``ebill_chaincode.contract.records``), read from there, not declared again; a
unit test proves each model reads every field of its record. Parsing raises
:class:`~ebill.errors.InternalError` when a required field is missing or of the wrong
type.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from ebill_chaincode.contract import records

from .errors import InternalError

T = TypeVar("T")


def _str(data: Mapping[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise InternalError(f"{what}: field {key!r} is missing or not text")
    return value


def _opt_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _int(data: Mapping[str, Any], key: str, what: str, default: int | None = None) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InternalError(f"{what}: field {key!r} is missing or not an integer")
    return value


def _obj(data: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    value = data.get(key)
    return dict(value) if isinstance(value, Mapping) else None


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InternalError(f"{what}: expected a JSON object, got {type(value).__name__}")
    return value


class _Model:
    """Shared by the models: the fields they name, to tell the unknown ones."""

    FIELDS: ClassVar[frozenset[str]] = frozenset()
    raw: dict[str, Any]

    @property
    def extra(self) -> dict[str, Any]:
        """The fields of ``raw`` this model does not name."""
        return {k: v for k, v in self.raw.items() if k not in self.FIELDS}


@dataclass(frozen=True)
class LastAction:
    """Who did the last change of a record: function, transaction, org, actor, time."""

    function: str
    tx_id: str
    org: str
    actor_id: str
    at: str

    @property
    def actor_name(self) -> str:
        """The actor's common name from its id (base64 "x509::<subject>::<issuer>"),
        else the id as written (e.g. "payer")."""
        try:
            text = base64.b64decode(self.actor_id, validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return self.actor_id
        if not text.startswith("x509::"):
            return self.actor_id
        subject = text.split("::")[1]
        for part in subject.split(","):
            name, _, value = part.strip().partition("=")
            if name == "CN":
                return value
        return subject

    @classmethod
    def from_json(cls, data: Any) -> LastAction | None:
        if not isinstance(data, Mapping):
            return None
        return cls(
            function=str(data.get("function", "")),
            tx_id=str(data.get("txId", "")),
            org=str(data.get("org", "")),
            actor_id=str(data.get("actorId", "")),
            at=str(data.get("at", "")),
        )


@dataclass(frozen=True)
class Unit(_Model):
    """An issuing unit as finance registered it."""

    FIELDS = frozenset(records.Unit.json_fields())
    unit_code: str
    name: str
    sector: str
    region: str
    status: str
    registered_at: str | None = None
    suspension_reason: str | None = None
    last_action: LastAction | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> Unit:
        d = _mapping(data, "unit")
        suspension = _obj(d, "suspension") or {}
        return cls(
            unit_code=_str(d, "unitCode", "unit"),
            name=_str(d, "name", "unit"),
            sector=str(d.get("sector", "")),
            region=str(d.get("region", "")),
            status=_str(d, "status", "unit"),
            registered_at=_opt_str(d, "registeredAt"),
            suspension_reason=_opt_str(suspension, "reason"),
            last_action=LastAction.from_json(d.get("lastAction")),
            raw=dict(d),
        )


@dataclass(frozen=True)
class Reconciliation:
    """The counts finance recorded when it closed a batch."""

    issued: int
    red_bills: int
    red_lettered: int
    unused: int
    at: str


@dataclass(frozen=True)
class StockBatch(_Model):
    """A unit's range of bill numbers of one bill code, and where it stands."""

    FIELDS = frozenset(records.StockBatch.json_fields())
    batch_id: str
    unit_code: str
    bill_code: str
    start_number: str
    end_number: str
    count: int
    status: str
    applied_at: str | None = None
    approved_at: str | None = None
    rejection_reason: str | None = None
    reconciliation: Reconciliation | None = None
    last_action: LastAction | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> StockBatch:
        d = _mapping(data, "stock batch")
        what = "stock batch"
        rec = _obj(d, "reconciliation")
        reconciliation = None
        if rec is not None:
            reconciliation = Reconciliation(
                issued=_int(rec, "issued", what, 0),
                red_bills=_int(rec, "redBills", what, 0),
                red_lettered=_int(rec, "redLettered", what, 0),
                unused=_int(rec, "unused", what, 0),
                at=str(rec.get("at", "")),
            )
        return cls(
            batch_id=_str(d, "batchId", what),
            unit_code=_str(d, "unitCode", what),
            bill_code=_str(d, "billCode", what),
            start_number=_str(d, "startNumber", what),
            end_number=_str(d, "endNumber", what),
            count=_int(d, "count", what),
            status=_str(d, "status", what),
            applied_at=_opt_str(d, "appliedAt"),
            approved_at=_opt_str(d, "approvedAt"),
            rejection_reason=_opt_str(_obj(d, "rejection") or {}, "reason"),
            reconciliation=reconciliation,
            last_action=LastAction.from_json(d.get("lastAction")),
            raw=dict(d),
        )

    def holds(self, number: str) -> bool:
        """Is ``number`` inside this batch's range?"""
        return self.start_number <= number <= self.end_number


@dataclass(frozen=True)
class LineItem:
    """One charged item of a bill."""

    code: str
    name: str
    quantity: str
    unit: str
    standard_price: int
    amount: int

    @classmethod
    def from_json(cls, data: Any) -> LineItem:
        d = _mapping(data, "item")
        return cls(
            code=str(d.get("code", "")),
            name=str(d.get("name", "")),
            quantity=str(d.get("quantity", "")),
            unit=str(d.get("unit", "")),
            standard_price=_int(d, "standardPrice", "item", 0),
            amount=_int(d, "amount", "item"),
        )


@dataclass(frozen=True)
class Claim:
    """One reimburser's closed claim on a bill."""

    reimburser_id: str
    amount: int
    voucher_no: str
    tx_id: str
    at: str

    @classmethod
    def from_json(cls, data: Any) -> Claim:
        d = _mapping(data, "claim")
        return cls(
            reimburser_id=_str(d, "reimburserId", "claim"),
            amount=_int(d, "amount", "claim"),
            voucher_no=str(d.get("voucherNo", "")),
            tx_id=str(d.get("txId", "")),
            at=str(d.get("at", "")),
        )


@dataclass(frozen=True)
class Lock:
    """The lock a reimburser holds while it processes a claim."""

    reimburser_id: str
    tx_id: str
    at: str
    previous_status: str


@dataclass(frozen=True)
class BillRef:
    """A bill's identity: bill code and bill number."""

    bill_code: str
    bill_number: str

    def __str__(self) -> str:
        return f"{self.bill_code}/{self.bill_number}"

    @classmethod
    def from_json(cls, data: Any) -> BillRef | None:
        if not isinstance(data, Mapping):
            return None
        return cls(str(data.get("billCode", "")), str(data.get("billNumber", "")))


@dataclass(frozen=True)
class Bill(_Model):
    """A bill's public record (ReadBill, IssueBill, the changes), or its summary in lists.

    A summary (from the list functions) has no items, check code, claims or
    authorisations: those fields are empty there.
    """

    #: The public record's fields (a summary's are among them), and what the issuing
    #: client adds: the check code it generated, the items of the bill it issued.
    FIELDS = frozenset(records.Bill.json_fields()) | frozenset(
        {"checkCode", "items", "clerk", "reviewer", "remark"}
    )
    bill_code: str
    bill_number: str
    unit_code: str
    issue_date: str
    total_amount: int
    status: str
    kind: str = "normal"
    bill_name: str | None = None
    unit_name: str | None = None
    payer_hash: str | None = None
    check_code: str | None = None
    reimbursed_total: int = 0
    items: tuple[LineItem, ...] = ()
    clerk: str | None = None
    reviewer: str | None = None
    remark: str | None = None
    issued_at: str | None = None
    batch_id: str | None = None
    authorised: tuple[str, ...] = ()
    lock: Lock | None = None
    claims: tuple[Claim, ...] = ()
    red_bill_number: str | None = None
    red_of: BillRef | None = None
    reason: str | None = None
    previous_status: str | None = None
    archived_at: str | None = None
    last_action: LastAction | None = None
    check_code_hash: str | None = None
    issuer_msp: str | None = None
    issuer_id: str | None = None
    issue_tx_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def ref(self) -> BillRef:
        return BillRef(self.bill_code, self.bill_number)

    @property
    def remaining(self) -> int:
        """Fen still open for claims."""
        return self.total_amount - self.reimbursed_total

    @classmethod
    def from_json(cls, data: Any) -> Bill:
        d = _mapping(data, "bill")
        what = "bill"
        lock_json = _obj(d, "lock")
        lock = None
        if lock_json is not None:
            lock = Lock(
                reimburser_id=str(lock_json.get("reimburserId", "")),
                tx_id=str(lock_json.get("txId", "")),
                at=str(lock_json.get("at", "")),
                previous_status=str(lock_json.get("previousStatus", "")),
            )
        red_letter = _obj(d, "redLetter") or {}
        return cls(
            bill_code=_str(d, "billCode", what),
            bill_number=_str(d, "billNumber", what),
            unit_code=_str(d, "unitCode", what),
            issue_date=_str(d, "issueDate", what),
            total_amount=_int(d, "totalAmount", what),
            status=_str(d, "status", what),
            kind=str(d.get("kind", "normal")),
            bill_name=_opt_str(d, "billName"),
            unit_name=_opt_str(d, "unitName"),
            payer_hash=_opt_str(d, "payerHash"),
            check_code=_opt_str(d, "checkCode"),
            reimbursed_total=_int(d, "reimbursedTotal", what, 0),
            items=tuple(LineItem.from_json(i) for i in d.get("items") or ()),
            clerk=_opt_str(d, "clerk"),
            reviewer=_opt_str(d, "reviewer"),
            remark=_opt_str(d, "remark"),
            issued_at=_opt_str(d, "issuedAt"),
            batch_id=_opt_str(d, "batchId"),
            authorised=tuple(sorted(_obj(d, "authorised") or {})),
            lock=lock,
            claims=tuple(Claim.from_json(c) for c in d.get("claims") or ()),
            red_bill_number=_opt_str(red_letter, "redBillNumber"),
            red_of=BillRef.from_json(d.get("redOf")),
            reason=_opt_str(d, "reason") or _opt_str(red_letter, "reason"),
            previous_status=_opt_str(d, "previousStatus"),
            archived_at=_opt_str(d, "archivedAt"),
            last_action=LastAction.from_json(d.get("lastAction")),
            check_code_hash=_opt_str(d, "checkCodeHash"),
            issuer_msp=_opt_str(d, "issuerMsp"),
            issuer_id=_opt_str(d, "issuerId"),
            issue_tx_id=_opt_str(d, "issueTxId"),
            raw=dict(d),
        )


@dataclass(frozen=True)
class PayerInfo:
    """Who paid (personal data)."""

    type: str
    id: str
    name: str


@dataclass(frozen=True)
class MedicalInfo:
    """The medical extension of a hospital bill (personal data)."""

    patient_number: str
    insurance_type: str
    fund_paid: int
    personal_account_paid: int
    own_paid: int
    admission_date: str | None = None
    discharge_date: str | None = None


@dataclass(frozen=True)
class BillPrivate(_Model):
    """A bill's private part: the payer, the medical extension, the payer's salt."""

    FIELDS = frozenset(records.BillPrivate.json_fields())
    bill_code: str
    bill_number: str
    payer: PayerInfo
    salt_hex: str
    medical: MedicalInfo | None = None
    red_of: BillRef | None = None
    items: tuple[LineItem, ...] = ()
    clerk: str | None = None
    reviewer: str | None = None
    remark: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> BillPrivate:
        d = _mapping(data, "private bill")
        what = "private bill"
        payer = _mapping(d.get("payer"), "payer")
        med = _obj(d, "medical")
        medical = None
        if med is not None:
            medical = MedicalInfo(
                patient_number=str(med.get("patientNumber", "")),
                insurance_type=str(med.get("insuranceType", "")),
                fund_paid=_int(med, "fundPaid", "medical", 0),
                personal_account_paid=_int(med, "personalAccountPaid", "medical", 0),
                own_paid=_int(med, "ownPaid", "medical", 0),
                admission_date=_opt_str(med, "admissionDate"),
                discharge_date=_opt_str(med, "dischargeDate"),
            )
        return cls(
            bill_code=_str(d, "billCode", what),
            bill_number=_str(d, "billNumber", what),
            payer=PayerInfo(
                type=str(payer.get("type", "")),
                id=str(payer.get("id", "")),
                name=str(payer.get("name", "")),
            ),
            salt_hex=str(d.get("salt", "")),
            medical=medical,
            red_of=BillRef.from_json(d.get("redOf")),
            items=tuple(LineItem.from_json(i) for i in d.get("items") or ()),
            clerk=_opt_str(d, "clerk"),
            reviewer=_opt_str(d, "reviewer"),
            remark=_opt_str(d, "remark"),
            raw=dict(d),
        )


@dataclass(frozen=True)
class Verification(_Model):
    """VerifyBill's answer: genuine or not (and why not), and what it may show."""

    FIELDS = frozenset(records.Verification.json_fields())
    genuine: bool
    bill_code: str
    bill_number: str
    reason: str | None = None
    status: str | None = None
    kind: str | None = None
    unit_code: str | None = None
    unit_name: str | None = None
    issue_date: str | None = None
    total_amount: int | None = None
    previous_status: str | None = None
    red_of: BillRef | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any, bill_code: str = "", bill_number: str = "") -> Verification:
        """``bill_code``/``bill_number`` fill in an answer of a non-genuine bill."""
        d = _mapping(data, "verification")
        amount = d.get("totalAmount")
        return cls(
            genuine=d.get("genuine") is True,
            bill_code=str(d.get("billCode", bill_code)),
            bill_number=str(d.get("billNumber", bill_number)),
            reason=_opt_str(d, "reason"),
            status=_opt_str(d, "status"),
            kind=_opt_str(d, "kind"),
            unit_code=_opt_str(d, "unitCode"),
            unit_name=_opt_str(d, "unitName"),
            issue_date=_opt_str(d, "issueDate"),
            total_amount=amount if isinstance(amount, int) else None,
            previous_status=_opt_str(d, "previousStatus"),
            red_of=BillRef.from_json(d.get("redOf")),
            raw=dict(d),
        )


@dataclass(frozen=True)
class HistoryEntry(_Model):
    """One committed change of a bill (BillHistory), oldest first."""

    FIELDS = frozenset(records.HistoryEntry.json_fields())
    tx_id: str
    timestamp: str
    is_delete: bool
    status: str | None
    last_action: LastAction | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> HistoryEntry:
        d = _mapping(data, "history entry")
        return cls(
            tx_id=_str(d, "txId", "history entry"),
            timestamp=str(d.get("timestamp", "")),
            is_delete=d.get("isDelete") is True,
            status=_opt_str(d, "status"),
            last_action=LastAction.from_json(d.get("lastAction")),
            raw=dict(d),
        )


@dataclass(frozen=True)
class Anomaly(_Model):
    """A logged refusal that supervisors must see."""

    FIELDS = frozenset(records.Anomaly.json_fields())
    anomaly_id: str
    type: str
    function: str
    kind: str
    message: str
    day: str
    bill_code: str | None = None
    bill_number: str | None = None
    unit_code: str | None = None
    last_action: LastAction | None = None
    code: str | None = None
    anchor_tx_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> Anomaly:
        d = _mapping(data, "anomaly")
        refused = _obj(d, "refused") or {}
        return cls(
            anomaly_id=_str(d, "anomalyId", "anomaly"),
            type=_str(d, "type", "anomaly"),
            function=str(d.get("function", "")),
            kind=str(refused.get("kind", "")),
            message=str(refused.get("message", "")),
            day=str(d.get("day", "")),
            bill_code=_opt_str(d, "billCode"),
            bill_number=_opt_str(d, "billNumber"),
            unit_code=_opt_str(d, "unitCode"),
            last_action=LastAction.from_json(d.get("lastAction")),
            code=_opt_str(refused, "code"),
            anchor_tx_id=_opt_str(_obj(d, "anchor") or {}, "txId"),
            raw=dict(d),
        )


@dataclass(frozen=True)
class Totals:
    """A unit's bills over a span of days: count, amount (red bills negative),
    reimbursed fen and voided bills. Totals add up with ``+``."""

    count: int = 0
    total_amount: int = 0
    reimbursed: int = 0
    red_lettered: int = 0

    def __add__(self, other: Totals) -> Totals:
        return Totals(
            self.count + other.count,
            self.total_amount + other.total_amount,
            self.reimbursed + other.reimbursed,
            self.red_lettered + other.red_lettered,
        )

    @classmethod
    def from_json(cls, data: Any) -> Totals:
        d = _mapping(data, "totals")
        return cls(
            count=_int(d, "count", "totals", 0),
            total_amount=_int(d, "totalAmount", "totals", 0),
            reimbursed=_int(d, "reimbursed", "totals", 0),
            red_lettered=_int(d, "redLettered", "totals", 0),
        )


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its records and the bookmark of the next ("" = no more)."""

    records: tuple[T, ...]
    bookmark: str

    @property
    def last(self) -> bool:
        return not self.bookmark

    @classmethod
    def from_json(cls, data: Any, parse: Callable[[Any], T]) -> Page[T]:
        d = _mapping(data, "page")
        records: Iterable[Any] = d.get("records") or ()
        return cls(tuple(parse(r) for r in records), str(d.get("bookmark", "")))


@dataclass(frozen=True)
class IssuedBill:
    """A bill just issued, and the salt and check code its issuer hands to the payer
    (``bill.check_code`` is the code too; the chain keeps only its hash)."""

    bill: Bill
    salt: bytes
    check_code: str = ""

    @property
    def salt_hex(self) -> str:
        return self.salt.hex()


@dataclass(frozen=True)
class RedLettering:
    """RedLetterBill's answer: the voided original and the red bill that voids it."""

    original: Bill
    red: Bill

    @classmethod
    def from_json(cls, data: Any) -> RedLettering:
        d = _mapping(data, "red-letter answer")
        return cls(Bill.from_json(d.get("original")), Bill.from_json(d.get("red")))
