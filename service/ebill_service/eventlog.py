"""The chaincode events the service followed, in the state store, and who may see each.

Each committed event gets the id ``<block>:<transaction id>:<index>`` (``index``: its
position among the contract's events of that block), which is also its checkpoint: the
follower records an event, its checkpoint and the webhook deliveries it causes in one
store transaction, so a restart resumes after the last recorded event, never losing or
repeating one. The SSE stream and the webhooks read from this log.

The contract's events carry no personal data: bill code and number, status, unit,
reimburser id, batch id, amounts and the submitting MSP (see ``ledger.emit``). Only
those fields are kept (:data:`FIELDS`), so a later contract change cannot leak more.

Who sees what (:class:`Audience`): a unit's identities (issuer, clerk) see the events of
their unit (a bill's events name their unit through the bill's IssueBill); a
reimburser the events naming its reimburser id; finance and supervisors all events;
the payer platform none.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fabricgw import ChaincodeEvent

from .store import Store

#: The payload fields an event keeps (the contract's events carry only these).
FIELDS = (
    "billCode",
    "billNumber",
    "status",
    "unitCode",
    "reimburserId",
    "batchId",
    "redBillNumber",
    "amount",
    "recorded",
    "known",
    "org",
)

#: The contract's functions that are submitted, whose events subscribers can ask for.
EVENT_TYPES = (
    "RegisterUnit",
    "SuspendUnit",
    "ResumeUnit",
    "ApplyStock",
    "ApproveStock",
    "RejectStock",
    "ReconcileStock",
    "DepositBillPrivate",
    "IssueBill",
    "RedLetterBill",
    "ArchiveBill",
    "AuthoriseReimburser",
    "RevokeAuthorisation",
    "LockBill",
    "ClaimBill",
    "UnlockBill",
    "RecordAnomalies",
)


@dataclass(frozen=True)
class Audience:
    """Which events an identity may see: ``all``, one ``unit`` or one ``reimburser``."""

    kind: str
    value: str = ""

    @staticmethod
    def of(attributes: dict[str, str]) -> Audience | None:
        """The audience of an identity with these certificate attributes; None: no events."""
        role = attributes.get("role", "")
        if role in ("finance", "supervisor"):
            return Audience("all")
        if role in ("issuer", "clerk") and attributes.get("unit"):
            return Audience("unit", attributes["unit"])
        if role == "reimburser" and attributes.get("reimburser"):
            return Audience("reimburser", attributes["reimburser"])
        return None

    def text(self) -> str:
        return self.kind if self.kind == "all" else f"{self.kind}:{self.value}"

    @staticmethod
    def parse(text: str) -> Audience:
        kind, _, value = text.partition(":")
        return Audience(kind, value)

    def sql(self) -> tuple[str, tuple[str, ...]]:
        """A WHERE condition on ``events`` selecting what this audience sees."""
        if self.kind == "all":
            return "1=1", ()
        column = "unit" if self.kind == "unit" else "reimburser"
        return f"{column} = ?", (self.value,)

    def sees(self, unit: str | None, reimburser: str | None) -> bool:
        if self.kind == "all":
            return True
        return (unit if self.kind == "unit" else reimburser) == self.value


def event_json(row: sqlite3.Row) -> dict[str, Any]:
    """The public form of a recorded event (SSE data and webhook body)."""
    return {
        "id": row["event_id"],
        "type": row["type"],
        "blockNumber": row["block"],
        "txId": row["tx_id"],
        "unitCode": row["unit"],
        "billCode": row["bill_code"],
        "billNumber": row["bill_number"],
        "data": json.loads(row["payload"]),
    }


def parse_event_id(text: str) -> tuple[int, int] | None:
    """``(block, index)`` of an event id ``block:tx:index``; None if malformed."""
    parts = text.split(":")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[2].isdigit():
        return None
    return int(parts[0]), int(parts[2])


class StoredCheckpoint:
    """The follower's checkpoint as the store holds it (a fabricgw Checkpoint)."""

    def __init__(self, block_number: int | None, transaction_id: str | None) -> None:
        self.block_number = block_number
        self.transaction_id = transaction_id


class EventLog:
    """The recorded events in the service's store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def checkpoint(self) -> StoredCheckpoint:
        """Where following resumes (nothing recorded: block and transaction None)."""
        with self.store.transaction() as db:
            row = db.execute("SELECT block, tx_id FROM event_checkpoint WHERE one=1").fetchone()
        if row is None:
            return StoredCheckpoint(None, None)
        return StoredCheckpoint(row["block"], row["tx_id"])

    def append(self, event: ChaincodeEvent) -> int:
        """Record ``event``, its checkpoint and its webhook deliveries; its sequence number."""
        try:
            raw = json.loads(event.payload)
        except ValueError:
            raw = {}
        payload = {k: raw[k] for k in FIELDS if isinstance(raw, dict) and k in raw}
        code, number = payload.get("billCode"), payload.get("billNumber")
        with self.store.transaction() as db:
            index = db.execute(
                "SELECT COUNT(*) FROM events WHERE block=?", (event.block_number,)
            ).fetchone()[0]
            unit = payload.get("unitCode")
            if code and number:
                if unit:
                    db.execute(
                        "INSERT OR IGNORE INTO event_bills VALUES (?, ?, ?)", (code, number, unit)
                    )
                    if payload.get("redBillNumber"):
                        db.execute(
                            "INSERT OR IGNORE INTO event_bills VALUES (?, ?, ?)",
                            (code, payload["redBillNumber"], unit),
                        )
                else:
                    found = db.execute(
                        "SELECT unit FROM event_bills WHERE bill_code=? AND bill_number=?",
                        (code, number),
                    ).fetchone()
                    unit = found["unit"] if found else None
            event_id = f"{event.block_number}:{event.transaction_id}:{index}"
            cursor = db.execute(
                "INSERT INTO events (event_id, block, tx_id, idx, type, unit, reimburser,"
                " bill_code, bill_number, payload, received_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    event_id,
                    event.block_number,
                    event.transaction_id,
                    index,
                    event.event_name,
                    unit,
                    payload.get("reimburserId"),
                    code,
                    number,
                    json.dumps(payload, sort_keys=True),
                    time.time(),
                ),
            )
            seq = int(cursor.lastrowid or 0)
            db.execute(
                "INSERT INTO event_checkpoint (one, block, tx_id) VALUES (1, ?, ?)"
                " ON CONFLICT (one) DO UPDATE SET block=excluded.block, tx_id=excluded.tx_id",
                (event.block_number, event.transaction_id),
            )
            self._deliveries(db, seq, event.event_name, unit, payload.get("reimburserId"))
        return seq

    def _deliveries(
        self,
        db: sqlite3.Connection,
        seq: int,
        kind: str,
        unit: str | None,
        reimburser: str | None,
    ) -> None:
        hooks = db.execute(
            "SELECT webhook_id, types, unit, scope FROM webhooks WHERE deleted_at IS NULL"
        ).fetchall()
        now = time.time()
        for hook in hooks:
            types = json.loads(hook["types"])
            if types and kind not in types:
                continue
            if hook["unit"] and hook["unit"] != unit:
                continue
            if not Audience.parse(hook["scope"]).sees(unit, reimburser):
                continue
            db.execute(
                "INSERT INTO deliveries (webhook_id, seq, state, next_at)"
                " VALUES (?, ?, 'pending', ?)",
                (hook["webhook_id"], seq, now),
            )

    def seq_after(self, last_event_id: str | None) -> int:
        """The sequence number after which to resume for ``Last-Event-ID`` (0: from start)."""
        if not last_event_id:
            return 0
        with self.store.transaction() as db:
            row = db.execute("SELECT seq FROM events WHERE event_id=?", (last_event_id,)).fetchone()
            if row is not None:
                return int(row["seq"])
            position = parse_event_id(last_event_id)
            if position is None:
                return -1
            found = db.execute(
                "SELECT MAX(seq) FROM events WHERE block < ? OR (block = ? AND idx <= ?)",
                (position[0], position[0], position[1]),
            ).fetchone()[0]
        return int(found or 0)

    def read(
        self, audience: Audience, after: int, types: Iterable[str] = (), limit: int = 100
    ) -> list[sqlite3.Row]:
        """Up to ``limit`` events after sequence ``after`` that ``audience`` sees."""
        condition, args = audience.sql()
        wanted = list(types)
        if wanted:
            condition += f" AND type IN ({', '.join('?' for _ in wanted)})"
        with self.store.transaction() as db:
            return db.execute(
                f"SELECT * FROM events WHERE seq > ? AND {condition} ORDER BY seq LIMIT ?",
                (after, *args, *wanted, limit),
            ).fetchall()

    def get(self, seq: int) -> sqlite3.Row | None:
        with self.store.transaction() as db:
            row: sqlite3.Row | None = db.execute(
                "SELECT * FROM events WHERE seq=?", (seq,)
            ).fetchone()
        return row

    def last_block(self) -> int | None:
        with self.store.transaction() as db:
            found = db.execute("SELECT MAX(block) FROM events").fetchone()[0]
        return None if found is None else int(found)
