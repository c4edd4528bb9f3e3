"""The service's own state: one SQLite file, created 0600, safe across restarts.

Tables: ``api_clients`` (see :mod:`.apiclients`), ``idempotency`` (see
:mod:`.idempotency`), ``operations`` (see :mod:`.operations`), the chaincode events
followed (``events``, ``event_checkpoint``, ``event_bills``, see :mod:`.eventlog`),
``webhooks`` and their ``deliveries`` (see :mod:`.webhooks`) and the offline-signing
sessions (``offline``, see :mod:`.offline`). Every write is one
SQLite transaction; a connection per thread (the endpoints run in a thread pool).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_clients (
    client_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    org TEXT NOT NULL,
    user TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    previous_hash TEXT,
    previous_until REAL,
    created_at REAL NOT NULL,
    rotated_at REAL,
    revoked_at REAL
);
CREATE TABLE IF NOT EXISTS idempotency (
    client_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    secrets TEXT,
    status INTEGER,
    body TEXT,
    created_at REAL NOT NULL,
    PRIMARY KEY (client_id, key)
);
CREATE TABLE IF NOT EXISTS operations (
    operation_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    status INTEGER,
    body TEXT,
    created_at REAL NOT NULL,
    finished_at REAL
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    block INTEGER NOT NULL,
    tx_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    type TEXT NOT NULL,
    unit TEXT,
    reimburser TEXT,
    bill_code TEXT,
    bill_number TEXT,
    payload TEXT NOT NULL,
    received_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS events_block ON events (block, idx);
CREATE TABLE IF NOT EXISTS event_checkpoint (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    block INTEGER,
    tx_id TEXT
);
CREATE TABLE IF NOT EXISTS event_bills (
    bill_code TEXT NOT NULL,
    bill_number TEXT NOT NULL,
    unit TEXT NOT NULL,
    PRIMARY KEY (bill_code, bill_number)
);
CREATE TABLE IF NOT EXISTS webhooks (
    webhook_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    url TEXT NOT NULL,
    types TEXT NOT NULL,
    unit TEXT,
    scope TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at REAL NOT NULL,
    deleted_at REAL
);
CREATE TABLE IF NOT EXISTS deliveries (
    webhook_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL,
    last_status INTEGER,
    delivered_at REAL,
    PRIMARY KEY (webhook_id, seq)
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, next_at);
CREATE TABLE IF NOT EXISTS offline (
    session_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    function TEXT NOT NULL,
    data BLOB NOT NULL,
    transaction_id TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""


class Store:
    """The state file; :meth:`transaction` yields a connection inside one transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(path, 0o600)
        self._local = threading.local()
        self._connection().executescript(SCHEMA)  # executescript commits by itself

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            self._local.db = db
        return db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: committed on success, rolled back on an error."""
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
