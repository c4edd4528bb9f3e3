"""Signed session cookies and CSRF tokens.

The cookie holds only a random session id and its HMAC-SHA256 under the portal's secret
(``<id>.<mac>``), HttpOnly, Secure, SameSite=Strict; the session itself (user, CSRF
token, a payer's bill keys) stays in the state file. Every form carries the session's
CSRF token, compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac

COOKIE = "ebill_portal_session"
LANG_COOKIE = "ebill_portal_lang"


def sign(secret: bytes, session_id: str) -> str:
    """The cookie value for ``session_id``."""
    mac = hmac.new(secret, session_id.encode(), hashlib.sha256).hexdigest()
    return f"{session_id}.{mac}"


def unsign(secret: bytes, value: str | None) -> str | None:
    """The session id of a cookie value whose signature is valid, else None."""
    if not value or "." not in value:
        return None
    session_id, _, mac = value.rpartition(".")
    expected = hmac.new(secret, session_id.encode(), hashlib.sha256).hexdigest()
    return session_id if hmac.compare_digest(mac, expected) else None


def csrf_ok(expected: str, given: str | None) -> bool:
    """Whether a form's token is the session's."""
    return bool(given) and hmac.compare_digest(expected, given or "")
