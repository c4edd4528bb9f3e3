"""The service's request schemas are the contract interface's (no network).

The OpenAPI document of a service serving every router is read like a client reads it:
each request property of an endpoint of contract functions says which argument (or
transient key) it becomes, and must have that argument's name, type, required-ness,
pattern, enum and limits as contract/interface.py and records.py declare them, read
from the interface here (not copied). And a changed declaration changes the schema and
the validation without touching the service.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jsonschema
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from ebill_chaincode.contract import interface, records
from ebill_service import bodies, contract
from ebill_service.app import openapi_builder
from ebill_service.contract import FUNCTIONS_KEY
from ebill_service.routes import ROUTERS

#: Compared between the interface's schema and the served one.
RULES = ("type", "pattern", "minLength", "maxLength", "minimum", "maximum")

#: Arguments an endpoint does not take from the caller, and why (the service makes them).
FILLED = {
    "ApplyStock.applicationJSON.unitCode": "the caller's unit",
    "ListBillsByPayer.payerHash": "computed from the payer proof and the salt",
    "IssueBill.billJSON": "made from the transient bill, payer and salt",
    "DepositBillPrivate.billCode": "the transient bill's",
    "DepositBillPrivate.billNumber": "the transient bill's",
}
#: Transient keys an endpoint does not take from the caller.
FILLED_TRANSIENT = {
    "payerSalt": "a random salt the service makes for a new bill",
    "checkCodeHash": "hashed from the check code the service makes",
    "replyKey": "a key pair of the call",
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    app = FastAPI(title="all routes", version="1")
    for router in ROUTERS:
        app.include_router(router)
    return openapi_builder(app)()


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema or ("allOf" in schema and len(schema["allOf"]) == 1):
        schema = schema["allOf"][0] if "allOf" in schema else schema
        if "$ref" in schema:
            schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema of a value that may be null, without the null."""
    options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    return options[0] if len(options) == 1 else schema


def _declared(where: str) -> tuple[dict[str, Any], bool]:
    """The interface's schema of ``Function.param`` (its value schema when it stands for
    an integer) or ``Function.param.field`` (a record argument's field), and whether it is
    required."""
    name, param_name, *member = where.split(".")
    function = interface.function(name)
    param = next(p for p in function.params if p.name == param_name)
    if not member:
        return param.value or param.schema, not param.optional
    record = records.RECORDS[param.schema["$ref"].rsplit("/", 1)[-1]]
    schema = records.json_schema(record)
    (field,) = member
    return schema["properties"][field], field in schema["required"]


def _transient(functions: list[str], where: str) -> tuple[dict[str, Any] | None, bool]:
    """The record schema of a transient key's member (``key.member``, None for a whole
    key) and whether it is required, of the first of ``functions`` that has the key."""
    key, *member = where.split(".")
    for name in functions:
        for transient in interface.function(name).transient:
            if transient.name == key:
                if not member:
                    return None, transient.required
                schema = records.json_schema(records.RECORDS[transient.schema])
                return schema["properties"][member[0]], member[0] in schema["required"]
    raise AssertionError(f"{where}: no transient key of {functions}")


def _record_of(functions: list[str], key: str) -> str:
    """The record schema name of the transient ``key`` of one of ``functions`` ("" for
    raw bytes)."""
    for name in functions:
        for transient in interface.function(name).transient:
            if transient.name == key:
                return transient.schema
    raise AssertionError(f"{key}: no transient key of {functions}")


def _same_rules(served: dict[str, Any], declared: dict[str, Any], where: str) -> None:
    served = _not_null(served)
    for rule in RULES:
        assert served.get(rule) == declared.get(rule), (where, rule, served, declared)
    declared_enum = {v for v in declared.get("enum", []) if v != ""}
    assert set(served.get("enum", [])) == declared_enum, (where, served, declared)


def _check_properties(
    document: dict[str, Any], schema: dict[str, Any], functions: list[str], found: set[str]
) -> int:
    """Check every property of a request body against the interface; the number checked."""
    checked = 0
    schema = _resolve(document, schema)
    required = set(schema.get("required", []))
    for name, prop in schema["properties"].items():
        where = prop.get(bodies.ARGUMENT_KEY) or _resolve(document, prop).get(bodies.ARGUMENT_KEY)
        transient = prop.get(bodies.TRANSIENT_KEY)
        if where:
            assert where.split(".")[0] in functions, (where, functions)
            declared, must = _declared(where)
            _same_rules(prop, declared, where)
            assert (name in required) == (must and "default" not in prop), (where, prop)
            found.add(where)
            checked += 1
        elif transient:
            declared_member, must = _transient(functions, transient)
            if declared_member is not None:
                _same_rules(prop, declared_member, transient)
            else:
                component = _resolve(document, _not_null(prop))
                if "properties" not in component:  # raw bytes, encoded as the service says
                    assert not _record_of(functions, transient), transient
                    found.add("transient:" + transient)
                    checked += 1
                    continue
                marked = any(
                    bodies.TRANSIENT_KEY in p or bodies.ARGUMENT_KEY in p
                    for p in component["properties"].values()
                )
                if marked:  # the service's model of the key
                    checked += _check_properties(document, component, functions, found)
                else:  # the contract's record schema itself
                    assert component == contract.components()[_record_of(functions, transient)]
            assert (name in required) == must, (transient, prop)
            found.add("transient:" + transient.split(".")[0])
            checked += 1
        elif _not_null(prop).get("type") == "array":
            checked += _check_properties(document, prop["items"], functions, found)
        else:
            raise AssertionError(f"{functions}: body field {name} is no argument of them")
    return checked


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, ops in document["paths"].items()
        for method, op in ops.items()
        if op.get(FUNCTIONS_KEY)
    ]


def test_every_request_schema_is_the_interfaces(document: dict[str, Any]) -> None:
    checked = 0
    bodies_seen = 0
    for method, path, op in _operations(document):
        functions = op[FUNCTIONS_KEY]
        found: set[str] = set()
        for param in op.get("parameters", []):
            if param["in"] != "path":
                continue
            where = param["schema"].get(bodies.ARGUMENT_KEY)
            if where is None:  # a path parameter named as the argument
                matching = [
                    f for f in functions if param["name"] in interface.function(f).param_names
                ]
                assert matching, (path, param["name"])
                where = f"{matching[0]}.{param['name']}"
            declared, _ = _declared(where)
            _same_rules(param["schema"], declared, f"{path} {param['name']}")
            assert param["required"]
            found.add(where)
            checked += 1
        body = op.get("requestBody")
        if body is not None:
            bodies_seen += 1
            schema = body["content"]["application/json"]["schema"]
            checked += _check_properties(document, schema, functions, found)
        if method == "POST":  # a write or a body read: every argument comes from somewhere
            for name in functions:
                function = interface.function(name)
                for param in function.params:
                    where = f"{name}.{param.name}"
                    if "$ref" in param.schema and where not in FILLED:
                        record = records.RECORDS[param.schema["$ref"].rsplit("/", 1)[-1]]
                        expected = {f"{where}.{f}" for f in record.required_fields()}
                        missing = expected - found - set(FILLED)
                    else:
                        missing = {where} - found - set(FILLED) if not param.optional else set()
                    assert not missing, (method, path, missing)
                for key in function.transient:
                    if key.required and key.name not in FILLED_TRANSIENT:
                        assert "transient:" + key.name in found, (path, key.name)
    assert bodies_seen >= 14 and checked >= 60, (bodies_seen, checked)


def test_every_example_of_the_interface_is_a_valid_request(document: dict[str, Any]) -> None:
    """The interface's example arguments pass the served schemas (derived, typed)."""
    validated = 0
    for schema in document["components"]["schemas"].values():
        for prop in schema.get("properties", {}).values():
            if bodies.ARGUMENT_KEY in prop and "examples" in prop:
                for example in prop["examples"]:
                    jsonschema.validate(example, _not_null(prop))
                    validated += 1
    assert validated >= 20, validated


def test_a_changed_declaration_changes_schema_and_validation() -> None:
    suspend = interface.function("SuspendUnit")
    shorter = dataclasses.replace(
        interface.REASON, schema={**interface.REASON.schema, "maxLength": 10}
    )
    changed = dataclasses.replace(suspend, params=(interface.UNIT_CODE, shorter))
    model = bodies.body_model("Changed", bodies.argument(changed, "reason"))
    assert model.model_json_schema()["properties"]["reason"]["maxLength"] == 10
    model.model_validate({"reason": "0123456789"})
    with pytest.raises(ValidationError) as refused:
        model.model_validate({"reason": "0123456789A"})
    assert refused.value.errors()[0]["loc"] == ("reason",)
    assert "at most 10" in refused.value.errors()[0]["msg"]

    # an argument standing for an integer is a JSON integer with the declared bounds
    claim = interface.function("ClaimBill")
    amount = next(p for p in claim.params if p.name == "amountFen")
    capped = dataclasses.replace(amount, value={"type": "integer", "minimum": 1, "maximum": 99})
    changed = dataclasses.replace(claim, params=(capped,))
    model = bodies.body_model("Amount", bodies.argument(changed, "amountFen", wire="amount"))
    model.model_validate({"amount": 99})
    for wrong in (0, 100, "twelve"):
        with pytest.raises(ValidationError) as refused:
            model.model_validate({"amount": wrong})
        assert refused.value.errors()[0]["loc"] == ("amount",)


def test_served_bodies_refuse_what_the_contract_refuses() -> None:
    """A body field refuses a value breaking the argument's rule, naming the field."""
    from ebill_service.routes.finance import UnitRequest
    from ebill_service.routes.public import VerifyRequest
    from ebill_service.routes.reimbursement import ClaimRequest

    good = {"unitCode": "HN0101", "name": "x", "sector": "medical", "region": "46"}
    UnitRequest.model_validate(good)
    for field, wrong in (("sector", "bakery"), ("region", "4"), ("name", "x" * 201)):
        with pytest.raises(ValidationError) as refused:
            UnitRequest.model_validate({**good, field: wrong})
        assert refused.value.errors()[0]["loc"] == (field,)
    with pytest.raises(ValidationError) as refused:
        ClaimRequest.model_validate({"amount": 0, "voucherNo": "V1"})
    assert refused.value.errors()[0]["loc"] == ("amount",)
    ask = {"billCode": "46010126", "billNumber": "0000000001", "checkCode": "7K3M9Q"}
    VerifyRequest.model_validate({**ask, "totalAmount": -100})  # a red bill's total
    with pytest.raises(ValidationError) as refused:
        VerifyRequest.model_validate({**ask, "checkCode": "7K3M9O"})  # no O in check codes
    assert refused.value.errors()[0]["loc"] == ("checkCode",)
