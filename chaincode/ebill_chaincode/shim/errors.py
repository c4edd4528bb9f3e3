"""Errors a transaction function may raise, and errors of the wire protocol.

A :class:`ChaincodeError` becomes a peer ``Response`` with the class's ``status``
(always 400 or more, so endorsement fails for every client: the Go/Node/Java gateways
raise, ``peer chaincode invoke`` exits non-zero) and the message ::

    <Kind> [<code>]: <text>

``Kind`` is one of ``InvalidArgument``, ``Forbidden``, ``NotFound``, ``Conflict``,
``Internal``; ``code`` is a stable machine-readable code (lower-case words joined by
``-``); ``text`` is prose that may be reworded at any time. Clients parse the kind and
the code with :data:`MESSAGE_FORMAT` (or :func:`parse_message`), never the prose. Each
kind has a default code (:data:`DEFAULT_CODES`); the contract's specific codes are
listed in one table (``ebill_chaincode.contract.codes``). Any other exception becomes
status 500 ``Internal [internal]: ...`` with a generic message (see :mod:`.contract`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The form of every error message: kind, code, text.
MESSAGE_FORMAT = re.compile(
    r"(?P<kind>InvalidArgument|Forbidden|NotFound|Conflict|Internal)"
    r" \[(?P<code>[a-z0-9]+(?:-[a-z0-9]+)*)\]: (?P<text>.*)",
    re.S,
)
_CODE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

#: The code of an error of a kind when no specific code applies.
DEFAULT_CODES: dict[str, str] = {
    "InvalidArgument": "invalid-argument",
    "Forbidden": "not-authorised",
    "NotFound": "not-found",
    "Conflict": "conflict",
    "Internal": "internal",
}


@dataclass(frozen=True)
class ParsedMessage:
    """An error message taken apart: kind, code and the prose."""

    kind: str
    code: str
    text: str


def parse_message(message: str) -> ParsedMessage | None:
    """The kind, code and text of an error message; None if it is not of our form."""
    match = MESSAGE_FORMAT.fullmatch(message)
    if match is None:
        return None
    return ParsedMessage(match["kind"], match["code"], match["text"])


def format_message(kind: str, code: str, text: str) -> str:
    """The wire message ``"<Kind> [<code>]: <text>"``."""
    return f"{kind} [{code}]: {text}"


class ChaincodeError(Exception):
    """Base of the application errors; subclasses fix ``kind`` and ``status``.

    ``code`` defaults to the kind's code; a bad code is a ``ValueError`` (a bug).
    """

    kind = "Internal"
    status = 500

    def __init__(self, text: str, code: str | None = None) -> None:
        super().__init__(text)
        if code is not None and not _CODE.fullmatch(code):
            raise ValueError(f"error code {code!r} is not lower-case words joined by '-'")
        self.text = text
        self._code = code

    @property
    def code(self) -> str:
        """The stable machine-readable code."""
        return self._code or DEFAULT_CODES[self.kind]

    @property
    def message(self) -> str:
        """The client-facing message, ``"<Kind> [<code>]: <text>"``."""
        return format_message(self.kind, self.code, self.text)


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
