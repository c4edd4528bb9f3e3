"""``Idempotency-Key``: a retried submit returns the first result, never a second effect.

A record per (API client, key) holds a hash of the request, its state (``started`` or
``done``), the secrets the first attempt generated (a bill's salt and check code, so a
retry issues the very same bill) and, once done, the response. A retry:

- of a done request returns the stored response (same status and body);
- of a started request that no attempt is running any more (the service restarted, or
  the chain's answer was lost) runs again with the same secrets: the party clients'
  submits are retry-safe (the same bill is found as already issued, the same claim as
  already claimed) so the chain sees at most one effect;
- of a request still running answers 409 ``idempotency-in-progress``;
- with another body under the same key answers 422 ``idempotency-mismatch``.

Only results that are final are stored: successes and refusals by the contract (4xx);
a failure with an unknown outcome (5xx) leaves the record started, to be retried.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from .problems import ServiceProblem
from .store import Store

_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


@dataclass(frozen=True)
class Attempt:
    """What a request under a key should do: ``replay`` a stored answer, or run."""

    key: str | None
    secrets: dict[str, str]
    replay: tuple[int, Any] | None = None


def request_hash(operation: str, body: Any) -> str:
    text = json.dumps([operation, body], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class Idempotency:
    """The idempotency records in the service's store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._running: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def begin(
        self, client_id: str, key: str | None, digest: str, new_secrets: dict[str, str]
    ) -> Attempt:
        """Start (or resume) the request; raises ServiceProblem 409/422 as documented."""
        if key is None:
            return Attempt(None, new_secrets)
        if not _KEY.match(key):
            raise ServiceProblem(
                422,
                "validation",
                "Invalid Idempotency-Key",
                "Idempotency-Key: 8-128 characters of A-Z a-z 0-9 . _ : -",
            )
        with self._lock:
            if (client_id, key) in self._running:
                raise ServiceProblem(
                    409,
                    "idempotency-in-progress",
                    "Request in progress",
                    "a request with this Idempotency-Key is still running; retry later",
                    headers={"Retry-After": "1"},
                )
            with self.store.transaction() as db:
                row = db.execute(
                    "SELECT * FROM idempotency WHERE client_id=? AND key=?", (client_id, key)
                ).fetchone()
                if row is None:
                    db.execute(
                        "INSERT INTO idempotency (client_id, key, request_hash, state, secrets,"
                        " created_at) VALUES (?, ?, ?, 'started', ?, ?)",
                        (client_id, key, digest, json.dumps(new_secrets), time.time()),
                    )
                    stored = new_secrets
                else:
                    if row["request_hash"] != digest:
                        raise ServiceProblem(
                            422,
                            "idempotency-mismatch",
                            "Idempotency-Key reused",
                            "this Idempotency-Key was used for another request",
                        )
                    if row["state"] == "done":
                        return Attempt(key, {}, (int(row["status"]), json.loads(row["body"])))
                    stored = json.loads(row["secrets"] or "{}")
            self._running.add((client_id, key))
        return Attempt(key, stored)

    def finish(
        self, client_id: str, attempt: Attempt, status: int | None, body: Any = None
    ) -> None:
        """Store the final answer (``status`` not None) or leave it to be retried."""
        if attempt.key is None:
            return
        try:
            if status is not None:
                with self.store.transaction() as db:
                    db.execute(
                        "UPDATE idempotency SET state='done', status=?, body=?, secrets=NULL"
                        " WHERE client_id=? AND key=?",
                        (status, json.dumps(body, ensure_ascii=False), client_id, attempt.key),
                    )
        finally:
            with self._lock:
                self._running.discard((client_id, attempt.key))
