"""The finance chaincode's anomaly spool and RecordAnomalies: refused proposals reach the
chain once, whoever submits, and a bad entry is refused naming its field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fixtures import CODE, FINANCE, MEDINS, SUPERVISOR, World, number, standard_world

from ebill.spool import read_spool
from ebill_chaincode.contract.anomalies import Spool


@pytest.fixture
def world() -> World:
    return standard_world()


def closed(world: World) -> World:
    world.issue(1)
    world.authorise(1, "MEDINS-HN")
    world.ok(MEDINS, "LockBill", CODE, number(1))
    world.ok(MEDINS, "ClaimBill", CODE, number(1), "26850", "V1")
    return world


def test_a_refused_claim_is_an_error_and_spooled_once_per_proposal(world: World) -> None:
    closed(world)
    outcome = world.ledger.run(MEDINS, "ClaimBill", CODE, number(1), "1", "V2", tx_id="tx-off")
    assert outcome.status == 409 and outcome.error_code == "claim-on-reimbursed-bill"
    assert outcome.code == "NOT_SUBMITTED" and outcome.stub.writes == []
    # a second endorser runs the same proposal: one spool entry
    world.ledger.run(MEDINS, "ClaimBill", CODE, number(1), "1", "V2", tx_id="tx-off")
    entries = [e for e in world.ledger.spool if e["anomalyId"] == "tx-off"]
    assert len(entries) == 1
    entry = entries[0]
    assert entry["lastAction"]["org"] == "InsuranceMSP"
    assert (entry["billCode"], entry["billNumber"], entry["unitCode"]) == (
        CODE,
        number(1),
        "HN0101",
    )


def test_anchoring_twice_records_once(world: World) -> None:
    closed(world)
    world.run(MEDINS, "ClaimBill", CODE, number(1), "1", "V2")
    first = world.anchor()
    assert len(first["recorded"]) == 1 and first["known"] == []
    before = world.ledger.snapshot()
    second = world.anchor()
    assert second == {"recorded": [], "known": first["recorded"]}
    assert world.ledger.snapshot() == before
    listed = world.ok(SUPERVISOR, "ListAnomalies", "20260101", "20261231", "10")
    assert [r["anomalyId"] for r in listed["records"]] == first["recorded"]


def _entry(world: World) -> dict[str, Any]:
    closed(world)
    world.run(MEDINS, "ClaimBill", CODE, number(1), "1", "V2")
    return dict(world.ledger.spool[-1])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": "made-up"}, "entries[0].type: must be one of"),
        ({"anomalyId": "a b"}, "entries[0].anomalyId: must be a transaction id"),
        ({"day": "2026-03-01"}, "entries[0].day: must be a day YYYYMMDD"),
        ({"function": "Nope"}, "entries[0].function: must be a contract function"),
        ({"payerName": "张三"}, "entries[0]: unknown field payerName"),
        ({"billCode": "46 01"}, "entries[0].billCode: must be 1 to 64 letters or digits"),
        ({"refused": {"kind": "Forbidden"}}, "entries[0].refused: must hold exactly"),
    ],
)
def test_a_bad_entry_is_refused_naming_its_field(
    world: World, change: dict[str, Any], message: str
) -> None:
    entry = {**_entry(world), **change}
    world.refused(
        FINANCE,
        "RecordAnomalies",
        json.dumps([entry], ensure_ascii=False),
        status=400,
        message=f"InvalidArgument: {message}",
        code="invalid-argument",
    )


def test_only_finance_anchors(world: World) -> None:
    entry = _entry(world)
    world.refused(
        SUPERVISOR,
        "RecordAnomalies",
        json.dumps([entry]),
        status=403,
        message="Forbidden: RecordAnomalies may be called by finance",
        code="not-authorised",
    )


def test_the_spool_file_is_private_durable_and_deduplicated(tmp_path: Path) -> None:
    path = tmp_path / "finance" / "anomalies" / "spool.jsonl"
    first, second = Spool(path), Spool(path)  # two servers share one file
    entry = {"anomalyId": "tx-1", "type": "over-claim"}
    assert first.append(entry) is True
    assert second.append(entry) is False  # learnt from the file, not from memory
    assert first.append({"anomalyId": "tx-2", "type": "over-claim"}) is True
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    read = read_spool(path)
    assert [e["anomalyId"] for e in read.entries] == ["tx-1", "tx-2"]
    assert read_spool(path, read.next_offset).entries == []


def test_a_half_written_line_is_left_for_the_next_read(tmp_path: Path) -> None:
    path = tmp_path / "spool.jsonl"
    path.write_text('{"anomalyId": "tx-1"}\n{"anomalyId": "tx')
    read = read_spool(path)
    assert [e["anomalyId"] for e in read.entries] == ["tx-1"]
    assert read.next_offset == len('{"anomalyId": "tx-1"}\n')
    assert read_spool(tmp_path / "missing.jsonl").entries == []
