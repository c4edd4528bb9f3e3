"""The registry of organisations that joined the channel after its creation.

The founding orgs' roles are fixed (:data:`.vocabulary.ROLE_MSP`). An org added later
(``ebill-network add-org``: a second insurer, a unit of another province, another
audit office) is registered by the finance department, a record per MSP (key
``org / mspId``)::

    {mspId, role: "insurance" | "units" | "audit", ids: [reimburser ids or unit codes],
     registeredAt, lastAction}

From then on :func:`.access.caller` honours that org's role group (insurance:
reimburser; units: issuer, clerk; audit: supervisor), and only for the reimburser ids
(insurance) or unit codes (units) listed: an org's CA cannot mint an identity that
acts as another org's reimburser or unit. A record is written once (``org-exists``).
"""

from __future__ import annotations

from typing import Any

from ..shim.errors import Conflict, InvalidArgument
from ..shim.stub import Stub
from . import access, keys, ledger
from .model import MAX_ORG_IDS, MSP_ID, REIMBURSER_ID, UNIT_CODE, decode_json
from .router import transaction
from .vocabulary import MSP_IDS, ORG_PARTS


def parse_org(text: str) -> dict[str, Any]:
    """Validate RegisterOrg's argument: {mspId, role, ids}; InvalidArgument names the field."""
    obj = decode_json(text, "orgJSON")
    if not isinstance(obj, dict):
        raise InvalidArgument("orgJSON: must be a JSON object")
    unknown = sorted(set(obj) - {"mspId", "role", "ids"})
    if unknown:
        raise InvalidArgument(f"orgJSON: unknown field {unknown[0]!r}")
    msp_id, role, ids = obj.get("mspId"), obj.get("role"), obj.get("ids", [])
    if not isinstance(msp_id, str) or not MSP_ID.fullmatch(msp_id):
        raise InvalidArgument("mspId: must be 1 to 64 letters, digits, . or -")
    if msp_id in MSP_IDS:
        raise InvalidArgument(f"mspId: {msp_id} is a founding org; its roles are fixed")
    if role not in ORG_PARTS:
        raise InvalidArgument(f"role: must be one of {', '.join(ORG_PARTS)}")
    if not isinstance(ids, list) or len(ids) > MAX_ORG_IDS:
        raise InvalidArgument(f"ids: must be a list of at most {MAX_ORG_IDS} ids")
    pattern, what = (REIMBURSER_ID, "reimburser id") if role == "insurance" else (UNIT_CODE, "unit")
    for i, value in enumerate(ids):
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise InvalidArgument(f"ids[{i}]: not a valid {what}")
    if role in ("insurance", "units") and not ids:
        raise InvalidArgument(f"ids: an {role} org needs at least one {what}")
    if role == "audit" and ids:
        raise InvalidArgument("ids: an audit org takes no ids")
    return {"mspId": msp_id, "role": role, "ids": sorted(set(ids))}


@transaction("RegisterOrg")
def register_org(stub: Stub, org_json: str) -> ledger.Record:
    """Register a joined org's role and ids (finance). Conflict ``org-exists`` if registered."""
    org = parse_org(org_json)
    actor = access.allow(stub, "RegisterOrg")
    key = keys.org(org["mspId"])
    if stub.get_state(key) is not None:
        raise Conflict(f"RegisterOrg: org {org['mspId']} is already registered", "org-exists")
    record = {
        **org,
        "registeredAt": ledger.now(stub),
        "lastAction": ledger.last_action(stub, "RegisterOrg", actor),
    }
    ledger.put(stub, key, record)
    ledger.emit(stub, "RegisterOrg", mspId=org["mspId"], role=org["role"])
    return record


@transaction("ReadOrg")
def read_org(stub: Stub, msp_id: str) -> ledger.Record:
    """The registry record of a joined org (finance, supervisors); NotFound if none."""
    if not MSP_ID.fullmatch(msp_id):
        raise InvalidArgument("mspId: must be 1 to 64 letters, digits, . or -")
    access.allow(stub, "ReadOrg")
    record = ledger.load(stub, keys.org(msp_id), f"org {msp_id}")
    ledger.emit(stub, "ReadOrg", mspId=msp_id)
    return record
