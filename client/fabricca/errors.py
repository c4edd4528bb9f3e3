"""Errors raised by the Fabric CA client.

Hierarchy::

    CAError                 any failure: transport, TLS, a malformed answer or an error
    |                       answer of the server (``status``, ``errors``)
    +-- AuthenticationError the server refused the credentials (HTTP 401): wrong
    |                       secret, unknown or revoked identity, revoked, expired or
    |                       foreign certificate, bad token
    +-- EnrollmentError     enroll or reenroll refused for another reason
    +-- RegistrationError   register refused (e.g. 409 "Identity 'x' is already registered")
    +-- RevocationError     revoke refused (e.g. 404 certificate not found)

The server hides the cause of an authentication failure from its client: it
answers 401 with code 20 and the message ``Authentication failure`` whatever
the cause, and logs the detail on its side only.

``str(error)`` holds the operation, the HTTP status and every ``(code, message)``
the server sent, e.g.::

    register failed (HTTP 409): [74] Identity 'alice' is already registered
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple


class ServerMessage(NamedTuple):
    """One entry of the ``errors`` list of a Fabric CA answer."""

    code: int
    message: str


# Error codes of fabric-ca v1.5 (lib/caerrors/servererror.go) that callers test most.
AUTHENTICATION_FAILURE = 20
"""Remote code of every 401 answer (the real cause is only in the server log)."""
AUTHORIZATION_FAILURE = 71
"""Remote code of 403 answers about missing rights."""
CSR_COMMON_NAME_MISMATCH = 77
"""The CSR common name differs from the enrollment ID."""
DUPLICATE_IDENTITY = 74
"""Register of a name that is already registered (HTTP 409)."""
CERTIFICATE_NOT_FOUND = 8
"""Revoke of an unknown serial/AKI pair (HTTP 404)."""
CERTIFICATE_ALREADY_REVOKED = 66
"""Revoke of a certificate that is already revoked (HTTP 404)."""
IDENTITY_NOT_FOUND = 10
"""Revoke of an unknown enrollment ID (HTTP 404)."""


class CAError(Exception):
    """A Fabric CA request failed.

    ``operation`` names the call (``enroll``, ``register``, ...); ``status`` is
    the HTTP status, or ``None`` when no HTTP answer arrived (connection, TLS,
    timeout) or it could not be read; ``errors`` are the server's messages.
    """

    def __init__(
        self,
        operation: str,
        detail: str = "",
        *,
        status: int | None = None,
        errors: Iterable[ServerMessage] = (),
    ) -> None:
        self.operation = operation
        self.detail = detail
        self.status = status
        self.errors: tuple[ServerMessage, ...] = tuple(errors)
        super().__init__(self._render())

    @property
    def code(self) -> int | None:
        """Code of the server's first error message, if any."""
        return self.errors[0].code if self.errors else None

    @property
    def message(self) -> str:
        """The server's messages joined by ``; ``, else the local detail."""
        if self.errors:
            return "; ".join(e.message for e in self.errors)
        return self.detail

    def _render(self) -> str:
        head = f"{self.operation} failed"
        if self.status is not None:
            head += f" (HTTP {self.status})"
        parts = [f"[{e.code}] {e.message}" for e in self.errors]
        if self.detail:
            parts.append(self.detail)
        return head + (": " + "; ".join(parts) if parts else "")


class AuthenticationError(CAError):
    """The server did not accept the caller's secret or certificate (HTTP 401)."""


class EnrollmentError(CAError):
    """Enroll or reenroll was refused for a reason other than authentication."""


class RegistrationError(CAError):
    """Register was refused for a reason other than authentication."""


class RevocationError(CAError):
    """Revoke was refused for a reason other than authentication."""


__all__ = [
    "AUTHENTICATION_FAILURE",
    "AUTHORIZATION_FAILURE",
    "CERTIFICATE_ALREADY_REVOKED",
    "CERTIFICATE_NOT_FOUND",
    "CSR_COMMON_NAME_MISMATCH",
    "DUPLICATE_IDENTITY",
    "IDENTITY_NOT_FOUND",
    "AuthenticationError",
    "CAError",
    "EnrollmentError",
    "RegistrationError",
    "RevocationError",
    "ServerMessage",
]
