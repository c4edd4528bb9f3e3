"""The Python key-value chaincode of ``make bench``: the Go ceiling's twin on our own shim.

``Put(key, value)`` writes ``value`` under ``key`` and answers nothing; ``Get(key)``
answers the value (NotFound if absent). It runs as a chaincode service with the same
environment as the e-bill server (CHAINCODE_ID, CHAINCODE_SERVER_ADDRESS,
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
