"""An in-memory Fabric ledger and chaincode stub for unit tests of the contract.

:class:`Ledger` holds the committed state of one chaincode namespace; every call
simulates one transaction on a :class:`FakeStub` and, for a submit whose response is
OK, commits it after Fabric's validation. What it keeps faithful to Fabric 2.5:

* Reads see the committed state only (a transaction does not read its own writes).
* An empty value written is a delete. Keys are ordered by code point (= UTF-8 bytes,
  LevelDB's order); ``get_state_by_range`` refuses bounds in the composite-key
  namespace and takes an empty start as U+0001, as the shim does.
* Paginated queries: a page starts at the bookmark if one is given (the peer does not
  check that it belongs to the range), the returned bookmark is the next key or "";
  they are refused after a write, and writes are refused after them (the peer's
  "read-only transaction" rule). Every query returns at most ``total_query_limit``
  results, silently (core.yaml ``totalQueryLimit``).
* Commit validation: MVCC on every key read (public and private) and phantom checks on
  unpaged range queries (re-run up to the last key the transaction consumed); an
  invalid transaction writes nothing. History per key, newest first, with the
  committing transaction's id and timestamp.
* Private data collections are separate from public state: reads need a member peer
  and (memberOnlyRead) a member client, writes (memberOnlyWrite) a member client and
  work on non-member peers, hashes are readable everywhere.
* Validation parameters (key-level endorsement policies) are key metadata: stored on
  commit for keys that exist, dropped with the key.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ebill_chaincode.contract import contract
from ebill_chaincode.contract.anomalies import TYPES, Anomaly, spool_entry
from ebill_chaincode.shim import (
    KV,
    Creator,
    Event,
    InvalidArgument,
    KeyModification,
    PeerError,
    QueryPage,
    Response,
)
from ebill_chaincode.shim.errors import ChaincodeError, parse_message
from ebill_chaincode.shim.identity import ATTRIBUTES_OID
from ebill_chaincode.shim.stub import Stub, create_composite_key, split_composite_key

NAMESPACE = "\x00"
MAX_RUNE = "\U0010ffff"
EMPTY_KEY_SUBSTITUTE = "\x01"
BILL_COLLECTION = "billPrivate"
#: collection name -> member MSPs (the network's collections config).
COLLECTIONS: dict[str, frozenset[str]] = {
    BILL_COLLECTION: frozenset({"UnitsMSP", "InsuranceMSP", "AuditMSP"}),
}
START = dt.datetime(2026, 1, 5, 2, 0, 0, tzinfo=dt.UTC)

VALID = "VALID"
MVCC_READ_CONFLICT = "MVCC_READ_CONFLICT"
PHANTOM_READ_CONFLICT = "PHANTOM_READ_CONFLICT"


@dataclass
class Versioned:
    value: bytes
    version: int


@dataclass
class RangeRead:
    """An unpaged range query of a transaction, for phantom validation."""

    start: str
    end: str
    results: list[tuple[str, int]] = field(default_factory=list)
    exhausted: bool = False


def _in_range(key: str, start: str, end: str) -> bool:
    return start <= key and (end == "" or key < end)


def _check_simple_keys(*bounds: str) -> None:
    for bound in bounds:
        if bound.startswith(NAMESPACE):
            raise InvalidArgument("a range key must not start with U+0000")


def _check_page_size(page_size: int) -> None:
    if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
        raise InvalidArgument("page size must be an integer of at least 1")


class Ledger:
    """The committed state of the ebill chaincode on a channel, plus its history."""

    def __init__(
        self,
        *,
        collections: Mapping[str, frozenset[str]] = COLLECTIONS,
        total_query_limit: int = 100_000,
        clock: dt.datetime = START,
    ) -> None:
        self.collections = dict(collections)
        self.total_query_limit = total_query_limit
        self.state: dict[str, Versioned] = {}
        self.private: dict[str, dict[str, Versioned]] = {name: {} for name in collections}
        self.metadata: dict[str, bytes] = {}
        self.history: dict[str, list[KeyModification]] = {}
        self.height = 0
        self.clock = clock
        self._tx_counter = 0
        #: What the finance chaincode's anomaly spool holds (entries, in order).
        self.spool: list[dict[str, Any]] = []

    # --- what tests compare ------------------------------------------------------------

    def public(self) -> dict[str, bytes]:
        return {key: item.value for key, item in self.state.items()}

    def snapshot(self) -> dict[str, Any]:
        """Everything a transaction could change (public, private, metadata)."""
        return {
            "public": self.public(),
            "private": {
                name: {key: item.value for key, item in entries.items()}
                for name, entries in self.private.items()
            },
            "metadata": dict(self.metadata),
        }

    def copy(self) -> Ledger:
        return copy.deepcopy(self)

    # --- transactions ------------------------------------------------------------------

    def stub(
        self,
        creator: Creator,
        function: str,
        *args: str,
        transient: Mapping[str, bytes] | None = None,
        tx_id: str | None = None,
        timestamp: dt.datetime | None = None,
        peer_msp: str | None = None,
    ) -> FakeStub:
        """A new transaction; the clock moves one second per transaction.

        Without ``transient``, RedLetterBill gets a check code (``R`` + the red number's
        last 5 digits) and the platform's payer functions the proof for payer 1 with
        SALT: tests of those rules pass their own transient map.
        """
        if transient is None:
            transient = _default_transient(creator, function, args)
        self._tx_counter += 1
        if timestamp is None:
            self.clock += dt.timedelta(seconds=1)
            timestamp = self.clock
        return FakeStub(
            self,
            creator,
            [function, *args],
            transient=transient,
            tx_id=tx_id or f"tx{self._tx_counter:06d}",
            timestamp=timestamp,
            peer_msp=peer_msp or creator.msp_id,
        )

    def validate(self, stub: FakeStub) -> str:
        """Fabric's commit-time checks of a simulated transaction."""
        for key, version in stub.read_set.items():
            current = self.state.get(key)
            if (current.version if current else None) != version:
                return MVCC_READ_CONFLICT
        for (collection, key), version in stub.private_read_set.items():
            current = self.private[collection].get(key)
            if (current.version if current else None) != version:
                return MVCC_READ_CONFLICT
        for read in stub.range_reads:
            now = [
                (key, self.state[key].version)
                for key in sorted(self.state)
                if _in_range(key, read.start, read.end)
            ]
            if not read.exhausted:
                if not read.results:
                    continue
                last = read.results[-1][0]
                now = [entry for entry in now if entry[0] <= last]
            if now != read.results:
                return PHANTOM_READ_CONFLICT
        return VALID

    def commit(self, stub: FakeStub) -> str:
        """Validate and, if valid, apply the transaction's writes as a new block."""
        code = self.validate(stub)
        if code != VALID:
            return code
        self.height += 1
        for key, value in stub.write_set.items():
            change = KeyModification(stub.tx_id, value or b"", stub.tx_timestamp, value is None)
            self.history.setdefault(key, []).append(change)
            if value is None:
                self.state.pop(key, None)
                self.metadata.pop(key, None)
            else:
                self.state[key] = Versioned(value, self.height)
        for (collection, key), value in stub.private_write_set.items():
            if value is None:
                self.private[collection].pop(key, None)
            else:
                self.private[collection][key] = Versioned(value, self.height)
        for key, policy in stub.metadata_write_set.items():
            if key in self.state:
                self.metadata[key] = policy
        return code

    def _observe(self, stub: Stub, function: str, error: ChaincodeError) -> None:
        """The spool's observer, in memory (one entry per anomaly id, as the file)."""
        if isinstance(error, Anomaly) and all(
            entry["anomalyId"] != stub.tx_id for entry in self.spool
        ):
            self.spool.append(spool_entry(stub, function, error))

    def run(
        self,
        creator: Creator,
        function: str,
        *args: str,
        submit: bool = True,
        **options: Any,
    ) -> Outcome:
        """Simulate ``function``; commit it if ``submit`` and the response is OK."""
        stub = self.stub(creator, function, *args, **options)
        response = contract.dispatch(stub, observer=self._observe)
        code = self.commit(stub) if submit and response.ok else "NOT_SUBMITTED"
        return Outcome(response, stub, code)


@dataclass
class Outcome:
    """A simulated transaction: the chaincode response, its stub, the commit code."""

    response: Response
    stub: FakeStub
    code: str

    @property
    def status(self) -> int:
        return self.response.status

    @property
    def message(self) -> str:
        """The message as ``"<Kind>: <text>"`` (the wire form without its code)."""
        parsed = parse_message(self.response.message)
        return self.response.message if parsed is None else f"{parsed.kind}: {parsed.text}"

    @property
    def error_code(self) -> str | None:
        """The refusal code of an error answer, None for success."""
        parsed = parse_message(self.response.message)
        return None if parsed is None else parsed.code

    def json(self) -> Any:
        return json.loads(self.response.payload)


def _default_transient(
    creator: Creator, function: str, args: Sequence[str]
) -> dict[str, bytes] | None:
    if function == "RedLetterBill" and len(args) >= 3:
        return {"checkCode": ("R" + args[2][-5:]).encode()}
    if creator == PLATFORM and function in _PAYER_FUNCTIONS:
        return proof()
    return None


_PAYER_FUNCTIONS = ("ReadBill", "AuthoriseReimburser", "RevokeAuthorisation", "ListBillsByPayer")


class FakeStub:
    """One transaction's view of a :class:`Ledger`; implements the shim's Stub."""

    def __init__(
        self,
        ledger: Ledger,
        creator: Creator,
        args: Sequence[str],
        *,
        transient: Mapping[str, bytes] | None,
        tx_id: str,
        timestamp: dt.datetime,
        peer_msp: str,
    ) -> None:
        self.ledger = ledger
        self.creator = creator
        self.args = list(args)
        self.transient: Mapping[str, bytes] = dict(transient or {})
        self.tx_id = tx_id
        self.tx_timestamp = timestamp
        self.channel_id = "ebills"
        self.peer_msp = peer_msp
        self.event: Event | None = None
        self.read_set: dict[str, int | None] = {}
        self.private_read_set: dict[tuple[str, str], int | None] = {}
        self.range_reads: list[RangeRead] = []
        self.write_set: dict[str, bytes | None] = {}
        self.private_write_set: dict[tuple[str, str], bytes | None] = {}
        self.metadata_write_set: dict[str, bytes] = {}
        self.writes: list[str] = []  # every key written, in order ("<collection>:" + key)
        self._wrote = False
        self._paginated = False
        self._pvt_queried = False

    # --- transaction facts -------------------------------------------------------------

    @property
    def function(self) -> str:
        return self.args[0] if self.args else ""

    @property
    def params(self) -> list[str]:
        return self.args[1:]

    def get_binding(self) -> bytes:
        return hashlib.sha256(self.tx_id.encode()).digest()

    def get_signed_proposal(self) -> Any:
        return None

    def local_time(self) -> dt.datetime:
        """The ledger's clock (the time the latest transaction was created)."""
        return self.ledger.clock

    # --- the peer's simulator rules ----------------------------------------------------

    def _before_write(self, key: str) -> None:
        if self._pvt_queried:
            raise PeerError(
                f"txid [{self.tx_id}]: unsupported transaction. Queries on pvt data are"
                " supported only in a read-only transaction"
            )
        if self._paginated:
            raise PeerError(
                f"txid [{self.tx_id}]: unsupported transaction. Transaction has already"
                " performed a paginated query. Writes are not allowed"
            )
        if not key:
            raise ValueError("key must not be empty")
        key.encode("utf-8")  # lone surrogates are not valid keys
        self._wrote = True

    def _before_paginated(self) -> None:
        if self._wrote:
            raise PeerError(
                f"txid [{self.tx_id}]: unsupported transaction. Paginated queries are"
                " supported only in a read-only transaction"
            )
        self._paginated = True

    def _collection(self, collection: str, *, read: bool = False, write: bool = False) -> None:
        if not collection:
            raise InvalidArgument("collection must not be empty")
        members = self.ledger.collections.get(collection)
        if members is None:
            raise PeerError(f"collection {collection} is not defined for chaincode ebill")
        if read and self.peer_msp not in members:
            raise PeerError(
                f"private data of collection {collection} is not available on a peer of"
                f" {self.peer_msp}, which is not a member"
            )
        if read and self.creator.msp_id not in members:
            raise PeerError(
                f"tx creator does not have read access permission on privatedata in"
                f" chaincodeName:ebill collectionName: {collection}"
            )
        if write and self.creator.msp_id not in members:
            raise PeerError(
                f"tx creator does not have write access permission on privatedata in"
                f" chaincodeName:ebill collectionName: {collection}"
            )

    # --- public state ------------------------------------------------------------------

    def get_state(self, key: str, collection: str = "") -> bytes | None:
        if collection:
            return self.get_private_data(collection, key)
        item = self.ledger.state.get(key)
        self.read_set.setdefault(key, item.version if item else None)
        return item.value if item else None

    def put_state(self, key: str, value: bytes | str, collection: str = "") -> None:
        if collection:
            self.put_private_data(collection, key, value)
            return
        self._before_write(key)
        data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        self.write_set[key] = data or None  # Fabric: an empty value is a delete
        self.writes.append(key)

    def delete_state(self, key: str, collection: str = "") -> None:
        if collection:
            self.delete_private_data(collection, key)
            return
        self._before_write(key)
        self.write_set[key] = None
        self.writes.append(key)

    def set_event(self, name: str, payload: bytes | str) -> None:
        if not name:
            raise ValueError("event name must not be empty")
        data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
        self.event = Event(name, data)

    def create_composite_key(self, object_type: str, attributes: Sequence[str]) -> str:
        return create_composite_key(object_type, attributes)

    def split_composite_key(self, key: str) -> tuple[str, list[str]]:
        return split_composite_key(key)

    # --- queries -----------------------------------------------------------------------

    def _sorted_keys(self, start: str, end: str) -> list[str]:
        return sorted(key for key in self.ledger.state if _in_range(key, start, end))

    def _iterate(self, start: str, end: str) -> Iterator[KV]:
        read = RangeRead(start, end)
        self.range_reads.append(read)
        keys = self._sorted_keys(start, end)
        for position, key in enumerate(keys):
            if position >= self.ledger.total_query_limit:
                return  # the peer stops silently at totalQueryLimit
            item = self.ledger.state[key]
            read.results.append((key, item.version))
            yield KV(key, item.value)
        read.exhausted = True

    def _page(
        self, start: str, end: str, page_size: int, bookmark: str
    ) -> tuple[list[KV], QueryPage]:
        _check_page_size(page_size)
        self._before_paginated()
        keys = self._sorted_keys(bookmark or start, end)
        size = min(page_size, self.ledger.total_query_limit)
        page = [KV(key, self.ledger.state[key].value) for key in keys[:size]]
        next_bookmark = keys[size] if len(keys) > size else ""
        return page, QueryPage(len(page), next_bookmark)

    def get_state_by_range(self, start: str, end: str) -> Iterator[KV]:
        start = start or EMPTY_KEY_SUBSTITUTE
        _check_simple_keys(start, end)
        return self._iterate(start, end)

    def get_state_by_range_with_pagination(
        self, start: str, end: str, page_size: int, bookmark: str = ""
    ) -> tuple[list[KV], QueryPage]:
        start = start or EMPTY_KEY_SUBSTITUTE
        _check_simple_keys(start, end)
        return self._page(start, end, page_size, bookmark)

    def get_state_by_partial_composite_key(
        self, object_type: str, attributes: Sequence[str]
    ) -> Iterator[KV]:
        start = create_composite_key(object_type, attributes)
        return self._iterate(start, start + MAX_RUNE)

    def get_state_by_partial_composite_key_with_pagination(
        self, object_type: str, attributes: Sequence[str], page_size: int, bookmark: str = ""
    ) -> tuple[list[KV], QueryPage]:
        start = create_composite_key(object_type, attributes)
        return self._page(start, start + MAX_RUNE, page_size, bookmark)

    def get_history_for_key(self, key: str) -> Iterator[KeyModification]:
        changes = list(reversed(self.ledger.history.get(key, [])))  # newest first (Fabric 2)
        return iter(changes[: self.ledger.total_query_limit])

    # --- private data ------------------------------------------------------------------

    def get_private_data(self, collection: str, key: str) -> bytes | None:
        self._collection(collection, read=True)
        item = self.ledger.private[collection].get(key)
        self.private_read_set.setdefault((collection, key), item.version if item else None)
        return item.value if item else None

    def put_private_data(self, collection: str, key: str, value: bytes | str) -> None:
        self._collection(collection, write=True)
        self._before_write(key)
        data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        self.private_write_set[(collection, key)] = data or None
        self.writes.append(f"{collection}:{key}")

    def delete_private_data(self, collection: str, key: str) -> None:
        self._collection(collection, write=True)
        self._before_write(key)
        self.private_write_set[(collection, key)] = None
        self.writes.append(f"{collection}:{key}")

    def get_private_data_hash(self, collection: str, key: str) -> bytes | None:
        self._collection(collection)
        item = self.ledger.private[collection].get(key)
        return hashlib.sha256(item.value).digest() if item else None

    def _private_query(self, collection: str, start: str, end: str) -> Iterator[KV]:
        self._collection(collection, read=True)
        if self._wrote:
            raise PeerError(
                f"txid [{self.tx_id}]: unsupported transaction. Queries on pvt data are"
                " supported only in a read-only transaction"
            )
        self._pvt_queried = True
        entries = self.ledger.private[collection]
        keys = sorted(key for key in entries if _in_range(key, start, end))
        limit = self.ledger.total_query_limit
        return iter([KV(key, entries[key].value) for key in keys[:limit]])

    def get_private_data_by_range(self, collection: str, start: str, end: str) -> Iterator[KV]:
        start = start or EMPTY_KEY_SUBSTITUTE
        _check_simple_keys(start, end)
        return self._private_query(collection, start, end)

    def get_private_data_by_partial_composite_key(
        self, collection: str, object_type: str, attributes: Sequence[str]
    ) -> Iterator[KV]:
        start = create_composite_key(object_type, attributes)
        return self._private_query(collection, start, start + MAX_RUNE)

    # --- key-level endorsement ---------------------------------------------------------

    def set_state_validation_parameter(self, key: str, policy: bytes) -> None:
        self._before_write(key)
        self.metadata_write_set[key] = bytes(policy)
        self.writes.append(f"metadata:{key}")

    def get_state_validation_parameter(self, key: str) -> bytes | None:
        item = self.ledger.state.get(key)
        self.read_set.setdefault(key, item.version if item else None)
        return self.ledger.metadata.get(key)

    def set_private_data_validation_parameter(
        self, collection: str, key: str, policy: bytes
    ) -> None:
        raise PeerError("private data validation parameters are not simulated")

    def get_private_data_validation_parameter(self, collection: str, key: str) -> bytes | None:
        raise PeerError("private data validation parameters are not simulated")


# --- identities --------------------------------------------------------------------------

_KEY = ec.generate_private_key(ec.SECP256R1())


def certificate(cn: str, attrs: Mapping[str, str] | None, issuer: str = "ca") -> bytes:
    """A PEM client certificate with Fabric CA attributes ``attrs``."""
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "client"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(_KEY.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
    )
    if attrs is not None:
        value = json.dumps({"attrs": dict(attrs)}).encode()
        builder = builder.add_extension(
            x509.UnrecognizedExtension(ATTRIBUTES_OID, value), critical=False
        )
    return builder.sign(_KEY, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def identity(msp_id: str, cn: str, **attrs: str) -> Creator:
    return Creator(msp_id, certificate(cn, attrs, f"ca.{msp_id.lower()}"))


PAYER_ID = "460100199001011234"
OTHER_PAYER_ID = "460100198805055678"

FINANCE = identity("FinanceMSP", "finance1", role="finance")
#: Payers act through the finance department's platform: one identity without any
#: personal attribute; who the payer is travels as transient data (see proof()).
PLATFORM = identity("FinanceMSP", "platform1", role="platform")
PAYER = PLATFORM
OTHER_PAYER = PLATFORM
ISSUER = identity("UnitsMSP", "hospital1", role="issuer", unit="HN0101")
OTHER_ISSUER = identity("UnitsMSP", "school1", role="issuer", unit="HN0201")
CLERK = identity("UnitsMSP", "clerk1", role="clerk", unit="HN0101")
MEDINS = identity("InsuranceMSP", "medins1", role="reimburser", reimburser="MEDINS-HN")
PICC = identity("InsuranceMSP", "insurer1", role="reimburser", reimburser="PICC-HN")
SUPERVISOR = identity("AuditMSP", "auditor1", role="supervisor")

#: The nine roles of the access matrix.
ROLES: dict[str, Creator] = {
    "finance": FINANCE,
    "issuer own unit": ISSUER,
    "issuer other unit": OTHER_ISSUER,
    "clerk": CLERK,
    "reimburser authorised": MEDINS,
    "reimburser not authorised": PICC,
    "payer own": PAYER,
    "payer other": OTHER_PAYER,
    "supervisor": SUPERVISOR,
}

# --- a populated world -------------------------------------------------------------------

HOSPITAL = ("HN0101", "海南省人民医院")
SCHOOL = ("HN0201", "海口市第一中学")
CODE = "46010126"  # region 46, medical outpatient, 2026
SCHOOL_CODE = "46030126"
SALT = bytes(range(16))
OTHER_SALT = bytes(range(100, 132))
PAYER_NAME = "张三"


def number(n: int) -> str:
    return f"{n:010d}"


def payer_hash(salt: bytes = SALT, payer_id: str = PAYER_ID, payer_type: str = "person") -> str:
    """The expected payerHash, computed independently of the contract."""
    return hashlib.sha256(salt + payer_type.encode() + b"\x00" + payer_id.encode()).hexdigest()


def bill_json(n: int = 1, amount: int = 26850, **changes: Any) -> dict[str, Any]:
    """The public part of an outpatient bill of ``amount`` fen (two items)."""
    first = amount // 3
    document: dict[str, Any] = {
        "billCode": CODE,
        "billNumber": number(n),
        "billName": "海南省医疗门诊收费票据（电子）",
        "unitCode": HOSPITAL[0],
        "unitName": HOSPITAL[1],
        "issueDate": "2026-01-05T10:30:00+08:00",
        "totalAmount": amount,
        "items": [
            {
                "code": "310100001",
                "name": "门诊诊查费",
                "quantity": "1",
                "unit": "次",
                "standardPrice": first,
                "amount": first,
            },
            {
                "code": "XY0001",
                "name": "阿莫西林胶囊",
                "quantity": 2,
                "unit": "盒",
                "standardPrice": (amount - first + 1) // 2,
                "amount": amount - first,
            },
        ],
        "clerk": "李四",
    }
    document.update(changes)
    return document


def medical(amount: int = 26850) -> dict[str, Any]:
    return {
        "patientNumber": "MZ2026000123",
        "insuranceType": "城镇职工",
        "fundPaid": amount - 1000,
        "personalAccountPaid": 500,
        "ownPaid": 500,
    }


def transient(
    salt: bytes = SALT,
    payer_id: str = PAYER_ID,
    with_medical: int | None = 26850,
    bill: dict[str, Any] | None = None,
    **extra: bytes,
) -> dict[str, bytes]:
    """DepositBillPrivate's transient map (the full bill 1 of ``with_medical`` fen
    unless ``bill`` is given)."""
    document = bill if bill is not None else bill_json(1, with_medical or 26850)
    result = {
        "bill": json.dumps(document, ensure_ascii=False).encode(),
        "payer": json.dumps(
            {"type": "person", "id": payer_id, "name": PAYER_NAME}, ensure_ascii=False
        ).encode(),
        "payerSalt": salt,
    }
    if with_medical is not None:
        result["medical"] = json.dumps(medical(with_medical), ensure_ascii=False).encode()
    result.update(extra)
    return result


def check_code(n: int = 1) -> str:
    """The check code the tests' issuer system gives bill ``n``."""
    return f"C{n:05d}"


def public_json(
    n: int = 1, amount: int = 26850, salt: bytes = SALT, payer_id: str = PAYER_ID, **changes: Any
) -> dict[str, Any]:
    """IssueBill's argument for bill ``n``: the public part and the payer hash."""
    full = bill_json(n, amount)
    names = ("billCode", "billNumber", "billName", "unitCode", "unitName", "issueDate")
    document = {name: full[name] for name in names}
    document.update(totalAmount=amount, payerHash=payer_hash(salt, payer_id))
    document.update(changes)
    return document


def proof(salt: bytes = SALT, payer_id: str = PAYER_ID) -> dict[str, bytes]:
    """The platform's transient proof that the payer ``payer_id`` owns a bill."""
    payer = json.dumps({"type": "person", "id": payer_id}).encode()
    return {"payer": payer, "payerSalt": salt}


def reply_key() -> tuple[Any, dict[str, bytes]]:
    """A fresh X25519 key and the transient map asking for a reply sealed to it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    key = X25519PrivateKey.generate()
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return key, {"replyKey": raw}


def open_reply(key: Any, answer: dict[str, Any], function: str = "ReadBillPrivate") -> Any:
    """Decrypt a sealed reply (written here independently of the contract)."""
    import base64

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    sealed = answer["sealed"]
    assert sealed["alg"] == "X25519-HKDF-SHA256-AES256GCM"
    ephemeral = base64.b64decode(sealed["ephemeralKey"])
    own = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    secret = key.exchange(X25519PublicKey.from_public_bytes(ephemeral))
    aes = HKDF(hashes.SHA256(), 32, ephemeral + own, b"ebill sealed reply v1").derive(secret)
    plain = AESGCM(aes).decrypt(
        base64.b64decode(sealed["nonce"]), base64.b64decode(sealed["ciphertext"]), function.encode()
    )
    return json.loads(plain)


class World:
    """A ledger with the standard cast: two units with stock, bills on demand."""

    def __init__(self, ledger: Ledger | None = None) -> None:
        self.ledger = ledger or Ledger()
        self.hospital_batch = ""  # set by standard()
        self.school_batch = ""
        self.pending = ""  # a pending application, where a test makes one

    def run(self, creator: Creator, function: str, *args: str, **options: Any) -> Outcome:
        return self.ledger.run(creator, function, *args, **options)

    def ok(self, creator: Creator, function: str, *args: str, **options: Any) -> Any:
        """Run and require success (status 200, not a refused payload); the JSON result."""
        outcome = self.run(creator, function, *args, **options)
        assert outcome.status == 200, (function, outcome.message)
        assert outcome.code in (VALID, "NOT_SUBMITTED"), (function, outcome.code)
        payload = outcome.response.payload
        result = json.loads(payload) if payload[:1] in (b"{", b"[") else payload
        assert not (isinstance(result, dict) and "refused" in result), (function, result)
        return result

    def anchor(self) -> dict[str, Any]:
        """Finance anchors the whole spool (RecordAnomalies); its JSON answer."""
        result: dict[str, Any] = self.ok(FINANCE, "RecordAnomalies", json.dumps(self.ledger.spool))
        return result

    def register_units(self) -> World:
        for (code, name), sector in ((HOSPITAL, "medical"), (SCHOOL, "education")):
            unit = {"unitCode": code, "name": name, "sector": sector, "region": "46"}
            self.ok(FINANCE, "RegisterUnit", json.dumps(unit, ensure_ascii=False))
        return self

    def grant_stock(self, issuer: Creator, unit: str, code: str, start: int, count: int) -> str:
        application = {
            "unitCode": unit,
            "billCode": code,
            "startNumber": number(start),
            "count": count,
        }
        batch = self.ok(issuer, "ApplyStock", json.dumps(application))
        self.ok(FINANCE, "ApproveStock", batch["batchId"])
        return str(batch["batchId"])

    def standard(self) -> World:
        """Units HN0101 and HN0201 with numbers 1..1000 of their codes approved."""
        self.register_units()
        self.hospital_batch = self.grant_stock(ISSUER, HOSPITAL[0], CODE, 1, 1000)
        self.school_batch = self.grant_stock(OTHER_ISSUER, SCHOOL[0], SCHOOL_CODE, 1, 1000)
        return self

    def deposit(self, n: int = 1, amount: int = 26850, **options: Any) -> dict[str, Any]:
        """DepositBillPrivate of bill ``n`` (transient: the full bill, payer, salt, medical)."""
        options.setdefault("transient", transient(with_medical=amount, bill=bill_json(n, amount)))
        result: dict[str, Any] = self.ok(ISSUER, "DepositBillPrivate", CODE, number(n), **options)
        return result

    def issue(
        self,
        n: int = 1,
        amount: int = 26850,
        *,
        salt: bytes = SALT,
        payer_id: str = PAYER_ID,
        with_medical: bool = True,
        **options: Any,
    ) -> dict[str, Any]:
        """Deposit and issue bill ``n``; the record with the check code used added
        (the record itself holds only its hash)."""
        deposit = dict(options)
        deposit["transient"] = transient(
            salt, payer_id, amount if with_medical else None, bill=bill_json(n, amount)
        )
        self.ok(ISSUER, "DepositBillPrivate", CODE, number(n), **deposit)
        document = json.dumps(public_json(n, amount, salt, payer_id), ensure_ascii=False)
        code = check_code(n)
        options["transient"] = {"checkCode": code.encode()}
        result: dict[str, Any] = self.ok(ISSUER, "IssueBill", document, **options)
        return {**result, "checkCode": code}

    def authorise(self, n: int, reimburser: str, salt: bytes = SALT) -> None:
        self.ok(PAYER, "AuthoriseReimburser", CODE, number(n), reimburser, transient=proof(salt))

    def bill(self, n: int = 1, code: str = CODE) -> dict[str, Any]:
        raw = self.ledger.state[bill_key(n, code)].value
        result: dict[str, Any] = json.loads(raw)
        return result

    def copy(self) -> World:
        clone = World(self.ledger.copy())
        clone.__dict__.update({k: v for k, v in self.__dict__.items() if k != "ledger"})
        return clone

    # --- refusals ------------------------------------------------------------------------

    def refused(
        self,
        creator: Creator,
        function: str,
        *args: str,
        status: int,
        message: str,
        code: str | None = None,
        **options: Any,
    ) -> Outcome:
        """Run, require an ordinary error whose ``"<Kind>: <text>"`` starts with
        ``message`` (and whose code is ``code`` if given, the kind's default code if
        ``code`` is None and the message is of the kind alone); require that the
        function wrote nothing and spooled no anomaly."""
        before = self.ledger.snapshot()
        spooled = len(self.ledger.spool)
        outcome = self.run(creator, function, *args, **options)
        parsed = parse_message(outcome.response.message)
        assert parsed is not None, outcome.response.message
        shown = f"{parsed.kind}: {parsed.text}"
        assert (outcome.status, shown[: len(message)]) == (status, message), (
            outcome.status,
            outcome.message,
        )
        if code is not None:
            assert parsed.code == code, outcome.message
        assert parsed.code not in TYPES, outcome.message
        assert outcome.stub.writes == [], outcome.stub.writes
        assert self.ledger.snapshot() == before
        assert len(self.ledger.spool) == spooled
        return outcome

    def anomaly(
        self,
        creator: Creator,
        function: str,
        *args: str,
        anomaly_type: str,
        kind: str = "Conflict",
        message: str = "",
        **options: Any,
    ) -> dict[str, Any]:
        """Run, require an error of ``kind`` with code ``anomaly_type`` whose text starts
        with ``message``, no write, and one spool entry for it; then anchor the spool
        as finance and require that only the anomaly record and its index were
        written. Returns the anchored anomaly record."""
        before = self.ledger.snapshot()
        spooled = len(self.ledger.spool)
        outcome = self.run(creator, function, *args, **options)
        assert outcome.status == {"Conflict": 409, "Forbidden": 403}[kind], outcome.message
        assert outcome.code == "NOT_SUBMITTED"
        parsed = parse_message(outcome.response.message)
        assert parsed is not None, outcome.response.message
        assert (parsed.kind, parsed.code) == (kind, anomaly_type), outcome.message
        assert parsed.text.startswith(message), outcome.message
        assert outcome.stub.writes == [] and outcome.stub.event is None
        assert self.ledger.snapshot() == before
        tx_id = outcome.stub.tx_id
        assert [entry["anomalyId"] for entry in self.ledger.spool[spooled:]] == [tx_id]
        entry = self.ledger.spool[-1]
        assert entry["refused"] == {"kind": kind, "code": anomaly_type, "message": parsed.text}
        anchor = self.ledger.run(FINANCE, "RecordAnomalies", json.dumps([entry]))
        assert anchor.status == 200 and anchor.code == VALID, anchor.message
        assert anchor.json() == {"recorded": [tx_id], "known": []}
        after = self.ledger.snapshot()
        added = set(after["public"]) - set(before["public"])
        assert {key.split("\x00")[0] for key in added} == {"anomaly", "anomaly~type"}
        assert len(added) == 2
        for key in added:
            del after["public"][key]
        assert after == before
        record_key = next(key for key in added if key.startswith("anomaly\x00"))
        record: dict[str, Any] = json.loads(self.ledger.state[record_key].value)
        assert record["type"] == anomaly_type
        assert record["anomalyId"] == tx_id and record["function"] == function
        assert record["refused"] == entry["refused"]
        assert record["anchor"]["txId"] == anchor.stub.tx_id
        assert anchor.stub.event is not None and anchor.stub.event.name == "RecordAnomalies"
        event = json.loads(anchor.stub.event.payload)
        assert event["recorded"] == [tx_id]
        return record


def key(object_type: str, *parts: str) -> str:
    """A state key as the contract builds it (written out here independently)."""
    return object_type + "\x00" + "".join(part + "\x00" for part in parts)


def bill_key(n: int = 1, code: str = CODE) -> str:
    return key("bill", code, number(n))


_STANDARD: World | None = None


def standard_world() -> World:
    """A fresh copy of the standard world (built once per test session)."""
    global _STANDARD
    if _STANDARD is None:
        _STANDARD = World().standard()
    return _STANDARD.copy()
