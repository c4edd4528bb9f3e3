"""Asynchronous submits: ``Prefer: respond-async`` answers 202 and an operation to poll.

The operation runs in a worker thread; its state (``running``, ``done``, ``failed``),
the HTTP status and body it would have answered synchronously (with the transaction
ids in the records' ``lastAction``) are kept in the state store, so a client polling
``GET /v1/operations/{id}`` after a service restart still finds a finished operation
(one that was running at the restart is reported ``failed`` with code ``interrupted``:
retry it with the same Idempotency-Key).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .store import Store


class Operations:
    """The asynchronous operations of one service."""

    def __init__(self, store: Store, *, workers: int = 8) -> None:
        self.store = store
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="ebill-op")
        with store.transaction() as db:
            db.execute(
                "UPDATE operations SET state='failed', status=503, finished_at=?, body=?"
                " WHERE state='running'",
                (time.time(), json.dumps({"code": "interrupted"})),
            )

    def start(self, client_id: str, name: str, run: Callable[[], tuple[int, Any]]) -> str:
        """Run ``run`` (which answers status and body) in the background; its id."""
        operation_id = secrets.token_hex(16)
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO operations (operation_id, client_id, name, state, created_at)"
                " VALUES (?, ?, ?, 'running', ?)",
                (operation_id, client_id, name, time.time()),
            )

        def job() -> None:
            status, body = run()
            state = "done" if status < 400 else "failed"
            with self.store.transaction() as db:
                db.execute(
                    "UPDATE operations SET state=?, status=?, body=?, finished_at=?"
                    " WHERE operation_id=?",
                    (
                        state,
                        status,
                        json.dumps(body, ensure_ascii=False),
                        time.time(),
                        operation_id,
                    ),
                )

        self._pool.submit(job)
        return operation_id

    def get(self, client_id: str, operation_id: str) -> dict[str, Any] | None:
        """The operation if it is ``client_id``'s own; None otherwise."""
        with self.store.transaction() as db:
            row = db.execute(
                "SELECT * FROM operations WHERE operation_id=? AND client_id=?",
                (operation_id, client_id),
            ).fetchone()
        if row is None:
            return None
        return {
            "operationId": row["operation_id"],
            "name": row["name"],
            "state": row["state"],
            "status": row["status"],
            "result": json.loads(row["body"]) if row["body"] else None,
        }

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)
