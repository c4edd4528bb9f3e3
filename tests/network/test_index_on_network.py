"""The read model (ebill_index) on the real network, on SQLite and on PostgreSQL: the
incrementally built model equals a rebuild from block 0, verify finds an injected
difference, a projector that fails mid-block resumes without loss or duplication, and
a non-member org's model holds no personal data."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from chain import Connect, Open
from sqlalchemy import func, select

from ebill import consistency
from ebill.cli import main
from ebill.exitcodes import EXIT_DIFFERENT
from ebill.models import IssuedBill
from ebill.payer import PayerClient
from ebill.reimburser import ReimburserClient
from ebill.samples import PAYER1, outpatient_bill, tuition_bill
from ebill.supervisor import SupervisorClient
from ebill.unit import UnitClient
from ebill_index import Projector, Store, queries
from ebill_index.blocks import Tx
from ebill_index.schema import aggregates, bills, transactions
from ebill_index.source import PeerSource
from ebill_index.store import RowHook
from ebill_index.verify import verify
from ebill_network.network import Network
from ebill_network.postgres import Cluster

pytestmark = pytest.mark.network

NewStore = Callable[..., Store]


@pytest.fixture(params=["sqlite", "postgresql"])
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Store]]:
    """``new_store(name, on_row=None)``: an empty model on the parametrised backend;
    the same name opens the same database again."""
    opened: list[Store] = []
    urls: dict[str, str] = {}

    def factory(name: str, on_row: RowHook | None = None) -> Store:
        if name not in urls:
            if request.param == "sqlite":
                urls[name] = f"sqlite:///{tmp_path / (name + '.sqlite')}"
            else:
                cluster: Cluster = request.getfixturevalue("postgres")
                urls[name] = cluster.create_database(f"{name}_{len(opened)}_{id(urls)}")
        store = Store.open(urls[name], on_row=on_row)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()


@pytest.fixture(scope="module")
def auditor_source(connect_as: Connect) -> PeerSource:
    return PeerSource(connect_as("audit", "auditor1"))


@pytest.fixture(scope="module")
def supervisor(party: Open[SupervisorClient]) -> SupervisorClient:
    return party(SupervisorClient, "audit", "auditor1")


def projector(
    store: Store, source: PeerSource, description: dict[str, Any], **options: Any
) -> Projector:
    return Projector(
        store,
        source,
        chaincode=description["chaincode"],
        channel=description["channel"],
        **options,
    )


def lived(source: PeerSource) -> int:
    """The height after a life: its last write (the red-lettering) committed on the units
    peer, which the audit peer may not have reached yet; its stream waits there."""
    return consistency.height(source.conn, "UnitsMSP")


def _life(
    hospital: UnitClient,
    school: UnitClient,
    payer: PayerClient,
    medins: ReimburserClient,
    next_number: Callable[[], str],
) -> list[IssuedBill]:
    """Bills issued at once (several in one block), one claimed in full, one voided."""
    samples = [outpatient_bill(next_number()) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        issued = list(pool.map(hospital.issue_bill, samples))
    tuition = school.issue_bill(tuition_bill(next_number()))
    claimed = issued[0]
    code, number = claimed.bill.bill_code, claimed.bill.bill_number
    payer.authorise_reimburser(code, number, "MEDINS-HN", claimed.salt)
    medins.reimburse(code, number, claimed.bill.total_amount, f"V-{number}")
    school.red_letter_bill(
        tuition.bill.bill_code, tuition.bill.bill_number, next_number(), "wrong payer"
    )
    return [*issued, tuition]


@pytest.fixture
def life(
    hospital: UnitClient,
    school: UnitClient,
    payer: PayerClient,
    medins: ReimburserClient,
    next_number: Callable[[], str],
) -> Callable[[], list[IssuedBill]]:
    return lambda: _life(hospital, school, payer, medins, next_number)


def test_incremental_model_equals_a_rebuild_and_verifies(
    new_store: NewStore,
    auditor_source: PeerSource,
    description: dict[str, Any],
    life: Callable[[], list[IssuedBill]],
    supervisor: SupervisorClient,
) -> None:
    incremental = new_store("incremental")
    follower = projector(incremental, auditor_source, description, batch=1)
    follower.catch_up()
    first = life()
    follower.catch_up()
    second = life()
    done = follower.catch_up(lived(auditor_source))
    assert done.transactions > 0
    position = incremental.position()
    assert position is not None
    rebuilt = new_store("rebuilt")
    projector(rebuilt, auditor_source, description).catch_up(position.block_number + 1)
    model, again = incremental.dump(), rebuilt.dump()
    for table in model:
        assert model[table] == again[table], table
    for issued in (*first, *second):
        key = (issued.bill.bill_code, issued.bill.bill_number)
        assert key in {(row[0], row[1]) for row in model["bills"]}
        assert key in {(row[0], row[1]) for row in model["bill_private"]}  # audit is a member
    claimed = first[0].bill
    assert (claimed.bill_code, claimed.bill_number, "MEDINS-HN") in {
        row[:3] for row in model["claims"]
    }
    report = verify(incremental, supervisor, sample=10)
    assert report.ok, report.differences
    assert report.compared["bill"] >= 10 and report.compared["unit day"] >= 1


def test_supervision_reads_match_the_ledger(
    new_store: NewStore,
    auditor_source: PeerSource,
    description: dict[str, Any],
    life: Callable[[], list[IssuedBill]],
    supervisor: SupervisorClient,
) -> None:
    issued = life()
    store = new_store("reads")
    projector(store, auditor_source, description).catch_up(lived(auditor_source))
    unit = issued[0].bill.unit_code
    figures = queries.totals(store, "unit", unit)
    ledger = supervisor.unit_totals(unit)
    assert (figures.bills, figures.amount, figures.reimbursed, figures.red_lettered) == (
        ledger.count,
        ledger.total_amount,
        ledger.reimbursed,
        ledger.red_lettered,
    )
    everything = queries.totals(store, "all")
    per_sector = [queries.totals(store, "sector", s) for s in ("medical", "education")]
    assert everything.bills == sum(f.bills for f in per_sector) > 0
    assert everything.amount == sum(f.amount for f in per_sector)
    day = issued[0].bill.issue_date[:10]
    assert queries.daily(store, "unit", unit, day, day)[day.replace("-", "")].bills >= 4
    seen, cursor = [], ""
    while True:
        page = queries.list_bills(store, unit_code=unit, page_size=3, cursor=cursor)
        seen += [(r["bill_code"], r["bill_number"]) for r in page.rows]
        if not page.cursor:
            break
        cursor = page.cursor
    assert len(seen) == len(set(seen)) == figures.bills
    behind: list[dict[str, Any]] = []
    cursor = ""
    while True:
        page = queries.figure_transactions(store, "unit", unit, page_size=50, cursor=cursor)
        behind += page.rows
        if not page.cursor:
            break
        cursor = page.cursor
    tx_ids = {row["tx_id"] for row in behind}
    bill = issued[1].bill
    assert bill.raw["issueTxId"] in tx_ids
    assert {row["function"] for row in behind} >= {"IssueBill", "ClaimBill"}
    with pytest.raises(queries.QueryError, match="from_day"):
        queries.totals(store, "unit", unit, "2026-02-01", "2026-01-01")


def test_verify_names_an_injected_difference(
    new_store: NewStore,
    auditor_source: PeerSource,
    description: dict[str, Any],
    life: Callable[[], list[IssuedBill]],
    supervisor: SupervisorClient,
    network: Network,
) -> None:
    issued = life()
    store = new_store("tampered")
    projector(store, auditor_source, description).catch_up(lived(auditor_source))
    assert verify(store, supervisor).ok
    bill = issued[1].bill
    where = {"bill_code": bill.bill_code, "bill_number": bill.bill_number}
    assert store.tamper(bills, where, {"status": "reimbursed"}) == 1
    day = bill.issue_date[:10].replace("-", "")
    scope = {"scope": "unit", "scope_key": bill.unit_code, "day": day}
    assert store.tamper(aggregates, scope, {"amount": 1}) == 1
    report = verify(store, supervisor)
    key = f"{bill.bill_code}/{bill.bill_number}"
    assert f"bill {key}: status: ledger 'issued', model 'reimbursed'" in report.differences
    assert any(
        d.startswith(f"figures of unit {bill.unit_code} on {day}: amount: ledger ")
        and d.endswith(", model 1")
        for d in report.differences
    ), report.differences
    out, err = io.StringIO(), io.StringIO()
    url = store.engine.url.render_as_string(hide_password=False)
    argv = ["index", "verify", "--db", url, "--network", str(network.layout.network_file())]
    assert main(argv, out=out, err=err) == EXIT_DIFFERENT, err.getvalue()
    assert f"bill {key}: status" in out.getvalue()


class Crash(Exception):
    """The fault a test injects into the row writer."""


@pytest.mark.parametrize("batch", [1, 500])
def test_a_projector_failing_mid_block_resumes_without_loss_or_duplication(
    batch: int,
    new_store: NewStore,
    auditor_source: PeerSource,
    description: dict[str, Any],
    life: Callable[[], list[IssuedBill]],
) -> None:
    life()
    height = auditor_source.height()
    reference = new_store("reference")
    projector(reference, auditor_source, description).catch_up(height)
    counts: dict[int, int] = {}
    with reference.engine.connect() as conn:
        for number, n in conn.execute(
            select(transactions.c.block_number, func.count()).group_by(transactions.c.block_number)
        ):
            counts[int(number)] = int(n)
    target = max(number for number, n in counts.items() if n >= 2)  # a block of several txs
    rows: dict[tuple[int, int], int] = {}

    def fault(tx: Tx) -> None:
        place = (tx.block_number, tx.index)
        rows[place] = rows.get(place, 0) + 1
        if place == (target, 1):  # its first row (the transactions row) is written
            raise Crash(f"injected after the first row of transaction 1 of block {target}")

    crashing = new_store("crashing", on_row=fault)
    with pytest.raises(Crash):
        projector(crashing, auditor_source, description, batch=batch).catch_up(height)
    position = crashing.position()
    if batch == 1:
        assert position is not None and (position.block_number, position.tx_index) == (target, 0)
    resumed = new_store("crashing")
    projector(resumed, auditor_source, description, batch=batch).catch_up(height)
    model, expected = resumed.dump(), reference.dump()
    for table in model:
        assert model[table] == expected[table], table


def test_a_non_member_model_holds_no_personal_data(
    tmp_path: Path,
    connect_as: Connect,
    description: dict[str, Any],
    life: Callable[[], list[IssuedBill]],
    auditor_source: PeerSource,
) -> None:
    life()
    finance_store = Store.open(f"sqlite:///{tmp_path / 'finance.sqlite'}")
    audit_store = Store.open(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    try:
        height = auditor_source.height()
        projector(
            finance_store, PeerSource(connect_as("finance", "finance1")), description
        ).catch_up(height)
        projector(audit_store, auditor_source, description).catch_up(height)
        finance, audit = finance_store.dump(), audit_store.dump()
        assert finance["bill_private"] == [] and audit["bill_private"]
        assert finance["bills"] == audit["bills"] and finance["claims"] == audit["claims"]
    finally:
        finance_store.close()
        audit_store.close()
    secrets = [PAYER1["id"].encode(), PAYER1["name"].encode()]
    audit_bytes = b"".join(p.read_bytes() for p in tmp_path.glob("audit.sqlite*"))
    assert all(s in audit_bytes for s in secrets)  # the scan finds them where they are
    finance_bytes = b"".join(p.read_bytes() for p in tmp_path.glob("finance.sqlite*"))
    assert finance_bytes and not [s for s in secrets if s in finance_bytes]


@pytest.mark.parametrize("batch", [1, 500])
def test_a_projector_killed_mid_block_resumes_without_loss_or_duplication(
    batch: int,
    new_store: NewStore,
    auditor_source: PeerSource,
    description: dict[str, Any],
    life: Callable[[], list[IssuedBill]],
    supervisor: SupervisorClient,
    network: Network,
    tmp_path: Path,
) -> None:
    """A real ``kill -9`` of a projector process stalled inside the second transaction
    of a block of several; ``ebill index sync`` then finishes the model, which equals a
    fresh rebuild and verifies against the ledger."""
    life()
    height = lived(auditor_source)
    consistency.wait_for_block(auditor_source.conn, height - 1, peers=["AuditMSP"])
    reference = new_store("reference")
    projector(reference, auditor_source, description).catch_up(height)
    with reference.engine.connect() as conn:
        sizes = dict(
            conn.execute(
                select(transactions.c.block_number, func.count()).group_by(
                    transactions.c.block_number
                )
            ).all()
        )
    target = max(int(number) for number, n in sizes.items() if n >= 2)  # several txs
    killed = new_store("killed")
    url = killed.engine.url.render_as_string(hide_password=False)
    network_file = str(network.layout.network_file())
    marker = tmp_path / f"stalled-{batch}"
    child = Path(__file__).with_name("index_child.py")
    argv = [url, network_file, str(height), str(target), "1", str(marker), str(batch)]
    process = subprocess.Popen([sys.executable, str(child), *argv])
    try:
        while not marker.exists():
            assert process.poll() is None, f"the projector ended ({process.returncode}) early"
            time.sleep(0.1)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    position = killed.position()
    if batch == 1:  # every transaction before the stalled one committed, not that one
        assert position is not None and (position.block_number, position.tx_index) == (target, 0)
    else:  # the unfinished batch rolled back (earlier ones of 500 may have committed)
        assert position is None or (position.block_number, position.tx_index) < (target, 1)
    applied = {tuple(row[:2]) for row in killed.dump([transactions])["transactions"]}
    assert (target, 1) not in applied
    out, err = io.StringIO(), io.StringIO()
    sync = ["index", "sync", "--db", url, "--network", network_file, "--batch", str(batch)]
    assert main(sync, out=out, err=err) == 0, err.getvalue()
    resumed = new_store("killed")
    position = resumed.position()
    assert position is not None and position.block_number + 1 >= height
    rebuilt = new_store("rebuilt")
    projector(rebuilt, auditor_source, description).catch_up(position.block_number + 1)
    model, again = resumed.dump(), rebuilt.dump()
    for table in model:
        assert model[table] == again[table], table
    assert model == reference.dump() or position.block_number + 1 > height
    verify_argv = ["index", "verify", "--db", url, "--network", network_file]
    out = io.StringIO()
    assert main(verify_argv, out=out, err=err) == 0, out.getvalue() + err.getvalue()
    assert "matches the ledger" in out.getvalue()
