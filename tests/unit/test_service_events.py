"""The service's event log, visibility, webhook signatures and retry schedule, without a
network (the network tests deliver them for real)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ebill_service.eventlog import Audience, EventLog
from ebill_service.problems import ServiceProblem
from ebill_service.store import Store
from ebill_service.webhooks import (
    Deliverer,
    DeliveryPolicy,
    Webhooks,
    retry_delay,
    sign,
    verify,
)
from fabricgw import ChaincodeEvent


def _event(block: int, tx: str, name: str, **payload: str) -> ChaincodeEvent:
    return ChaincodeEvent(block, tx, "ebill", name, json.dumps(payload).encode())


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "state.sqlite")


def test_events_get_ids_units_and_only_known_fields(store: Store) -> None:
    log = EventLog(store)
    log.append(_event(5, "t1", "IssueBill", billCode="C", billNumber="1", unitCode="HN0101",
                      payer="Zhang San"))  # fmt: skip
    log.append(_event(5, "t2", "LockBill", billCode="C", billNumber="1", reimburserId="MED"))
    log.append(_event(6, "t3", "ApplyStock", unitCode="HN0201", batchId="b"))
    checkpoint = log.checkpoint()
    assert (checkpoint.block_number, checkpoint.transaction_id) == (6, "t3")
    rows = log.read(Audience("all"), 0)
    assert [r["event_id"] for r in rows] == ["5:t1:0", "5:t2:1", "6:t3:0"]
    assert rows[1]["unit"] == "HN0101"  # the lock names its bill's unit
    assert "Zhang San" not in store.path.read_bytes().decode(errors="replace")
    assert [r["event_id"] for r in log.read(Audience("unit", "HN0101"), 0)] == ["5:t1:0", "5:t2:1"]
    assert [r["event_id"] for r in log.read(Audience("reimburser", "MED"), 0)] == ["5:t2:1"]
    assert log.seq_after("5:t1:0") == rows[0]["seq"]
    assert log.seq_after("5:unknown:1") == rows[1]["seq"]  # by position when not recorded
    assert log.seq_after("garbage") == -1
    assert Audience.of({"role": "platform"}) is None
    assert Audience.of({"role": "clerk", "unit": "HN0101"}) == Audience("unit", "HN0101")


def test_signatures_and_bounded_backoff(store: Store) -> None:
    body = b'{"id":"1:t:0"}'
    header = sign("s3cret", body, 1700000000)
    assert verify("s3cret", body, header)
    assert not verify("other", body, header) and not verify("s3cret", body + b" ", header)
    assert not verify("s3cret", body, "v1=00")

    policy = DeliveryPolicy(backoff=1.0, backoff_cap=4.0, max_attempts=4)
    assert [retry_delay(policy, n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 4.0, 4.0]
    hooks = Webhooks(store, policy)
    with pytest.raises(ServiceProblem, match="url"):
        hooks.create("c", Audience("all"), "http://example.org/x", [], None)
    with pytest.raises(ServiceProblem, match="unit"):
        hooks.create("c", Audience("unit", "HN0101"), "https://example.org/x", [], "HN0201")
    created = hooks.create("c", Audience("all"), "https://example.org/x", ["IssueBill"], None)
    assert created["secret"].startswith("whsec_")
    assert "secret" not in hooks.list("c")[0]
    log = EventLog(store)
    seq = log.append(_event(1, "t", "IssueBill", billCode="C", billNumber="1", unitCode="U"))
    log.append(_event(1, "u", "ApplyStock", unitCode="U"))  # not a subscribed type
    deliverer = Deliverer(store, policy)
    waits = []
    for attempt in range(1, 5):
        deliverer._record(created["webhookId"], seq, attempt, 500)
        with store.transaction() as db:
            row = db.execute("SELECT state FROM deliveries").fetchone()
        waits.append(row["state"])
    assert waits == ["pending", "pending", "pending", "failed"]
    assert hooks.get("c", created["webhookId"])["deliveries"] == {
        "pending": 0, "delivered": 0, "failed": 1,
    }  # fmt: skip
