"""Anomalies: refusals that supervisors must see, and how they are logged.

Some refusals are not mere mistakes but signs of abuse or broken systems (see
:data:`TYPES`): a claim or lock on a closed, reimbursed, red-lettered or over-claimed
bill, a repeated claim, a red-letter attempt after a claim or while locked, issuance
outside stock or by a suspended unit, a second lock while locked.

A failed Fabric transaction writes nothing, so a function that refuses with an
anomaly does **not** fail: it returns status 200 with the payload ::

    {"refused": {"kind": "Conflict" | "Forbidden", "message": "<why>"},
     "anomaly": "<anomaly id>"}

and writes nothing but the anomaly record (key ``anomaly / yyyymmdd / txId``, the day
in China Standard Time) and its index (``anomaly~type / type / yyyymmdd / txId``).
The anomaly id is the transaction id. The client library turns a ``refused`` payload
into the exception of that kind, so callers see an error either way; submit such
transactions like any other so that the log is committed. The transaction's event is
named after the function as always, with ``refused``, ``anomaly`` and ``anomalyType``.

Plain validation errors, plain Forbidden (e.g. a caller without the role) and plain
Conflicts (e.g. a duplicate bill number) are ordinary errors: nothing is logged.

Functions raise :class:`Anomaly`; the router (:func:`.router.transaction`) catches it
and calls :func:`record`. Outside the router an Anomaly is an ordinary error of its kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..shim.errors import ChaincodeError
from ..shim.stub import Stub
from . import keys, ledger
from .access import caller

TYPES: dict[str, str] = {
    "issuance-outside-stock": "a bill number outside the unit's approved, unreconciled stock",
    "issuance-by-suspended-unit": "issuance or red-lettering by a suspended unit",
    "lock-while-locked": "a lock on a bill another lock holds",
    "lock-on-reimbursed-bill": "a lock on a fully reimbursed (closed) bill",
    "lock-on-red-lettered-bill": "a lock on a red-lettered (void) bill",
    "lock-on-archived-bill": "a lock on an archived bill",
    "claim-on-reimbursed-bill": "a claim on a fully reimbursed (closed) bill",
    "claim-on-red-lettered-bill": "a claim on a red-lettered (void) bill",
    "claim-on-archived-bill": "a claim on an archived bill",
    "over-claim": "a claim that would take the reimbursed total above the bill's amount",
    "repeated-claim": "a second claim (or lock) by a reimburser that has claimed the bill",
    "red-letter-while-locked": "a red-letter attempt while a reimburser holds the lock",
    "red-letter-after-claim": "a red-letter attempt on a bill that has been claimed",
}


class Anomaly(ChaincodeError):
    """A refusal to log as an anomaly; has the kind and status of ``error``."""

    def __init__(
        self, error: ChaincodeError, anomaly_type: str, subject: Mapping[str, str]
    ) -> None:
        if anomaly_type not in TYPES:
            raise ValueError(f"unknown anomaly type {anomaly_type!r}")
        super().__init__(error.text)
        self.kind = error.kind
        self.status = error.status
        self.anomaly_type = anomaly_type
        self.subject = dict(subject)


def record(stub: Stub, function: str, anomaly: Anomaly) -> dict[str, Any]:
    """Log the anomaly (record, index, event) and return the refused payload."""
    day = ledger.local_day(stub)
    actor = caller(stub)
    entry: dict[str, Any] = {
        "anomalyId": stub.tx_id,
        "type": anomaly.anomaly_type,
        "function": function,
        "refused": {"kind": anomaly.kind, "message": anomaly.text},
        "day": day,
        **anomaly.subject,
        "lastAction": ledger.last_action(stub, function, actor),
    }
    ledger.put(stub, keys.anomaly(day, stub.tx_id), entry)
    ledger.mark(stub, keys.anomaly_by_type(anomaly.anomaly_type, day, stub.tx_id))
    ledger.emit(
        stub,
        function,
        **anomaly.subject,
        refused=anomaly.kind,
        anomaly=stub.tx_id,
        anomalyType=anomaly.anomaly_type,
    )
    return {"refused": {"kind": anomaly.kind, "message": anomaly.text}, "anomaly": stub.tx_id}
