"""Request bodies (and path parameters) derived from the contract's interface.

A body field is one argument of a contract function (:func:`argument`) or one field of
a JSON-document argument such as RegisterUnit's unitJSON (:func:`document_fields`):
its JSON name, type, required or not, pattern, length and value limits, enum,
description and example are the interface's (:mod:`ebill_chaincode.contract.interface`,
:mod:`ebill_chaincode.contract.records`), so changing a parameter there changes the
OpenAPI document and the validation here. An argument whose string stands for an
integer (``Param.value``, money in fen, page sizes) is a JSON integer in a body.

Each derived property carries ``x-ebill-argument`` (``Function.param`` or
``Function.param.field``): which argument it becomes; a field the service sends as
transient data says which key in ``x-ebill-transient``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, Field, WithJsonSchema, create_model

from ebill_chaincode.contract import interface, records

ARGUMENT_KEY = "x-ebill-argument"
#: A body field the service sends as a transient key (``key`` or ``key.member``).
TRANSIENT_KEY = "x-ebill-transient"
_UNSET: Any = ...

Schema = dict[str, Any]
JsonDict = dict[str, Any]


@dataclass(frozen=True)
class BodyField:
    """One field of a request body: its JSON name, type, and pydantic field."""

    name: str
    annotation: Any
    field: Any


def _function(function: str | interface.Function) -> interface.Function:
    return function if isinstance(function, interface.Function) else interface.function(function)


def _param(function: interface.Function, name: str) -> interface.Param:
    for param in function.params:
        if param.name == name:
            return param
    raise KeyError(f"{function.name} has no parameter {name}")


def _example(function: interface.Function, name: str) -> str | None:
    """The interface's example value of the argument ``name`` (None without one)."""
    names = function.param_names
    index = names.index(name)
    if index < len(function.example):
        value = function.example[index]
        if value and not value.startswith("<"):
            return value
    return None


#: JSON schema keyword -> pydantic constraint.
_CONSTRAINTS = {
    "pattern": "pattern",
    "minLength": "min_length",
    "maxLength": "max_length",
    "minimum": "ge",
    "maximum": "le",
}
_TYPES: dict[str, Any] = {"string": str, "integer": int, "boolean": bool}


def _typed(schema: Schema, example: Any) -> tuple[Any, dict[str, Any]]:
    """The Python type and pydantic constraints of a JSON schema (string, integer,
    boolean, enum); ``example`` converted to that type."""
    kw = {name: schema[key] for key, name in _CONSTRAINTS.items() if key in schema}
    if "enum" in schema:
        kind: Any = Literal[tuple(v for v in schema["enum"] if v != "")]
    elif schema.get("type") in _TYPES:
        kind = _TYPES[schema["type"]]
    else:
        raise TypeError(f"no body field for the schema {schema}")
    if kind is int and isinstance(example, str):
        example = int(example) if re.fullmatch(r"-?[0-9]+", example) else None
    if example is not None:
        kw["examples"] = [example]
    return kind, kw


def argument(
    function: str | interface.Function, param: str, *, wire: str = "", default: Any = _UNSET
) -> BodyField:
    """The body field of ``function``'s argument ``param`` (JSON name ``wire``, by
    default the argument's); an optional argument defaults to None (``""`` for text),
    ``default`` gives a required one a default of the service's."""
    declared = _function(function)
    p = _param(declared, param)
    schema = p.value or p.schema
    kind, kw = _typed(schema, _example(declared, param))
    description = p.description
    if "description" in schema:
        description += f" ({schema['description']})"
    extra: JsonDict = {ARGUMENT_KEY: f"{declared.name}.{param}"}
    if default is _UNSET and p.optional:
        default = None
    if default is None:
        kind = kind | None
    info = Field(default, description=description, json_schema_extra=extra, **kw)
    return BodyField(wire or param, kind, info)


def record_fields(
    record: type[records.Record],
    *,
    omit: tuple[str, ...] = (),
    examples: dict[str, Any] | None = None,
    source: str = "",
    wire: dict[str, str] | None = None,
) -> list[BodyField]:
    """The body fields of the fields of a record (by its JSON schema), but those in
    ``omit``, named as in ``wire`` (field -> JSON name) or as the record's; ``source``
    (an argument, or ``transient:key``) goes in each field's ``x-ebill-argument`` (or
    ``x-ebill-transient``) as ``source.field``."""
    schema = records.json_schema(record)
    required = set(schema["required"])
    out = []
    for field_name, field_schema in schema["properties"].items():
        if field_name in omit:
            continue
        kind, kw = _typed(field_schema, (examples or {}).get(field_name))
        default: Any = _UNSET
        if field_name not in required:
            default, kind = None, kind | None
        key = TRANSIENT_KEY if source.startswith("transient:") else ARGUMENT_KEY
        extra: JsonDict | None = (
            {key: f"{source.removeprefix('transient:')}.{field_name}"} if source else None
        )
        info = Field(
            default, description=field_schema.get("description"), json_schema_extra=extra, **kw
        )
        out.append(BodyField((wire or {}).get(field_name, field_name), kind, info))
    return out


def document_fields(
    function: str | interface.Function, param: str, *, omit: tuple[str, ...] = ()
) -> list[BodyField]:
    """The body fields of the fields of the JSON-document argument ``param`` (a record
    argument such as unitJSON), but those in ``omit`` (which the service fills in)."""
    declared = _function(function)
    p = _param(declared, param)
    record = records.RECORDS[str(p.schema["$ref"]).rsplit("/", 1)[-1]]
    example = _example(declared, param)
    return record_fields(
        record,
        omit=omit,
        examples=json.loads(example) if example else {},
        source=f"{declared.name}.{param}",
    )


def transient_document(function: str | interface.Function, key: str) -> BodyField:
    """The body field ``key`` carrying the JSON transient ``key`` of ``function`` as it
    is: a JSON object whose schema is the key's record schema
    (validated by the contract's own rules, in the endpoint), optional as the key."""
    declared = _function(function)
    found = [t for t in declared.transient if t.name == key]
    if not found or not found[0].schema:
        raise KeyError(f"{declared.name} has no JSON transient key {key}")
    transient = found[0]
    ref: Schema = {"$ref": f"#/components/schemas/{transient.schema}"}
    kind: Any = dict[str, Any]
    default: Any = _UNSET
    shape: Schema = {"allOf": [ref]}
    if not transient.required:
        shape, kind, default = {"anyOf": [ref, {"type": "null"}]}, dict[str, Any] | None, None
    schema = {**shape, "description": transient.description, TRANSIENT_KEY: key}
    return BodyField(key, Annotated[kind, WithJsonSchema(schema)], Field(default))


def body_model(
    name: str, *fields: BodyField | list[BodyField], base: type[BaseModel] | None = None
) -> type[BaseModel]:
    """A pydantic model named ``name`` with ``fields`` (after those of ``base``)."""
    flat: list[BodyField] = []
    for item in fields:
        flat.extend(item if isinstance(item, list) else [item])
    definitions: dict[str, Any] = {f.name: (f.annotation, f.field) for f in flat}
    return create_model(name, __base__=base or BaseModel, **definitions)


def path_type(function: str | interface.Function, param: str) -> Any:
    """The annotated type of a path parameter that is ``function``'s argument ``param``."""
    declared = _function(function)
    p = _param(declared, param)
    kind, kw = _typed(p.value or p.schema, _example(declared, param))
    extra: JsonDict = {ARGUMENT_KEY: f"{declared.name}.{param}"}
    return Annotated[kind, Path(description=p.description, json_schema_extra=extra, **kw)]
