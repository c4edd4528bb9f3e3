"""The exit codes of ``ebill``, which scripts rely on, and the error each one means."""

from __future__ import annotations

from .errors import Conflict, InvalidInput, NetworkUnavailable, NotAuthorised, NotFound

EXIT_OK = 0
EXIT_OTHER = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_NOT_AUTHORISED = 4
EXIT_CONFLICT = 5
EXIT_INVALID = 6
EXIT_UNAVAILABLE = 7
EXIT_DIFFERENT = 8
EXIT_CODES = {
    EXIT_OK: "ok",
    EXIT_OTHER: "other error",
    EXIT_USAGE: "usage: bad command line",
    EXIT_NOT_FOUND: "not found (unit, batch, bill)",
    EXIT_NOT_AUTHORISED: "not authorised: the identity may not do this",
    EXIT_CONFLICT: "conflict or refused by a rule (closed bill, over-claim, lock, stock...)",
    EXIT_INVALID: "invalid input (a field or argument breaks a rule)",
    EXIT_UNAVAILABLE: "network unavailable (not started, unreachable, timed out)",
    EXIT_DIFFERENT: "a check found differences (ebill index verify)",
}


class UsageError(Exception):
    """A command line that cannot run (exit 2)."""


def exit_code(error: BaseException) -> int:
    """The exit code for an error (see EXIT_CODES)."""
    for cls, code in (
        (UsageError, EXIT_USAGE),
        (NotFound, EXIT_NOT_FOUND),
        (NotAuthorised, EXIT_NOT_AUTHORISED),
        (Conflict, EXIT_CONFLICT),
        (InvalidInput, EXIT_INVALID),
        (NetworkUnavailable, EXIT_UNAVAILABLE),
    ):
        if isinstance(error, cls):
            return code
    return EXIT_OTHER
