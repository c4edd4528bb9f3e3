"""ChaincodeEvent: an event emitted by a transaction function and committed to the ledger."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ChaincodeEvent:
    """An event set by a chaincode transaction (``SetEvent``) in a committed, valid transaction.

    ``chaincode_name`` is the chaincode that emitted it, ``event_name`` and
    ``payload`` what the transaction function set.
    """

    block_number: int
    transaction_id: str
    chaincode_name: str
    event_name: str
    payload: bytes


def chaincode_events_from_response(response: Any) -> Iterator[ChaincodeEvent]:
    """The events of a ``gateway.ChaincodeEventsResponse`` (one block), in order. Never raises."""
    block_number = int(response.block_number)
    for event in response.events:
        yield ChaincodeEvent(
            block_number=block_number,
            transaction_id=str(event.tx_id),
            chaincode_name=str(event.chaincode_id),
            event_name=str(event.event_name),
            payload=bytes(event.payload),
        )


__all__ = ["ChaincodeEvent", "chaincode_events_from_response"]
