"""Anomalies: refusals that supervisors must see, recorded without the offender's help.

Some refusals are not mere mistakes but signs of abuse or broken systems (see
:data:`TYPES`): a claim or lock on a closed, reimbursed, red-lettered or over-claimed
bill, a repeated claim, a red-letter attempt after a claim or while locked, issuance
outside stock or by a suspended unit, a second lock while locked.

Such a refusal is an error like any other (status 403/409, message
``"<Kind> [<anomaly type>]: <text>"``, see :mod:`.codes`): endorsement fails for every
client, so nobody mistakes it for success. The offender would never submit it, so the
log does not depend on the offender: the finance department's chaincode server, which
endorses every proposal, appends each anomaly to a local *spool* before answering
(:class:`Spool`, file named by ``CHAINCODE_ANOMALY_SPOOL``; JSON lines, directory 0700,
file 0600, fsync'd, one line per anomaly id since several endorsers run one proposal).
Finance then anchors the spooled entries on the chain with ``RecordAnomalies``
(finance only, idempotent by anomaly id). Each entry holds the anomaly id (the refused
proposal's transaction id), type, function, the bill or unit subject, the refusal's
kind, code and text, the caller's MSP and actor id (``payer`` for a payer, never the
person), and the proposal time: nothing personal.

On the chain an anomaly is the record ``anomaly / yyyymmdd / anomalyId`` (the proposal
day in China Standard Time) with its index ``anomaly~type / type / yyyymmdd /
anomalyId``, read by ``ListAnomalies``; the record's ``anchor`` names the
RecordAnomalies transaction.

Plain validation errors, plain Forbidden (e.g. a caller without the role) and plain
Conflicts (e.g. a duplicate bill number) are ordinary errors: nothing is spooled.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..shim.errors import ChaincodeError, InvalidArgument
from ..shim.stub import Stub
from . import access, keys, ledger
from .codes import CODES
from .router import transaction
from .vocabulary import ANOMALY_TYPES

TYPES = ANOMALY_TYPES

#: The environment variable of the chaincode server naming the spool file.
SPOOL_ENV = "CHAINCODE_ANOMALY_SPOOL"
#: Most entries one RecordAnomalies call takes.
MAX_BATCH = 100


class Anomaly(ChaincodeError):
    """A refusal to log as an anomaly: the kind and status of ``error``, code = type."""

    def __init__(
        self, error: ChaincodeError, anomaly_type: str, subject: Mapping[str, str]
    ) -> None:
        if anomaly_type not in TYPES:
            raise ValueError(f"unknown anomaly type {anomaly_type!r}")
        super().__init__(error.text, anomaly_type)
        self.kind = error.kind
        self.status = error.status
        self.anomaly_type = anomaly_type
        self.subject = dict(subject)


def spool_entry(stub: Stub, function: str, anomaly: Anomaly) -> dict[str, Any]:
    """The spool line for an anomaly raised by ``function`` in the stub's proposal."""
    actor = access.caller(stub)
    return {
        "anomalyId": stub.tx_id,
        "type": anomaly.anomaly_type,
        "function": function,
        "refused": {"kind": anomaly.kind, "code": anomaly.code, "message": anomaly.text},
        "day": ledger.local_day(stub),
        **anomaly.subject,
        "lastAction": ledger.last_action(stub, function, actor),
    }


class Spool:
    """The durable local anomaly spool of one chaincode server (JSON lines).

    :meth:`observe` is the shim's error observer; :meth:`append` writes an entry once
    per anomaly id, also across processes sharing the file (``flock``), fsync'd.
    ``OSError`` when the file cannot be written.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        self._offset = 0
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600))
        os.chmod(path, 0o600)

    def observe(self, stub: Stub, function: str, error: ChaincodeError) -> None:
        """Spool ``error`` if it is an anomaly; ordinary errors are ignored."""
        if isinstance(error, Anomaly):
            self.append(spool_entry(stub, function, error))

    def append(self, entry: Mapping[str, Any]) -> bool:
        """Append the entry unless its anomaly id is spooled; True if written."""
        line = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        with self._lock:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._catch_up(fd)
                if entry["anomalyId"] in self._seen:
                    return False
                os.write(fd, (line + "\n").encode("utf-8"))
                os.fsync(fd)
                self._offset = os.fstat(fd).st_size
                self._seen.add(str(entry["anomalyId"]))
                return True
            finally:
                os.close(fd)

    def _catch_up(self, fd: int) -> None:
        """Learn the ids other processes appended since the last look."""
        size = os.fstat(fd).st_size
        if size <= self._offset:
            return
        data = os.pread(fd, size - self._offset, self._offset)
        for raw in data.splitlines():
            try:
                self._seen.add(str(json.loads(raw)["anomalyId"]))
            except (ValueError, KeyError, TypeError):
                continue
        self._offset = size


# --- anchoring --------------------------------------------------------------------------

_DAY = re.compile(r"\d{8}")
_TOKEN = re.compile(r"[A-Za-z0-9._-]{1,64}")
_SUBJECT = ("billCode", "billNumber", "unitCode")
_ENTRY_FIELDS = {"anomalyId", "type", "function", "refused", "day", "lastAction"}
_ACTION_FIELDS = {"function", "txId", "org", "actorId", "at"}


def _text(value: Any, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise InvalidArgument(f"{field}: must be a text of 1 to {limit} characters")
    return value


def _match(value: Any, field: str, pattern: re.Pattern[str], rule: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InvalidArgument(f"{field}: must be {rule}")
    return value


def check_entry(entry: Any, where: str) -> dict[str, Any]:
    """A spool entry checked field by field; InvalidArgument naming the field otherwise."""
    if not isinstance(entry, dict):
        raise InvalidArgument(f"{where}: must be a JSON object")
    unknown = set(entry) - _ENTRY_FIELDS - set(_SUBJECT)
    missing = _ENTRY_FIELDS - set(entry)
    if unknown or missing:
        names = ", ".join(sorted(unknown)) or ", ".join(sorted(missing))
        raise InvalidArgument(f"{where}: {'unknown' if unknown else 'missing'} field {names}")
    anomaly_id = _match(entry["anomalyId"], f"{where}.anomalyId", _TOKEN, "a transaction id")
    anomaly_type = entry["type"]
    if anomaly_type not in TYPES:
        raise InvalidArgument(f"{where}.type: must be one of {', '.join(TYPES)}")
    function = entry["function"]
    if function not in access.RULES:
        raise InvalidArgument(f"{where}.function: must be a contract function")
    _match(entry["day"], f"{where}.day", _DAY, "a day YYYYMMDD")
    for name in _SUBJECT:
        if name in entry:
            _match(entry[name], f"{where}.{name}", _TOKEN, "1 to 64 letters or digits")
    refused = entry["refused"]
    if not isinstance(refused, dict) or set(refused) != {"kind", "code", "message"}:
        raise InvalidArgument(f"{where}.refused: must hold exactly kind, code, message")
    if (refused["kind"], refused["code"]) != (CODES[anomaly_type][0], anomaly_type):
        raise InvalidArgument(f"{where}.refused: kind and code must be those of the type")
    _text(refused["message"], f"{where}.refused.message", 1000)
    action = entry["lastAction"]
    if not isinstance(action, dict) or set(action) != _ACTION_FIELDS:
        raise InvalidArgument(f"{where}.lastAction: must hold exactly {sorted(_ACTION_FIELDS)}")
    if (action["txId"], action["function"]) != (anomaly_id, function):
        raise InvalidArgument(f"{where}.lastAction: txId and function must be the entry's")
    _match(action["org"], f"{where}.lastAction.org", _TOKEN, "an MSP id")
    _text(action["actorId"], f"{where}.lastAction.actorId", 1000)
    _text(action["at"], f"{where}.lastAction.at", 40)
    return entry


@transaction("RecordAnomalies")
def record_anomalies(stub: Stub, entries_json: str) -> dict[str, Any]:
    """Finance anchors spooled anomalies (a JSON array of 1..100 spool entries).

    Idempotent by anomaly id: an entry already on the chain is skipped. Returns
    ``{"recorded": [ids], "known": [ids]}``. InvalidArgument naming the bad field;
    Forbidden for anyone but finance.
    """
    actor = access.allow(stub, "RecordAnomalies")
    try:
        entries = json.loads(entries_json)
    except ValueError:
        raise InvalidArgument("entriesJSON: must be a JSON array") from None
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_BATCH:
        raise InvalidArgument(f"entriesJSON: must be a JSON array of 1 to {MAX_BATCH} entries")
    checked = [check_entry(entry, f"entries[{i}]") for i, entry in enumerate(entries)]
    ids = [entry["anomalyId"] for entry in checked]
    if len(set(ids)) != len(ids):
        raise InvalidArgument("entriesJSON: an anomaly id appears twice")
    recorded: list[str] = []
    known: list[str] = []
    anchor = {"txId": stub.tx_id, "org": actor.msp_id, "at": ledger.now(stub)}
    for entry in checked:
        key = keys.anomaly(entry["day"], entry["anomalyId"])
        if stub.get_state(key) is not None:
            known.append(entry["anomalyId"])
            continue
        ledger.put(stub, key, {**entry, "anchor": anchor})
        ledger.mark(stub, keys.anomaly_by_type(entry["type"], entry["day"], entry["anomalyId"]))
        recorded.append(entry["anomalyId"])
    ledger.emit(stub, "RecordAnomalies", recorded=recorded, known=len(known))
    return {"recorded": recorded, "known": known}


__all__ = ["MAX_BATCH", "SPOOL_ENV", "TYPES", "Anomaly", "Spool", "check_entry"]
