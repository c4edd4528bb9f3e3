"""Supervision: bill history, lists by unit/payer/status/period, totals, anomalies, pages."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from fixtures import (
    CLERK,
    CODE,
    FINANCE,
    ISSUER,
    MEDINS,
    OTHER_ISSUER,
    OTHER_PAYER,
    OTHER_SALT,
    PAYER,
    PICC,
    SALT,
    SUPERVISOR,
    World,
    bill_json,
    check_code,
    hashed,
    number,
    payer_hash,
    proof,
    public_json,
    standard_world,
    transient,
)

from ebill_chaincode.shim import Creator

HASH = payer_hash()


@pytest.fixture
def world() -> World:
    return standard_world()


def issue_on(world: World, n: int, day: str, salt: bytes = SALT) -> None:
    """Deposit and issue bill ``n`` dated ``day`` 09:00 in China (the clock moved there:
    issueDate must be near the transaction time)."""
    date = f"{day}T09:00:00+08:00"
    world.ledger.clock = max(world.ledger.clock, dt.datetime.fromisoformat(date))
    document = bill_json(n, issueDate=date)
    world.ok(
        ISSUER, "DepositBillPrivate", CODE, number(n), transient=transient(salt, bill=document)
    )
    public = public_json(n, salt=salt, issueDate=date)
    check = hashed(check_code(n))
    world.ok(ISSUER, "IssueBill", json.dumps(public, ensure_ascii=False), transient=check)


def read(world: World, creator: Creator, function: str, *args: str) -> Any:
    outcome = world.run(creator, function, *args, submit=False)
    assert outcome.status == 200, outcome.message
    assert outcome.stub.writes == []
    return outcome.json()


def all_pages(
    world: World, creator: Creator, function: str, args: tuple[str, ...], size: int
) -> list[Any]:
    """Every record of a paged list, following bookmarks."""
    records: list[Any] = []
    bookmark = ""
    for _ in range(1000):
        page = read(world, creator, function, *args, str(size), bookmark)
        assert page["count"] == len(page["records"]) <= size
        records += page["records"]
        bookmark = page["bookmark"]
        if not bookmark:
            return records
    raise AssertionError("paging did not end")


# --- BillHistory -------------------------------------------------------------------------


def test_bill_history(world: World) -> None:
    world.issue(1)
    world.authorise(1, "MEDINS-HN")
    world.ok(MEDINS, "LockBill", CODE, number(1))
    world.ok(MEDINS, "ClaimBill", CODE, number(1), "26850", "V1")
    world.ok(FINANCE, "ArchiveBill", CODE, number(1))
    history = read(world, SUPERVISOR, "BillHistory", CODE, number(1))
    assert (history["billCode"], history["billNumber"]) == (CODE, number(1))
    steps = [
        (entry["status"], entry["lastAction"]["function"], entry["lastAction"]["org"])
        for entry in history["history"]
    ]
    assert steps == [
        ("issued", "IssueBill", "UnitsMSP"),
        ("issued", "AuthoriseReimburser", "FinanceMSP"),
        ("locked", "LockBill", "InsuranceMSP"),
        ("reimbursed", "ClaimBill", "InsuranceMSP"),
        ("archived", "ArchiveBill", "FinanceMSP"),
    ]
    for entry in history["history"]:
        assert entry["txId"] == entry["lastAction"]["txId"]
        assert entry["timestamp"] == entry["lastAction"]["at"]
        assert entry["isDelete"] is False
    assert history["history"][1]["lastAction"]["org"] == "FinanceMSP"  # the platform
    assert read(world, FINANCE, "BillHistory", CODE, number(1)) == history


def test_bill_history_refusals(world: World) -> None:
    world.issue(1)
    world.refused(
        SUPERVISOR,
        "BillHistory",
        CODE,
        number(2),
        status=404,
        message="NotFound: bill 46010126/0000000002 has no history",
    )
    for creator in (ISSUER, CLERK, MEDINS, PAYER):
        world.refused(
            creator,
            "BillHistory",
            CODE,
            number(1),
            status=403,
            message="Forbidden: BillHistory may be called by finance (FinanceMSP),"
            " supervisor (AuditMSP)",
        )


# --- lists -------------------------------------------------------------------------------


def test_list_by_unit_filters_dates_inclusively(world: World) -> None:
    for n, day in ((1, "2026-01-04"), (2, "2026-01-05"), (3, "2026-01-31"), (4, "2026-02-01")):
        issue_on(world, n, day)
    page = read(world, SUPERVISOR, "ListBillsByUnit", "HN0101", "2026-01-05", "20260131", "50")
    assert [bill["billNumber"] for bill in page["records"]] == [number(2), number(3)]
    assert page["records"][0] == {
        "billCode": CODE,
        "billNumber": number(2),
        "kind": "normal",
        "unitCode": "HN0101",
        "issueDate": "2026-01-05T09:00:00+08:00",
        "totalAmount": 26850,
        "reimbursedTotal": 0,
        "status": "issued",
        "payerHash": HASH,
    }
    own = read(world, CLERK, "ListBillsByUnit", "HN0101", "20260101", "20261231", "50")
    assert own["count"] == 4
    other = read(world, OTHER_ISSUER, "ListBillsByUnit", "HN0201", "20260101", "20261231", "5")
    assert other == {"records": [], "count": 0, "bookmark": ""}


@pytest.mark.parametrize(
    ("creator", "args", "status", "message"),
    [
        (
            OTHER_ISSUER,
            ("HN0101", "20260101", "20260131", "10"),
            403,
            "Forbidden: ListBillsByUnit: a unit handles only its own data",
        ),
        (
            MEDINS,
            ("HN0101", "20260101", "20260131", "10"),
            403,
            "Forbidden: ListBillsByUnit may be called by",
        ),
        (
            SUPERVISOR,
            ("HN0101", "20260201", "20260131", "10"),
            400,
            "InvalidArgument: fromDate: must not be after toDate",
        ),
        (
            SUPERVISOR,
            ("HN0101", "2026-02-30", "20260131", "10"),
            400,
            "InvalidArgument: fromDate: must be a date",
        ),
        (
            SUPERVISOR,
            ("HN0101", "20260101", "20260131", "201"),
            400,
            "InvalidArgument: pageSize: must be an integer from 1 to 200",
        ),
    ],
)
def test_list_by_unit_refusals(
    world: World, creator: Creator, args: tuple[str, ...], status: int, message: str
) -> None:
    world.refused(creator, "ListBillsByUnit", *args, status=status, message=message)


def test_list_by_payer(world: World) -> None:
    world.issue(1)
    world.issue(2)
    world.issue(3, salt=OTHER_SALT)  # same payer, another salt
    world.issue(4, payer_id="460100198805055678")
    mine = read(world, PAYER, "ListBillsByPayer", HASH, "10", "")
    assert [bill["billNumber"] for bill in mine["records"]] == [number(1), number(2)]
    by_transient = world.run(PAYER, "ListBillsByPayer", HASH, "10", transient=proof(), submit=False)
    assert by_transient.json() == mine
    other_salt = payer_hash(OTHER_SALT)
    assert read(world, SUPERVISOR, "ListBillsByPayer", other_salt, "10")["count"] == 1
    assert read(world, FINANCE, "ListBillsByPayer", HASH, "10")["count"] == 2
    world.refused(
        OTHER_PAYER,
        "ListBillsByPayer",
        HASH,
        "10",
        "",
        transient=proof(payer_id="460100198805055678"),
        status=403,
        message="Forbidden: ListBillsByPayer: the payer and salt given do not give this payerHash",
    )
    world.refused(
        PAYER,
        "ListBillsByPayer",
        HASH,
        "10",
        transient={},
        status=403,
        message="Forbidden: ListBillsByPayer: the platform proves",
    )
    world.refused(
        ISSUER, "ListBillsByPayer", HASH, "10", status=403, message="Forbidden: ListBillsByPayer"
    )
    world.refused(
        SUPERVISOR,
        "ListBillsByPayer",
        HASH.upper(),
        "10",
        status=400,
        message="InvalidArgument: payerHash: must be 64 lower-case hex digits",
    )


def test_list_by_status_and_period(world: World) -> None:
    issue_on(world, 1, "2026-01-05")
    issue_on(world, 2, "2026-02-05")
    world.authorise(2, "MEDINS-HN")
    world.ok(MEDINS, "LockBill", CODE, number(2))
    issued = read(world, SUPERVISOR, "ListBillsByStatus", "issued", "10")
    assert [bill["billNumber"] for bill in issued["records"]] == [number(1)]
    locked = read(world, FINANCE, "ListBillsByStatus", "locked", "10")
    assert [bill["billNumber"] for bill in locked["records"]] == [number(2)]
    january = read(world, SUPERVISOR, "ListBillsByPeriod", "202601", "10")
    assert [bill["billNumber"] for bill in january["records"]] == [number(1)]
    world.refused(
        SUPERVISOR,
        "ListBillsByStatus",
        "lost",
        "10",
        status=400,
        message="InvalidArgument: status: must be one of issued, locked",
    )
    world.refused(
        SUPERVISOR,
        "ListBillsByPeriod",
        "2026-01",
        "10",
        status=400,
        message="InvalidArgument: period: must be a month YYYYMM",
    )
    for function, arg in (("ListBillsByStatus", "issued"), ("ListBillsByPeriod", "202601")):
        world.refused(
            ISSUER, function, arg, "10", status=403, message=f"Forbidden: {function} may be"
        )


def test_totals_by_unit_over_pages(world: World) -> None:
    for n in range(1, 6):
        world.issue(n, amount=10000 + n)
    world.ok(ISSUER, "RedLetterBill", CODE, number(2), number(6), "x")
    world.authorise(3, "MEDINS-HN")
    world.ok(MEDINS, "LockBill", CODE, number(3))
    world.ok(MEDINS, "ClaimBill", CODE, number(3), "4000", "V1")
    sums = {"count": 0, "totalAmount": 0, "reimbursed": 0, "redLettered": 0}
    bookmark = ""
    while True:
        page = read(
            world, SUPERVISOR, "TotalsByUnit", "HN0101", "20260101", "20261231", "4", bookmark
        )
        for name in sums:
            sums[name] += page[name]
        bookmark = page["bookmark"]
        if not bookmark:
            break
    # six bills: five issued, one red bill voiding bill 2 with a negative amount
    assert sums == {
        "count": 6,
        "totalAmount": sum(10000 + n for n in range(1, 6)) - 10002,
        "reimbursed": 4000,
        "redLettered": 1,
    }
    world.refused(
        OTHER_ISSUER,
        "TotalsByUnit",
        "HN0101",
        "20260101",
        "20261231",
        "4",
        status=403,
        message="Forbidden: TotalsByUnit: a unit handles only its own data",
    )


# --- ListAnomalies -----------------------------------------------------------------------


def test_list_anomalies_by_day_and_type(world: World) -> None:
    world.issue(1)
    world.ledger.clock = dt.datetime(2026, 1, 5, 15, 59, 58, tzinfo=dt.UTC)  # China: 23:59:58
    world.anomaly(
        ISSUER,
        "IssueBill",
        json.dumps(public_json(5000)),
        transient=hashed("C05000"),
        anomaly_type="issuance-outside-stock",
        kind="Forbidden",
    )
    world.authorise(1, "MEDINS-HN")
    world.authorise(1, "PICC-HN")
    world.ok(MEDINS, "LockBill", CODE, number(1))  # now 2026-01-06 in China
    world.anomaly(PICC, "LockBill", CODE, number(1), anomaly_type="lock-while-locked")
    day5 = read(world, SUPERVISOR, "ListAnomalies", "2026-01-05", "2026-01-05", "10")
    assert [a["type"] for a in day5["records"]] == ["issuance-outside-stock"]
    assert day5["records"][0]["day"] == "20260105"
    both = read(world, FINANCE, "ListAnomalies", "20260101", "20260131", "10")
    assert [a["type"] for a in both["records"]] == ["issuance-outside-stock", "lock-while-locked"]
    locks = read(
        world, SUPERVISOR, "ListAnomalies", "20260101", "20260131", "10", "", "lock-while-locked"
    )
    assert [a["type"] for a in locks["records"]] == ["lock-while-locked"]
    assert locks["records"][0]["refused"]["kind"] == "Conflict"
    world.refused(
        SUPERVISOR,
        "ListAnomalies",
        "20260101",
        "20260131",
        "10",
        "",
        "theft",
        status=400,
        message="InvalidArgument: anomalyType: must be one of",
    )
    world.refused(
        ISSUER,
        "ListAnomalies",
        "20260101",
        "20260131",
        "10",
        status=403,
        message="Forbidden: ListAnomalies may be called by finance (FinanceMSP),"
        " supervisor (AuditMSP); caller is issuer HN0101 (UnitsMSP)",
    )


# --- paging: every item exactly once ------------------------------------------------------


@pytest.fixture(scope="module")
def crowded() -> World:
    """23 bills over three days and two payers, 7 anomalies."""
    world = standard_world()
    for n in range(1, 24):
        salt = SALT if n % 3 else OTHER_SALT
        issue_on(world, n, f"2026-01-{5 + n % 3:02d}", salt=salt)
    for n in range(1, 8):
        document = json.dumps(public_json(5000 + n))
        world.run(ISSUER, "IssueBill", document, transient=hashed("C00000"))
    assert len(world.anchor()["recorded"]) == 7  # refusals are on the chain once anchored
    return world


LISTS: list[tuple[str, tuple[str, ...], Callable[[Any], Any], int]] = [
    ("ListBillsByUnit", ("HN0101", "20260101", "20260131"), lambda r: r["billNumber"], 23),
    ("ListBillsByStatus", ("issued",), lambda r: r["billNumber"], 23),
    ("ListBillsByPeriod", ("202601",), lambda r: r["billNumber"], 23),
    ("ListBillsByPayer", (HASH,), lambda r: r["billNumber"], 16),
    ("ListAnomalies", ("20260101", "20260131"), lambda r: r["anomalyId"], 7),
    ("ListUnits", (), lambda r: r["unitCode"], 2),
    ("ListStock", ("HN0101",), lambda r: r["batchId"], 1),
]


@pytest.mark.parametrize("size", [1, 2, 5, 7, 23, 200])
@pytest.mark.parametrize(("function", "args", "identify", "expected"), LISTS)
def test_pages_return_every_item_exactly_once(
    crowded: World,
    function: str,
    args: tuple[str, ...],
    identify: Callable[[Any], Any],
    expected: int,
    size: int,
) -> None:
    records = all_pages(crowded, SUPERVISOR, function, args, size)
    ids = [identify(record) for record in records]
    assert len(ids) == expected
    assert len(set(ids)) == expected
    assert ids == [identify(r) for r in all_pages(crowded, SUPERVISOR, function, args, 200)]


def test_totals_pages_add_up(crowded: World) -> None:
    count = total = 0
    bookmark = ""
    while True:
        args = ("HN0101", "20260101", "20260131", "5", bookmark)
        page = read(crowded, SUPERVISOR, "TotalsByUnit", *args)
        count, total, bookmark = (
            count + page["count"],
            total + page["totalAmount"],
            page["bookmark"],
        )
        if not bookmark:
            break
    assert (count, total) == (23, 23 * 26850)


# the payer hash that sorts last, so that a forged bookmark before it meets the other one
LAST_HASH, LAST_SALT = max((payer_hash(salt), salt) for salt in (SALT, OTHER_SALT))


@pytest.mark.parametrize(
    ("creator", "function", "args", "forged"),
    [
        (
            PAYER,
            "ListBillsByPayer",
            (LAST_HASH, "5", "{bookmark}"),
            "bill~payer\x00",
        ),
        (
            CLERK,
            "ListBillsByUnit",
            ("HN0101", "20260106", "20260106", "5", "{bookmark}"),
            "bill~unit\x00HN0101\x00",
        ),
        (OTHER_ISSUER, "ListStock", ("HN0201", "5", "{bookmark}"), "stock~unit\x00"),
    ],
)
def test_a_forged_bookmark_cannot_leave_the_query(
    crowded: World, creator: Creator, function: str, args: tuple[str, ...], forged: str
) -> None:
    """The peer starts a page at any bookmark; the contract refuses foreign results."""
    world = crowded.copy()
    world.grant_stock(OTHER_ISSUER, "HN0201", "46030226", 1, 10)
    options: dict[str, Any] = {}
    if function == "ListBillsByPayer":
        options["transient"] = proof(LAST_SALT)
    honest = tuple(arg.replace("{bookmark}", "") for arg in args)
    assert world.run(creator, function, *honest, submit=False, **options).status == 200
    filled = tuple(arg.replace("{bookmark}", forged) for arg in args)
    world.refused(
        creator,
        function,
        *filled,
        **options,
        status=400,
        message="InvalidArgument: bookmark: does not belong to this query",
        submit=False,
    )


def test_lists_are_read_only(crowded: World) -> None:
    """Paginated queries in a transaction that writes are refused by the peer; ours do not."""
    world = crowded.copy()
    before = world.ledger.snapshot()
    for function, args, _, _ in LISTS:
        outcome = world.run(SUPERVISOR, function, *args, "3")
        assert outcome.status == 200 and outcome.stub.writes == [], outcome.message
    assert world.ledger.snapshot() == before
