"""The shim testing module: its in-memory ledger behaves as Fabric does where it matters,
its stub is the shim's Stub, and a contract function is unit-tested as its docs show."""

from __future__ import annotations

import hashlib
import inspect
from pathlib import Path

import pytest
from fixtures import COLLECTIONS, FINANCE, ISSUER, MEDINS, SUPERVISOR

from ebill_chaincode.shim import (
    KV,
    ClientIdentity,
    Contract,
    InvalidArgument,
    NotFound,
    PeerError,
    QueryPage,
    Stub,
)
from ebill_chaincode.shimtest import (
    MVCC_READ_CONFLICT,
    NOT_SUBMITTED,
    PHANTOM_READ_CONFLICT,
    VALID,
    CertificateFactory,
    MockLedger,
    MockStub,
    identity,
)


def committed(ledger: MockLedger, **values: bytes) -> None:
    stub = ledger.stub(FINANCE, "setup")
    for key, value in values.items():
        stub.put_state(key, value)
    assert ledger.commit(stub) == VALID


@pytest.fixture
def ledger() -> MockLedger:
    result = MockLedger(collections=COLLECTIONS, chaincode="ebill")
    committed(result, a=b"1", b=b"2", c=b"3", d=b"4", e=b"5")
    return result


def test_the_fake_is_a_stub() -> None:
    stub: Stub = MockLedger(collections=COLLECTIONS, chaincode="ebill").stub(FINANCE, "F", "x")
    assert (stub.function, stub.params) == ("F", ["x"])


def test_empty_value_is_a_delete_and_reads_do_not_see_own_writes(ledger: MockLedger) -> None:
    stub = ledger.stub(FINANCE, "t")
    stub.put_state("a", b"changed")
    stub.put_state("b", b"")
    stub.put_state("z", "new")
    assert stub.get_state("a") == b"1" and stub.get_state("z") is None
    assert ledger.commit(stub) == VALID
    assert ledger.public() == {"a": b"changed", "c": b"3", "d": b"4", "e": b"5", "z": b"new"}


def test_ranges_are_ordered_and_end_exclusive(ledger: MockLedger) -> None:
    committed(ledger, **{"\x00comp\x00x\x00": b"c"})
    stub = ledger.stub(FINANCE, "t")
    assert [kv.key for kv in stub.get_state_by_range("b", "d")] == ["b", "c"]
    assert [kv.key for kv in stub.get_state_by_range("", "")] == list("abcde")  # no composite
    with pytest.raises(InvalidArgument, match="must not start with U\\+0000"):
        stub.get_state_by_range("\x00comp", "")
    assert list(stub.get_state_by_partial_composite_key("comp", ["x"])) == [
        KV("\x00comp\x00x\x00", b"c")
    ]


def test_pages_and_bookmarks(ledger: MockLedger) -> None:
    stub = ledger.stub(SUPERVISOR, "t")
    page, meta = stub.get_state_by_range_with_pagination("a", "z", 2)
    assert ([kv.key for kv in page], meta) == (["a", "b"], QueryPage(2, "c"))
    page, meta = stub.get_state_by_range_with_pagination("a", "z", 2, meta.bookmark)
    assert ([kv.key for kv in page], meta) == (["c", "d"], QueryPage(2, "e"))
    page, meta = stub.get_state_by_range_with_pagination("a", "z", 2, meta.bookmark)
    assert ([kv.key for kv in page], meta) == (["e"], QueryPage(1, ""))
    exact, meta = stub.get_state_by_range_with_pagination("a", "f", 5)
    assert (len(exact), meta.bookmark) == (5, "")
    # the peer does not check that a bookmark belongs to the range
    page, _ = stub.get_state_by_range_with_pagination("d", "z", 5, "a")
    assert [kv.key for kv in page] == list("abcde")


def test_query_limit_is_silent(ledger: MockLedger) -> None:
    ledger.total_query_limit = 3
    stub = ledger.stub(SUPERVISOR, "t")
    assert len(list(stub.get_state_by_range("a", "z"))) == 3
    page, meta = stub.get_state_by_range_with_pagination("a", "z", 10)
    assert (len(page), meta.bookmark) == (3, "d")


def test_paginated_queries_only_in_read_only_transactions(ledger: MockLedger) -> None:
    writer = ledger.stub(FINANCE, "t")
    writer.put_state("x", b"1")
    with pytest.raises(PeerError, match="Paginated queries are supported only in a read-only"):
        writer.get_state_by_range_with_pagination("a", "z", 2)
    reader = ledger.stub(FINANCE, "t")
    reader.get_state_by_range_with_pagination("a", "z", 2)
    with pytest.raises(PeerError, match="Writes are not allowed"):
        reader.put_state("x", b"1")


def test_history_newest_first_with_deletes(ledger: MockLedger) -> None:
    for value in (b"2", b""):
        stub = ledger.stub(FINANCE, "t")
        stub.put_state("a", value)
        ledger.commit(stub)
    history = list(ledger.stub(FINANCE, "t").get_history_for_key("a"))
    assert [(change.value, change.is_delete) for change in history] == [
        (b"", True),
        (b"2", False),
        (b"1", False),
    ]
    assert history[0].timestamp > history[-1].timestamp


def test_private_data_is_separate_and_guarded(ledger: MockLedger) -> None:
    writer = ledger.stub(ISSUER, "t", peer_msp="FinanceMSP")  # a non-member peer writes
    writer.put_private_data("billPrivate", "a", b"secret")
    assert ledger.commit(writer) == VALID
    assert ledger.public()["a"] == b"1"
    assert ledger.stub(MEDINS, "t").get_private_data("billPrivate", "a") == b"secret"
    digest = hashlib.sha256(b"secret").digest()
    assert ledger.stub(FINANCE, "t").get_private_data_hash("billPrivate", "a") == digest
    with pytest.raises(PeerError, match="not a member"):
        ledger.stub(MEDINS, "t", peer_msp="FinanceMSP").get_private_data("billPrivate", "a")
    with pytest.raises(PeerError, match="read access"):
        ledger.stub(FINANCE, "t", peer_msp="UnitsMSP").get_private_data("billPrivate", "a")
    with pytest.raises(PeerError, match="write access"):
        ledger.stub(FINANCE, "t").put_private_data("billPrivate", "a", b"x")
    with pytest.raises(PeerError, match="not defined"):
        ledger.stub(MEDINS, "t").get_private_data("nope", "a")


def test_validation_parameters_are_key_metadata(ledger: MockLedger) -> None:
    stub = ledger.stub(FINANCE, "t")
    stub.set_state_validation_parameter("a", b"policy")
    stub.set_state_validation_parameter("missing", b"policy")
    assert stub.get_state_validation_parameter("a") is None  # not before commit
    ledger.commit(stub)
    assert ledger.stub(FINANCE, "t").get_state_validation_parameter("a") == b"policy"
    assert ledger.stub(FINANCE, "t").get_state_validation_parameter("missing") is None
    deleter = ledger.stub(FINANCE, "t")
    deleter.delete_state("a")
    ledger.commit(deleter)
    assert ledger.stub(FINANCE, "t").get_state_validation_parameter("a") is None


def simulate(ledger: MockLedger, reads: str, writes: str) -> MockStub:
    stub = ledger.stub(FINANCE, "t")
    for key in reads:
        stub.get_state(key)
    for key in writes:
        stub.put_state(key, b"w")
    return stub


def test_mvcc_and_phantom_conflicts(ledger: MockLedger) -> None:
    first, second = simulate(ledger, "a", "a"), simulate(ledger, "a", "b")
    assert ledger.commit(first) == VALID
    assert ledger.commit(second) == MVCC_READ_CONFLICT
    assert ledger.public()["b"] == b"2"  # an invalid transaction writes nothing

    scanner = ledger.stub(FINANCE, "t")
    assert len(list(scanner.get_state_by_range("a", "c"))) == 2
    scanner.put_state("z", b"1")
    committed(ledger, bb=b"new")
    assert ledger.commit(scanner) == PHANTOM_READ_CONFLICT

    partial = ledger.stub(FINANCE, "t")
    assert next(iter(partial.get_state_by_range("a", "z"))).key == "a"
    partial.put_state("y", b"1")
    committed(ledger, dd=b"later")  # beyond what the transaction read
    assert ledger.commit(partial) == VALID


def _members(cls: type) -> dict[str, list[tuple[str, object, object]] | None]:
    """Public members; a method's parameters (name, kind, default), None for a property
    or attribute (mypy compares the types: shimtest.stub asserts MockStub is a Stub)."""
    found: dict[str, list[tuple[str, object, object]] | None] = {}
    for name in dir(cls):
        if name.startswith("_"):
            continue
        member = inspect.getattr_static(cls, name)
        if inspect.isfunction(member):
            parameters = inspect.signature(member).parameters.values()
            found[name] = [(p.name, p.kind, p.default) for p in parameters]
        else:
            found[name] = None
    return found


def test_the_mock_stub_has_every_member_of_the_stub_interface() -> None:
    interface = {name for name in Stub.__annotations__} | set(_members(Stub))
    stub = MockLedger().stub(FINANCE, "F")
    mock = _members(MockStub)
    missing = sorted(name for name in interface if not hasattr(stub, name))
    assert missing == []
    for name, signature in _members(Stub).items():
        if signature is not None:
            assert mock[name] == signature, name


def test_a_contract_function_is_unit_tested_on_the_mock_ledger() -> None:
    contract = Contract()

    @contract.transaction("Put")
    def put(stub: Stub, key: str, value: str) -> None:
        stub.put_state(key, value)
        stub.set_event("Put", key)

    @contract.transaction("Get")
    def get(stub: Stub, key: str) -> bytes:
        value = stub.get_state(key)
        if value is None:
            raise NotFound(f"{key} does not exist")
        return value

    ledger = MockLedger(chaincode="demo", channel="demochannel")
    alice = identity("Org1MSP", "alice", role="writer")
    outcome = ledger.invoke(contract, alice, "Put", "k", "v")
    assert (outcome.status, outcome.code) == (200, VALID)
    assert outcome.stub.event is not None and outcome.stub.event.name == "Put"
    assert outcome.stub.channel_id == "demochannel"
    assert ledger.public() == {"k": b"v"}
    assert ledger.invoke(contract, alice, "Get", "k", submit=False).response.payload == b"v"
    missing = ledger.invoke(contract, alice, "Get", "nope", submit=False)
    assert (missing.status, missing.error_code, missing.code) == (404, "not-found", NOT_SUBMITTED)
    assert missing.message == "NotFound: nope does not exist"
    assert ledger.height == 1  # the evaluations committed nothing


def test_identities_carry_fabric_ca_attributes() -> None:
    creator = identity("Org1MSP", "alice", role="writer", unit="U1")
    client = ClientIdentity.from_creator(creator)
    assert client.get_msp_id() == "Org1MSP"
    assert (client.get_attribute("role"), client.get_attribute("unit")) == ("writer", "U1")
    assert "CN=alice" in client.subject_dn and "ca.org1msp" in client.issuer_dn
    bare = CertificateFactory().certificate("bob", None)
    assert ClientIdentity("Org1MSP", bare).get_attribute("role") is None


def test_a_collection_names_its_chaincode_in_refusals() -> None:
    ledger = MockLedger(collections={"secret": ["Org1MSP"]}, chaincode="demo")
    outsider = identity("Org2MSP", "eve")
    with pytest.raises(PeerError, match="chaincodeName:demo collectionName: secret"):
        ledger.stub(outsider, "t", peer_msp="Org1MSP").get_private_data("secret", "k")


def test_the_readme_example_runs() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("### Unit-testing a contract function", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert "ledger.invoke(contract" in code
    exec(compile(code, "README.md", "exec"), {})
