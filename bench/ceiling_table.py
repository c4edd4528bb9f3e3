"""The ceiling table of ``make bench``: two-step issuance against key-value Puts.

At each level of calls in flight (10, 50, 200) the three workloads run A/B
alternating (issue, Go Put, Python Put; then the reverse order; ``rounds`` times)
through one :mod:`fabricgw.aio` client, hospital1 at the units peer, every call
endorsed by Finance + Units. Per workload and level: calls done per second, latency,
and the CPU each process kind spent per call (``/proc/<pid>/stat`` deltas over the
workload's own stretches). Issuance counts bills: one bill is two transactions
(deposit + IssueBill); a Put is one.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import fabricgw
from ebill import table

from .cpu import KINDS, Meter
from .issuance import ISSUE_ENDORSERS
from .stats import nearest_rank

ISSUE, GO_PUT, PY_PUT = "issue (2 tx: deposit + IssueBill)", "Go kv Put", "Python kv Put"
BATCH = "issue batch (2 tx per 100 bills)"
#: Callers of one bill each, grouped by the SDK's GroupCommit into batches.
GROUP = "issue, GroupCommit (1 bill a caller)"
#: IssueBill's ledger traffic without its rules (``Pattern`` of bench/kvgo and bench/kvpy):
#: the two shims side by side on the access pattern of the contract's main transaction.
GO_PATTERN, PY_PATTERN = "Go kv Pattern", "Python kv Pattern"
#: Go's Pattern without its private write: what a private write costs the peers.
GO_PUBLIC = "Go kv Pattern, no private write"
WORKLOADS = (ISSUE, GROUP, BATCH, GO_PUT, PY_PUT, GO_PATTERN, PY_PATTERN, GO_PUBLIC)
#: level -> (batches in flight, batches per level): 100 bills per batch.
BATCH_LEVELS = {10: (1, 4), 50: (2, 4), 200: (4, 8)}
BATCH_BILLS = 100
# (in flight, bills issued, Puts per kv chaincode): a bill (two transactions, every
# rule) costs several Puts, so it gets fewer calls in the same time.
LEVELS = ((10, 100, 400), (50, 200, 800), (200, 400, 1600))
VALUE = os.urandom(48).hex()  # a 96-byte value, about a small state record

Job = Callable[[], Awaitable[object]]
FAILURES = (fabricgw.GatewayError, TimeoutError, RuntimeError)


@dataclass
class Cell:
    """One workload at one level, summed over its alternating stretches."""

    workload: str
    in_flight: int
    bills_per_call: int = 1
    level: int = 0  # the level of the table it belongs to (a batch's in_flight is batches)
    count: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=lambda: dict.fromkeys(KINDS, 0.0))
    first_error: str = ""

    @property
    def rate(self) -> float:
        """Calls (bills, for issuance) done per second."""
        done = (self.count - self.errors) * self.bills_per_call
        return done / self.seconds if self.seconds > 0 else 0.0

    def cpu_per_call(self, kind: str) -> float | None:
        """CPU ms of ``kind`` per call done (per bill for issuance); None if none was."""
        done = (self.count - self.errors) * self.bills_per_call
        return self.cpu[kind] / done * 1000 if done else None

    def cpu_ms(self, kind: str) -> str:
        ms = self.cpu_per_call(kind)
        return "-" if ms is None else f"{ms:.2f}"

    def cells(self) -> list[str]:
        lat = sorted(self.latencies)
        p95 = nearest_rank(lat, 0.95) if lat else 0.0
        total = sum(self.cpu.values())
        done = (self.count - self.errors) * self.bills_per_call
        batch = self.bills_per_call > 1
        return [
            f"{self.in_flight}x{self.bills_per_call}" if batch else str(self.in_flight),
            self.workload,
            f"{self.count}x{self.bills_per_call}" if batch else str(self.count),
            str(self.errors),
            f"{self.rate:.1f}",
            f"{statistics.median(lat) * 1000:.0f}" if lat else "-",
            f"{p95 * 1000:.0f}" if lat else "-",
            *(self.cpu_ms(k) for k in KINDS),
            f"{total / done * 1000:.2f}" if done else "-",
        ]


HEADER = ["in flight", "workload", "n", "err", "calls/s", "p50 ms", "p95 ms"]
HEADER += [f"{k} ms" for k in KINDS] + ["total ms"]


async def stretch(cell: Cell, jobs: Sequence[Job], meter: Meter) -> None:
    """Run ``jobs`` with at most ``cell.in_flight`` awaiting; add the outcome to ``cell``."""
    pending = iter(jobs)

    async def worker() -> None:
        for job in pending:
            t = time.perf_counter()
            try:
                await job()
            except FAILURES as error:
                cell.errors += 1
                cell.first_error = cell.first_error or f"{type(error).__name__}: {error}"
                continue
            cell.latencies.append(time.perf_counter() - t)

    before, t0 = meter.sample(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(cell.in_flight, len(jobs)))))
    cell.seconds += time.perf_counter() - t0
    for kind, spent in meter.sample().minus(before).items():
        cell.cpu[kind] += spent
    cell.count += len(jobs)


def stretch_size(in_flight: int, count: int, rounds: int) -> int:
    """Calls of one stretch: the round's share of ``count``, at least ``in_flight``."""
    return max(in_flight, count // rounds)


def put_job(contract: fabricgw.aio.AsyncContract, key: str, function: str = "Put") -> Job:
    """One Put (or Pattern) of a fresh key, endorsed by Finance + Units as IssueBill is."""
    return lambda: contract.submit(
        function, arguments=[key, VALUE], endorsing_organizations=ISSUE_ENDORSERS
    )


async def measure(
    make_jobs: dict[str, Callable[[int], list[Job]]],
    meter: Meter,
    *,
    levels: Sequence[tuple[int, int, int]] = LEVELS,
    rounds: int = 2,
) -> list[Cell]:
    """Every workload at every level, A/B alternating in ``rounds`` rounds of equal size.

    ``make_jobs[workload](n)`` makes ``n`` fresh calls (prepared before the clock runs).
    """
    cells: list[Cell] = []
    workloads = [w for w in WORKLOADS if w in make_jobs]
    for in_flight, bills, puts in levels:
        batches_in_flight, batches = BATCH_LEVELS.get(in_flight, (1, 2))
        row = {w: Cell(w, in_flight, level=in_flight) for w in workloads}
        if BATCH in row:
            row[BATCH] = Cell(BATCH, batches_in_flight, BATCH_BILLS, level=in_flight)
        for r in range(rounds):
            order = workloads if r % 2 == 0 else list(reversed(workloads))
            for workload in order:
                if workload == BATCH:
                    share = stretch_size(batches_in_flight, batches, rounds)
                else:
                    count = bills if workload == ISSUE else puts
                    share = stretch_size(in_flight, count, rounds)
                await stretch(row[workload], make_jobs[workload](share), meter)
        cells += [row[w] for w in workloads]
    return cells


def shim_ratio(go: Cell, py: Cell) -> str:
    """Our shim against Go's on the same access pattern: chaincode CPU per transaction."""
    go_ms, py_ms = go.cpu_per_call("chaincode"), py.cpu_per_call("chaincode")
    if not go_ms or py_ms is None:
        return "Pattern: no figures"
    return (
        f"Pattern chaincode CPU per tx, Python shim / Go shim = {py_ms / go_ms:.2f}"
        f" ({py_ms:.2f} / {go_ms:.2f} ms); throughput Python / Go = {py.rate / go.rate:.2f}"
    )


def private_cost(with_private: Cell, without: Cell) -> str:
    """What Pattern's one private write costs: peers' CPU per transaction and throughput."""
    peers_with, peers_without = with_private.cpu_per_call("peers"), without.cpu_per_call("peers")
    if peers_with is None or peers_without is None or without.rate <= 0:
        return "private write: no figures"
    return (
        f"a private write costs the peers {peers_with - peers_without:+.2f} ms CPU per tx"
        f" ({peers_with:.2f} with, {peers_without:.2f} without); throughput with / without"
        f" = {with_private.rate / without.rate:.2f}"
    )


def render(cells: list[Cell]) -> str:
    """The table (the workload left-aligned), then the ratios per level."""
    right = [0, *range(2, len(HEADER))]
    lines = table.render(HEADER, [c.cells() for c in cells], right=right).split("\n")
    levels: dict[int, dict[str, Cell]] = {}
    for c in cells:
        levels.setdefault(c.level, {})[c.workload] = c
    for n, level in levels.items():
        go, py = level.get(GO_PUT), level.get(PY_PUT)
        if go is not None and go.rate > 0:
            parts = []
            if ISSUE in level:
                parts.append(f"issuance / Go ceiling = {level[ISSUE].rate / go.rate:.2f}")
            if GROUP in level:
                parts.append(
                    f"GroupCommit issuance / Go ceiling = {level[GROUP].rate / go.rate:.2f}"
                )
            if BATCH in level:
                parts.append(f"batch issuance / Go ceiling = {level[BATCH].rate / go.rate:.2f}")
            if py is not None:
                parts.append(f"Python kv / Go kv = {py.rate / go.rate:.2f}")
            if parts:
                lines.append(f"{n} in flight: " + "; ".join(parts) + " (bills/s over Put/s)")
        go_pattern, py_pattern = level.get(GO_PATTERN), level.get(PY_PATTERN)
        if go_pattern is not None and py_pattern is not None:
            lines.append(f"{n} in flight: " + shim_ratio(go_pattern, py_pattern))
        public = level.get(GO_PUBLIC)
        if go_pattern is not None and public is not None:
            lines.append(f"{n} in flight: " + private_cost(go_pattern, public))
    errors = [c for c in cells if c.errors]
    for c in errors:
        lines.append(f"errors in {c.workload} at {c.in_flight}: {c.errors}, first: {c.first_error}")
    return "\n".join(lines)
