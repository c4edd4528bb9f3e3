"""Property: random calls of every function by every kind of caller only ever end in a
ChaincodeError of a known kind (writing nothing) or a success, never another exception;
refused payloads write only the anomaly log; the ledger's invariants always hold."""

from __future__ import annotations

import json
from typing import Any

from fixtures import (
    CLERK,
    CODE,
    FINANCE,
    ISSUER,
    MEDINS,
    OTHER_SALT,
    PAYER,
    ROLES,
    SALT,
    SUPERVISOR,
    World,
    bill_json,
    hashed,
    number,
    payer_hash,
    proof,
    public_json,
    reply_key,
    standard_world,
    transient,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ebill_chaincode.contract import contract, interface
from ebill_chaincode.shim import Creator
from ebill_chaincode.shimtest import identity

N1 = number(1)
KINDS = {400: "InvalidArgument", 403: "Forbidden", 404: "NotFound", 409: "Conflict"}


def prepared() -> World:
    world = standard_world()
    world.issue(1)
    world.issue(2)
    world.authorise(1, "MEDINS-HN")
    world.ok(MEDINS, "LockBill", CODE, number(1))
    world.ok(ISSUER, "RedLetterBill", CODE, number(2), number(3), "x")
    world.issue(4)
    world.deposit(6)
    application = {"unitCode": "HN0101", "billCode": "46010226", "startNumber": N1, "count": 5}
    world.pending = world.ok(ISSUER, "ApplyStock", json.dumps(application))["batchId"]
    return world


PREPARED = prepared()
CHECK_CODE = "C00001"

CREATORS = [
    *ROLES.values(),
    Creator("UnitsMSP", b"not a certificate"),
    Creator("PublicMSP", b""),
    identity("UnitsMSP", "norole"),
    identity("AuditMSP", "odd", role="finance"),
    identity("FinanceMSP", "p", role="payer", payerType="robot", payerId="1"),
]

safe_text = st.text(
    alphabet=st.characters(codec="utf-8"),  # arguments arrive as UTF-8: no lone surrogates
    max_size=24,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | safe_text,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(safe_text, children, max_size=3)
    ),
    max_leaves=10,
)
POOL = [
    CODE,
    number(1),
    number(2),
    number(3),
    number(4),
    number(5000),
    "46030126",
    "HN0101",
    "HN0201",
    "MEDINS-HN",
    "PICC-HN",
    SALT.hex(),
    OTHER_SALT.hex(),
    payer_hash(),
    PREPARED.hospital_batch,
    PREPARED.school_batch,
    CHECK_CODE,
    "issued",
    "locked",
    "red_lettered",
    "202601",
    "20260101",
    "2026-12-31",
    "1",
    "10",
    "200",
    "0",
    "26850",
    "100",
    "-5",
    "",
    " ",
    "x",
    "\x00",
    "lock-while-locked",
    json.dumps(bill_json(4)),
    json.dumps(bill_json(1)),
    json.dumps(public_json(4)),
    json.dumps(public_json(6)),
    json.dumps({"unitCode": "HN0301", "name": "法院", "sector": "court", "region": "46"}),
    json.dumps({"unitCode": "HN0101", "billCode": "46010326", "startNumber": N1, "count": 3}),
]
arguments = st.one_of(st.sampled_from(POOL), safe_text, json_values.map(json.dumps))
transients = st.one_of(
    st.none(),
    st.just(transient()),
    st.just({"payerSalt": SALT}),
    st.just(proof()),
    st.just(proof(OTHER_SALT)),
    st.just(reply_key()[1]),
    st.just(hashed("C00006")),
    st.just(transient(bill=bill_json(7))),
    st.dictionaries(
        st.sampled_from(["bill", "payer", "payerSalt", "medical", "checkCode", "replyKey", "x"]),
        st.binary(max_size=70),
    ),
)
calls = st.tuples(
    st.sampled_from([*contract.function_names, "Nope", ""]),
    st.sampled_from(CREATORS),
    st.lists(arguments, max_size=6),
    transients,
)


PENDING = PREPARED.pending
SPAN = ("20260101", "20261231")
#: One sensible call of every function in the PREPARED world (bill 1 locked by MEDINS-HN,
#: bill 2 red-lettered by bill 3, an application pending); mutated by the strategy below.
VALID_CALLS: dict[str, tuple[Creator, tuple[str, ...], Any]] = {
    "Ping": (FINANCE, (), None),
    "VerifyBill": (FINANCE, (CODE, N1, CHECK_CODE, "26850", "2026-01-05"), None),
    "RegisterUnit": (FINANCE, (POOL[-2],), None),
    "SuspendUnit": (FINANCE, ("HN0101", "audit"), None),
    "ResumeUnit": (FINANCE, ("HN0101",), None),
    "ReadUnit": (CLERK, ("HN0101",), None),
    "ListUnits": (SUPERVISOR, ("1",), None),
    "ApplyStock": (ISSUER, (POOL[-1],), None),
    "ApproveStock": (FINANCE, (PENDING,), None),
    "RejectStock": (FINANCE, (PENDING, "no"), None),
    "ReconcileStock": (FINANCE, (PREPARED.hospital_batch,), None),
    "ReadStock": (CLERK, (PREPARED.hospital_batch,), None),
    "ListStock": (CLERK, ("HN0101", "1"), None),
    "DepositBillPrivate": (ISSUER, (CODE, number(7)), transient(bill=bill_json(7))),
    "IssueBill": (ISSUER, (json.dumps(public_json(6)),), hashed("C00006")),
    "ReadBill": (PAYER, (CODE, N1), proof()),
    "ReadBillPrivate": (MEDINS, (CODE, N1), reply_key()[1]),
    "AuthoriseReimburser": (PAYER, (CODE, N1, "PICC-HN"), proof()),
    "RevokeAuthorisation": (PAYER, (CODE, N1, "MEDINS-HN"), proof()),
    "LockBill": (MEDINS, (CODE, N1), None),
    "ClaimBill": (MEDINS, (CODE, N1, "20000", "V1"), None),
    "UnlockBill": (MEDINS, (CODE, N1), None),
    "RedLetterBill": (ISSUER, (CODE, number(4), number(5), "x"), None),  # bill 4: issued
    "ArchiveBill": (FINANCE, (CODE, number(2)), None),
    "BillHistory": (SUPERVISOR, (CODE, N1), None),
    "ListBillsByUnit": (CLERK, ("HN0101", *SPAN, "2"), None),
    "TotalsByUnit": (SUPERVISOR, ("HN0101", *SPAN, "2"), None),
    "ListBillsByPayer": (PAYER, (payer_hash(), "1", ""), proof()),
    "ListBillsByStatus": (SUPERVISOR, ("issued", "1"), None),
    "ListBillsByPeriod": (FINANCE, ("202601", "1"), None),
    "ListAnomalies": (SUPERVISOR, (*SPAN, "2"), None),
}


@st.composite
def mutated_calls(draw: st.DrawFn) -> tuple[str, Creator, list[str], Any]:
    """A valid call with some of its caller, arguments and transient data replaced."""
    function = draw(st.sampled_from(sorted(VALID_CALLS)))
    creator, args, transient_map = VALID_CALLS[function]
    new_args = list(args)
    for position in range(len(new_args)):
        if draw(st.integers(0, 3)) == 3:
            new_args[position] = draw(arguments)
    if draw(st.integers(0, 3)) == 3:
        creator = draw(st.sampled_from(CREATORS))
    if draw(st.integers(0, 5)) == 5:
        transient_map = draw(transients)
    if draw(st.integers(0, 9)) == 9:
        new_args = new_args[: draw(st.integers(0, len(new_args)))]
    return function, creator, new_args, transient_map


def invariants(world: World) -> None:
    for key, item in world.ledger.state.items():
        if key.startswith("bill\x00"):
            bill = json.loads(item.value)
            claimed = sum(claim["amount"] for claim in bill["claims"])
            assert bill["reimbursedTotal"] == claimed <= max(bill["totalAmount"], 0)
            assert (bill["status"] == "locked") == ("lock" in bill)
            status_key = f"bill~status\x00{bill['status']}\x00{bill['billCode']}\x00"
            assert status_key + bill["billNumber"] + "\x00" in world.ledger.state


def check(world: World, call: tuple[str, Creator, list[str], Any]) -> None:
    function, creator, args, transient_map = call
    before = world.ledger.snapshot()
    outcome = world.run(creator, function, *args, transient=transient_map)
    status, message = outcome.status, outcome.message
    assert status in (200, *KINDS), (function, args, message)
    if status != 200:
        assert message.startswith(KINDS[status] + ": "), message
        assert outcome.stub.writes == [], (function, outcome.stub.writes)
        assert world.ledger.snapshot() == before
        return
    payload = outcome.response.payload
    result = json.loads(payload) if payload[:1] == b"{" else None
    if isinstance(result, dict) and "refused" in result:
        assert result["refused"]["kind"] in ("Conflict", "Forbidden")
        assert result["anomaly"] == outcome.stub.tx_id
        assert {key.split("\x00")[0] for key in outcome.stub.writes} == {
            "anomaly",
            "anomaly~type",
        }
    declared = interface.FUNCTIONS[function].event
    if declared is None:  # the liveness check and the metadata emit nothing
        assert outcome.stub.event is None, function
    else:  # every other function emits the event its declaration names
        assert outcome.stub.event is not None and outcome.stub.event.name == declared.name
        fields = set(json.loads(outcome.stub.event.payload))
        assert "org" in fields and fields <= {*declared.payload, "org"}, (function, fields)


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(st.one_of(mutated_calls(), mutated_calls(), calls), min_size=1, max_size=5))
def test_random_calls_only_end_in_chaincode_errors(sequence: list[Any]) -> None:
    world = PREPARED.copy()
    for call in sequence:
        check(world, call)
        invariants(world)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(contract.function_names), st.lists(safe_text, max_size=7))
def test_random_text_arguments_by_finance(function: str, args: list[str]) -> None:
    world = PREPARED.copy()
    check(world, (function, FINANCE, args, None))
