"""The contract's records mapped to the read model's rows: the one place that knows them.

The projector applies a valid transaction's *writes*, not its event payloads: a write
carries the whole record the contract stored, so the rows are exactly the ledger's
state. This module says which keys matter (``unit``, ``stock``, ``bill``, ``anomaly``
and the private ``bill`` of collection ``billPrivate``; index markers and the stock
bookkeeping keys are derived data and skipped), which columns each record fills, and
how a bill counts in the daily figures (:func:`figures`). When the contract's interface
module describes records and events, only this module changes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ebill_chaincode.contract import keys
from ebill_chaincode.contract.lifecycle import KIND_RED, RED_LETTERED
from ebill_chaincode.contract.privacy import COLLECTION

from .schema import FIGURES

PRIVATE_COLLECTION = COLLECTION
UNIT, STOCK, BILL, ANOMALY = keys.UNIT, keys.STOCK, keys.BILL, keys.ANOMALY
MAPPED = (UNIT, STOCK, BILL, ANOMALY)

Row = dict[str, Any]


class RecordError(ValueError):
    """A stored value that is not the record its key promises (names the key)."""


@dataclass(frozen=True)
class Key:
    """A contract key split into its type and parts."""

    type: str
    parts: tuple[str, ...]

    def __str__(self) -> str:
        return "/".join((self.type, *self.parts))


def parse_key(raw: str) -> Key | None:
    """The key's type and parts, or None for a key that is not one of the contract's."""
    object_type, sep, _ = raw.partition(keys.SEPARATOR)
    if not sep:
        return None
    return Key(object_type, tuple(keys.split(raw)))


def record(key: Key, value: bytes) -> dict[str, Any]:
    """The JSON record stored at ``key``. Raises :class:`RecordError`."""
    try:
        data = json.loads(value)
    except ValueError:
        raise RecordError(f"{key}: stored value is not JSON") from None
    if not isinstance(data, dict):
        raise RecordError(f"{key}: stored value is not a JSON object")
    return data


def canonical(data: Mapping[str, Any]) -> str:
    """The record as stored in the ``record`` columns (sorted keys, compact)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def unit_row(data: Mapping[str, Any]) -> Row:
    return {
        "unit_code": data["unitCode"],
        "name": data["name"],
        "sector": data["sector"],
        "region": data["region"],
        "status": data["status"],
        "record": canonical(data),
    }


def stock_row(data: Mapping[str, Any]) -> Row:
    return {
        "batch_id": data["batchId"],
        "unit_code": data["unitCode"],
        "bill_code": data["billCode"],
        "start_number": data["startNumber"],
        "end_number": data["endNumber"],
        "count": int(data["count"]),
        "status": data["status"],
        "record": canonical(data),
    }


def issue_day(data: Mapping[str, Any]) -> str:
    """The bill's calendar day YYYYMMDD, as the contract's indexes use it."""
    return str(data["issueDate"])[:10].replace("-", "")


def bill_row(data: Mapping[str, Any]) -> Row:
    red_of = data.get("redOf") or {}
    return {
        "bill_code": data["billCode"],
        "bill_number": data["billNumber"],
        "kind": data.get("kind", "normal"),
        "unit_code": data["unitCode"],
        "issue_day": issue_day(data),
        "issue_date": data["issueDate"],
        "total_amount": int(data["totalAmount"]),
        "reimbursed_total": int(data.get("reimbursedTotal", 0)),
        "status": data["status"],
        "previous_status": data.get("previousStatus"),
        "payer_hash": data["payerHash"],
        "batch_id": data.get("batchId"),
        "red_of_number": red_of.get("billNumber"),
        "issue_tx_id": data.get("issueTxId", ""),
        "record": canonical(data),
    }


def claim_rows(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[Row]:
    """The claims in ``new`` that ``old`` did not have (claims are never removed)."""
    known = {c.get("txId") for c in (old or {}).get("claims", [])}
    return [
        {
            "bill_code": new["billCode"],
            "bill_number": new["billNumber"],
            "reimburser_id": claim["reimburserId"],
            "amount": int(claim["amount"]),
            "voucher_no": claim.get("voucherNo", ""),
            "at": claim.get("at", ""),
        }
        for claim in new.get("claims", [])
        if claim.get("txId") not in known
    ]


def anomaly_row(data: Mapping[str, Any]) -> Row:
    return {
        "day": data["day"],
        "anomaly_id": data["anomalyId"],
        "type": data["type"],
        "function": data["function"],
        "unit_code": data.get("unitCode"),
        "bill_code": data.get("billCode"),
        "bill_number": data.get("billNumber"),
        "record": canonical(data),
    }


def figures(data: Mapping[str, Any] | None) -> dict[str, int]:
    """How one bill counts in its unit's figures of its issue day.

    ``bills``/``amount``: every bill, red bills with their negative amount (as
    TotalsByUnit counts); ``issued``/``issued_amount``: normal bills;
    ``red_bills``/``red_amount``: red bills; ``red_lettered``: a voided bill (status or,
    once archived, previous status ``red_lettered``); ``reimbursed``: fen claimed on it.
    A change of a bill moves the figures by ``figures(new) - figures(old)``.
    """
    if data is None:
        return dict.fromkeys(FIGURES, 0)
    amount = int(data["totalAmount"])
    red = data.get("kind") == KIND_RED
    voided = RED_LETTERED in (data.get("status"), data.get("previousStatus"))
    return {
        "bills": 1,
        "amount": amount,
        "issued": 0 if red else 1,
        "issued_amount": 0 if red else amount,
        "red_bills": 1 if red else 0,
        "red_amount": amount if red else 0,
        "red_lettered": 1 if voided else 0,
        "reimbursed": int(data.get("reimbursedTotal", 0)),
    }


def delta(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> dict[str, int]:
    """``figures(new) - figures(old)``; all zero when nothing counted changed."""
    before, after = figures(old), figures(new)
    return {name: after[name] - before[name] for name in FIGURES}
