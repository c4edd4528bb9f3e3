"""Read the finance chaincode's anomaly spool (JSON lines), for anchoring on the chain.

The chaincode server writes one line per anomaly (see ``ebill_chaincode.contract.
anomalies``); a line being written at the moment we read (no newline yet) is left for
the next read. The path comes from ``anomaly_spool`` in network.json or ``--spool``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InternalError, InvalidInput


@dataclass(frozen=True)
class SpoolRead:
    """Entries read from ``offset`` on, and the offset after the last whole line."""

    entries: list[dict[str, Any]]
    next_offset: int


def read_spool(path: Path, offset: int = 0) -> SpoolRead:
    """The whole lines of the spool from ``offset``; a missing spool is empty.

    Raises InternalError for a line that is not a JSON object.
    """
    try:
        with path.open("rb") as spool:
            spool.seek(offset)
            data = spool.read()
    except FileNotFoundError:
        return SpoolRead([], offset)
    end = data.rfind(b"\n") + 1
    entries: list[dict[str, Any]] = []
    for number, raw in enumerate(data[:end].splitlines(), 1):
        try:
            entry = json.loads(raw)
        except ValueError:
            entry = None
        if not isinstance(entry, dict):
            raise InternalError(f"anomaly spool {path}: line {number} is not a JSON object")
        entries.append(entry)
    return SpoolRead(entries, offset + end)


def spool_path(description: dict[str, Any], override: str | None = None) -> Path:
    """The spool path: ``override`` or network.json's ``anomaly_spool``; InvalidInput if neither."""
    value = override or description.get("anomaly_spool")
    if not value:
        raise InvalidInput("--spool: network.json names no anomaly_spool; give the path")
    return Path(str(value))
