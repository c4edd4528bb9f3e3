"""Webhooks: subscriptions of API clients, and the worker delivering events to them.

A subscription (``POST /v1/webhooks``) names an HTTPS URL, optionally event types and a
unit; the service makes a random 32-byte secret, returned once and kept in the 0600
state store (it must sign with it). Every event the subscriber's identity may see
(:class:`~.eventlog.Audience`) and the filter matches gets a delivery row, written with
the event itself: so each event is delivered at least once, also across a restart.

A delivery is a JSON POST of the event (:func:`~.eventlog.event_json`: id
``block:tx:index`` for de-duplication, type, unit, bill, transaction id) with
``Ebill-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``
and ``Ebill-Event-Id``. A 2xx answer ends it; anything else (or no answer) is retried
after ``backoff * 2**attempts`` seconds (at most ``backoff_cap``), up to
``max_attempts`` times, then the delivery is marked ``failed``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from .eventlog import EVENT_TYPES, Audience, event_json
from .problems import ServiceProblem
from .store import Store

log = logging.getLogger("ebill_service.webhooks")

SIGNATURE_HEADER = "Ebill-Signature"
_UNIT = re.compile(r"^[A-Z0-9]{2,20}$")


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Ebill-Signature`` header value of ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, body: bytes, header: str) -> bool:
    """Whether ``header`` is a valid signature of ``body`` with ``secret`` (receivers' check)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if not fields.get("t", "").isdigit() or "v1" not in fields:
        return False
    expected = sign(secret, body, int(fields["t"])).rsplit("v1=", 1)[1]
    return hmac.compare_digest(expected, fields["v1"])


def retry_delay(policy: DeliveryPolicy, attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones: doubling, capped."""
    return float(min(policy.backoff * 2 ** (attempts - 1), policy.backoff_cap))


@dataclass(frozen=True)
class DeliveryPolicy:
    """How deliveries are retried and over which TLS trust."""

    backoff: float = 1.0
    backoff_cap: float = 300.0
    max_attempts: int = 10
    timeout: float = 10.0
    poll: float = 0.25
    ca: Path | None = None
    allow_http: bool = False


class Webhooks:
    """The webhook subscriptions in the service's store."""

    def __init__(self, store: Store, policy: DeliveryPolicy) -> None:
        self.store = store
        self.policy = policy

    def _check(self, url: str, types: list[str], unit: str | None, audience: Audience) -> None:
        parts = urlsplit(url)
        schemes = ("https", "http") if self.policy.allow_http else ("https",)
        if parts.scheme not in schemes or not parts.hostname or len(url) > 2000:
            raise ServiceProblem(
                422, "validation", "Invalid webhook", "url: an https:// URL with a host"
            )
        unknown = sorted(set(types) - set(EVENT_TYPES))
        if unknown:
            raise ServiceProblem(
                422,
                "validation",
                "Invalid webhook",
                f"types: unknown event type {unknown[0]!r}; known: {', '.join(EVENT_TYPES)}",
            )
        if unit is not None and not _UNIT.match(unit):
            raise ServiceProblem(
                422, "validation", "Invalid webhook", "unit: 2-20 characters of A-Z and 0-9"
            )
        if unit is not None and audience.kind == "unit" and unit != audience.value:
            raise ServiceProblem(
                403,
                "not-authorised",
                "Forbidden",
                f"unit: this client sees the events of unit {audience.value} only",
            )

    def create(
        self,
        client_id: str,
        audience: Audience,
        url: str,
        types: list[str],
        unit: str | None,
    ) -> dict[str, Any]:
        """Subscribe ``url``; the subscription with its secret (shown this once only)."""
        self._check(url, types, unit, audience)
        webhook_id = secrets.token_hex(12)
        secret = "whsec_" + secrets.token_urlsafe(32)
        now = time.time()
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO webhooks (webhook_id, client_id, url, types, unit, scope, secret,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (webhook_id, client_id, url, json.dumps(types), unit, audience.text(), secret, now),
            )
        return {**self._public(webhook_id, url, types, unit, now), "secret": secret}

    @staticmethod
    def _public(
        webhook_id: str, url: str, types: list[str], unit: str | None, created: float
    ) -> dict[str, Any]:
        return {
            "webhookId": webhook_id,
            "url": url,
            "types": types,
            "unit": unit,
            "createdAt": created,
        }

    def list(self, client_id: str) -> list[dict[str, Any]]:
        """The client's active subscriptions (never their secrets)."""
        with self.store.transaction() as db:
            rows = db.execute(
                "SELECT * FROM webhooks WHERE client_id=? AND deleted_at IS NULL"
                " ORDER BY created_at",
                (client_id,),
            ).fetchall()
        return [
            self._public(r["webhook_id"], r["url"], json.loads(r["types"]), r["unit"],
                         r["created_at"])
            for r in rows
        ]  # fmt: skip

    def get(self, client_id: str, webhook_id: str) -> dict[str, Any] | None:
        """The client's subscription with its delivery counts; None if not its own."""
        with self.store.transaction() as db:
            row = db.execute(
                "SELECT * FROM webhooks WHERE webhook_id=? AND client_id=? AND deleted_at IS NULL",
                (webhook_id, client_id),
            ).fetchone()
            if row is None:
                return None
            counts = dict(
                db.execute(
                    "SELECT state, COUNT(*) FROM deliveries WHERE webhook_id=? GROUP BY state",
                    (webhook_id,),
                ).fetchall()
            )
        public = self._public(
            row["webhook_id"], row["url"], json.loads(row["types"]), row["unit"], row["created_at"]
        )
        public["deliveries"] = {
            state: int(counts.get(state, 0)) for state in ("pending", "delivered", "failed")
        }
        return public

    def delete(self, client_id: str, webhook_id: str) -> bool:
        """End the subscription (pending deliveries are dropped); False if not its own."""
        with self.store.transaction() as db:
            cursor = db.execute(
                "UPDATE webhooks SET deleted_at=? WHERE webhook_id=? AND client_id=?"
                " AND deleted_at IS NULL",
                (time.time(), webhook_id, client_id),
            )
            if cursor.rowcount:
                db.execute(
                    "DELETE FROM deliveries WHERE webhook_id=? AND state='pending'", (webhook_id,)
                )
        return bool(cursor.rowcount)


class Deliverer:
    """The thread that sends due deliveries and reschedules failed ones."""

    def __init__(self, store: Store, policy: DeliveryPolicy) -> None:
        self.store = store
        self.policy = policy
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ebill-webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        verify_tls = ssl.create_default_context(cafile=self.policy.ca)
        with httpx.Client(verify=verify_tls, timeout=self.policy.timeout) as client:
            while not self._stop.is_set():
                try:
                    sent = self.deliver_due(client)
                except Exception as error:  # a store error: log, keep going
                    log.warning("webhook delivery round failed: %s", type(error).__name__)
                    sent = 0
                if not sent:
                    self._stop.wait(self.policy.poll)

    def deliver_due(self, client: httpx.Client, limit: int = 20) -> int:
        """Send up to ``limit`` due deliveries; how many were tried."""
        now = time.time()
        with self.store.transaction() as db:
            due = db.execute(
                "SELECT d.webhook_id, d.seq, d.attempts, w.url, w.secret, e.*"
                " FROM deliveries d JOIN webhooks w USING (webhook_id)"
                " JOIN events e ON e.seq = d.seq"
                " WHERE d.state='pending' AND d.next_at <= ? ORDER BY d.seq LIMIT ?",
                (now, limit),
            ).fetchall()
        for row in due:
            if self._stop.is_set():
                break
            body = json.dumps(event_json(row), separators=(",", ":")).encode()
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(row["secret"], body, int(time.time())),
                "Ebill-Event-Id": row["event_id"],
            }
            status: int | None
            try:
                status = client.post(row["url"], content=body, headers=headers).status_code
            except httpx.HTTPError:
                status = None
            self._record(row["webhook_id"], row["seq"], int(row["attempts"]) + 1, status)
        return len(due)

    def _record(self, webhook_id: str, seq: int, attempts: int, status: int | None) -> None:
        now = time.time()
        policy = self.policy
        if status is not None and 200 <= status < 300:
            state, next_at = "delivered", now
        elif attempts >= policy.max_attempts:
            state, next_at = "failed", now
        else:
            state = "pending"
            next_at = now + retry_delay(policy, attempts)
        with self.store.transaction() as db:
            db.execute(
                "UPDATE deliveries SET state=?, attempts=?, next_at=?, last_status=?,"
                " delivered_at=? WHERE webhook_id=? AND seq=?",
                (
                    state,
                    attempts,
                    next_at,
                    status,
                    now if state == "delivered" else None,
                    webhook_id,
                    seq,
                ),
            )

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
