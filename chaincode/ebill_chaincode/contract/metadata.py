"""``org.hyperledger.fabric:GetMetadata``: the interface in the Fabric contract API format.

The answer has the shape fabric-contract-api-go and fabric-chaincode-node give
(``$schema``, ``info``, ``contracts.<name>.transactions[] {name, tag, parameters[] {name,
schema}, returns}``, ``components.schemas``), so generic Fabric tooling reads it; our
extras are under ``x-ebill-*`` keys: per transaction the roles, scope, transient keys,
refusal codes, event and endorsers; at the top the code table and the vocabularies.

It is public: the interface holds nothing personal, so no access check is made.
"""

from __future__ import annotations

from typing import Any

from ..shim.stub import Stub
from . import records
from .codes import CODES
from .interface import (
    CONTRACT_NAME,
    FUNCTIONS,
    METADATA_FUNCTION,
    VERSION,
    VOCABULARIES,
    Function,
)
from .router import transaction

SCHEMA_URL = "https://hyperledger.github.io/fabric-chaincode-node/main/api/contract-schema.json"
TITLE = "Fiscal electronic bills (ebill-chain)"


def _transaction(function: Function) -> dict[str, Any]:
    parameters = []
    for param in function.params:
        entry: dict[str, Any] = {
            "name": param.name,
            "description": param.description,
            "schema": param.schema,
        }
        if param.value is not None:
            entry["x-ebill-value"] = param.value
        if param.optional:
            entry["x-ebill-optional"] = True
        parameters.append(entry)
    answer: dict[str, Any] = {
        "name": function.name,
        "tag": [function.tag],
        "description": function.summary,
        "parameters": parameters,
        "returns": function.returns,
        "x-ebill-roles": sorted(function.roles),
        "x-ebill-scope": list(function.scope),
        "x-ebill-transient": [
            {
                "name": key.name,
                "encoding": key.encoding,
                "required": key.required,
                "description": key.description,
                **(
                    {"schema": {"$ref": f"#/components/schemas/{key.schema}"}} if key.schema else {}
                ),
            }
            for key in function.transient
        ],
        "x-ebill-errors": list(function.all_errors),
        "x-ebill-event": None
        if function.event is None
        else {
            "name": function.event.name,
            "payload": {
                "type": "object",
                "properties": {**function.event.payload, "org": {"type": "string"}},
                "required": ["org"],
            },
        },
    }
    if function.scope_note:
        answer["x-ebill-scope-note"] = function.scope_note
    if function.endorsers:
        answer["x-ebill-endorsers"] = list(function.endorsers)
    return answer


def build() -> dict[str, Any]:
    """The metadata document (deterministic: the same on every endorser)."""
    info = {"title": TITLE, "version": VERSION}
    return {
        "$schema": SCHEMA_URL,
        "info": info,
        "contracts": {
            CONTRACT_NAME: {
                "name": CONTRACT_NAME,
                "info": info,
                "default": True,
                "transactions": [_transaction(f) for f in FUNCTIONS.values()],
            }
        },
        "components": {
            "schemas": {name: records.json_schema(cls) for name, cls in records.RECORDS.items()}
        },
        "x-ebill-errors": {
            code: {"kind": kind, "meaning": meaning} for code, (kind, meaning) in CODES.items()
        },
        "x-ebill-vocabularies": VOCABULARIES,
    }


@transaction(METADATA_FUNCTION)
def get_metadata(stub: Stub) -> dict[str, Any]:
    """The contract's interface as Fabric contract metadata; no access check, no event."""
    return build()
