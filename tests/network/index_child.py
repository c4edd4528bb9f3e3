"""A projector in a child process that stalls inside one transaction (the SIGKILL test).

    python index_child.py URL NETWORK_JSON HEIGHT BLOCK INDEX MARKER BATCH

Projects the audit peer's blocks up to HEIGHT into the model at URL, ``BATCH``
transactions a database commit. When it has written the first row of transaction INDEX
of block BLOCK (not committed), it creates the file MARKER and sleeps, so the test can
kill it with SIGKILL there: mid-block, mid-transaction.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ebill.connection import load_description
from ebill.parties import open_connection
from ebill_index import Projector, Store
from ebill_index.blocks import Tx
from ebill_index.source import PeerSource


def main(argv: list[str]) -> int:
    url, network, height, block, index, marker, batch = argv
    stall = (int(block), int(index))

    def hook(tx: Tx) -> None:
        if (tx.block_number, tx.index) == stall:
            Path(marker).write_text("stalled\n")
            time.sleep(3600)

    description = load_description(Path(network))
    conn = open_connection(description, "audit", "auditor1")
    store = Store.open(url, on_row=hook)
    projector = Projector(
        store,
        PeerSource(conn),
        chaincode=description["chaincode"],
        channel=description["channel"],
        batch=int(batch),
    )
    projector.catch_up(int(height))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
