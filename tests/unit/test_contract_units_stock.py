"""The unit registry and bill stock: apply, approve, reject, reconcile, read, list."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fixtures import (
    CLERK,
    CODE,
    FINANCE,
    ISSUER,
    MEDINS,
    OTHER_ISSUER,
    SCHOOL,
    SCHOOL_CODE,
    SUPERVISOR,
    Ledger,
    World,
    bill_json,
    hashed,
    key,
    number,
    public_json,
    standard_world,
    transient,
)

from ebill_chaincode.contract import stock
from ebill_chaincode.shimtest import MVCC_READ_CONFLICT, PHANTOM_READ_CONFLICT, VALID, identity

UNIT = {"unitCode": "HN0301", "name": "海口市中级人民法院", "sector": "court", "region": "46"}


@pytest.fixture
def world() -> World:
    return standard_world()


@pytest.fixture
def units() -> World:
    return World().register_units()


def application(start: int = 1, count: int = 100, unit: str = "HN0101", code: str = CODE) -> str:
    return json.dumps(
        {"unitCode": unit, "billCode": code, "startNumber": number(start), "count": count}
    )


# --- units -------------------------------------------------------------------------------


def test_register_unit(units: World) -> None:
    outcome = units.run(FINANCE, "RegisterUnit", json.dumps(UNIT, ensure_ascii=False))
    assert outcome.status == 200, outcome.message
    record = outcome.json()
    assert record == {
        **UNIT,
        "status": "active",
        "registeredAt": outcome.stub.tx_timestamp.isoformat().replace("+00:00", "Z"),
        "lastAction": record["lastAction"],
    }
    assert record["lastAction"]["function"] == "RegisterUnit"
    assert record["lastAction"]["org"] == "FinanceMSP"
    assert json.loads(units.ledger.state[key("unit", "HN0301")].value) == record
    assert outcome.stub.event is not None
    assert json.loads(outcome.stub.event.payload) == {
        "unitCode": "HN0301",
        "status": "active",
        "org": "FinanceMSP",
    }


def test_register_unit_refusals(units: World) -> None:
    text = json.dumps(UNIT)
    units.refused(
        FINANCE,
        "RegisterUnit",
        json.dumps({**UNIT, "unitCode": "HN0101"}),
        status=409,
        message="Conflict: RegisterUnit: unit HN0101 is already registered",
    )
    units.refused(
        FINANCE,
        "RegisterUnit",
        json.dumps({**UNIT, "sector": "bank"}),
        status=400,
        message="InvalidArgument: sector: must be one of",
    )
    units.refused(
        ISSUER,
        "RegisterUnit",
        text,
        status=403,
        message="Forbidden: RegisterUnit may be called by finance (FinanceMSP);"
        " caller is issuer HN0101 (UnitsMSP)",
    )
    units.refused(ISSUER, "RegisterUnit", "{", status=400, message="InvalidArgument: unitJSON")


def test_suspend_and_resume(units: World) -> None:
    suspended = units.ok(FINANCE, "SuspendUnit", "HN0101", "overdue reconciliation")
    assert suspended["status"] == "suspended"
    assert suspended["suspension"]["reason"] == "overdue reconciliation"
    units.refused(
        FINANCE,
        "SuspendUnit",
        "HN0101",
        "again",
        status=409,
        message="Conflict: SuspendUnit: unit HN0101 is already suspended",
    )
    resumed = units.ok(FINANCE, "ResumeUnit", "HN0101")
    assert resumed["status"] == "active" and "suspension" not in resumed
    units.refused(
        FINANCE,
        "ResumeUnit",
        "HN0101",
        status=409,
        message="Conflict: ResumeUnit: unit HN0101 is not suspended",
    )


@pytest.mark.parametrize(
    ("function", "args", "status", "message"),
    [
        ("SuspendUnit", ("HN0999", "x"), 404, "NotFound: unit HN0999 not found"),
        ("SuspendUnit", ("HN0101", ""), 400, "InvalidArgument: reason: must not be blank"),
        ("SuspendUnit", ("HN-1", "x"), 400, "InvalidArgument: unitCode: must be 1 to 32"),
        ("ResumeUnit", ("HN0999",), 404, "NotFound: unit HN0999 not found"),
        ("ReadUnit", ("HN0999",), 404, "NotFound: unit HN0999 not found"),
    ],
)
def test_unit_refusals(
    units: World, function: str, args: tuple[str, ...], status: int, message: str
) -> None:
    units.refused(FINANCE, function, *args, status=status, message=message)


def test_read_and_list_units(units: World) -> None:
    assert units.ok(CLERK, "ReadUnit", "HN0101", submit=False)["name"] == "海南省人民医院"
    units.refused(
        CLERK,
        "ReadUnit",
        "HN0201",
        status=403,
        message="Forbidden: ReadUnit: a unit handles only its own data",
    )
    first = units.ok(SUPERVISOR, "ListUnits", "1", submit=False)
    assert [u["unitCode"] for u in first["records"]] == ["HN0101"]
    assert first["count"] == 1 and first["bookmark"]
    second = units.ok(SUPERVISOR, "ListUnits", "1", first["bookmark"], submit=False)
    assert [u["unitCode"] for u in second["records"]] == ["HN0201"]
    assert second["bookmark"] == ""
    units.refused(
        SUPERVISOR, "ListUnits", "0", status=400, message="InvalidArgument: pageSize: must be"
    )


# --- ApplyStock --------------------------------------------------------------------------


def test_apply_stock(units: World) -> None:
    outcome = units.run(ISSUER, "ApplyStock", application(1, 500))
    assert outcome.status == 200, outcome.message
    batch = outcome.json()
    tx = outcome.stub.tx_id
    assert {k: v for k, v in batch.items() if k not in ("appliedAt", "lastAction")} == {
        "batchId": tx,
        "unitCode": "HN0101",
        "billCode": CODE,
        "startNumber": number(1),
        "endNumber": number(500),
        "count": 500,
        "status": "pending",
    }
    state = units.ledger.state
    assert key("stock~unit", "HN0101", CODE, number(1), tx) in state
    assert json.loads(state[key("stockopen", "HN0101", CODE)].value) == {"batchId": tx}
    assert key("stockrange", CODE, number(500)) not in state  # only approved ranges


@pytest.mark.parametrize(
    ("creator", "text", "status", "message"),
    [
        (ISSUER, "[]", 400, "InvalidArgument: applicationJSON: must be a JSON object"),
        (
            OTHER_ISSUER,
            application(),
            403,
            "Forbidden: ApplyStock: a unit handles only its own data; caller's unit is HN0201",
        ),
        (CLERK, application(), 403, "Forbidden: ApplyStock may be called by issuer (UnitsMSP)"),
        (FINANCE, application(), 403, "Forbidden: ApplyStock may be called by issuer"),
        (
            identity("UnitsMSP", "x", role="issuer", unit="HN0999"),
            application(unit="HN0999"),
            404,
            "NotFound: unit HN0999 not found",
        ),
        (
            ISSUER,
            application(code="45010126"),
            409,
            "Conflict: ApplyStock: bill code 45010126 is of region 45 but unit HN0101 is in"
            " region 46",
        ),
    ],
)
def test_apply_stock_refusals(
    units: World, creator: Any, text: str, status: int, message: str
) -> None:
    units.refused(creator, "ApplyStock", text, status=status, message=message)


def test_apply_stock_of_a_suspended_unit(units: World) -> None:
    units.ok(FINANCE, "SuspendUnit", "HN0101", "x")
    units.refused(
        ISSUER,
        "ApplyStock",
        application(),
        status=403,
        message="Forbidden: ApplyStock: unit HN0101 is suspended",
    )


def test_one_open_batch_per_unit_and_code(units: World) -> None:
    pending = units.ok(ISSUER, "ApplyStock", application(1, 100))["batchId"]
    units.refused(
        ISSUER,
        "ApplyStock",
        application(101, 100),
        status=409,
        message=f"Conflict: ApplyStock: application {pending} of unit HN0101 for 46010126"
        " numbers 0000000001-0000000100 is still pending",
    )
    units.ok(FINANCE, "ApproveStock", pending)
    units.refused(
        ISSUER,
        "ApplyStock",
        application(101, 100),
        status=409,
        message=f"Conflict: ApplyStock: batch {pending} of unit HN0101 (46010126 numbers"
        " 0000000001-0000000100) is approved and not reconciled; finance must reconcile it"
        " before a new application",
    )
    # another code is another queue
    units.ok(ISSUER, "ApplyStock", application(1, 100, code="46010226"))
    units.ok(FINANCE, "ReconcileStock", pending)
    units.ok(ISSUER, "ApplyStock", application(101, 100))


def test_rejected_application_frees_the_queue(units: World) -> None:
    batch = units.ok(ISSUER, "ApplyStock", application(1, 100))["batchId"]
    rejected = units.ok(FINANCE, "RejectStock", batch, "range too large")
    assert rejected["status"] == "rejected"
    assert rejected["rejection"]["reason"] == "range too large"
    assert key("stockopen", "HN0101", CODE) not in units.ledger.state
    units.ok(ISSUER, "ApplyStock", application(1, 50))


# --- ApproveStock / RejectStock ----------------------------------------------------------


def test_approve_stock(units: World) -> None:
    batch_id = units.ok(ISSUER, "ApplyStock", application(1, 100))["batchId"]
    batch = units.ok(FINANCE, "ApproveStock", batch_id)
    assert batch["status"] == "approved" and batch["approvedAt"]
    entry = json.loads(units.ledger.state[key("stockrange", CODE, number(100))].value)
    assert entry == {
        "batchId": batch_id,
        "unitCode": "HN0101",
        "startNumber": number(1),
        "endNumber": number(100),
    }


@pytest.mark.parametrize(
    ("start", "count", "overlaps"),
    [
        (1, 2000, False),  # ends just before
        (3001, 10, False),  # starts just after
        (1, 2001, True),  # touches the first number
        (3000, 5, True),  # touches the last number
        (2500, 10, True),  # inside
        (1500, 5000, True),  # around
        (2001, 1, True),  # one number inside
        (1, 1_000_000, True),  # the widest range
    ],
)
def test_approval_refuses_overlapping_ranges(
    units: World, start: int, count: int, overlaps: bool
) -> None:
    other = units.grant_stock(OTHER_ISSUER, SCHOOL[0], CODE, 2001, 1000)
    batch_id = units.ok(ISSUER, "ApplyStock", application(max(start, 1), count))["batchId"]
    if overlaps:
        units.refused(
            FINANCE,
            "ApproveStock",
            batch_id,
            status=409,
            message=f"Conflict: ApproveStock: 46010126 numbers {number(max(start, 1))}-"
            f"{number(max(start, 1) + count - 1)} overlap batch {other} (numbers"
            " 0000002001-0000003000) of unit HN0201",
        )
    else:
        units.ok(FINANCE, "ApproveStock", batch_id)


def test_ranges_of_other_codes_do_not_clash(units: World) -> None:
    units.grant_stock(OTHER_ISSUER, SCHOOL[0], SCHOOL_CODE, 1, 1000)
    units.grant_stock(ISSUER, "HN0101", CODE, 1, 1000)


def test_approve_and_reject_refusals(units: World) -> None:
    batch_id = units.ok(ISSUER, "ApplyStock", application(1, 100))["batchId"]
    for function, extra in (("ApproveStock", ()), ("RejectStock", ("no",))):
        units.refused(
            ISSUER,
            function,
            batch_id,
            *extra,
            status=403,
            message=f"Forbidden: {function} may be called by finance (FinanceMSP)",
        )
        units.refused(
            FINANCE,
            function,
            "nope",
            *extra,
            status=404,
            message="NotFound: stock application nope not found",
        )
        units.refused(
            FINANCE,
            function,
            "no such id",
            *extra,
            status=400,
            message="InvalidArgument: applicationId: must be 1 to 128",
        )
    units.refused(
        FINANCE, "RejectStock", batch_id, "", status=400, message="InvalidArgument: reason"
    )
    units.ok(FINANCE, "ApproveStock", batch_id)
    for function, extra in (("ApproveStock", ()), ("RejectStock", ("no",))):
        units.refused(
            FINANCE,
            function,
            batch_id,
            *extra,
            status=409,
            message=f"Conflict: {function}: application {batch_id} is approved, not pending",
        )


def test_approval_for_a_suspended_unit(units: World) -> None:
    batch_id = units.ok(ISSUER, "ApplyStock", application(1, 100))["batchId"]
    units.ok(FINANCE, "SuspendUnit", "HN0101", "x")
    units.refused(
        FINANCE,
        "ApproveStock",
        batch_id,
        status=409,
        message="Conflict: ApproveStock: unit HN0101 is suspended",
    )


# --- ReconcileStock ----------------------------------------------------------------------


def test_reconcile_counts_the_batch(world: World) -> None:
    for n in (1, 2, 3, 1000):
        world.issue(n)
    world.ok(ISSUER, "RedLetterBill", CODE, number(2), number(4), "wrong amount")
    world.ok(FINANCE, "ArchiveBill", CODE, number(2))  # archived red-lettered still counts
    batch = world.ok(FINANCE, "ReconcileStock", world.hospital_batch)
    assert batch["status"] == "reconciled"
    counts = {k: v for k, v in batch["reconciliation"].items() if k != "at"}
    assert counts == {"issued": 5, "redBills": 1, "redLettered": 1, "unused": 995}
    assert key("stockopen", "HN0101", CODE) not in world.ledger.state
    assert key("stockrange", CODE, number(1000)) in world.ledger.state  # numbers stay taken
    world.refused(
        FINANCE,
        "ReconcileStock",
        world.hospital_batch,
        status=409,
        message=f"Conflict: ReconcileStock: batch {world.hospital_batch} is reconciled;"
        " only an approved batch is reconciled",
    )


def test_reconcile_ignores_bills_of_neighbouring_ranges(world: World) -> None:
    batch = world.grant_stock(OTHER_ISSUER, SCHOOL[0], CODE, 1001, 10)
    world.issue(1000)
    document = bill_json(1001, unitCode=SCHOOL[0], unitName=SCHOOL[1])
    world.ok(
        OTHER_ISSUER, "DepositBillPrivate", CODE, number(1001), transient=transient(bill=document)
    )
    public = public_json(1001, unitCode=SCHOOL[0], unitName=SCHOOL[1])
    world.ok(OTHER_ISSUER, "IssueBill", json.dumps(public), transient=hashed("C01001"))
    counts = world.ok(FINANCE, "ReconcileStock", batch)["reconciliation"]
    assert (counts["issued"], counts["unused"]) == (1, 9)


def test_reconcile_counts_in_chunks_below_the_query_limit(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(1, 11):
        world.issue(n)
    world.ledger.total_query_limit = 4  # the peer silently stops a query at its limit
    monkeypatch.setattr(stock, "RECONCILE_CHUNK", 10_000)
    one_query = world.copy().ok(FINANCE, "ReconcileStock", world.hospital_batch)
    assert one_query["reconciliation"]["issued"] == 4  # what one big query would report
    monkeypatch.setattr(stock, "RECONCILE_CHUNK", 4)
    chunked = world.ok(FINANCE, "ReconcileStock", world.hospital_batch)
    assert chunked["reconciliation"]["issued"] == 10


def test_reconcile_and_issuance_cannot_both_commit(world: World) -> None:
    """A concurrent issuance invalidates the reconciliation (phantom), or the reverse."""
    world.issue(1)
    reconcile = world.ledger.stub(FINANCE, "ReconcileStock", world.hospital_batch)
    from ebill_chaincode.contract import contract

    assert contract(reconcile).status == 200
    world.issue(2)
    assert world.ledger.commit(reconcile) == PHANTOM_READ_CONFLICT

    world.deposit(3)
    issue = world.ledger.stub(
        ISSUER, "IssueBill", json.dumps(public_json(3)), transient=hashed("C00003")
    )
    assert contract(issue).status == 200
    world.ok(FINANCE, "ReconcileStock", world.hospital_batch)
    assert world.ledger.commit(issue) == MVCC_READ_CONFLICT


def test_reconcile_refusals(world: World) -> None:
    world.refused(
        FINANCE, "ReconcileStock", "nope", status=404, message="NotFound: stock batch nope"
    )
    world.refused(
        SUPERVISOR,
        "ReconcileStock",
        world.hospital_batch,
        status=403,
        message="Forbidden: ReconcileStock may be called by finance",
    )
    pending = World().register_units()
    batch_id = pending.ok(ISSUER, "ApplyStock", application())["batchId"]
    pending.refused(
        FINANCE,
        "ReconcileStock",
        batch_id,
        status=409,
        message=f"Conflict: ReconcileStock: batch {batch_id} is pending",
    )


# --- ReadStock / ListStock ---------------------------------------------------------------


def test_read_stock(world: World) -> None:
    for creator in (FINANCE, SUPERVISOR, ISSUER, CLERK):
        batch = world.ok(creator, "ReadStock", world.hospital_batch, submit=False)
        assert batch["unitCode"] == "HN0101"
    world.refused(
        OTHER_ISSUER,
        "ReadStock",
        world.hospital_batch,
        status=403,
        message="Forbidden: ReadStock: a unit handles only its own data",
    )
    world.refused(
        MEDINS, "ReadStock", world.hospital_batch, status=403, message="Forbidden: ReadStock"
    )


def test_list_stock_pages(units: World) -> None:
    batches = [units.grant_stock(ISSUER, "HN0101", f"4601012{year}", 1, 10) for year in "234"]
    seen: list[str] = []
    bookmark = ""
    while True:
        page = units.ok(CLERK, "ListStock", "HN0101", "2", bookmark, submit=False)
        seen += [batch["batchId"] for batch in page["records"]]
        bookmark = page["bookmark"]
        if not bookmark:
            break
    assert seen == batches
    units.refused(
        OTHER_ISSUER,
        "ListStock",
        "HN0101",
        "10",
        status=403,
        message="Forbidden: ListStock: a unit handles only its own data",
    )


def test_stock_reads_write_nothing(world: World) -> None:
    ledger: Ledger = world.ledger
    before = ledger.snapshot()
    outcome = world.run(FINANCE, "ListStock", "HN0101", "10")
    assert outcome.code == VALID and outcome.stub.writes == []
    assert ledger.snapshot() == before
