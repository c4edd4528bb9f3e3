"""E-bill fixtures for the contract's unit tests: the cast, sample bills, a populated world.

The ledger simulator and the identity factory are :mod:`ebill_chaincode.shimtest`;
this module adds what is e-bill's: :class:`Ledger` (a :class:`MockLedger` with the
network's collections that runs the e-bill contract and keeps the finance chaincode's
anomaly spool), the identities of every role, units, bills, transient maps, and
:class:`World` (a ledger with two units and their stock, bills on demand).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from ebill_chaincode.contract import contract
from ebill_chaincode.contract.anomalies import TYPES, Anomaly, spool_entry
from ebill_chaincode.contract.checkcode import hash_check_code, normalize_check_code
from ebill_chaincode.shim import Creator, Stub
from ebill_chaincode.shim.errors import ChaincodeError, parse_message
from ebill_chaincode.shimtest import NOT_SUBMITTED, VALID, MockLedger, MockStub, Outcome, identity

BILL_COLLECTION = "billPrivate"
#: collection name -> member MSPs (the network's collections config).
COLLECTIONS: dict[str, frozenset[str]] = {
    BILL_COLLECTION: frozenset({"UnitsMSP", "InsuranceMSP", "AuditMSP"}),
}
START = dt.datetime(2026, 1, 5, 2, 0, 0, tzinfo=dt.UTC)


class Ledger(MockLedger):
    """The committed state of the ebill chaincode on the ebills channel, plus its history
    and what the finance chaincode's anomaly spool holds."""

    def __init__(
        self,
        *,
        collections: Mapping[str, frozenset[str]] = COLLECTIONS,
        total_query_limit: int = 100_000,
        clock: dt.datetime = START,
    ) -> None:
        super().__init__(
            collections=collections,
            chaincode="ebill",
            channel="ebills",
            total_query_limit=total_query_limit,
            clock=clock,
        )
        #: What the finance chaincode's anomaly spool holds (entries, in order).
        self.spool: list[dict[str, Any]] = []

    def stub(
        self,
        creator: Creator,
        function: str,
        *args: str,
        transient: Mapping[str, bytes] | None = None,
        tx_id: str | None = None,
        timestamp: dt.datetime | None = None,
        peer_msp: str | None = None,
    ) -> MockStub:
        """A new transaction; the clock moves one second per transaction.

        Without ``transient``, RedLetterBill gets a check code (``R`` + the red number's
        last 5 digits) and the platform's payer functions the proof for payer 1 with
        SALT: tests of those rules pass their own transient map.
        """
        if transient is None:
            transient = _default_transient(creator, function, args)
        return super().stub(
            creator,
            function,
            *args,
            transient=transient,
            tx_id=tx_id,
            timestamp=timestamp,
            peer_msp=peer_msp,
        )

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
        """Simulate ``function`` of the e-bill contract; commit it if ``submit`` and the
        response is OK; an anomaly it refuses goes to :attr:`spool`."""
        return self.invoke(
            contract, creator, function, *args, submit=submit, observer=self._observe, **options
        )


def _default_transient(
    creator: Creator, function: str, args: Sequence[str]
) -> dict[str, bytes] | None:
    if function == "RedLetterBill" and len(args) >= 3:
        code = "R" + args[2][-5:]
        return hashed(code if normalize_check_code(code) == code else "R00000")
    if creator == PLATFORM and function in _PAYER_FUNCTIONS:
        return proof()
    return None


_PAYER_FUNCTIONS = ("ReadBill", "AuthoriseReimburser", "RevokeAuthorisation", "ListBillsByPayer")


# --- identities --------------------------------------------------------------------------

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


@functools.cache
def code_hash(code: str) -> str:
    """The check code's stored form as the issuer's SDK computes it; the tests' salt is
    derived from the code so that each code is hashed once per run."""
    return hash_check_code(code, hashlib.sha256(b"test salt " + code.encode()).digest()[:16])


def hashed(code: str) -> dict[str, bytes]:
    """The transient data of IssueBill / RedLetterBill for ``code``: its hash."""
    return {"checkCodeHash": code_hash(code).encode()}


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


def batch_transient(
    numbers: Sequence[int], amount: int = 26850, salt: bytes = SALT, payer_id: str = PAYER_ID
) -> dict[str, bytes]:
    """DepositBillsPrivate's transient ``bills`` for bills ``numbers`` (medical ones)."""
    entries = [
        {
            "bill": bill_json(n, amount),
            "payer": {"type": "person", "id": payer_id, "name": PAYER_NAME},
            "payerSalt": salt.hex(),
            "medical": medical(amount),
        }
        for n in numbers
    ]
    return {"bills": json.dumps(entries, ensure_ascii=False).encode()}


def batch_hashes(numbers: Sequence[int]) -> dict[str, bytes]:
    """IssueBills' transient ``checkCodeHashes`` for bills ``numbers``."""
    return {"checkCodeHashes": json.dumps([code_hash(check_code(n)) for n in numbers]).encode()}


def public_batch(numbers: Sequence[int], amount: int = 26850) -> str:
    """IssueBills' billsJSON for bills ``numbers``."""
    return json.dumps([public_json(n, amount) for n in numbers], ensure_ascii=False)


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
        assert outcome.code in (VALID, NOT_SUBMITTED), (function, outcome.code)
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
        """Deposit and issue bill ``n``; the stored record (IssueBill answers only the
        key, status and tx id) with the check code used added (the record holds only
        its hash)."""
        deposit = dict(options)
        deposit["transient"] = transient(
            salt, payer_id, amount if with_medical else None, bill=bill_json(n, amount)
        )
        self.ok(ISSUER, "DepositBillPrivate", CODE, number(n), **deposit)
        document = json.dumps(public_json(n, amount, salt, payer_id), ensure_ascii=False)
        code = check_code(n)
        options["transient"] = hashed(code)
        result: dict[str, Any] = self.ok(ISSUER, "IssueBill", document, **options)
        stored = self.ledger.state.get(bill_key(n))
        record = json.loads(stored.value) if stored is not None else result
        return {**record, "checkCode": code}

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
        assert outcome.code == NOT_SUBMITTED
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
