"""The registry of issuing units, kept by the finance department.

A unit record (key ``unit / unitCode``)::

    {unitCode, name, sector, region, status: "active" | "suspended",
     suspension?: {reason, at}, registeredAt, lastAction}

A suspended unit issues nothing (an attempt is the anomaly
``issuance-by-suspended-unit``), applies for no stock and has no stock approved.
"""

from __future__ import annotations

from typing import Any

from ..shim.errors import Conflict
from ..shim.stub import Stub
from . import access, keys, ledger
from .model import bookmark_arg, page_size_arg, parse_unit, text_arg, unit_code_arg
from .router import transaction
from .vocabulary import UNIT_ACTIVE, UNIT_SUSPENDED

ACTIVE = UNIT_ACTIVE
SUSPENDED = UNIT_SUSPENDED


def load_unit(stub: Stub, unit_code: str) -> ledger.Record:
    return ledger.load(stub, keys.unit(unit_code), f"unit {unit_code}")


def listing(records: list[ledger.Record], bookmark: str) -> dict[str, Any]:
    """The shape of every list answer."""
    return {"records": records, "count": len(records), "bookmark": bookmark}


@transaction("RegisterUnit")
def register_unit(stub: Stub, unit_json: str) -> ledger.Record:
    """Register an issuing unit (finance). Returns the unit record."""
    unit = parse_unit(unit_json)
    actor = access.allow(stub, "RegisterUnit")
    key = keys.unit(unit.unit_code)
    if stub.get_state(key) is not None:
        raise Conflict(f"RegisterUnit: unit {unit.unit_code} is already registered", "unit-exists")
    record = {
        **unit.to_json(),
        "status": ACTIVE,
        "registeredAt": ledger.now(stub),
        "lastAction": ledger.last_action(stub, "RegisterUnit", actor),
    }
    ledger.put(stub, key, record)
    ledger.emit(stub, "RegisterUnit", unitCode=unit.unit_code, status=ACTIVE)
    return record


@transaction("SuspendUnit")
def suspend_unit(stub: Stub, unit_code: str, reason: str) -> ledger.Record:
    """Suspend an active unit (finance): it may no longer issue or get stock."""
    unit_code_arg(unit_code)
    reason = text_arg(reason, "reason", 200)
    actor = access.allow(stub, "SuspendUnit")
    unit = load_unit(stub, unit_code)
    if unit["status"] == SUSPENDED:
        raise Conflict(f"SuspendUnit: unit {unit_code} is already suspended")
    unit.update(
        status=SUSPENDED,
        suspension={"reason": reason, "at": ledger.now(stub)},
        lastAction=ledger.last_action(stub, "SuspendUnit", actor),
    )
    ledger.put(stub, keys.unit(unit_code), unit)
    ledger.emit(stub, "SuspendUnit", unitCode=unit_code, status=SUSPENDED)
    return unit


@transaction("ResumeUnit")
def resume_unit(stub: Stub, unit_code: str) -> ledger.Record:
    """Make a suspended unit active again (finance)."""
    unit_code_arg(unit_code)
    actor = access.allow(stub, "ResumeUnit")
    unit = load_unit(stub, unit_code)
    if unit["status"] != SUSPENDED:
        raise Conflict(f"ResumeUnit: unit {unit_code} is not suspended")
    unit.pop("suspension", None)
    unit.update(status=ACTIVE, lastAction=ledger.last_action(stub, "ResumeUnit", actor))
    ledger.put(stub, keys.unit(unit_code), unit)
    ledger.emit(stub, "ResumeUnit", unitCode=unit_code, status=ACTIVE)
    return unit


@transaction("ReadUnit")
def read_unit(stub: Stub, unit_code: str) -> ledger.Record:
    """The unit record (finance, supervisors, the unit's own staff)."""
    unit_code_arg(unit_code)
    actor = access.allow(stub, "ReadUnit")
    access.require_own_unit(actor, unit_code, "ReadUnit")
    unit = load_unit(stub, unit_code)
    ledger.emit(stub, "ReadUnit", unitCode=unit_code)
    return unit


@transaction("ListUnits")
def list_units(stub: Stub, page_size: str, bookmark: str = "") -> dict[str, Any]:
    """One page of units in unit code order: {records, count, bookmark}."""
    size, bookmark = page_size_arg(page_size), bookmark_arg(bookmark)
    access.allow(stub, "ListUnits")
    results, next_bookmark = ledger.page(stub, keys.starting_with(keys.UNIT), size, bookmark)
    records = [ledger.decode(kv.value, "unit") for kv in results]
    ledger.emit(stub, "ListUnits")
    return listing(records, next_bookmark)
