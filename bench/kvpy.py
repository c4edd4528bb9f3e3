"""The Python key-value chaincode of ``make bench``: the Go ceiling's twin on our own shim.

``Put(key, value)`` writes ``value`` under ``key`` and answers nothing; ``Get(key)``
answers the value (NotFound if absent); ``Pattern(key, value)`` makes IssueBill's
ledger traffic without its rules (3 reads, the first entry of a range read, 5 writes,
one private write, an event), as the Go twin's ``pattern`` does. It runs as a chaincode
service with the same environment as the e-bill server (CHAINCODE_ID, CHAINCODE_SERVER_ADDRESS,
CHAINCODE_TLS_CERT, CHAINCODE_TLS_KEY, CHAINCODE_TLS_CLIENT_CA):
``python -m bench.kvpy``. The difference between its Put throughput and the Go
server's is the cost of our shim; the difference to IssueBill, the contract's.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from ebill_chaincode.shim import ChaincodeServer, Contract, NotFound, Stub, TlsFiles

contract = Contract("kvpy")


@contract.transaction("Put")
def put(stub: Stub, key: str, value: str) -> None:
    """Write ``value`` under ``key``."""
    stub.put_state(key, value)


#: The private data collection Pattern writes (every org a member).
COLLECTION = "kvPrivate"
_INDEXES = ("by-unit/", "by-payer/", "by-status/", "by-period/")


@contract.transaction("Pattern")
def pattern(stub: Stub, key: str, value: str) -> None:
    """IssueBill's access pattern: reads key, "unit", "seal/"+key; the first entry of the
    range batch/..batch0 (closed after it); writes value under key and a marker under
    each of 4 indexes; value under key in kvPrivate; an event."""
    for name in (key, "unit", f"seal/{key}"):
        stub.get_state(name)
    next(stub.get_state_by_range("batch/", "batch0"), None)  # the shim closes it after
    stub.put_state(key, value)
    for index in _INDEXES:
        stub.put_state(index + key, b"\x00")
    stub.put_private_data(COLLECTION, key, value)
    stub.set_event("Pattern", f'{{"key":"{key}"}}')


@contract.transaction("Get")
def get(stub: Stub, key: str) -> bytes:
    """The value under ``key``; NotFound if there is none."""
    value = stub.get_state(key)
    if value is None:
        raise NotFound(f"no value under {key}")
    return value


def main() -> int:
    """Serve until SIGTERM; exit 2 when a required variable is missing."""
    names = ("CHAINCODE_ID", "CHAINCODE_SERVER_ADDRESS", "CHAINCODE_TLS_CERT", "CHAINCODE_TLS_KEY")
    missing = [n for n in (*names, "CHAINCODE_TLS_CLIENT_CA") if not os.environ.get(n)]
    if missing:
        print(f"kvpy: {', '.join(missing)} required", file=sys.stderr)
        return 2
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    env = os.environ
    tls = TlsFiles(
        Path(env["CHAINCODE_TLS_CERT"]),
        Path(env["CHAINCODE_TLS_KEY"]),
        Path(env["CHAINCODE_TLS_CLIENT_CA"]),
    )
    server = ChaincodeServer(
        env["CHAINCODE_ID"], env["CHAINCODE_SERVER_ADDRESS"], contract.dispatch, tls=tls
    )
    server.start()
    print(f"kvpy listening on {server.listen_address}", flush=True)
    server.serve_until_signal()
    return 0


if __name__ == "__main__":
    sys.exit(main())
