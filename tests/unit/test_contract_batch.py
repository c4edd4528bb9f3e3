"""Batch issuance: DepositBillsPrivate and IssueBills on the shimtest MockLedger."""

from __future__ import annotations

import json

import pytest
from fixtures import (
    CODE,
    ISSUER,
    OTHER_ISSUER,
    PAYER_ID,
    PAYER_NAME,
    SALT,
    World,
    batch_hashes,
    batch_transient,
    bill_key,
    check_code,
    code_hash,
    hashed,
    key,
    number,
    payer_hash,
    public_batch,
    public_json,
    standard_world,
)

from ebill_chaincode.contract import records
from ebill_chaincode.contract.checkcode import check_code_matches
from ebill_chaincode.shimtest import VALID

NUMBERS = [1, 2, 3]


@pytest.fixture
def world() -> World:
    return standard_world()


def deposit_batch(world: World, numbers: list[int] = NUMBERS) -> None:
    world.ok(ISSUER, "DepositBillsPrivate", transient=batch_transient(numbers))


def test_deposit_batch_writes_each_private_part_only(world: World) -> None:
    before = world.ledger.snapshot()
    outcome = world.run(ISSUER, "DepositBillsPrivate", transient=batch_transient(NUMBERS))
    assert (outcome.status, outcome.code) == (200, VALID), outcome.message
    assert outcome.json() == {
        "bills": [
            {"billCode": CODE, "billNumber": number(n), "payerHash": payer_hash()} for n in NUMBERS
        ]
    }
    records.Deposits.from_json(outcome.json())
    assert world.ledger.snapshot()["public"] == before["public"]
    private = world.ledger.private["billPrivate"]
    for n in NUMBERS:
        stored = json.loads(private[key("bill", CODE, number(n))].value)
        assert stored["payer"] == {"type": "person", "id": PAYER_ID, "name": PAYER_NAME}
        assert stored["salt"] == SALT.hex()
        assert key("billseal", CODE, number(n)) in private
    assert outcome.stub.event is not None and outcome.stub.event.name == "DepositBillsPrivate"
    event = json.loads(outcome.stub.event.payload)
    assert event == {
        "count": 3,
        "bills": [{"billCode": CODE, "billNumber": number(n)} for n in NUMBERS],
        "org": "UnitsMSP",
    }
    assert PAYER_ID not in outcome.stub.event.payload.decode()


def test_issue_batch_stores_every_bill_as_issue_bill_does(world: World) -> None:
    deposit_batch(world)
    single = world.copy()
    single.issue(4)  # one bill issued alone, for comparison
    before = set(world.ledger.state)
    outcome = world.run(
        ISSUER, "IssueBills", public_batch(NUMBERS), transient=batch_hashes(NUMBERS)
    )
    assert (outcome.status, outcome.code) == (200, VALID), outcome.message
    tx = outcome.stub.tx_id
    answer = outcome.json()
    records.IssuedBatch.from_json(answer)
    assert answer["status"] == "issued" and answer["issueTxId"] == tx
    assert answer["bills"] == [
        {"billCode": CODE, "billNumber": number(n), "batchId": world.hospital_batch}
        for n in NUMBERS
    ]
    expected_keys = set()
    for n in NUMBERS:
        expected_keys |= {
            bill_key(n),
            key("bill~unit", "HN0101", "20260105", CODE, number(n)),
            key("bill~payer", payer_hash(), CODE, number(n)),
            key("bill~status", "issued", CODE, number(n)),
            key("bill~period", "202601", CODE, number(n)),
        }
    assert set(world.ledger.state) - before == expected_keys
    alone = single.bill(4)
    for n in NUMBERS:
        record = world.bill(n)
        records.Bill.from_json(record)
        assert record["checkCodeHash"] == code_hash(check_code(n))
        assert check_code_matches(check_code(n), record["checkCodeHash"])
        assert (record["issueTxId"], record["issuedAt"]) == (tx, answer["issuedAt"])
        assert record["lastAction"]["function"] == "IssueBills"
        same = {k for k in alone if k not in ("billNumber", "checkCodeHash", "lastAction")}
        same -= {"issueTxId", "issuedAt"}
        assert {k: record[k] for k in same} == {k: alone[k] for k in same}
    assert outcome.stub.event is not None and outcome.stub.event.name == "IssueBills"
    assert json.loads(outcome.stub.event.payload) == {
        "status": "issued",
        "unitCode": "HN0101",
        "count": 3,
        "bills": [{"billCode": CODE, "billNumber": number(n)} for n in NUMBERS],
        "org": "UnitsMSP",
    }
    # each bill verifies with its own code
    for n in NUMBERS:
        verified = world.ok(ISSUER, "VerifyBill", CODE, number(n), check_code(n))
        assert verified["genuine"] is True


def test_a_batch_is_all_or_nothing_outside_stock_is_an_anomaly(world: World) -> None:
    deposit_batch(world)
    world.anomaly(
        ISSUER,
        "IssueBills",
        json.dumps([public_json(1), public_json(5000)]),
        transient=batch_hashes([1, 5000]),
        anomaly_type="issuance-outside-stock",
        kind="Forbidden",
        message="IssueBills: bill 46010126/0000005000 is outside the stock of unit HN0101",
    )
    assert bill_key(1) not in world.ledger.state


@pytest.mark.parametrize(
    ("bills", "hashes", "status", "message"),
    [
        ([1, 1], [1, 1], 400, "InvalidArgument: billsJSON[1]: bill 46010126/0000000001 appears"),
        ([1, 9], [1, 9], 409, "Conflict: IssueBills: no private part deposited for bill"),
        ([1, 2], [1], 400, "InvalidArgument: transient checkCodeHashes: must be a JSON array of 2"),
        ([], [], 400, "InvalidArgument: billsJSON: must be a JSON array of 1 to 100"),
    ],
)
def test_issue_batch_refusals(
    world: World, bills: list[int], hashes: list[int], status: int, message: str
) -> None:
    deposit_batch(world)
    world.refused(
        ISSUER,
        "IssueBills",
        public_batch(bills),
        transient=batch_hashes(hashes),
        status=status,
        message=message,
    )


def test_issue_batch_field_errors_name_the_bill(world: World) -> None:
    deposit_batch(world)
    bad = [public_json(1), {**public_json(2), "totalAmount": -5}]
    world.refused(
        ISSUER,
        "IssueBills",
        json.dumps(bad),
        transient=batch_hashes([1, 2]),
        status=400,
        message="InvalidArgument: billsJSON[1]: totalAmount",
    )
    weak = {"checkCodeHashes": json.dumps([code_hash("C00001"), "plain"]).encode()}
    world.refused(
        ISSUER,
        "IssueBills",
        public_batch([1, 2]),
        transient=weak,
        status=400,
        message="InvalidArgument: transient checkCodeHashes[1]: must be scrypt$15$8$1$",
    )
    world.refused(
        ISSUER,
        "IssueBills",
        public_batch([1]),
        transient={**batch_hashes([1]), **hashed("C00001")},
        status=400,
        message="InvalidArgument: transient 'checkCodeHash': unknown transient data",
    )


def test_issue_batch_of_an_issued_bill_refuses_all(world: World) -> None:
    deposit_batch(world)
    world.ok(ISSUER, "IssueBills", public_batch([2]), transient=batch_hashes([2]))
    world.refused(
        ISSUER,
        "IssueBills",
        public_batch([1, 2]),
        transient=batch_hashes([1, 2]),
        status=409,
        message="Conflict: bill 46010126/0000000002 already exists",
        code="bill-exists",
    )


def test_a_batch_holds_only_the_callers_unit(world: World) -> None:
    deposit_batch(world)
    world.refused(
        OTHER_ISSUER,
        "IssueBills",
        public_batch([1]),
        transient=batch_hashes([1]),
        status=403,
        message="Forbidden: IssueBills: a unit handles only its own data",
    )
    world.refused(
        OTHER_ISSUER,
        "DepositBillsPrivate",
        transient=batch_transient([7]),
        status=403,
        message="Forbidden: DepositBillsPrivate: a unit handles only its own data",
    )


def test_deposit_batch_refusals(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.issue(2)
    world.refused(
        ISSUER,
        "DepositBillsPrivate",
        transient=batch_transient([1, 2]),
        status=409,
        message="Conflict: DepositBillsPrivate: bill 46010126/0000000002 (bills[1]) already",
        code="bill-exists",
    )
    world.refused(
        ISSUER,
        "DepositBillsPrivate",
        transient=batch_transient([3, 3]),
        status=400,
        message="InvalidArgument: transient bills[1]: bill 46010126/0000000003 appears twice",
    )
    entries = json.loads(batch_transient([4])["bills"])
    entries[0]["payerSalt"] = "00" * 16
    world.refused(
        ISSUER,
        "DepositBillsPrivate",
        transient={"bills": json.dumps(entries).encode()},
        status=400,
        message="InvalidArgument: transient bills[0]: transient bills[0].payerSalt: must be",
    )
    monkeypatch.setenv("CHAINCODE_MAX_BATCH", "2")
    world.refused(
        ISSUER,
        "DepositBillsPrivate",
        transient=batch_transient([4, 5, 6]),
        status=400,
        message="InvalidArgument: transient bills: must be a JSON array of 1 to 2 bills",
    )
    world.refused(
        ISSUER,
        "IssueBills",
        public_batch([4, 5, 6]),
        transient=batch_hashes([4, 5, 6]),
        status=400,
        message="InvalidArgument: billsJSON: must be a JSON array of 1 to 2 public parts",
    )
