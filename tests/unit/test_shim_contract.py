"""The router: dispatch, argument counts, result encoding, error statuses."""

from __future__ import annotations

from typing import Any

import pytest
from fabric_protos.peer import chaincode_shim_pb2

from ebill_chaincode.shim import (
    ChaincodeStub,
    Conflict,
    Contract,
    Forbidden,
    InvalidArgument,
    NotFound,
    PeerError,
)
from ebill_chaincode.shim.stub import Stub

Msg = chaincode_shim_pb2.ChaincodeMessage

contract = Contract("router-test")


@contract.transaction("Dict")
def as_dict(stub: Stub) -> dict[str, Any]:
    return {"b": 1, "a": "票", "c": [True, None]}


@contract.transaction("Text")
def as_text(stub: Stub, first: str, second: str = "-") -> str:
    return f"{first}{second}"


@contract.transaction("Bytes")
def as_bytes(stub: Stub) -> bytes:
    return b"\x00\x01"


@contract.transaction("Nothing")
def nothing(stub: Stub) -> None:
    return None


@contract.transaction("Many")
def many(stub: Stub, *args: str) -> str:
    return ",".join(args)


@contract.transaction("Raise")
def raise_kind(stub: Stub, kind: str) -> str:
    errors = {"400": InvalidArgument, "403": Forbidden, "404": NotFound, "409": Conflict}
    if kind == "peer":
        raise PeerError("GET_STATE refused by peer: gone")
    if kind == "crash":
        raise KeyError("private detail")
    raise errors[kind]("because")


def call(*args: str) -> Any:
    stub = ChaincodeStub("ch", "tx-abc", [a.encode() for a in args], lambda m: None)
    return contract(stub)


def test_results_are_encoded() -> None:
    assert call("Dict").payload == '{"a":"票","b":1,"c":[true,null]}'.encode()
    assert call("Text", "x").payload == b"x-"
    assert call("Text", "x", "y").payload == b"xy"
    assert call("Bytes").payload == b"\x00\x01"
    assert call("Nothing").payload == b""
    assert call("Many").payload == b""
    assert call("Many", "1", "2", "3").payload == b"1,2,3"
    response = call("Dict")
    assert (response.status, response.message, response.ok) == (200, "", True)


def test_unknown_and_missing_function() -> None:
    unknown = call("Nope", "x")
    assert (unknown.status, unknown.message) == (
        400,
        "InvalidArgument [unknown-function]: unknown function Nope",
    )
    empty = call()
    assert (empty.status, empty.message) == (
        400,
        "InvalidArgument [invalid-argument]: no function name given",
    )


def test_argument_count_is_checked() -> None:
    too_few = call("Text")
    assert (too_few.status, too_few.message) == (
        400,
        "InvalidArgument [wrong-argument-count]: Text expects 1 to 2 arguments, got 0",
    )
    too_many = call("Dict", "extra")
    assert (
        too_many.message
        == "InvalidArgument [wrong-argument-count]: Dict expects 0 arguments, got 1"
    )


@pytest.mark.parametrize(
    ("kind", "status", "message"),
    [
        ("400", 400, "InvalidArgument [invalid-argument]: because"),
        ("403", 403, "Forbidden [not-authorised]: because"),
        ("404", 404, "NotFound [not-found]: because"),
        ("409", 409, "Conflict [conflict]: because"),
        ("peer", 500, "Internal [internal]: GET_STATE refused by peer: gone"),
    ],
)
def test_errors_map_to_status_and_kind(kind: str, status: int, message: str) -> None:
    response = call("Raise", kind)
    assert (response.status, response.message, response.ok) == (status, message, False)


def test_unexpected_exception_is_500_without_details(caplog: pytest.LogCaptureFixture) -> None:
    response = call("Raise", "crash")
    assert response.status == 500
    assert (
        response.message
        == "Internal [internal]: unexpected error in Raise (tx tx-abc); see chaincode log"
    )
    assert "private detail" in caplog.text  # the traceback is logged, not returned


def test_registration_rules() -> None:
    registry = Contract()
    registry.register("A", as_bytes)
    with pytest.raises(ValueError):
        registry.register("A", as_bytes)
    with pytest.raises(ValueError):
        registry.register("", as_bytes)
    with pytest.raises(TypeError):
        registry.register("B", lambda: b"")
    assert registry.function_names == ["A"]
