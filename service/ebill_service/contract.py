"""The contract's interface as the service uses it: one declaration, no second copy.

Every endpoint names the contract function(s) it performs (:func:`operation`). From the
interface (:mod:`ebill_chaincode.contract.interface`) the service takes:

- who may call it: the roles of the function (:func:`allowed`), checked against the
  role attribute of the API client's identity before anything reaches the chain, and
  which endpoints an org's service serves at all (those whose functions its identities'
  roles may call);
- the OpenAPI description: the function's summary, roles, per-object scope and refusal
  codes (``x-ebill-*`` members), and the response schema from the contract's record
  schemas (:func:`components`, the same ones GetMetadata answers).
"""

from __future__ import annotations

from typing import Any

from ebill_chaincode.contract import interface, records
from ebill_chaincode.contract.codes import CODES

FUNCTIONS_KEY = "x-ebill-functions"


def function(name: str) -> interface.Function:
    """The declaration of ``name``; KeyError for a function the contract lacks."""
    return interface.FUNCTIONS[name]


def allowed(name: str, role: str) -> bool:
    """Whether an identity with ``role`` may call ``name`` (no roles declared: anyone)."""
    roles = function(name).roles
    return not roles or role in roles


ROLES_KEY = "x-ebill-roles"


def served(extra: dict[str, Any], org_roles: set[str]) -> bool:
    """Whether an org whose identities have ``org_roles`` serves the endpoint with these
    OpenAPI extensions (an endpoint of no roles, open to anyone, always; the read model's
    endpoints name roles and no function)."""
    if not extra.get(ROLES_KEY):
        return True
    return bool(set(extra[ROLES_KEY]) & org_roles)


def operation(
    *names: str, answers: bool = False, status: int = 200, roles: frozenset[str] | None = None
) -> dict[str, Any]:
    """Route options for an endpoint performing ``names``: its description and OpenAPI
    extensions from the interface; with ``answers`` the endpoint answers exactly the
    (last) function's result, whose record schema becomes the response schema.
    ``roles``: the part of the functions' roles this endpoint is for (the payer routes
    serve ReadBill for the platform alone); by default all of them."""
    declared = [function(n) for n in names]
    every = frozenset(r for f in declared for r in f.roles)
    if roles is not None and not roles <= every:
        raise ValueError(f"{names}: roles {sorted(roles - every)} may not call them")
    endpoint_roles = every if roles is None else roles
    result = None
    if answers:
        ref = str(declared[-1].returns.get("$ref", ""))
        result = ref.rsplit("/", 1)[-1] or None
    lines = []
    for f in declared:
        who = ", ".join(sorted(f.roles)) or "anyone"
        lines.append(f"**{f.name}** ({f.tag}): {f.summary} Roles: {who}.")
        if f.scope:
            lines.append("Scope: " + "; ".join(interface.SCOPES[s] for s in f.scope) + ".")
        codes = ", ".join(f"`{c}`" for c in f.errors)
        if codes:
            lines.append(f"Refusal codes: {codes}.")
    extra: dict[str, Any] = {
        FUNCTIONS_KEY: list(names),
        ROLES_KEY: sorted(endpoint_roles),
        "x-ebill-errors": sorted({c for f in declared for c in f.all_errors}),
    }
    if result is not None:
        assert result in records.RECORDS, result
        schema = {"$ref": f"#/components/schemas/{result}"}
        extra["responses"] = {
            str(status): {
                "description": "the contract's answer",
                "content": {"application/json": {"schema": schema}},
            }
        }
    return {"description": "\n\n".join(lines), "openapi_extra": extra}


def _strip_ids(schema: Any) -> Any:
    """The record schemas without ``$id`` (an OpenAPI component is named by its key)."""
    if isinstance(schema, dict):
        return {k: _strip_ids(v) for k, v in schema.items() if k != "$id"}
    if isinstance(schema, list):
        return [_strip_ids(v) for v in schema]
    return schema


def components() -> dict[str, Any]:
    """The contract's record schemas, as OpenAPI components."""
    return {name: _strip_ids(records.json_schema(cls)) for name, cls in records.RECORDS.items()}


def refusal_codes() -> dict[str, dict[str, str]]:
    """Every refusal code the contract answers: kind and meaning."""
    return {code: {"kind": kind, "meaning": meaning} for code, (kind, meaning) in CODES.items()}
