"""Helpers of the contract tests: call the chaincode through the Gateway as its callers do.

Import as ``from chain import ...`` (pytest puts this folder on the path).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import fabricgw
from ebill import consistency
from ebill.connection import Connection
from ebill.party import PartyClient
from ebill.samples import SampleBill
from ebill.unit import new_check_code

Connect = Callable[..., Connection]
P = TypeVar("P", bound=PartyClient)
Open = Callable[[type[P], str, str], P]


@dataclass(frozen=True)
class World:
    """Units registered by finance, each with an approved stock batch."""

    outpatient_batch: str
    tuition_batch: str


# Issuance writes the billPrivate collection, whose members exclude the finance
# department; the gateway sends transient data to a non-member endorser only
# when the client names the endorsing orgs itself.
ISSUING_ORGS = ("FinanceMSP", "UnitsMSP")


def call(
    conn: Connection,
    function: str,
    *args: str,
    transient: dict[str, bytes] | None = None,
    endorsing_organizations: tuple[str, ...] | None = None,
) -> Any:
    """Submit ``function`` (see Connection.submit) and return its JSON answer.

    A refusal is an error (fabricgw.EndorseError); see :func:`refusal`.
    """
    raw = consistency.submit(
        conn, function, *args, transient=transient, endorsing_organizations=endorsing_organizations
    )
    return json.loads(raw) if raw else None


def _refused(
    conn: Connection,
    function: str,
    *args: str,
    transient: dict[str, bytes] | None = None,
    endorsing_organizations: tuple[str, ...] | None = None,
) -> fabricgw.EndorseError:
    try:
        consistency.submit(
            conn,
            function,
            *args,
            transient=transient,
            endorsing_organizations=endorsing_organizations,
        )
    except fabricgw.EndorseError as error:
        return error
    raise AssertionError(f"{function} was not refused")


def refusal(conn: Connection, function: str, *args: str, **options: Any) -> str:
    """Submit a call the chaincode must refuse; its message ``"<Kind> [<code>]: ..."``."""
    return _refused(conn, function, *args, **options).chaincode_message or ""


def refused_tx(conn: Connection, function: str, *args: str, **options: Any) -> str:
    """Submit a call the chaincode must refuse; the refused transaction id."""
    error = _refused(conn, function, *args, **options)
    assert error.transaction_id, error
    return error.transaction_id


def query(conn: Connection, function: str, *args: str) -> Any:
    """Evaluate ``function`` and return its JSON answer."""
    raw = conn.contract.evaluate(function, arguments=args)
    return json.loads(raw) if raw else None


def issue(conn: Connection, sample: SampleBill) -> dict[str, Any]:
    """Issue ``sample`` as the SDK does (deposit the private part, endorsed by the units
    peer alone; then the public part); the public record with the check code added."""
    full, public = sample.bill, sample.public()
    transient = {**sample.transient(), "bill": json.dumps(full, ensure_ascii=False).encode()}
    consistency.submit(
        conn,
        "DepositBillPrivate",
        full["billCode"],
        full["billNumber"],
        transient=transient,
        endorsing_organizations=("UnitsMSP",),
    )
    code = new_check_code()
    record = call(
        conn,
        "IssueBill",
        json.dumps(public, ensure_ascii=False),
        transient={"checkCode": code.encode()},
        endorsing_organizations=ISSUING_ORGS,
    )
    # A refusal raises (fabricgw.EndorseError); a success answers the public record.
    assert isinstance(record, dict), record
    assert (record["billCode"], record["billNumber"]) == (full["billCode"], full["billNumber"])
    return {**record, "checkCode": code}


T = TypeVar("T")

#: The session's bill numbers (inside the approved stock); ``next_number`` takes from it.
BILL_NUMBERS = itertools.count(1)


def eventually(probe: Callable[[], T], *, timeout: float = 15.0) -> T:
    """``probe()`` once it stops raising: a block committed on one peer reaches the
    others a moment later, so reads on another org's peer poll until they see it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return probe()
        except (AssertionError, fabricgw.GatewayError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
