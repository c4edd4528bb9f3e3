"""``python -m bench.index_bench``: the read model's speed (numbers, never assertions).

1. Replay: ``rebuild`` of a fresh SQLite model from block 0 of the running network
   (``$EBILL_DATA_DIR``), end to end (Deliver with private data, decode, write), and
   again from the same blocks held in memory (the projector alone): transactions/s.
   ``--issue N`` first issues N sample bills (``ebill bill issue-many``) so the ledger
   has something to replay.
2. Supervision totals over ``--bills`` (100,000) bills: the bills are *synthesised*
   (valid public records of 50 units over 365 days) and written through the
   projector's own row writer (:class:`ebill_index.store.Writer`, 500 a commit) into a test
   database, SQLite and, where Debian's PostgreSQL binaries are present, a throwaway
   PostgreSQL cluster; then ``queries.totals`` for one unit and for all over the year,
   ``--queries`` times each: p50/p95 in milliseconds. The write rate is printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ebill.connection import connect, load_description
from ebill_chaincode.contract import keys
from ebill_index import Projector, Store, queries
from ebill_index.blocks import Tx, Write
from ebill_index.source import PeerSource
from ebill_network.layout import layout_from_env

UNITS = 50
DAYS = 365


class ListSource:
    """Blocks fetched once, replayed from memory."""

    def __init__(self, blocks: list[Any]) -> None:
        self._blocks = blocks

    def blocks(self, start_block: int) -> Iterator[Any]:
        yield from self._blocks[start_block:]

    def height(self) -> int:
        return len(self._blocks)


def replay(issue: int) -> dict[str, Any]:
    """Rebuild rates on the running network's ledger."""
    network = layout_from_env().network_file()
    description = load_description(network)
    if issue:
        subprocess.run(
            [sys.executable, "-m", "ebill.cli", "--network", str(network), "bill", "issue-many",
             "--count", str(issue), "--workers", "8"],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    conn = connect(description, "audit", "auditor1")
    options = {"chaincode": description["chaincode"], "channel": description["channel"]}
    try:
        source = PeerSource(conn)
        height = source.height()
        with tempfile.TemporaryDirectory() as folder:
            store = Store.open(f"sqlite:///{Path(folder) / 'replay.sqlite'}")
            end_to_end = Projector(store, source, **options).catch_up(height)
            store.close()
            fetched: list[Any] = []
            started = time.perf_counter()
            for message in source.blocks(0):
                fetched.append(message)
                if len(fetched) >= height:
                    break
            deliver = time.perf_counter() - started
            store = Store.open(f"sqlite:///{Path(folder) / 'memory.sqlite'}")
            alone = Projector(store, ListSource(fetched), **options).catch_up(height)
            store.close()
    finally:
        conn.close()
    return {
        "blocks": height,
        "transactions": end_to_end.transactions,
        "rebuild_tx_per_s": round(end_to_end.rate),
        "deliver_s": round(deliver, 3),
        "projector_alone_tx_per_s": round(alone.rate),
    }


def _unit_record(i: int) -> dict[str, Any]:
    sector = ("medical", "education", "court", "police", "administrative", "other")[i % 6]
    return {"unitCode": f"BU{i:04d}", "name": f"unit {i}", "sector": sector, "region": "46",
            "status": "active"}  # fmt: skip


def _bill_record(n: int) -> dict[str, Any]:
    unit = n % UNITS
    day = 1 + (n // UNITS) % DAYS
    date = time.strftime("%Y-%m-%d", time.gmtime(1735689600 + (day - 1) * 86400))
    return {
        "billCode": "46010125", "billNumber": f"{n:010d}", "billName": "outpatient",
        "unitCode": f"BU{unit:04d}", "unitName": f"unit {unit}",
        "issueDate": f"{date}T10:00:00+08:00", "totalAmount": 1000 + n % 997,
        "payerHash": "0" * 64, "kind": "normal", "status": "issued", "issueTxId": f"tx{n}",
        "batchId": "b1", "authorised": {}, "claims": [], "reimbursedTotal": 0,
    }  # fmt: skip


def _tx(n: int, key: str, record: dict[str, Any]) -> Tx:
    value = json.dumps(record, separators=(",", ":")).encode()
    return Tx(
        block_number=n, index=0, tx_id=f"tx{n}", header_type="ENDORSER_TRANSACTION",
        validation_code=0, timestamp="2025-01-01T00:00:00Z", chaincode="ebill",
        function="IssueBill", writes={"ebill": (Write(key, value),)},
    )  # fmt: skip


def synthesise(store: Store, bills: int) -> float:
    """Write ``bills`` synthetic issuances through the row writer; seconds taken."""
    started = time.perf_counter()
    with store.engine.connect() as conn:
        conn.begin()
        writer = store.writer(conn, chaincode="ebill", channel="bench")
        for i in range(UNITS):
            record = _unit_record(i)
            writer.apply(_tx(i, keys.unit(record["unitCode"]), record))
        for b in range(bills):
            record = _bill_record(b)
            writer.apply(
                _tx(UNITS + b, keys.bill(record["billCode"], record["billNumber"]), record)
            )
            if writer.pending >= 500:
                writer.commit()
        writer.commit()
    return time.perf_counter() - started


def totals_latency(store: Store, repeat: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, scope, key in (("unit", "unit", "BU0007"), ("all", "all", "*")):
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            figures = queries.totals(store, scope, key, "2025-01-01", "2025-12-31")
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        result[name] = {
            "bills": figures.bills,
            "p50_ms": round(statistics.median(times), 3),
            "p95_ms": round(times[int(len(times) * 0.95) - 1], 3),
        }
    return result


def supervision(bills: int, repeat: int, *, postgres: bool = True) -> dict[str, Any]:
    """Totals latency over ``bills`` synthesised bills on SQLite and (``postgres``) on a
    throwaway PostgreSQL cluster, with the write rate of each."""
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(f"sqlite:///{Path(folder) / 'totals.sqlite'}")
        seconds = synthesise(store, bills)
        out["sqlite"] = {"write_tx_per_s": round(bills / seconds), **totals_latency(store, repeat)}
        store.close()
    if not postgres:
        return out
    try:
        from ebill_network.postgres import Cluster

        cluster = Cluster(int(os.environ.get("EBILL_BENCH_PG_PORT", "29990"))).start()
    except Exception as error:  # no PostgreSQL here: say so, measure SQLite only
        out["postgresql"] = f"not measured: {error}"
        return out
    try:
        store = Store.open(cluster.create_database("bench"))
        seconds = synthesise(store, bills)
        out["postgresql"] = {
            "write_tx_per_s": round(bills / seconds),
            **totals_latency(store, repeat),
        }
        store.close()
    finally:
        cluster.stop()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issue", type=int, default=0, help="issue N bills before the replay")
    parser.add_argument("--bills", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--no-replay", action="store_true", help="skip the network replay")
    args = parser.parse_args(argv)
    result: dict[str, Any] = {}
    if not args.no_replay:
        result["replay"] = replay(args.issue)
    result["supervision_totals"] = supervision(args.bills, args.queries)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
