"""A test double of the shim, as fabric-chaincode-go's ``shimtest``: contract functions
run in-process on an in-memory ledger, no peer and no network.

* :class:`MockLedger` holds the committed state of one chaincode namespace (public
  state, private data collections, key metadata, history) and simulates Fabric's
  commit-time validation (MVCC and phantom reads).
* :class:`MockStub` is one transaction's view of it and implements the shim's
  :class:`~ebill_chaincode.shim.Stub` interface: state, private data, range and
  partial-composite-key queries with pagination, history, events, transient data,
  creator, key-level endorsement parameters.
* :func:`identity` and :class:`CertificateFactory` make creators with Fabric CA
  attributes in their certificates.

A unit test of a contract function::

    from ebill_chaincode.shim import Contract
    from ebill_chaincode.shimtest import VALID, MockLedger, identity

    contract = Contract()

    @contract.transaction("Put")
    def put(stub, key, value):
        stub.put_state(key, value)

    ledger = MockLedger()
    alice = identity("Org1MSP", "alice", role="writer")
    outcome = ledger.invoke(contract, alice, "Put", "k", "v")
    assert outcome.status == 200 and outcome.code == VALID
    assert ledger.public() == {"k": b"v"}

The module knows no contract: it depends on :mod:`ebill_chaincode.shim` alone.
"""

from .identity import CertificateFactory, certificate, identity
from .ledger import (
    DEFAULT_CLOCK,
    MVCC_READ_CONFLICT,
    NOT_SUBMITTED,
    PHANTOM_READ_CONFLICT,
    VALID,
    MockLedger,
    Outcome,
    Versioned,
)
from .stub import MockStub, RangeRead

__all__ = [
    "DEFAULT_CLOCK",
    "MVCC_READ_CONFLICT",
    "NOT_SUBMITTED",
    "PHANTOM_READ_CONFLICT",
    "VALID",
    "CertificateFactory",
    "MockLedger",
    "MockStub",
    "Outcome",
    "RangeRead",
    "Versioned",
    "certificate",
    "identity",
]
