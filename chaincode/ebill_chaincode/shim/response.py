"""The outcome of one transaction, as sent to the peer in the COMPLETED message."""

from __future__ import annotations

from dataclasses import dataclass

#: Fabric treats a status at or above this as a failed endorsement.
ERROR_THRESHOLD = 400


@dataclass(frozen=True)
class Response:
    """Mirror of the peer ``Response`` protobuf: status, message and payload."""

    status: int
    message: str = ""
    payload: bytes = b""

    @property
    def ok(self) -> bool:
        """True when the peer will accept the result (status below 400)."""
        return self.status < ERROR_THRESHOLD
