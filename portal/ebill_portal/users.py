"""The portal's own users and sessions, in a 0600 SQLite state file.

A portal user has a username, an scrypt-hashed password and ONE service API client key
of its org (the key it calls the service with). A payer user also carries the payer's
type and id (the platform acts for that payer); a unit user its unit code; a supervisor
(an auditor of the audit org) sees the supervision dashboard. Sessions are
random ids kept here; the cookie carries the id signed (``ebill_portal.session``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: What a portal user is, and so which pages it sees.
PARTIES = ("payer", "unit", "finance", "supervisor")
SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
SESSION_SECONDS = 8 * 3600

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    password TEXT NOT NULL,
    party TEXT NOT NULL,
    org TEXT NOT NULL,
    api_key TEXT NOT NULL,
    payer_type TEXT,
    payer_id TEXT,
    unit_code TEXT
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    username TEXT,
    csrf TEXT NOT NULL,
    data TEXT NOT NULL,
    expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class UserError(ValueError):
    """A user that cannot be added: the message names the field and the rule."""


@dataclass(frozen=True)
class User:
    """A portal user (never rendered with its key)."""

    username: str
    party: str
    org: str
    api_key: str = field(repr=False)
    payer_type: str | None = None
    payer_id: str | None = field(default=None, repr=False)
    unit_code: str | None = None


@dataclass
class Session:
    """A visitor's session: the signed-in user (or none), its CSRF token and data."""

    id: str
    username: str | None
    csrf: str
    data: dict[str, Any]


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$<salt hex>$<hash hex>`` of ``password`` with a fresh 16-byte salt."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    """Whether ``password`` hashes to ``stored`` (constant-time compare)."""
    try:
        scheme, salt, _ = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    return hmac.compare_digest(hash_password(password, bytes.fromhex(salt)), stored)


class Store:
    """The state file: users, sessions and the portal's cookie-signing secret."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(path, 0o600)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)
        # a dummy hash so that an unknown username costs as much as a wrong password
        self._dummy = hash_password(secrets.token_hex(8))

    def close(self) -> None:
        self._db.close()

    def secret(self, name: str) -> bytes:
        """A random 32-byte secret made on first use and kept in the state file."""
        with self._lock:
            row = self._db.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
            if row:
                return bytes.fromhex(row[0])
            value = secrets.token_bytes(32)
            self._db.execute("INSERT INTO secrets VALUES (?, ?)", (name, value.hex()))
            return value

    def add_user(
        self,
        username: str,
        password: str,
        party: str,
        org: str,
        api_key: str,
        *,
        payer_type: str | None = None,
        payer_id: str | None = None,
        unit_code: str | None = None,
    ) -> User:
        """Add a user. Raises UserError naming the field (taken name, short password,
        unknown party, a payer without type and id, a unit user without its unit)."""
        if not username or not username.replace("-", "").replace("_", "").isalnum():
            raise UserError("username: letters, digits, - and _ only")
        if len(password) < 10:
            raise UserError("password: at least 10 characters")
        if party not in PARTIES:
            raise UserError(f"party: one of {', '.join(PARTIES)}")
        if not api_key.startswith("ebk_"):
            raise UserError("api_key: a key printed by `ebill service clients add`")
        if party == "payer" and not (payer_type and payer_id):
            raise UserError("payer_type, payer_id: required for a payer")
        if party == "unit" and not unit_code:
            raise UserError("unit_code: required for a unit user")
        user = User(username, party, org, api_key, payer_type, payer_id, unit_code)
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        username,
                        hash_password(password),
                        party,
                        org,
                        api_key,
                        payer_type,
                        payer_id,
                        unit_code,
                    ),
                )
            except sqlite3.IntegrityError:
                raise UserError(f"username: {username!r} exists") from None
        return user

    def remove_user(self, username: str) -> bool:
        with self._lock:
            self._db.execute("DELETE FROM sessions WHERE username = ?", (username,))
            return (
                self._db.execute("DELETE FROM users WHERE username = ?", (username,)).rowcount > 0
            )

    def list_users(self) -> list[User]:
        rows = self._db.execute(
            "SELECT username, party, org, api_key, payer_type, payer_id, unit_code FROM users"
        ).fetchall()
        return [User(*row) for row in rows]

    def user(self, username: str) -> User | None:
        row = self._db.execute(
            "SELECT username, party, org, api_key, payer_type, payer_id, unit_code FROM users "
            "WHERE username = ?",
            (username,),
        ).fetchone()
        return User(*row) if row else None

    def authenticate(self, username: str, password: str) -> User | None:
        """The user when the password is right, else None (same cost either way)."""
        row = self._db.execute(
            "SELECT password FROM users WHERE username = ?", (username,)
        ).fetchone()
        ok = check_password(password, row[0] if row else self._dummy)
        return self.user(username) if ok and row else None

    # sessions
    def new_session(self, username: str | None = None) -> Session:
        """A fresh session (a new id: signing in never keeps the anonymous one)."""
        session = Session(secrets.token_urlsafe(32), username, secrets.token_urlsafe(32), {})
        with self._lock:
            self._db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                (session.id, username, session.csrf, "{}", time.time() + SESSION_SECONDS),
            )
            self._db.execute("DELETE FROM sessions WHERE expires < ?", (time.time(),))
        return session

    def session(self, session_id: str) -> Session | None:
        row = self._db.execute(
            "SELECT id, username, csrf, data FROM sessions WHERE id = ? AND expires >= ?",
            (session_id, time.time()),
        ).fetchone()
        return Session(row[0], row[1], row[2], json.loads(row[3])) if row else None

    def save_session(self, session: Session) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE sessions SET data = ? WHERE id = ?",
                (json.dumps(session.data), session.id),
            )

    def end_session(self, session_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
