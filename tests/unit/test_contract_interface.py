"""The contract's interface: declared once, and true.

The router and the interface agree (and the server refuses to start when they do not);
GetMetadata answers the interface in the Fabric metadata format to anyone; the
life-cycle refusals are among each function's declared codes; every record the
contract writes or answers reads strictly as its typed record; docs/contract.md is
what the interface generates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fixtures import (
    CODE,
    FINANCE,
    ISSUER,
    MEDINS,
    PAYER,
    SUPERVISOR,
    World,
    check_code,
    hashed,
    number,
    open_reply,
    payer_hash,
    proof,
    reply_key,
    standard_world,
)

from ebill_chaincode import __main__ as server
from ebill_chaincode.contract import contract, docs, interface, lifecycle, metadata, records
from ebill_chaincode.contract.codes import CODES
from ebill_chaincode.shim import Creator
from ebill_chaincode.shim.contract import Contract
from ebill_chaincode.shim.stub import Stub

ROOT = Path(__file__).resolve().parents[2]


# --- the router check ---------------------------------------------------------------------


def test_the_registered_functions_are_the_interface() -> None:
    assert interface.mismatches(contract.functions, interface.FUNCTIONS) == []
    interface.check_contract(contract.functions)


def _three(stub: Stub, bill_code: str, bill_number: str, page_size: str = "") -> None:
    """A function with the wrong parameters for any declaration."""


def test_a_disagreeing_router_is_refused_with_every_difference_named() -> None:
    other = Contract("ebill")
    for name, function in contract.functions.items():
        if name not in ("Ping", "LockBill"):
            other.register(name, function)
    other.register("LockBill", _three)  # one optional argument too many
    other.register("Extra", _three)
    with pytest.raises(interface.InterfaceMismatch) as caught:
        interface.check_contract(other.functions)
    text = str(caught.value)
    assert "contract/interface.py" in text
    assert "Extra: registered but not in the interface" in text
    assert "Ping: in the interface but not registered" in text
    assert (
        "LockBill: registered with parameters (billCode, billNumber, pageSize?), the"
        " interface declares (billCode, billNumber)"
    ) in text


def test_a_renamed_or_reordered_parameter_is_a_mismatch() -> None:
    def lock(stub: Stub, bill_number: str, bill_code: str) -> None:
        """Arguments swapped."""

    problems = interface.mismatches({"LockBill": lock}, {"LockBill": interface.LOCK_BILL})
    assert problems == [
        "LockBill: registered with parameters (billNumber, billCode), the interface"
        " declares (billCode, billNumber)"
    ]


def test_the_server_refuses_to_start_when_the_router_disagrees(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    contract.register("Unannounced", _three)
    try:
        with pytest.raises(interface.InterfaceMismatch, match="Unannounced: registered but not"):
            server.main(["--chaincode-id", "ebill:1", "--address", "127.0.0.1:1"], env={})
    finally:
        del contract._entries["Unannounced"]  # noqa: SLF001 - undo the test's registration
    interface.check_contract(contract.functions)


# --- the declarations ----------------------------------------------------------------------


def test_every_declared_code_is_a_known_code_and_every_role_a_role() -> None:
    for function in interface.FUNCTIONS.values():
        assert set(function.all_errors) <= set(CODES), function.name
        assert function.tag in (interface.SUBMIT, interface.EVALUATE), function.name
        assert set(function.scope) <= set(interface.SCOPES), function.name
        assert function.roles <= set(interface.VOCABULARIES["roles"]), function.name
        assert len(function.example) == len(function.params), function.name
        optional = [p.optional for p in function.params]
        assert optional == sorted(optional), f"{function.name}: optional arguments come last"


def test_the_life_cycle_refusals_are_declared_by_their_functions() -> None:
    for action, outcomes in lifecycle.TABLE.items():
        declared = interface.FUNCTIONS[action].errors
        for outcome in outcomes.values():
            if isinstance(outcome, lifecycle.Refusal):
                code = outcome.anomaly or outcome.code
                assert code in declared, (action, code)
        if action not in lifecycle.RED_BILL_ACTIONS:
            assert "red-bill" in declared, action


def test_writes_are_submitted_and_reads_evaluated() -> None:
    world = standard_world()
    world.issue(1)
    for name, function in interface.FUNCTIONS.items():
        if function.tag == interface.EVALUATE:
            continue
        assert function.roles, name  # nobody writes without a role
    reads = {n for n, f in interface.FUNCTIONS.items() if f.tag == interface.EVALUATE}
    assert {"ReadBill", "VerifyBill", "ListAnomalies", "BillHistory"} <= reads
    outcome = world.run(SUPERVISOR, "ReadBill", CODE, number(1), submit=False)
    assert outcome.status == 200 and outcome.stub.writes == []


# --- GetMetadata -----------------------------------------------------------------------


def _refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["$ref"]} if "$ref" in value else set()
        for item in value.values():
            found |= _refs(item)
        return found
    if isinstance(value, list):
        return set().union(*(_refs(item) for item in value)) if value else set()
    return set()


def test_get_metadata_answers_anyone_the_interface() -> None:
    world = standard_world()
    outcome = world.run(Creator("PublicMSP", b""), interface.METADATA_FUNCTION, submit=False)
    assert outcome.status == 200, outcome.response.message
    assert outcome.stub.writes == [] and outcome.stub.event is None
    answer = json.loads(outcome.response.payload)
    assert answer == json.loads(json.dumps(metadata.build()))
    assert answer["$schema"].endswith("contract-schema.json")
    assert answer["info"]["title"] and answer["info"]["version"]
    ebill = answer["contracts"]["ebill"]
    transactions = {t["name"]: t for t in ebill["transactions"]}
    assert sorted(transactions) == contract.function_names
    for name, declared in interface.FUNCTIONS.items():
        tx = transactions[name]
        assert tx["tag"] == [declared.tag]
        assert [p["name"] for p in tx["parameters"]] == list(declared.param_names)
        assert tx["x-ebill-roles"] == sorted(declared.roles)
        assert set(tx["x-ebill-errors"]) <= set(answer["x-ebill-errors"])
        assert [k["name"] for k in tx["x-ebill-transient"]] == [k.name for k in declared.transient]
    schemas = answer["components"]["schemas"]
    assert {"Unit", "StockBatch", "Bill", "BillPrivate", "Anomaly", "HistoryEntry"} <= set(schemas)
    assert {"Totals", "BillPage"} <= set(schemas)
    for ref in _refs(answer):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[-1] in schemas, ref
    assert answer["x-ebill-vocabularies"]["billStatuses"] == list(lifecycle.STATUSES)


# --- the records ---------------------------------------------------------------------------


def _full_world() -> World:
    """Every kind of record: units (one suspended), batches (approved, reconciled,
    rejected), bills (issued, claimed, locked, red-lettered, red, archived), anomalies."""
    world = standard_world()
    for n in (1, 2, 3, 4):
        world.issue(n)
    world.authorise(1, "MEDINS-HN")
    world.authorise(2, "MEDINS-HN")
    world.ok(MEDINS, "LockBill", CODE, number(1))
    world.ok(MEDINS, "ClaimBill", CODE, number(1), "100", "V1")
    world.ok(MEDINS, "LockBill", CODE, number(2))
    world.ok(ISSUER, "RedLetterBill", CODE, number(3), number(9), "x", transient=hashed("R00009"))
    world.ok(FINANCE, "ArchiveBill", CODE, number(3))
    world.anomaly(MEDINS, "LockBill", CODE, number(2), anomaly_type="lock-while-locked")
    rejected = {"unitCode": "HN0101", "billCode": "46010326", "startNumber": number(1), "count": 5}
    batch = world.ok(ISSUER, "ApplyStock", json.dumps(rejected))["batchId"]
    world.ok(FINANCE, "RejectStock", batch, "no")
    world.ok(FINANCE, "ReconcileStock", world.school_batch)
    world.ok(FINANCE, "SuspendUnit", "HN0201", "audit")
    world.ok(FINANCE, "RegisterOrg", ORG)
    world.ok(FINANCE, "RegisterOrg", json.dumps({"mspId": "Audit2MSP", "role": "audit"}))
    return world


ORG = json.dumps({"mspId": "Insurer2MSP", "role": "insurance", "ids": ["INSURER2"]})


RECORD_OF_KEY = {
    "unit": records.Unit,
    "stock": records.StockBatch,
    "bill": records.Bill,
    "anomaly": records.Anomaly,
    "org": records.Org,
}


def _roundtrip(cls: type[records.Record], value: Any) -> records.Record:
    record = cls.from_json(value)
    assert record.to_json() == value, cls
    return record


def test_every_stored_record_reads_strictly_as_its_type() -> None:
    world = _full_world()
    seen: dict[str, int] = {}
    for key, item in world.ledger.state.items():
        kind = key.split("\x00")[0]
        if kind in RECORD_OF_KEY:
            _roundtrip(RECORD_OF_KEY[kind], json.loads(item.value))
            seen[kind] = seen.get(kind, 0) + 1
    assert set(seen) == set(RECORD_OF_KEY) and seen["bill"] >= 5, seen
    bills = [
        json.loads(item.value)
        for key, item in world.ledger.state.items()
        if key.startswith("bill\x00")
    ]
    for optional in ("lock", "redLetter", "redOf", "reason", "previousStatus", "archivedAt"):
        assert any(optional in bill for bill in bills), optional


def test_every_answer_reads_strictly_as_its_declared_result() -> None:
    world = _full_world()
    code, n1 = CODE, number(1)
    calls: list[tuple[Creator, str, tuple[str, ...], dict[str, Any]]] = [
        (SUPERVISOR, "ReadBill", (code, n1), {}),
        (SUPERVISOR, "ReadUnit", ("HN0201",), {}),
        (SUPERVISOR, "ReadStock", (world.hospital_batch,), {}),
        (SUPERVISOR, "ListUnits", ("10",), {}),
        (SUPERVISOR, "ListStock", ("HN0101", "10"), {}),
        (SUPERVISOR, "BillHistory", (code, n1), {}),
        (SUPERVISOR, "ListBillsByUnit", ("HN0101", "20000101", "20991231", "10"), {}),
        (SUPERVISOR, "TotalsByUnit", ("HN0101", "20000101", "20991231", "10"), {}),
        (SUPERVISOR, "ListBillsByStatus", ("issued", "10"), {}),
        (SUPERVISOR, "ListAnomalies", ("20000101", "20991231", "10"), {}),
        (PAYER, "ListBillsByPayer", (payer_hash(), "10"), {"transient": proof()}),
        (SUPERVISOR, "ReadBillPrivate", (code, n1), {"transient": reply_key()[1]}),
        (SUPERVISOR, "VerifyBill", (code, n1, "AAAAAA"), {}),
        (SUPERVISOR, "VerifyBill", (code, n1, check_code(1)), {}),
        (SUPERVISOR, "VerifyBill", (code, number(3), check_code(3)), {}),
        (SUPERVISOR, "ReadOrg", ("Insurer2MSP",), {}),
        (FINANCE, "ReadOrg", ("Audit2MSP",), {}),
    ]
    for creator, function, args, options in calls:
        answer = world.ok(creator, function, *args, **options)
        returns = interface.FUNCTIONS[function].returns["$ref"].rsplit("/", 1)[-1]
        _roundtrip(records.RECORDS[returns], answer)
    key, asked = reply_key()
    sealed = world.ok(SUPERVISOR, "ReadBillPrivate", code, n1, transient=asked)
    _roundtrip(records.BillPrivate, open_reply(key, sealed, "ReadBillPrivate"))
    # the writes' answers
    issued = world.issue(5)
    del issued["checkCode"]  # the test world adds the code it used; the answer has its hash
    _roundtrip(records.Bill, issued)
    red = world.ok(
        ISSUER, "RedLetterBill", code, number(5), number(8), "y", transient=hashed("R00008")
    )
    _roundtrip(records.RedLettering, red)
    _roundtrip(records.Anchoring, world.anchor())
    org = world.ok(
        FINANCE,
        "RegisterOrg",
        json.dumps({"mspId": "Units2MSP", "role": "units", "ids": ["GD0101"]}),
    )
    _roundtrip(records.Org, org)
    records.OrgArgument.from_json(json.loads(ORG))


def test_a_record_with_an_unknown_or_missing_field_is_refused() -> None:
    unit = {
        "unitCode": "HN1",
        "name": "x",
        "sector": "court",
        "region": "46",
        "status": "active",
        "registeredAt": "2026-01-01T00:00:00Z",
        "lastAction": {"function": "f", "txId": "t", "org": "o", "actorId": "a", "at": "z"},
    }
    assert records.Unit.from_json(unit).to_json() == unit
    with pytest.raises(ValueError, match="Unit: unknown field colour"):
        records.Unit.from_json({**unit, "colour": "red"})
    with pytest.raises(ValueError, match=r"Unit\.region: required"):
        records.Unit.from_json({k: v for k, v in unit.items() if k != "region"})
    with pytest.raises(ValueError, match=r"Unit\.sector: must be one of"):
        records.Unit.from_json({**unit, "sector": "navy"})
    with pytest.raises(ValueError, match=r"Unit\.lastAction\.at: must be a string"):
        records.Unit.from_json({**unit, "lastAction": {**unit["lastAction"], "at": 1}})


# --- the generated reference ------------------------------------------------------------


def test_the_reference_is_generated_from_the_interface() -> None:
    path = ROOT / "docs" / "contract.md"
    assert path.read_text(encoding="utf-8") == docs.render(), (
        "docs/contract.md is stale: run make docs"
    )


def test_the_reference_names_every_function_with_an_example() -> None:
    text = docs.render()
    for name, function in interface.FUNCTIONS.items():
        assert f"### {name}\n" in text, name
        example = json.dumps({"Args": [name, *function.example]}, ensure_ascii=False)
        assert example in text, name
        for code in function.errors:
            assert f"`{code}`" in text, (name, code)
