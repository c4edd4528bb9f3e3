"""API clients: each business system that calls the service, mapped to one identity.

A client is registered for one enrolled Fabric identity of the org (``user`` in
network.json, e.g. ``hospital1`` with role=issuer, unit=HN0101) and can act only as
that identity. Its API key is ``ebk_<client id>_<secret>`` with 32 random bytes of
secret, shown once; the store keeps only the SHA-256 of the key (a fast hash is enough
for a random 256-bit secret: there is nothing to guess). Rotation issues a new key and
keeps the previous one valid for a grace period (default none); revocation ends both.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass

from .store import Store

KEY_PREFIX = "ebk"
_CLIENT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


class ApiClientError(Exception):
    """A registration, rotation or revocation that cannot be done (named and why)."""


@dataclass(frozen=True)
class ApiClient:
    """A registered business system: which identity of which org it acts as."""

    client_id: str
    name: str
    org: str
    user: str
    created_at: float
    rotated_at: float | None
    revoked_at: float | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key(client_id: str) -> str:
    return f"{KEY_PREFIX}_{client_id}_{secrets.token_urlsafe(32)}"


class ApiClients:
    """The registry of API clients in the service's store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def register(self, client_id: str, name: str, org: str, user: str) -> str:
        """Register ``client_id`` acting as ``org/user``; returns its API key (shown once).

        Raises ApiClientError when the id is malformed or taken.
        """
        if not _CLIENT_ID.match(client_id):
            raise ApiClientError(
                f"client id {client_id!r}: 2-63 characters of a-z, 0-9 and '-',"
                " not starting with '-'"
            )
        key = _new_key(client_id)
        with self.store.transaction() as db:
            if db.execute("SELECT 1 FROM api_clients WHERE client_id=?", (client_id,)).fetchone():
                raise ApiClientError(f"client id {client_id!r} is already registered")
            db.execute(
                "INSERT INTO api_clients (client_id, name, org, user, key_hash, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (client_id, name, org, user, _hash(key), time.time()),
            )
        return key

    def rotate(self, client_id: str, *, grace_seconds: float = 0) -> str:
        """A new key for ``client_id``; the old one stays valid ``grace_seconds`` more.

        Raises ApiClientError for an unknown or revoked client.
        """
        key = _new_key(client_id)
        now = time.time()
        with self.store.transaction() as db:
            row = db.execute(
                "SELECT key_hash, revoked_at FROM api_clients WHERE client_id=?", (client_id,)
            ).fetchone()
            if row is None:
                raise ApiClientError(f"no API client {client_id!r}")
            if row["revoked_at"] is not None:
                raise ApiClientError(f"API client {client_id!r} is revoked")
            db.execute(
                "UPDATE api_clients SET key_hash=?, previous_hash=?, previous_until=?,"
                " rotated_at=? WHERE client_id=?",
                (_hash(key), row["key_hash"], now + grace_seconds, now, client_id),
            )
        return key

    def revoke(self, client_id: str) -> None:
        """Revoke ``client_id``: none of its keys is accepted from now on."""
        with self.store.transaction() as db:
            cursor = db.execute(
                "UPDATE api_clients SET revoked_at=?, previous_hash=NULL WHERE client_id=?"
                " AND revoked_at IS NULL",
                (time.time(), client_id),
            )
            if cursor.rowcount == 0:
                raise ApiClientError(f"no active API client {client_id!r}")

    def list(self) -> list[ApiClient]:
        """Every registered client, revoked ones included (never a key or a hash)."""
        with self.store.transaction() as db:
            rows = db.execute("SELECT * FROM api_clients ORDER BY client_id").fetchall()
        return [_client(row) for row in rows]

    def authenticate(self, key: str) -> ApiClient | None:
        """The active client whose current (or in-grace previous) key is ``key``."""
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            return None
        with self.store.transaction() as db:
            row = db.execute("SELECT * FROM api_clients WHERE client_id=?", (parts[1],)).fetchone()
        if row is None or row["revoked_at"] is not None:
            return None
        digest = _hash(key)
        if hmac.compare_digest(digest, row["key_hash"]):
            return _client(row)
        previous, until = row["previous_hash"], row["previous_until"]
        if previous and until and time.time() < until and hmac.compare_digest(digest, previous):
            return _client(row)
        return None


def _client(row: sqlite3.Row) -> ApiClient:
    return ApiClient(
        client_id=row["client_id"],
        name=row["name"],
        org=row["org"],
        user=row["user"],
        created_at=row["created_at"],
        rotated_at=row["rotated_at"],
        revoked_at=row["revoked_at"],
    )
