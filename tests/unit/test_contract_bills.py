"""Bills: IssueBill, VerifyBill, ReadBill, ReadBillPrivate, RedLetterBill, ArchiveBill."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from fixtures import (
    CLERK,
    CODE,
    FINANCE,
    HOSPITAL,
    ISSUER,
    MEDINS,
    OTHER_ISSUER,
    OTHER_SALT,
    PAYER,
    PAYER_ID,
    PAYER_NAME,
    PICC,
    SALT,
    SCHOOL,
    SUPERVISOR,
    World,
    bill_json,
    bill_key,
    hashed,
    key,
    number,
    open_reply,
    payer_hash,
    proof,
    public_json,
    reply_key,
    standard_world,
    transient,
)

from ebill_chaincode.contract import contract, interface
from ebill_chaincode.contract.checkcode import (
    ALPHABET,
    check_code_matches,
    hash_check_code,
    parse_check_code_hash,
)
from ebill_chaincode.shim import Creator
from ebill_chaincode.shimtest import VALID, identity


@pytest.fixture
def world() -> World:
    return standard_world()


def issue_args(n: int = 1, **changes: Any) -> str:
    """IssueBill's argument: the public part of bill ``n``."""
    return json.dumps(public_json(n, **changes), ensure_ascii=False)


# --- Ping --------------------------------------------------------------------------------


def test_ping(world: World) -> None:
    outcome = world.run(Creator("PublicMSP", b""), "Ping", submit=False)
    assert (outcome.status, outcome.response.payload) == (200, b"pong")
    assert outcome.stub.writes == [] and outcome.stub.event is None


def test_registered_functions() -> None:
    """The router serves exactly the functions the interface declares (the package
    refuses to import otherwise: see test_contract_interface.py)."""
    assert contract.function_names == sorted(interface.FUNCTIONS)
    assert "Ping" in contract.function_names
    assert interface.METADATA_FUNCTION in contract.function_names
    assert {"RegisterOrg", "ReadOrg"} <= set(contract.function_names)


# --- DepositBillPrivate and IssueBill ------------------------------------------------------

CHECK = hashed("C00001")


def deposit(world: World, n: int = 1, **options: Any) -> Any:
    options.setdefault("transient", transient(bill=bill_json(n)))
    return world.run(ISSUER, "DepositBillPrivate", CODE, number(n), **options)


def test_deposit_writes_only_the_private_collection(world: World) -> None:
    before = world.ledger.snapshot()
    outcome = deposit(world)
    assert (outcome.status, outcome.code) == (200, VALID), outcome.message
    assert outcome.json() == {"billCode": CODE, "billNumber": number(1), "payerHash": payer_hash()}
    assert outcome.stub.write_set == {}
    assert world.ledger.snapshot()["public"] == before["public"]
    private = json.loads(world.ledger.private["billPrivate"][bill_key(1)].value)
    full = bill_json(1)
    assert private == {
        "payer": {"type": "person", "id": PAYER_ID, "name": PAYER_NAME},
        "medical": {
            "patientNumber": "MZ2026000123",
            "insuranceType": "城镇职工",
            "fundPaid": 25850,
            "personalAccountPaid": 500,
            "ownPaid": 500,
        },
        "salt": SALT.hex(),
        "items": [{**item, "quantity": str(item["quantity"])} for item in full["items"]],
        "clerk": full["clerk"],
    }
    seal = json.loads(world.ledger.private["billPrivate"][key("billseal", CODE, number(1))].value)
    assert seal == {
        "billCode": CODE,
        "billNumber": number(1),
        "unitCode": "HN0101",
        "totalAmount": 26850,
        "payerHash": payer_hash(),
    }
    assert outcome.stub.event is not None and outcome.stub.event.name == "DepositBillPrivate"
    event = outcome.stub.event.payload.decode()
    assert PAYER_ID not in event and PAYER_NAME not in event


def test_issue_stores_the_public_part_and_indexes(world: World) -> None:
    assert deposit(world).status == 200
    before = set(world.ledger.state)
    outcome = world.run(ISSUER, "IssueBill", issue_args(), transient=CHECK)
    assert (outcome.status, outcome.code) == (200, VALID), outcome.message
    record = json.loads(world.ledger.state[bill_key(1)].value)
    tx = outcome.stub.tx_id
    # the answer is only what the caller needs; the record is read back from the ledger
    assert outcome.json() == {
        "billCode": CODE,
        "billNumber": number(1),
        "status": "issued",
        "issueTxId": tx,
        "issuedAt": record["issuedAt"],
        "batchId": world.hospital_batch,
    }

    assert set(world.ledger.state) - before == {
        bill_key(1),
        key("bill~unit", "HN0101", "20260105", CODE, number(1)),
        key("bill~payer", payer_hash(), CODE, number(1)),
        key("bill~status", "issued", CODE, number(1)),
        key("bill~period", "202601", CODE, number(1)),
    }
    assert outcome.stub.private_write_set == {}
    assert record["status"] == "issued" and record["kind"] == "normal"
    assert record["payerHash"] == payer_hash()
    assert "checkCode" not in record
    assert check_code_matches("C00001", record["checkCodeHash"])
    assert record["checkCodeHash"] == CHECK["checkCodeHash"].decode()  # as the issuer sent it
    assert record["batchId"] == world.hospital_batch
    assert (record["issueTxId"], record["issuerMsp"]) == (tx, "UnitsMSP")
    assert base64.b64decode(record["issuerId"]).decode() == (
        "x509::CN=hospital1,OU=client::CN=ca.unitsmsp"
    )
    assert (record["authorised"], record["claims"], record["reimbursedTotal"]) == ({}, [], 0)
    assert record["lastAction"] == {
        "function": "IssueBill",
        "txId": tx,
        "org": "UnitsMSP",
        "actorId": record["issuerId"],
        "at": record["issuedAt"],
    }
    for private_field in ("payer", "medical", "items", "clerk", "reviewer", "remark", "salt"):
        assert private_field not in record
    assert outcome.stub.event is not None and outcome.stub.event.name == "IssueBill"
    assert json.loads(outcome.stub.event.payload) == {
        "billCode": CODE,
        "billNumber": number(1),
        "status": "issued",
        "org": "UnitsMSP",
        "unitCode": "HN0101",
        "batchId": world.hospital_batch,
    }


def test_public_state_never_holds_the_payer_items_or_check_code(world: World) -> None:
    world.issue(1)
    world.issue(2, with_medical=False)
    for stored_key, item in world.ledger.state.items():
        text = stored_key + item.value.decode("utf-8")
        assert PAYER_ID not in text and PAYER_NAME not in text and "MZ2026" not in text
        assert "阿莫西林" not in text and "李四" not in text and "C00001" not in text


def test_issue_on_a_non_member_peer_needs_only_the_seal_hash(world: World) -> None:
    """Finance endorses IssueBill without being a collection member: it reads a hash."""
    assert deposit(world, transient=transient(with_medical=None)).status == 200
    outcome = world.run(ISSUER, "IssueBill", issue_args(), transient=CHECK, peer_msp="FinanceMSP")
    assert (outcome.status, outcome.code) == (200, VALID), outcome.message


def test_issue_without_a_deposit_or_with_a_different_one(world: World) -> None:
    world.refused(
        ISSUER,
        "IssueBill",
        issue_args(),
        transient=CHECK,
        status=409,
        message="Conflict: IssueBill: no private part deposited for bill 46010126/0000000001",
    )
    assert deposit(world, transient=transient(salt=OTHER_SALT)).status == 200
    world.refused(
        ISSUER,
        "IssueBill",
        issue_args(),
        transient=CHECK,
        status=409,
        message="Conflict: IssueBill: the private part deposited for bill 46010126/0000000001"
        " does not match",
    )
    world.refused(
        ISSUER,
        "IssueBill",
        issue_args(totalAmount=100, payerHash=payer_hash(OTHER_SALT)),
        transient=CHECK,
        status=409,
        message="Conflict: IssueBill: the private part deposited",
    )


def test_deposit_again_before_issuance_overwrites_and_after_is_refused(world: World) -> None:
    assert deposit(world, transient=transient(salt=OTHER_SALT)).status == 200
    assert deposit(world).status == 200
    world.ok(ISSUER, "IssueBill", issue_args(), transient=CHECK)
    outcome = deposit(world)
    assert outcome.status == 409
    assert outcome.message.startswith(
        "Conflict: DepositBillPrivate: bill 46010126/0000000001 already exists"
    )


def test_two_endorsers_store_identical_records(world: World) -> None:
    assert deposit(world).status == 200
    first, second = world.copy(), world.copy()
    options: dict[str, Any] = {
        "tx_id": "tx-same",
        "timestamp": dt.datetime(2026, 1, 5, 2, 0, 30, tzinfo=dt.UTC),
    }
    one = first.run(ISSUER, "IssueBill", issue_args(), transient=CHECK, **options)
    two = second.run(ISSUER, "IssueBill", issue_args(), transient=CHECK, **options)
    assert one.status == 200, one.message
    assert one.response == two.response
    assert one.stub.write_set == two.stub.write_set
    other = world.copy()
    assert other.run(ISSUER, "IssueBill", issue_args(), transient=hashed("C00002")).status == 200
    assert other.bill(1)["checkCodeHash"] != first.bill(1)["checkCodeHash"]


def test_check_code_hash_is_salted_and_slow() -> None:
    stored = hash_check_code("7K3M9Q")
    assert stored.startswith("scrypt$15$8$1$")
    assert parse_check_code_hash(stored, "h") == stored
    assert check_code_matches("7K3M9Q", stored)
    assert not check_code_matches("7K3M9R", stored)
    assert hash_check_code("7K3M9Q") != stored  # a fresh random salt each time
    assert hash_check_code("7k3m9q", bytes(range(16))) == hash_check_code(
        "7K3M9Q", bytes(range(16))
    )
    with pytest.raises(ValueError, match="6 characters"):
        hash_check_code("ABCDEI")
    assert not check_code_matches("7K3M9Q", "scrypt$2$1$1$" + "00" * 16 + "$" + "00" * 32)
    assert not check_code_matches("7K3M9Q", "plain")
    assert "I" not in ALPHABET and "O" not in ALPHABET and len(ALPHABET) == 34


@pytest.mark.parametrize(
    ("transient_map", "message"),
    [
        ({}, "InvalidArgument: transient bill: required"),
        (
            {"bill": transient()["bill"], "payer": transient()["payer"]},
            "InvalidArgument: transient payerSalt: required",
        ),
        (transient(salt=b"short"), "InvalidArgument: transient payerSalt: must be 16 to 64 bytes"),
        (transient(salt=b"x" * 65), "InvalidArgument: transient payerSalt: must be 16 to 64 bytes"),
        (
            transient(salt=bytes(16)),
            "InvalidArgument: transient payerSalt: must be random bytes",
        ),
        (
            transient(salt=b"ab" * 8),
            "InvalidArgument: transient payerSalt: must be random bytes",
        ),
        (transient(payer=b"{oops"), "InvalidArgument: transient payer: not valid JSON"),
        (transient(payer=b"\xff\xfe"), "InvalidArgument: transient payer: must be UTF-8 JSON"),
        (
            transient(payer=b'{"type": "alien", "id": "1", "name": "x"}'),
            'InvalidArgument: payer.type: must be "person" or "company"',
        ),
        (
            transient(with_medical=2000, bill=bill_json(1)),
            "InvalidArgument: medical: fundPaid + personalAccountPaid + ownPaid = 2000 fen",
        ),
        (transient(medical=b"[]"), "InvalidArgument: medical: must be a JSON object"),
        (transient(extra=b"1"), "InvalidArgument: transient 'extra': unknown transient data"),
        (
            transient(bill=bill_json(2)),
            "InvalidArgument: billNumber: the arguments must name the bill in transient bill",
        ),
        (
            transient(bill=bill_json(1, issueDate="2076-01-05T10:30:00+08:00")),
            "InvalidArgument: issueDate: must not be more than 1:00:00 after",
        ),
    ],
)
def test_deposit_transient_rules(
    world: World, transient_map: dict[str, bytes], message: str
) -> None:
    world.refused(
        ISSUER,
        "DepositBillPrivate",
        CODE,
        number(1),
        transient=transient_map,
        status=400,
        message=message,
    )


@pytest.mark.parametrize(
    ("transient_map", "message"),
    [
        ({}, "InvalidArgument: transient checkCodeHash: required"),
        ({"checkCode": b"ABC123"}, "InvalidArgument: transient 'checkCode': unknown transient"),
        (
            {"checkCodeHash": b"\xff" * 6},
            "InvalidArgument: transient checkCodeHash: must be scrypt$15$8$1$",
        ),
        (
            {"checkCodeHash": b"ABC123"},
            "InvalidArgument: transient checkCodeHash: must be scrypt$15$8$1$",
        ),
        (
            {
                "checkCodeHash": (
                    "scrypt$10$8$1$" + bytes(range(16)).hex() + "$" + "ab" * 32
                ).encode()
            },
            "InvalidArgument: transient checkCodeHash: must use scrypt N=2^15, r=8, p=1",
        ),
        (
            {"checkCodeHash": ("scrypt$15$8$1$" + "00" * 16 + "$" + "ab" * 32).encode()},
            "InvalidArgument: transient checkCodeHash: the salt must be random bytes",
        ),
        ({**CHECK, "payer": b"{}"}, "InvalidArgument: transient 'payer': unknown transient"),
    ],
)
def test_issue_transient_rules(world: World, transient_map: dict[str, bytes], message: str) -> None:
    assert deposit(world).status == 200
    world.refused(
        ISSUER, "IssueBill", issue_args(), transient=transient_map, status=400, message=message
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"issueDate": "2076-01-05T10:30:00+08:00"}, "InvalidArgument: issueDate: must not be"),
        ({"issueDate": "2025-11-05T10:30:00+08:00"}, "InvalidArgument: issueDate: must not be"),
    ],
)
def test_issue_date_window(world: World, changes: dict[str, Any], message: str) -> None:
    world.refused(
        ISSUER, "IssueBill", issue_args(**changes), transient=CHECK, status=400, message=message
    )


def test_proposal_time_far_from_the_endorsers_clock_is_refused(world: World) -> None:
    ahead = world.ledger.clock + dt.timedelta(hours=1)
    outcome = world.run(ISSUER, "IssueBill", issue_args(), transient=CHECK, timestamp=ahead)
    assert outcome.status == 400
    assert outcome.message.startswith(
        "InvalidArgument: timestamp: the proposal is 3600 s ahead of the endorser's clock;"
        " at most 300 s allowed"
    )
    assert outcome.stub.writes == []


@pytest.mark.parametrize("field", ["payer", "medical", "items", "clerk", "reviewer", "remark"])
def test_issue_refuses_private_data_in_the_public_json(world: World, field: str) -> None:
    document = public_json(1)
    document[field] = "x"
    world.refused(
        ISSUER,
        "IssueBill",
        json.dumps(document),
        transient=CHECK,
        status=400,
        message=f"InvalidArgument: {field}: private, must not be in billJSON",
    )


def test_issue_validates_before_access(world: World) -> None:
    world.refused(CLERK, "IssueBill", "not json", status=400, message="InvalidArgument: billJSON")


@pytest.mark.parametrize(
    ("creator", "message"),
    [
        (FINANCE, "Forbidden: IssueBill may be called by issuer (UnitsMSP); caller is finance"),
        (CLERK, "Forbidden: IssueBill may be called by issuer (UnitsMSP); caller is clerk HN0101"),
        (
            identity("UnitsMSP", "c2"),
            "Forbidden: IssueBill may be called by issuer (UnitsMSP); caller is a UnitsMSP"
            " identity without a role attribute",
        ),
        (
            identity("FinanceMSP", "f2", role="issuer", unit="HN0101"),
            "Forbidden: IssueBill may be called by issuer (UnitsMSP); caller is role issuer in"
            " FinanceMSP, where that role is not honoured",
        ),
        (
            OTHER_ISSUER,
            "Forbidden: IssueBill: a unit handles only its own data; caller's unit is HN0201,"
            " this belongs to HN0101",
        ),
        (
            identity("UnitsMSP", "c4", role="issuer"),
            "Forbidden: IssueBill: caller has role issuer but no unit attribute",
        ),
        (Creator("UnitsMSP", b"not a certificate"), "Forbidden: caller identity is not usable"),
    ],
)
def test_issue_forbidden_callers(world: World, creator: Creator, message: str) -> None:
    world.refused(creator, "IssueBill", issue_args(), transient=CHECK, status=403, message=message)


def test_duplicate_is_a_plain_conflict(world: World) -> None:
    world.issue(1)
    world.refused(
        ISSUER,
        "IssueBill",
        issue_args(billName="另一张"),
        transient=CHECK,
        status=409,
        message="Conflict: bill 46010126/0000000001 already exists",
    )


def test_issue_by_unregistered_unit_and_wrong_unit_name(world: World) -> None:
    stranger = identity("UnitsMSP", "h9", role="issuer", unit="HN0999")
    world.refused(
        stranger,
        "IssueBill",
        issue_args(unitCode="HN0999"),
        transient=CHECK,
        status=404,
        message="NotFound: IssueBill: unit HN0999 is not registered",
    )
    world.refused(
        ISSUER,
        "IssueBill",
        issue_args(unitName="海南医院"),
        transient=CHECK,
        status=409,
        message="Conflict: IssueBill: unitName '海南医院' is not the registered name",
    )


def test_issue_by_a_suspended_unit_is_an_anomaly(world: World) -> None:
    world.ok(FINANCE, "SuspendUnit", "HN0101", "overdue reconciliation")
    record = world.anomaly(
        ISSUER,
        "IssueBill",
        issue_args(),
        transient=CHECK,
        anomaly_type="issuance-by-suspended-unit",
        kind="Forbidden",
        message="IssueBill: unit HN0101 is suspended (overdue reconciliation)",
    )
    assert (record["billCode"], record["billNumber"], record["unitCode"]) == (
        CODE,
        number(1),
        "HN0101",
    )


def test_issue_outside_stock_is_an_anomaly(world: World) -> None:
    world.anomaly(
        ISSUER,
        "IssueBill",
        issue_args(5000),
        transient=CHECK,
        anomaly_type="issuance-outside-stock",
        kind="Forbidden",
        message="IssueBill: bill 46010126/0000005000 is outside the stock of unit HN0101:"
        " no approved batch holds this number",
    )


def test_issue_in_another_units_batch_is_an_anomaly(world: World) -> None:
    world.grant_stock(OTHER_ISSUER, SCHOOL[0], CODE, 2001, 100)
    world.anomaly(
        ISSUER,
        "IssueBill",
        issue_args(2001),
        transient=CHECK,
        anomaly_type="issuance-outside-stock",
        kind="Forbidden",
        message="IssueBill: bill 46010126/0000002001 is outside the stock of unit HN0101:"
        " the number belongs to batch",
    )


def test_issue_in_a_reconciled_batch_is_an_anomaly(world: World) -> None:
    world.issue(1)
    world.ok(FINANCE, "ReconcileStock", world.hospital_batch)
    world.anomaly(
        ISSUER,
        "IssueBill",
        issue_args(2),
        transient=CHECK,
        anomaly_type="issuance-outside-stock",
        kind="Forbidden",
        message=f"IssueBill: bill 46010126/0000000002 is outside the stock of unit HN0101:"
        f" batch {world.hospital_batch} is reconciled",
    )


def test_issue_in_a_pending_application_is_an_anomaly() -> None:
    world = World().register_units()
    application = {"unitCode": "HN0101", "billCode": CODE, "startNumber": number(1), "count": 10}
    world.ok(ISSUER, "ApplyStock", json.dumps(application))
    world.anomaly(
        ISSUER,
        "IssueBill",
        issue_args(1),
        transient=CHECK,
        anomaly_type="issuance-outside-stock",
        kind="Forbidden",
    )


def test_issue_at_the_edges_of_a_batch(world: World) -> None:
    world.issue(1)
    world.issue(1000)
    world.anomaly(
        ISSUER,
        "IssueBill",
        issue_args(1001),
        transient=CHECK,
        anomaly_type="issuance-outside-stock",
        kind="Forbidden",
    )


def test_issue_argument_count(world: World) -> None:
    world.refused(
        ISSUER,
        "IssueBill",
        status=400,
        message="InvalidArgument: IssueBill expects 1 argument, got 0",
    )


# --- VerifyBill --------------------------------------------------------------------------

ANYONE = Creator("PublicMSP", b"")


def verify(world: World, *args: str) -> Any:
    outcome = world.run(ANYONE, "VerifyBill", *args, submit=False)
    assert outcome.status == 200, outcome.message
    assert outcome.stub.writes == []
    return outcome.json()


def test_verify_genuine(world: World) -> None:
    code = world.issue(1)["checkCode"]
    answer = verify(world, CODE, number(1), code)
    assert answer == {
        "genuine": True,
        "status": "issued",
        "kind": "normal",
        "billCode": CODE,
        "billNumber": number(1),
        "unitCode": HOSPITAL[0],
        "unitName": HOSPITAL[1],
        "issueDate": "2026-01-05T10:30:00+08:00",
        "totalAmount": 26850,
    }
    assert verify(world, CODE, number(1), code.lower(), "26850", "2026-01-05")["genuine"]
    assert verify(world, CODE, number(1), code, "", "20260105")["genuine"]
    assert verify(world, CODE, number(1), code, " ", "")["genuine"]


def test_verify_wrong_check_code_amount_or_date(world: World) -> None:
    code = world.issue(1)["checkCode"]
    wrong = "000000" if code != "000000" else "111111"
    assert verify(world, CODE, number(1), wrong) == {
        "genuine": False,
        "reason": "check code does not match",
    }
    assert verify(world, CODE, number(1), code, "26851") == {
        "genuine": False,
        "reason": "total amount does not match",
    }
    assert verify(world, CODE, number(1), code, "26850", "2026-01-06") == {
        "genuine": False,
        "reason": "issue date does not match",
    }


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (("46010126", "0000000009", "ABCDEF"), 404, "NotFound: bill 46010126/0000000009 not found"),
        (("4601012", "0000000001", "ABCDEF"), 400, "InvalidArgument: billCode: must be 8 digits"),
        (("46010126", "0000000001", "ABCDEI"), 400, "InvalidArgument: checkCode: must be 6"),
        (
            ("46010126", "0000000001", "ABCDEF", "12.5"),
            400,
            "InvalidArgument: totalAmount: must be an integer number of fen",
        ),
        (
            ("46010126", "0000000001", "ABCDEF", "", "2026-13-01"),
            400,
            "InvalidArgument: issueDate: must be a date",
        ),
        (("46010126", "0000000001"), 400, "InvalidArgument: VerifyBill expects 3 to 5 arguments"),
        (
            ("46010126", "0000000001", "ABCDEF", "-" + "9" * 14),
            400,
            "InvalidArgument: totalAmount: must be at most 10000000000000 fen",
        ),
    ],
)
def test_verify_refusals(world: World, args: tuple[str, ...], status: int, message: str) -> None:
    world.issue(1)
    world.refused(ANYONE, "VerifyBill", *args, status=status, message=message, submit=False)


# --- ReadBill ----------------------------------------------------------------------------


def test_read_bill_returns_the_stored_record(world: World) -> None:
    world.issue(1)
    for creator in (FINANCE, SUPERVISOR, ISSUER, CLERK):
        outcome = world.run(creator, "ReadBill", CODE, number(1), submit=False)
        assert outcome.status == 200, outcome.message
        assert outcome.response.payload == world.ledger.state[bill_key(1)].value
        assert outcome.stub.writes == []


def test_platform_reads_the_payers_bill_with_payer_and_salt_as_transient(world: World) -> None:
    world.issue(1)
    outcome = world.run(PAYER, "ReadBill", CODE, number(1), transient=proof(), submit=False)
    assert outcome.status == 200, outcome.message
    assert outcome.json()["payerHash"] == payer_hash()


def test_salt_is_no_longer_an_argument(world: World) -> None:
    world.issue(1)
    world.refused(
        PAYER,
        "ReadBill",
        CODE,
        number(1),
        SALT.hex(),
        status=400,
        message="InvalidArgument: ReadBill expects 2 arguments, got 3",
        submit=False,
    )


@pytest.mark.parametrize(
    ("transient_map", "status", "message"),
    [
        ({}, 403, "Forbidden: ReadBill: the platform proves a bill is the payer's with transient"),
        (
            proof(OTHER_SALT),
            403,
            "Forbidden: ReadBill: the payer and salt given do not give this payerHash",
        ),
        (
            proof(payer_id="460100198805055678"),
            403,
            "Forbidden: ReadBill: the payer and salt given do not give this payerHash",
        ),
        (
            {"payer": proof()["payer"]},
            400,
            "InvalidArgument: transient payerSalt: required with transient payer/payerSalt",
        ),
        (
            {"payerSalt": SALT},
            400,
            "InvalidArgument: transient payer: required with transient payer/payerSalt",
        ),
        (proof(b"ab" * 7), 400, "InvalidArgument: transient payerSalt: must be 16 to 64 bytes"),
        (proof(bytes(16)), 400, "InvalidArgument: transient payerSalt: must be random bytes"),
        (
            {**proof(), "payer": b'{"type": "robot", "id": "1"}'},
            400,
            'InvalidArgument: transient payer.type: must be "person" or "company"',
        ),
        (
            {**proof(), "payer": b'{"type": "person", "id": " "}'},
            400,
            "InvalidArgument: transient payer.id: must be a non-blank string",
        ),
    ],
)
def test_read_bill_payer_refusals(
    world: World, transient_map: dict[str, bytes], status: int, message: str
) -> None:
    world.issue(1)
    outcome = world.refused(
        PAYER,
        "ReadBill",
        CODE,
        number(1),
        transient=transient_map,
        status=status,
        message=message,
        submit=False,
    )
    assert PAYER_ID not in outcome.message


def test_no_payer_attribute_is_honoured_in_a_certificate(world: World) -> None:
    """A certificate with the old payer attributes is no payer: the role is gone."""
    world.issue(1)
    old = identity("FinanceMSP", "p3", role="payer", payerType="person", payerId=PAYER_ID)
    world.refused(
        old,
        "ReadBill",
        CODE,
        number(1),
        transient=proof(),
        status=403,
        message="Forbidden: ReadBill may be called by",
        submit=False,
    )


def test_read_bill_not_found_and_bad_number(world: World) -> None:
    world.refused(
        FINANCE,
        "ReadBill",
        CODE,
        number(2),
        status=404,
        message="NotFound: bill 46010126/0000000002 not found",
        submit=False,
    )
    world.refused(FINANCE, "ReadBill", CODE, "1", status=400, message="InvalidArgument: billNumber")


# --- ReadBillPrivate ---------------------------------------------------------------------


def test_read_private_part_is_sealed_to_the_callers_key(world: World) -> None:
    world.issue(1)
    world.authorise(1, "MEDINS-HN")
    for creator in (SUPERVISOR, ISSUER, CLERK, MEDINS):
        private_key, reply = reply_key()
        sealed = world.ok(
            creator, "ReadBillPrivate", CODE, number(1), transient=reply, submit=False
        )
        assert set(sealed) == {"sealed"}
        text = json.dumps(sealed, ensure_ascii=False)
        assert PAYER_ID not in text and PAYER_NAME not in text and SALT.hex() not in text
        answer = open_reply(private_key, sealed)
        assert answer["payer"] == {"type": "person", "id": PAYER_ID, "name": PAYER_NAME}
        assert answer["salt"] == SALT.hex() and answer["medical"]["fundPaid"] == 25850
        assert answer["items"][1]["name"] == "阿莫西林胶囊" and answer["clerk"] == "李四"
        assert (answer["billCode"], answer["billNumber"]) == (CODE, number(1))
        other_key, _ = reply_key()
        with pytest.raises(InvalidTag):
            open_reply(other_key, sealed)


@pytest.mark.parametrize(
    ("transient_map", "message"),
    [
        ({}, "InvalidArgument: transient replyKey: required (32-byte X25519 public key)"),
        ({"replyKey": b"short"}, "InvalidArgument: transient replyKey: must be 32 bytes"),
    ],
)
def test_read_private_part_needs_a_reply_key(
    world: World, transient_map: dict[str, bytes], message: str
) -> None:
    world.issue(1)
    world.refused(
        SUPERVISOR,
        "ReadBillPrivate",
        CODE,
        number(1),
        transient=transient_map,
        status=400,
        message=message,
        submit=False,
    )


def test_read_private_part_needs_a_member_peer(world: World) -> None:
    world.issue(1)
    outcome = world.run(
        SUPERVISOR,
        "ReadBillPrivate",
        CODE,
        number(1),
        transient=reply_key()[1],
        submit=False,
        peer_msp="FinanceMSP",
    )
    assert outcome.status == 500
    assert "not a member" in outcome.message


def test_read_private_part_missing_on_this_peer(world: World) -> None:
    world.issue(1)
    del world.ledger.private["billPrivate"][bill_key(1)]  # not yet disseminated here
    world.refused(
        SUPERVISOR,
        "ReadBillPrivate",
        CODE,
        number(1),
        status=404,
        message="NotFound: private part of bill 46010126/0000000001 not found on this peer",
        transient=reply_key()[1],
        submit=False,
    )


@pytest.mark.parametrize(
    ("creator", "message"),
    [
        (FINANCE, "Forbidden: ReadBillPrivate may be called by issuer (UnitsMSP), clerk"),
        (PAYER, "Forbidden: ReadBillPrivate may be called by"),
        (OTHER_ISSUER, "Forbidden: ReadBillPrivate: a unit handles only its own data"),
        (PICC, "Forbidden: ReadBillPrivate: reimburser PICC-HN is not authorised"),
    ],
)
def test_read_private_part_refusals(world: World, creator: Creator, message: str) -> None:
    world.issue(1)
    world.refused(
        creator,
        "ReadBillPrivate",
        CODE,
        number(1),
        transient=reply_key()[1],
        status=403,
        message=message,
        submit=False,
    )


def test_revoked_reimburser_no_longer_reads_the_private_part(world: World) -> None:
    world.issue(1)
    world.authorise(1, "MEDINS-HN")
    world.ok(PAYER, "RevokeAuthorisation", CODE, number(1), "MEDINS-HN")
    world.refused(
        MEDINS,
        "ReadBillPrivate",
        CODE,
        number(1),
        status=403,
        message="Forbidden: ReadBillPrivate: reimburser MEDINS-HN is not authorised",
        transient=reply_key()[1],
        submit=False,
    )


# --- RedLetterBill -----------------------------------------------------------------------


def test_red_letter(world: World) -> None:
    world.issue(1)
    result = world.ok(ISSUER, "RedLetterBill", CODE, number(1), number(2), "开错金额")
    original, red = result["original"], result["red"]
    assert original == world.bill(1) and red == world.bill(2)
    assert original["status"] == "red_lettered"
    assert original["redLetter"]["redBillNumber"] == number(2)
    assert original["redLetter"]["reason"] == "开错金额"
    assert red["kind"] == "red" and red["status"] == "issued"
    assert red["redOf"] == {"billCode": CODE, "billNumber": number(1)}
    assert red["totalAmount"] == -26850
    assert "items" not in red and "clerk" not in red and "checkCode" not in red
    assert red["payerHash"] == original["payerHash"]
    assert red["issueDate"].endswith("+08:00")
    assert red["batchId"] == world.hospital_batch
    state = world.ledger.state
    assert key("bill~status", "issued", CODE, number(1)) not in state
    assert key("bill~status", "red_lettered", CODE, number(1)) in state
    assert key("bill~status", "issued", CODE, number(2)) in state
    assert key("bill~payer", payer_hash(), CODE, number(2)) in state
    # the red bill verifies with its negative amount, and shows its private part via the original
    assert verify(world, CODE, number(2), "R00002", "-26850")["redOf"] == red["redOf"]
    private_key, reply = reply_key()
    sealed = world.ok(SUPERVISOR, "ReadBillPrivate", CODE, number(2), transient=reply, submit=False)
    private = open_reply(private_key, sealed)
    assert private["payer"]["id"] == PAYER_ID and private["redOf"] == red["redOf"]
    assert verify(world, CODE, number(1), "C00001")["status"] == "red_lettered"


@pytest.mark.parametrize(
    ("creator", "args", "status", "message"),
    [
        (ISSUER, (number(1), number(1), "x"), 400, "InvalidArgument: redBillNumber: must differ"),
        (ISSUER, (number(1), "2", "x"), 400, "InvalidArgument: redBillNumber: must be 10 digits"),
        (ISSUER, (number(1), number(2), " "), 400, "InvalidArgument: reason: must not be blank"),
        (ISSUER, (number(9), number(2), "x"), 404, "NotFound: bill 46010126/0000000009 not found"),
        (CLERK, (number(1), number(2), "x"), 403, "Forbidden: RedLetterBill may be called by"),
        (FINANCE, (number(1), number(2), "x"), 403, "Forbidden: RedLetterBill may be called by"),
        (
            OTHER_ISSUER,
            (number(1), number(2), "x"),
            403,
            "Forbidden: RedLetterBill: a unit handles only its own data",
        ),
        (
            ISSUER,
            (number(1), number(3), "x"),
            409,
            "Conflict: RedLetterBill: bill 46010126/0000000003 already exists",
        ),
    ],
)
def test_red_letter_refusals(
    world: World, creator: Creator, args: tuple[str, ...], status: int, message: str
) -> None:
    world.issue(1)
    world.issue(3)
    world.refused(creator, "RedLetterBill", CODE, *args, status=status, message=message)


def test_red_letter_state_conflicts(world: World) -> None:
    world.issue(1)
    world.ok(ISSUER, "RedLetterBill", CODE, number(1), number(2), "x")
    world.refused(
        ISSUER,
        "RedLetterBill",
        CODE,
        number(1),
        number(3),
        "again",
        status=409,
        message="Conflict: RedLetterBill: bill 46010126/0000000001 is already red-lettered",
    )
    world.refused(
        ISSUER,
        "RedLetterBill",
        CODE,
        number(2),
        number(3),
        "red of red",
        status=409,
        message="Conflict: RedLetterBill: bill 46010126/0000000002 is a red bill",
    )
    world.ok(FINANCE, "ArchiveBill", CODE, number(1))
    world.refused(
        ISSUER,
        "RedLetterBill",
        CODE,
        number(1),
        number(3),
        "archived",
        status=409,
        message="Conflict: RedLetterBill: bill 46010126/0000000001 is archived",
    )


def test_red_letter_while_locked_or_after_a_claim_is_an_anomaly(world: World) -> None:
    world.issue(1)
    world.authorise(1, "MEDINS-HN")
    world.ok(MEDINS, "LockBill", CODE, number(1))
    world.anomaly(
        ISSUER,
        "RedLetterBill",
        CODE,
        number(1),
        number(2),
        "x",
        anomaly_type="red-letter-while-locked",
        message="RedLetterBill: bill 46010126/0000000001 is locked for a claim (by MEDINS-HN)",
    )
    world.ok(MEDINS, "ClaimBill", CODE, number(1), "1000", "V1")
    world.anomaly(
        ISSUER,
        "RedLetterBill",
        CODE,
        number(1),
        number(2),
        "x",
        anomaly_type="red-letter-after-claim",
        message="RedLetterBill: bill 46010126/0000000001 has been claimed",
    )


def test_red_letter_of_a_reimbursed_bill_is_an_anomaly(world: World) -> None:
    world.issue(1)
    world.authorise(1, "MEDINS-HN")
    world.ok(MEDINS, "LockBill", CODE, number(1))
    world.ok(MEDINS, "ClaimBill", CODE, number(1), "26850", "V1")
    world.anomaly(
        ISSUER,
        "RedLetterBill",
        CODE,
        number(1),
        number(2),
        "x",
        anomaly_type="red-letter-after-claim",
    )


def test_red_bill_outside_stock_or_by_a_suspended_unit_is_an_anomaly(world: World) -> None:
    world.issue(1)
    world.anomaly(
        ISSUER,
        "RedLetterBill",
        CODE,
        number(1),
        number(5000),
        "x",
        anomaly_type="issuance-outside-stock",
        kind="Forbidden",
        message="RedLetterBill: bill 46010126/0000005000 is outside the stock",
    )
    world.ok(FINANCE, "SuspendUnit", "HN0101", "audit")
    world.anomaly(
        ISSUER,
        "RedLetterBill",
        CODE,
        number(1),
        number(2),
        "x",
        anomaly_type="issuance-by-suspended-unit",
        kind="Forbidden",
    )


# --- ArchiveBill -------------------------------------------------------------------------


def test_archive_a_red_lettered_bill_and_its_red_bill(world: World) -> None:
    world.issue(1)
    world.ok(ISSUER, "RedLetterBill", CODE, number(1), number(2), "x")
    archived = world.ok(ISSUER, "ArchiveBill", CODE, number(1))
    assert (archived["status"], archived["previousStatus"]) == ("archived", "red_lettered")
    assert archived["lastAction"]["function"] == "ArchiveBill"
    red = world.ok(FINANCE, "ArchiveBill", CODE, number(2))
    assert (red["status"], red["previousStatus"]) == ("archived", "issued")
    assert key("bill~status", "archived", CODE, number(1)) in world.ledger.state
    assert key("bill~status", "red_lettered", CODE, number(1)) not in world.ledger.state
    answer = verify(world, CODE, number(1), "C00001")
    assert (answer["status"], answer["previousStatus"]) == ("archived", "red_lettered")


def test_archive_a_reimbursed_bill(world: World) -> None:
    world.issue(1)
    world.authorise(1, "MEDINS-HN")
    world.ok(MEDINS, "LockBill", CODE, number(1))
    world.ok(MEDINS, "ClaimBill", CODE, number(1), "26850", "V1")
    assert world.ok(FINANCE, "ArchiveBill", CODE, number(1))["previousStatus"] == "reimbursed"


def test_archive_an_open_bill_only_after_three_years(world: World) -> None:
    world.issue(1)
    world.refused(
        FINANCE,
        "ArchiveBill",
        CODE,
        number(1),
        status=409,
        message="Conflict: ArchiveBill: bill 46010126/0000000001 is issued and 0 days old;"
        " a bill not reimbursed or red-lettered is archived only after 1095 days",
    )
    world.ledger.clock = dt.datetime(2029, 1, 3, 16, 0, tzinfo=dt.UTC)  # 2029-01-04 in China
    assert world.ok(FINANCE, "ArchiveBill", CODE, number(1))["previousStatus"] == "issued"


@pytest.mark.parametrize(
    ("creator", "status", "message"),
    [
        (CLERK, 403, "Forbidden: ArchiveBill may be called by finance (FinanceMSP), issuer"),
        (SUPERVISOR, 403, "Forbidden: ArchiveBill may be called by"),
        (OTHER_ISSUER, 403, "Forbidden: ArchiveBill: a unit handles only its own data"),
    ],
)
def test_archive_refusals(world: World, creator: Creator, status: int, message: str) -> None:
    world.issue(1)
    world.ok(ISSUER, "RedLetterBill", CODE, number(1), number(2), "x")
    world.refused(creator, "ArchiveBill", CODE, number(1), status=status, message=message)


def test_archive_state_conflicts(world: World) -> None:
    world.issue(1)
    world.authorise(1, "MEDINS-HN")
    world.ok(MEDINS, "LockBill", CODE, number(1))
    world.refused(
        FINANCE,
        "ArchiveBill",
        CODE,
        number(1),
        status=409,
        message="Conflict: ArchiveBill: bill 46010126/0000000001 is locked for a claim",
    )
    world.ok(MEDINS, "ClaimBill", CODE, number(1), "26850", "V1")
    world.ok(FINANCE, "ArchiveBill", CODE, number(1))
    world.refused(
        FINANCE,
        "ArchiveBill",
        CODE,
        number(1),
        status=409,
        message="Conflict: ArchiveBill: bill 46010126/0000000001 is already archived",
    )
