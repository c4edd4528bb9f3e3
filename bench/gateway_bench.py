"""``make bench``: latency and throughput of the Python Gateway client on the running network.

Prints one table: evaluate and submit latency (median, p95, p99) sequentially,
issuance throughput with 1, 10 and 50 submits in flight, and the client's CPU
seconds per transaction. Numbers are measurements, never assertions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ebill.connection import Connection, connect, load_description
from ebill.samples import OUTPATIENT_CODE, outpatient_bill
from ebill_network.layout import layout_from_env


@dataclass
class Row:
    name: str
    count: int
    seconds: float
    cpu: float
    latencies: list[float]

    def cells(self) -> list[str]:
        lat = sorted(self.latencies)

        def pct(p: float) -> str:
            if not lat:
                return "-"
            return f"{lat[min(len(lat) - 1, int(round(p * (len(lat) - 1))))] * 1000:.1f}"

        median = f"{statistics.median(lat) * 1000:.1f}" if lat else "-"
        return [
            self.name,
            str(self.count),
            median,
            pct(0.95),
            pct(0.99),
            f"{self.count / self.seconds:.1f}",
            f"{self.cpu / self.count * 1000:.2f}",
        ]


class Numbers:
    """Fresh 10-digit bill numbers for this run (time-based prefix, then a counter)."""

    def __init__(self) -> None:
        self.prefix = int(time.time()) % 100_000
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"{self.prefix:05d}{self.n:05d}"


def measure(name: str, count: int, in_flight: int, call: Callable[[int], None]) -> Row:
    latencies: list[float] = []

    def timed(i: int) -> None:
        t = time.perf_counter()
        call(i)
        latencies.append(time.perf_counter() - t)

    cpu0, t0 = time.process_time(), time.perf_counter()
    if in_flight == 1:
        for i in range(count):
            timed(i)
    else:
        with ThreadPoolExecutor(max_workers=in_flight) as pool:
            list(pool.map(timed, range(count)))
    return Row(name, count, time.perf_counter() - t0, time.process_time() - cpu0, latencies)


def issue(conn: Connection, number: str) -> None:
    conn.contract.submit_transaction("IssueBill", json.dumps(outpatient_bill(number)))


def read(conn: Connection, number: str) -> None:
    conn.contract.evaluate_transaction("ReadBill", OUTPATIENT_CODE, number)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--evaluations", type=int, default=300)
    parser.add_argument("--submits", type=int, default=60)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the throughput counts")
    args = parser.parse_args()

    description = load_description(layout_from_env().network_file())
    numbers = Numbers()
    with connect(description, "units", "hospital1") as conn:
        first = numbers()
        issue(conn, first)  # warm-up, and the bill the evaluations read
        for _ in range(5):
            conn.contract.evaluate_transaction("ReadBill", OUTPATIENT_CODE, first)

        rows = [
            measure(
                "evaluate ReadBill (sequential)",
                args.evaluations,
                1,
                lambda _: (
                    conn.contract.evaluate_transaction("ReadBill", OUTPATIENT_CODE, first) and None
                ),
            ),
            measure(
                "submit IssueBill (sequential)", args.submits, 1, lambda _: issue(conn, numbers())
            ),
        ]
        for in_flight, count in ((1, 40), (10, 200), (50, 400)):
            n = max(in_flight, int(count * args.scale))
            rows.append(
                measure(
                    f"issue, {in_flight} in flight", n, in_flight, lambda _: issue(conn, numbers())
                )
            )

    header = ["operation", "n", "p50 ms", "p95 ms", "p99 ms", "tx/s", "client CPU ms/tx"]
    table = [header] + [r.cells() for r in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for i, r in enumerate(table):
        print(
            "  ".join(
                c.ljust(w) if j == 0 else c.rjust(w)
                for j, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
        if i == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    main()
