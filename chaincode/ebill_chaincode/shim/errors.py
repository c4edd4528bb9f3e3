"""Errors a transaction function may raise, and errors of the wire protocol.

A :class:`ChaincodeError` becomes a peer ``Response`` with the class's ``status`` and the
message ``"<Kind>: <text>"``; clients parse the kind from that prefix. Any other
exception becomes status 500 with a generic message (see :mod:`.contract`).
"""

from __future__ import annotations


class ChaincodeError(Exception):
    """Base of the application errors; subclasses fix ``kind`` and ``status``."""

    kind = "Internal"
    status = 500

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    @property
    def message(self) -> str:
        """The client-facing message, ``"<Kind>: <text>"``."""
        return f"{self.kind}: {self.text}"


class InvalidArgument(ChaincodeError):
    """The request is malformed or breaks a validation rule (400)."""

    kind = "InvalidArgument"
    status = 400


class Forbidden(ChaincodeError):
    """The caller may not do this (403)."""

    kind = "Forbidden"
    status = 403


class NotFound(ChaincodeError):
    """The addressed object does not exist (404)."""

    kind = "NotFound"
    status = 404


class Conflict(ChaincodeError):
    """The request conflicts with the current state, e.g. a duplicate (409)."""

    kind = "Conflict"
    status = 409


class ShimError(Exception):
    """A failure of the shim itself (not of the application)."""


class PeerError(ShimError):
    """The peer answered a state request with an ERROR message."""


class StreamClosed(ShimError):
    """The stream to the peer ended while a transaction was waiting on it."""
