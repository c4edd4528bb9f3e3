"""The e-bill transaction functions against an in-memory stub."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ebill_chaincode.contract import contract
from ebill_chaincode.contract.checkcode import ALPHABET, derive_check_code
from ebill_chaincode.shim import Creator, Event, Response
from ebill_chaincode.shim.identity import ATTRIBUTES_OID
from ebill_chaincode.shim.stub import create_composite_key, split_composite_key

KEY = ec.generate_private_key(ec.SECP256R1())
ISSUED_AT = dt.datetime(2026, 1, 5, 2, 30, 1, 250000, tzinfo=dt.UTC)


def certificate(cn: str, attrs: Mapping[str, str] | None) -> bytes:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "client"),
                    x509.NameAttribute(NameOID.COMMON_NAME, cn),
                ]
            )
        )
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ca.units")]))
        .public_key(KEY.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
    )
    if attrs is not None:
        value = json.dumps({"attrs": dict(attrs)}).encode()
        builder = builder.add_extension(
            x509.UnrecognizedExtension(ATTRIBUTES_OID, value), critical=False
        )
    return builder.sign(KEY, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


ISSUER = Creator("UnitsMSP", certificate("clerk01", {"role": "issuer", "unit": "H460100001"}))


class FakeStub:
    """In-memory implementation of the shim's Stub interface."""

    def __init__(
        self,
        state: dict[str, bytes],
        *args: str,
        tx_id: str = "tx-0001",
        creator: Creator = ISSUER,
        transient: Mapping[str, bytes] | None = None,
    ) -> None:
        self.state = state
        self.args = list(args)
        self.tx_id = tx_id
        self.channel_id = "ebills"
        self.tx_timestamp = ISSUED_AT
        self.creator = creator
        self.transient = dict(transient or {})
        self.writes: list[str] = []
        self.event: Event | None = None

    @property
    def function(self) -> str:
        return self.args[0] if self.args else ""

    @property
    def params(self) -> list[str]:
        return self.args[1:]

    def get_state(self, key: str, collection: str = "") -> bytes | None:
        return self.state.get(key)

    def put_state(self, key: str, value: bytes | str, collection: str = "") -> None:
        self.writes.append(key)
        self.state[key] = value.encode() if isinstance(value, str) else value

    def delete_state(self, key: str, collection: str = "") -> None:
        self.writes.append(key)
        self.state.pop(key, None)

    def set_event(self, name: str, payload: bytes | str) -> None:
        self.event = Event(name, payload.encode() if isinstance(payload, str) else payload)

    def create_composite_key(self, object_type: str, attributes: Sequence[str]) -> str:
        return create_composite_key(object_type, attributes)

    def split_composite_key(self, key: str) -> tuple[str, list[str]]:
        return split_composite_key(key)


def bill(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "billCode": "46010126",
        "billNumber": "0000000001",
        "billName": "海南省医疗门诊收费票据",
        "unitCode": "H460100001",
        "unitName": "海南省人民医院",
        "payer": {"type": "person", "id": "460100199001011234", "name": "张三"},
        "issueDate": "2026-01-05T10:30:00+08:00",
        "totalAmount": 1550,
        "items": [
            {
                "code": "F001",
                "name": "挂号费",
                "quantity": 1,
                "unit": "次",
                "standardPrice": 1550,
                "amount": 1550,
            }
        ],
        "clerk": "李四",
    }
    document.update(changes)
    return document


def run(stub: FakeStub) -> Response:
    return contract(stub)  # type: ignore[arg-type]


def issue(state: dict[str, bytes], document: dict[str, Any] | None = None, **kw: Any) -> Response:
    text = json.dumps(document or bill(), ensure_ascii=False)
    return run(FakeStub(state, "IssueBill", text, **kw))


BILL_KEY = "\x00bill\x0046010126\x000000000001\x00"


# --- Ping --------------------------------------------------------------------------------


def test_ping() -> None:
    stub = FakeStub({}, "Ping")
    assert run(stub) == Response(200, "", b"pong")
    assert stub.writes == []


# --- IssueBill ---------------------------------------------------------------------------


def test_issue_stores_public_record_and_emits_event() -> None:
    state: dict[str, bytes] = {}
    stub = FakeStub(state, "IssueBill", json.dumps(bill(), ensure_ascii=False))
    response = run(stub)
    assert response.status == 200, response.message
    record = json.loads(response.payload)

    assert list(state) == [BILL_KEY]
    assert state[BILL_KEY] == response.payload  # returned = stored, byte for byte
    assert response.payload == json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")

    assert "payer" not in record
    assert "张三" not in response.payload.decode()
    assert record["status"] == "issued"
    assert record["checkCode"] == derive_check_code("tx-0001", "46010126", "0000000001")
    assert record["issuedAt"] == "2026-01-05T02:30:01.250000Z"
    assert record["issuerMsp"] == "UnitsMSP"
    assert base64.b64decode(record["issuerId"]).decode() == (
        "x509::CN=clerk01,OU=client::CN=ca.units"
    )
    assert record["issueTxId"] == "tx-0001"
    assert record["totalAmount"] == 1550
    assert record["items"][0]["quantity"] == "1"

    salt = hashlib.sha256(b"tx-0001").digest()
    payer = '{"id":"460100199001011234","name":"张三","type":"person"}'.encode()
    assert record["payerHash"] == hashlib.sha256(salt + payer).hexdigest()

    assert stub.event is not None
    assert stub.event.name == "BillIssued"
    assert json.loads(stub.event.payload) == {
        "billCode": "46010126",
        "billNumber": "0000000001",
        "status": "issued",
        "org": "UnitsMSP",
    }


def test_payer_salt_from_transient_map() -> None:
    state: dict[str, bytes] = {}
    response = issue(state, transient={"payerSalt": b"0123456789abcdef"})
    payer = '{"id":"460100199001011234","name":"张三","type":"person"}'.encode()
    expected = hashlib.sha256(b"0123456789abcdef" + payer).hexdigest()
    assert json.loads(response.payload)["payerHash"] == expected

    empty = issue({}, transient={"payerSalt": b""})
    assert (empty.status, empty.message) == (
        400,
        "InvalidArgument: payerSalt: must be 1 to 1024 bytes",
    )


def test_duplicate_is_conflict_and_leaves_state_alone() -> None:
    state: dict[str, bytes] = {}
    assert issue(state).status == 200
    before = dict(state)
    again = issue(state, bill(billName="另一张"), tx_id="tx-0002")
    assert (again.status, again.message) == (
        409,
        "Conflict: bill 46010126/0000000001 already exists",
    )
    assert state == before


def test_other_number_is_a_different_bill() -> None:
    state: dict[str, bytes] = {}
    assert issue(state).status == 200
    assert issue(state, bill(billNumber="0000000002"), tx_id="tx-0002").status == 200
    assert len(state) == 2


@pytest.mark.parametrize(
    ("creator", "message"),
    [
        (
            Creator("FinanceMSP", certificate("f1", {"role": "issuer", "unit": "H460100001"})),
            "Forbidden: IssueBill requires role issuer in UnitsMSP; caller is in FinanceMSP",
        ),
        (
            Creator("UnitsMSP", certificate("c1", {"role": "clerk", "unit": "H460100001"})),
            "Forbidden: IssueBill requires role issuer in UnitsMSP; caller has role clerk",
        ),
        (
            Creator("UnitsMSP", certificate("c2", None)),
            "Forbidden: IssueBill requires role issuer in UnitsMSP; caller has no role attribute",
        ),
        (
            Creator("UnitsMSP", certificate("c3", {"role": "issuer", "unit": "H460100002"})),
            "Forbidden: IssueBill: a unit handles only its own bills; caller's unit is"
            " H460100002, the bill's unitCode is H460100001",
        ),
        (
            Creator("UnitsMSP", certificate("c4", {"role": "issuer"})),
            "Forbidden: IssueBill requires the caller's unit attribute; caller has none",
        ),
        (
            Creator("UnitsMSP", b"not a certificate"),
            "Forbidden: caller identity is not usable",
        ),
    ],
)
def test_forbidden_callers(creator: Creator, message: str) -> None:
    state: dict[str, bytes] = {}
    response = issue(state, creator=creator)
    assert response.status == 403
    assert response.message.startswith(message)
    assert state == {}


def test_role_is_checked_before_the_document() -> None:
    clerk = Creator("UnitsMSP", certificate("c1", {"role": "clerk", "unit": "H460100001"}))
    response = run(FakeStub({}, "IssueBill", "not json", creator=clerk))
    assert response.status == 403


def test_invalid_bill_is_400_and_writes_nothing() -> None:
    state: dict[str, bytes] = {}
    response = issue(state, bill(totalAmount=1549))
    assert response.status == 400
    assert response.message.startswith("InvalidArgument: items: amounts sum to 1550")
    assert state == {}
    bad_json = run(FakeStub(state, "IssueBill", "{oops"))
    assert bad_json.status == 400
    assert bad_json.message.startswith("InvalidArgument: billJSON: not valid JSON")


def test_issue_argument_count() -> None:
    response = run(FakeStub({}, "IssueBill"))
    assert (response.status, response.message) == (
        400,
        "InvalidArgument: IssueBill expects 1 argument, got 0",
    )


# --- check code --------------------------------------------------------------------------


def test_check_code_is_deterministic_per_transaction() -> None:
    first = derive_check_code("tx-a", "46010126", "0000000001")
    assert first == derive_check_code("tx-a", "46010126", "0000000001")
    assert len(first) == 6 and all(c in ALPHABET for c in first)
    assert "I" not in ALPHABET and "O" not in ALPHABET and len(ALPHABET) == 34
    assert derive_check_code("tx-b", "46010126", "0000000001") != first
    assert derive_check_code("tx-a", "46010126", "0000000002") != first


def test_two_endorsers_store_identical_records() -> None:
    endorser1: dict[str, bytes] = {}
    endorser2: dict[str, bytes] = {}
    assert issue(endorser1, tx_id="tx-same").payload == issue(endorser2, tx_id="tx-same").payload
    assert endorser1 == endorser2
    other: dict[str, bytes] = {}
    issue(other, tx_id="tx-other")
    code = json.loads(endorser1[BILL_KEY])["checkCode"]
    assert json.loads(other[BILL_KEY])["checkCode"] != code


# --- VerifyBill / ReadBill ---------------------------------------------------------------


@pytest.fixture
def issued() -> tuple[dict[str, bytes], str]:
    state: dict[str, bytes] = {}
    response = issue(state)
    return state, json.loads(response.payload)["checkCode"]


def verify(state: dict[str, bytes], *args: str) -> Response:
    return run(FakeStub(state, "VerifyBill", *args, creator=Creator("PublicMSP", b"")))


def test_verify_genuine(issued: tuple[dict[str, bytes], str]) -> None:
    state, code = issued
    response = verify(state, "46010126", "0000000001", code)
    assert response.status == 200
    assert json.loads(response.payload) == {
        "genuine": True,
        "status": "issued",
        "billCode": "46010126",
        "billNumber": "0000000001",
        "unitCode": "H460100001",
        "unitName": "海南省人民医院",
        "issueDate": "2026-01-05T10:30:00+08:00",
        "totalAmount": 1550,
    }
    assert json.loads(verify(state, "46010126", "0000000001", code.lower(), "1550").payload)[
        "genuine"
    ]
    assert json.loads(verify(state, "46010126", "0000000001", code, "").payload)["genuine"]


def test_verify_wrong_check_code_or_amount(issued: tuple[dict[str, bytes], str]) -> None:
    state, code = issued
    wrong = "000000" if code != "000000" else "111111"
    assert json.loads(verify(state, "46010126", "0000000001", wrong).payload) == {
        "genuine": False,
        "reason": "check code does not match",
    }
    assert json.loads(verify(state, "46010126", "0000000001", code, "1551").payload) == {
        "genuine": False,
        "reason": "total amount does not match",
    }


def test_verify_not_found_and_bad_arguments(issued: tuple[dict[str, bytes], str]) -> None:
    state, code = issued
    missing = verify(state, "46010126", "0000000009", code)
    assert (missing.status, missing.message) == (
        404,
        "NotFound: bill 46010126/0000000009 not found",
    )
    assert verify(state, "4601012", "0000000001", code).message == (
        "InvalidArgument: billCode: must be 8 digits"
    )
    assert verify(state, "46010126", "0000000001", "ABCDEI").message.startswith(
        "InvalidArgument: checkCode: must be 6 characters"
    )
    assert verify(state, "46010126", "0000000001", code, "12.5").message == (
        "InvalidArgument: totalAmount: must be an integer number of fen"
    )
    assert verify(state, "46010126", "0000000001").status == 400


def test_read_bill(issued: tuple[dict[str, bytes], str]) -> None:
    state, _ = issued
    stub = FakeStub(state, "ReadBill", "46010126", "0000000001")
    response = run(stub)
    assert (response.status, response.payload) == (200, state[BILL_KEY])
    assert stub.writes == []
    missing = run(FakeStub(state, "ReadBill", "46010126", "0000000002"))
    assert (missing.status, missing.message) == (
        404,
        "NotFound: bill 46010126/0000000002 not found",
    )
    assert run(FakeStub(state, "ReadBill", "46010126", "1")).status == 400


def test_registered_functions() -> None:
    assert contract.function_names == ["IssueBill", "Ping", "ReadBill", "VerifyBill"]
