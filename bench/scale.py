"""``make bench-scale``: a million bills through the batch path, and whether the reads
stay flat as the state grows.

On the running network the environment names (``EBILL_DATA_DIR``, ``EBILL_BASE_PORT``;
``make bench-scale`` starts a fresh one in ``.data-scale``), hospital1 issues
``--bills`` outpatient bills with ``DepositBillsPrivate`` + ``IssueBills`` of 100 bills
(:class:`bench.issuance.BatchIssuance`, every contract rule), ``--in-flight`` batches
at once. At each checkpoint (``--checkpoints``) the load pauses and, sequentially and
A/B alternating (each round rotates the order), ``--samples`` calls of each are timed:
VerifyBill of a random issued bill with its check code, ReadBill of another,
ListBillsByUnit (a page of ``--page-size`` starting at a random issued bill: the
bookmark is that bill's index key), and the Go kv chaincode's ``Get`` of one key
(:mod:`bench.ceiling`'s ``kvgo``, the ceiling of a read on this network). Printed:
p50/p95 and their ratio to the Go Get; the load time and rate so far; the disk of each
peer's and orderer's data folder (du, and bytes per bill since the load began); the
resident memory of every process. Numbers are measurements, never assertions.

Stock: one batch of ``--stock-batch`` numbers (the contract's most, 1,000,000) at a
time; when it is used up the bench reconciles it (ReconcileStock counts the batch's
bills) and gets the next approved. Check codes: the issuer hashes each code with scrypt
(about 0.1 s of CPU), so the bench hashes a pool of 16 codes once and gives bill ``i``
the pool's code ``i mod 16``: any issued bill can be verified. The pool, the stock
batches and what is issued are kept in a state file (``<data>/bench-scale.json``, mode
0600) after every batch, so ``--resume`` continues a load that stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fabricgw
from ebill import table
from ebill.connection import Connection, load_description
from ebill.samples import HOSPITAL_UNIT, OUTPATIENT_CODE, outpatient_bill
from ebill.unit import new_check_code
from ebill_chaincode.contract import keys
from ebill_chaincode.contract.checkcode import hash_check_code
from ebill_chaincode.contract.model import MAX_STOCK_COUNT
from ebill_network.health import rss_kib
from ebill_network.layout import ORDERER_ORG, Layout, layout_from_env
from ebill_network.network import Network

from . import ceiling
from .ceiling_table import VALUE
from .gateway_bench import Setup, aio_gateway, setup_connections
from .heights import BlockHeight
from .issuance import BATCH_SIZE, HASH_POOL, ISSUE_ENDORSERS, BatchIssuance, batch_job_async
from .stats import nearest_rank

DEFAULT_BILLS = 1_000_000
DEFAULT_CHECKPOINTS = "1000,100000,300000,600000,1000000"
#: Measured here over a million bills: 16 batches in flight loaded 493 bills/s, 8 loaded
#: 428 (748 against 848 over the first 100,000), 4 loaded 300-360 in a shorter load.
DEFAULT_IN_FLIGHT = 16
DEFAULT_SAMPLES = 50
DEFAULT_PAGE = 50
STATE_NAME = "bench-scale.json"
STATE_VERSION = 1
PROBE_KEY = "bench-scale-probe"
#: ListBillsByUnit's span: every day a load can have issued on.
FROM_DAY, TO_DAY = "20000101", "20991231"
VERIFY, READ, LIST, GO_GET = "VerifyBill", "ReadBill", "ListBillsByUnit", "Go kv Get"
OPERATIONS = (VERIFY, READ, LIST, GO_GET)
WARMUP = 3
RETRIES = 6
BILL_EXISTS = "[bill-exists]"
FAILURES = (fabricgw.GatewayError, TimeoutError, RuntimeError)
MIB = 1024 * 1024


# --- pure helpers (tests/unit/test_bench_scale.py) ------------------------------------


def parse_count(text: str) -> int:
    """A positive count: ``20000``, ``20_000``, ``100k``, ``1M``; ValueError otherwise."""
    match = re.fullmatch(r"([0-9][0-9_]*)([kKmM]?)", text.strip())
    if match is None:
        raise ValueError(f"not a count: {text!r} (e.g. 1000, 100k, 1M)")
    value = int(match[1].replace("_", "")) * {"": 1, "k": 1000, "m": 1_000_000}[match[2].lower()]
    if value < 1:
        raise ValueError(f"a count must be at least 1, got {text!r}")
    return value


def parse_checkpoints(text: str, bills: int) -> tuple[int, ...]:
    """The sorted distinct checkpoints of ``1000,100k,1M`` at or below ``bills``, with
    ``bills`` itself always last (the end of the load is always measured)."""
    counts = {parse_count(part) for part in text.split(",") if part.strip()}
    return tuple(sorted({c for c in counts if c < bills} | {bills}))


def plan_batches(end: int, stops: Iterable[int], size: int = BATCH_SIZE) -> list[tuple[int, int]]:
    """The batches issuing bills ``0 .. end-1`` as index ranges ``[start, stop)``: every
    ``size`` bills, cut also at each of ``stops`` (checkpoints, stock boundaries, the
    cuts of earlier runs), so that no batch straddles one."""
    cuts = sorted({*range(size, end, size), *(s for s in stops if 0 < s < end), end})
    return list(zip([0, *cuts[:-1]], cuts, strict=True)) if end > 0 else []


@dataclass
class Done:
    """The issued bill index ranges ``[start, stop)``, sorted and merged."""

    ranges: list[tuple[int, int]] = field(default_factory=list)

    def add(self, start: int, stop: int) -> None:
        merged: list[tuple[int, int]] = []
        for a, b in sorted([*self.ranges, (start, stop)]):
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        self.ranges = merged

    def covers(self, start: int, stop: int) -> bool:
        i = bisect.bisect_right(self.ranges, (start, sys.maxsize)) - 1
        return i >= 0 and self.ranges[i][0] <= start and stop <= self.ranges[i][1]

    @property
    def prefix(self) -> int:
        """Bills ``0 .. prefix-1`` are all issued."""
        return self.ranges[0][1] if self.ranges and self.ranges[0][0] == 0 else 0

    @property
    def total(self) -> int:
        return sum(b - a for a, b in self.ranges)


@dataclass(frozen=True)
class Stock:
    """An approved stock batch: bill indexes ``first_index ..`` take its numbers in order."""

    batch_id: str
    first_index: int
    start_number: int
    count: int


@dataclass
class State:
    """What a load has done, saved after every batch (``--resume`` continues from it)."""

    pool: list[tuple[str, str]]  # (check code, its scrypt hash); bill i has pool[i % len]
    stock_size: int
    stock: list[Stock] = field(default_factory=list)
    done: Done = field(default_factory=Done)
    stops: list[int] = field(default_factory=list)  # every cut a plan used (plan_batches)
    days: list[tuple[int, str]] = field(default_factory=list)  # (first index, yyyymmdd)
    load_seconds: float = 0.0
    disk_base: dict[str, int] = field(default_factory=dict)
    results: list[dict[str, Any]] = field(default_factory=list)  # one per checkpoint
    reconciles: list[dict[str, Any]] = field(default_factory=list)
    unit_code: str = HOSPITAL_UNIT["unitCode"]
    bill_code: str = OUTPATIENT_CODE

    @property
    def covered(self) -> int:
        """Bill indexes below this have a stock number."""
        return self.stock[-1].first_index + self.stock[-1].count if self.stock else 0

    def add_stock(self, batch_id: str, start_number: int) -> Stock:
        """The next approved batch: it numbers the bills from :attr:`covered` on."""
        batch = Stock(batch_id, self.covered, start_number, self.stock_size)
        self.stock.append(batch)
        return batch

    def number(self, index: int) -> str:
        """Bill ``index``'s number (10 digits) in its stock batch."""
        for batch in self.stock:
            if batch.first_index <= index < batch.first_index + batch.count:
                return f"{batch.start_number + index - batch.first_index:010d}"
        raise IndexError(f"bill {index} is beyond the stock ({self.covered} numbers)")

    def check_code(self, index: int) -> tuple[str, str]:
        """Bill ``index``'s check code and its stored hash."""
        return self.pool[index % len(self.pool)]

    def note_day(self, index: int, issue_date: str) -> None:
        """Bill ``index`` was issued on ``issue_date`` (ISO); kept where the day changes."""
        day = issue_date[:10].replace("-", "")
        if not self.days or self.day(index) != day:
            bisect.insort(self.days, (index, day))

    def day(self, index: int) -> str:
        """The day bill ``index`` was issued on, as far as the bench noted (its index key)."""
        i = bisect.bisect_right(self.days, (index, "\uffff")) - 1
        return self.days[max(i, 0)][1]

    def result(self, bills: int) -> dict[str, Any] | None:
        return next((r for r in self.results if r["bills"] == bills), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "unitCode": self.unit_code,
            "billCode": self.bill_code,
            "pool": [list(p) for p in self.pool],
            "stockSize": self.stock_size,
            "stock": [
                {
                    "batchId": s.batch_id,
                    "firstIndex": s.first_index,
                    "startNumber": s.start_number,
                    "count": s.count,
                }
                for s in self.stock
            ],  # fmt: skip
            "done": [list(r) for r in self.done.ranges],
            "stops": self.stops,
            "days": [list(d) for d in self.days],
            "loadSeconds": self.load_seconds,
            "diskBase": self.disk_base,
            "results": self.results,
            "reconciles": self.reconciles,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> State:
        """Raises ValueError for another version of the file."""
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"state file version {data.get('version')}, not {STATE_VERSION}")
        return cls(
            pool=[(str(c), str(h)) for c, h in data["pool"]],
            stock_size=int(data["stockSize"]),
            stock=[
                Stock(s["batchId"], int(s["firstIndex"]), int(s["startNumber"]), int(s["count"]))
                for s in data["stock"]
            ],
            done=Done([(int(a), int(b)) for a, b in data["done"]]),
            stops=[int(s) for s in data["stops"]],
            days=[(int(i), str(d)) for i, d in data["days"]],
            load_seconds=float(data["loadSeconds"]),
            disk_base={k: int(v) for k, v in data["diskBase"].items()},
            results=list(data["results"]),
            reconciles=list(data["reconciles"]),
            unit_code=str(data["unitCode"]),
            bill_code=str(data["billCode"]),
        )

    def save(self, path: Path) -> None:
        """Write atomically, readable by the owner only (it holds check codes)."""
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(self.to_json(), f)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> State:
        return cls.from_json(json.loads(path.read_text()))


def disk_bytes(path: Path) -> int:
    """Bytes allocated under ``path`` (as ``du``: blocks, each hard link once); 0 if absent."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for root, _, files in os.walk(path):
        for name in [".", *files]:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512
    return total


# --- tables ----------------------------------------------------------------------------


def _table(header: list[str], rows: list[list[str]], left: int = 1) -> str:
    """Columns aligned (the first ``left`` to the left), a rule under the header."""
    return table.render(header, rows, right=range(left, len(header)))


def _ms(seconds: float) -> str:
    return "-" if seconds != seconds else f"{seconds * 1000:.1f}"


def _ratio(value: float, base: float) -> str:
    return "-" if not base or value != value or base != base else f"{value / base:.1f}"


def render_checkpoint(result: dict[str, Any]) -> str:
    """One checkpoint: the timed operations, then disk and memory per process."""
    ops, go = result["operations"], result["operations"][GO_GET]
    rows = []
    for name in OPERATIONS:
        op = ops[name]
        rows.append(
            [name, str(op["n"]), str(op["errors"]), _ms(op["p50"]), _ms(op["p95"]),
             _ratio(op["p50"], go["p50"]), _ratio(op["p95"], go["p95"])]
        )  # fmt: skip
    head = (
        f"checkpoint {result['bills']:,} bills: loaded in {result['loadSeconds']:.0f} s"
        f" ({result['rate']:.1f} bills/s; since the last checkpoint {result['stretchBills']:,}"
        f" bills at {result['stretchRate']:.1f} bills/s, {result['inFlight']} batches of"
        f" {BATCH_SIZE} in flight); load average {result['loadavg'][0]:.2f}"
    )
    ops_table = _table(["operation", "n", "err", "p50 ms", "p95 ms", "p50/Go", "p95/Go"], rows)
    disk_rows = [
        [node, f"{size / MIB:.1f}", f"{result['diskPerBill'][node]:,.0f}"]
        for node, size in result["disk"].items()
    ]
    disk = _table(["node data folder", "MiB", "bytes/bill"], disk_rows)
    rss = _table(
        ["process", "RSS MiB"], [[name, f"{mib:.1f}"] for name, mib in result["rss"].items()]
    )
    return "\n".join([head, ops_table, "", disk, "", rss])


def render_summary(results: Sequence[dict[str, Any]]) -> str:
    """A row per checkpoint: load rate, p50 of each read and its ratio to the Go Get,
    disk of all nodes and per bill, the largest peer's RSS."""
    rows = []
    for r in sorted(results, key=lambda r: int(r["bills"])):
        ops = r["operations"]
        go = ops[GO_GET]["p50"]
        peers = [mib for name, mib in r["rss"].items() if name.startswith("peer")]
        disk = sum(r["disk"].values())
        per_bill = sum(r["diskPerBill"].values())
        rows.append(
            [f"{r['bills']:,}", f"{r['loadSeconds']:.0f}", f"{r['rate']:.1f}"]
            + [f"{_ms(ops[n]['p50'])} ({_ratio(ops[n]['p50'], go)})" for n in OPERATIONS[:3]]
            + [_ms(go), f"{disk / MIB:,.1f}", f"{per_bill:,.0f}",
               f"{max(peers):.0f}" if peers else "-"]
        )  # fmt: skip
    header = ["bills", "load s", "bills/s"]
    header += [f"{n} p50 ms (/Go)" for n in OPERATIONS[:3]]
    header += ["Go Get p50", "disk MiB", "bytes/bill", "peer RSS max MiB"]
    return _table(header, rows)


# --- the network -----------------------------------------------------------------------


def node_data_dirs(layout: Layout) -> dict[str, Path]:
    """Each peer's and orderer's data folder (ledger, state and history DBs, Raft WAL)."""
    dirs = {f"peer0-{o.key}": layout.node_dir(o, "peer0") / "data" for o in layout.peer_orgs()}
    dirs.update({n: layout.node_dir(ORDERER_ORG, n) / "data" for n in layout.orderers()})
    return dirs


def disk_usage(layout: Layout) -> dict[str, int]:
    return {node: disk_bytes(path) for node, path in node_data_dirs(layout).items()}


def memory(network: Network) -> dict[str, float]:
    """Resident MiB of every process of the network, and of this bench."""
    rss = {name: rss_kib(pid) / 1024 for name, pid in sorted(network.procs.running().items())}
    rss["bench (this process)"] = rss_kib(os.getpid()) / 1024
    return rss


def new_pool(size: int = HASH_POOL) -> list[tuple[str, str]]:
    """Fresh check codes with their scrypt hashes (about 0.1 s of CPU each)."""
    return [(code, hash_check_code(code)) for code in (new_check_code() for _ in range(size))]


@dataclass
class Args:
    bills: int = DEFAULT_BILLS
    checkpoints: tuple[int, ...] = parse_checkpoints(DEFAULT_CHECKPOINTS, DEFAULT_BILLS)
    in_flight: int = DEFAULT_IN_FLIGHT
    samples: int = DEFAULT_SAMPLES
    page_size: int = DEFAULT_PAGE
    stock_batch: int = MAX_STOCK_COUNT
    state: Path | None = None
    resume: bool = False
    json_out: Path | None = None
    seed: int | None = None


class Scale:
    """The load and the measurements on one network, as finance and hospital1."""

    def __init__(self, args: Args, layout: Layout, state: State, state_path: Path) -> None:
        self.args, self.layout, self.state, self.state_path = args, layout, state, state_path
        self.description = load_description(layout.network_file())
        self.network = Network(layout, log=lambda line: print(line, file=sys.stderr))
        self.rng = random.Random(args.seed)
        self.measured: list[dict[str, Any]] = []

    # setup ---------------------------------------------------------------------------
    def deploy_kvgo(self) -> None:
        """The Go kv chaincode beside ebill (started if it is not running)."""
        kvgo = ceiling.go_service(self.layout.peer_orgs())
        package = self.network.deploy_service(kvgo, restart=False)
        print(f"setup: {ceiling.GO_KV} {package}", file=sys.stderr)

    def ensure_stock(self, setup: Setup, upto: int) -> None:
        """Stock numbers for bills ``0 .. upto-1``: the next batch approved (the previous
        one reconciled first, as the contract allows one open batch per code)."""
        while self.state.covered < upto:
            used = self.state.stock[-1].count if self.state.stock else 0  # every number issued
            t = time.perf_counter()
            start = setup.fresh_batch(self.state.stock_size)
            seconds = time.perf_counter() - t
            if self.state.stock:
                self.state.reconciles.append({"bills": used, "seconds": seconds})
                print(f"stock: previous batch reconciled, next approved in {seconds:.1f} s")
            batch_id = next(
                b["batchId"]
                for b in setup.pages(setup.hospital, "ListStock", self.state.unit_code)
                if b["status"] == "approved" and int(b["startNumber"]) == start
            )
            self.state.add_stock(batch_id, start)
            self.state.save(self.state_path)

    def check_stock(self, setup: Setup) -> None:
        """On resume: the state's open batch must still be approved."""
        if self.state.stock:
            batch = setup.evaluate(setup.hospital, "ReadStock", self.state.stock[-1].batch_id)
            if batch["status"] != "approved":
                raise SystemExit(
                    f"bench-scale: stock batch {batch['batchId']} is {batch['status']}: the"
                    " state file does not match this network (start afresh without --resume)"
                )

    # load ----------------------------------------------------------------------------
    async def load(self, batches: list[tuple[int, int]], finance: BlockHeight) -> None:
        """Issue ``batches`` with ``--in-flight`` at once; the state saved after each."""
        async with aio_gateway(self.description) as gateway:
            network = gateway.get_network(self.description["channel"])
            contract = network.get_contract(self.description["chaincode"])
            pending = iter(batches)
            base, t0 = self.state.load_seconds, time.perf_counter()
            shown = [t0]

            async def worker() -> None:
                for start, stop in pending:
                    await self.issue(contract, start, stop, finance)
                    self.state.done.add(start, stop)
                    self.state.load_seconds = base + time.perf_counter() - t0
                    self.state.save(self.state_path)
                    if time.perf_counter() - shown[0] >= 15:
                        shown[0] = time.perf_counter()
                        done = self.state.done.total
                        print(
                            f"load: {done:,} bills issued,"
                            f" {done / self.state.load_seconds:.1f} bills/s overall",
                            file=sys.stderr,
                        )

            await asyncio.gather(*(worker() for _ in range(min(self.args.in_flight, len(batches)))))

    async def issue(
        self,
        contract: fabricgw.aio.AsyncContract,
        start: int,
        stop: int,
        finance: BlockHeight,
    ) -> None:
        """Bills ``start .. stop-1`` in one batch, retried; a batch that an earlier run
        issued without recording it is refused ``bill-exists`` and counts as done."""
        error: BaseException | None = None
        for attempt in range(RETRIES):
            samples = [outpatient_bill(self.state.number(i)) for i in range(start, stop)]
            hashes = [self.state.check_code(i)[1] for i in range(start, stop)]
            try:
                await batch_job_async(contract, BatchIssuance.of(samples, hashes), finance)()
            except FAILURES as failure:
                if BILL_EXISTS in str(failure):
                    print(f"load: bills {start}-{stop - 1} were issued by an earlier run")
                    return
                error = failure
                print(
                    f"load: bills {start}-{stop - 1}, attempt {attempt + 1}:"
                    f" {type(failure).__name__}: {str(failure)[:300]}",
                    file=sys.stderr,
                )
                await asyncio.sleep(min(2**attempt, 30))
                continue
            self.state.note_day(start, str(samples[0].bill["issueDate"]))
            return
        raise RuntimeError(f"bills {start}-{stop - 1}: {RETRIES} attempts failed: {error}")

    # measurements --------------------------------------------------------------------
    def operations(self, hospital: Connection) -> dict[str, Callable[[int], bool]]:
        """Each timed call on bill index ``i``; True when its answer is the expected one."""
        state, contract = self.state, hospital.contract
        kvgo = hospital.network.get_contract(ceiling.GO_KV)
        code = state.bill_code

        def verify(i: int) -> bool:
            args = [code, state.number(i), state.check_code(i)[0]]
            answer = json.loads(contract.evaluate(VERIFY, arguments=args))
            return answer.get("genuine") is True

        def read(i: int) -> bool:
            answer = json.loads(contract.evaluate(READ, arguments=[code, state.number(i)]))
            return bool(answer.get("billNumber") == state.number(i))

        def page(i: int) -> bool:
            mark = keys.bill_by_unit(state.unit_code, state.day(i), code, state.number(i))
            args = [state.unit_code, FROM_DAY, TO_DAY, str(self.args.page_size), mark]
            answer = json.loads(contract.evaluate(LIST, arguments=args))
            return len(answer["records"]) > 0

        def get(_: int) -> bool:
            return kvgo.evaluate("Get", arguments=[PROBE_KEY]).decode() == VALUE

        return {VERIFY: verify, READ: read, LIST: page, GO_GET: get}

    def measure(self, hospital: Connection) -> dict[str, dict[str, Any]]:
        """``--samples`` calls of each operation, sequential, the order rotated per round."""
        calls = self.operations(hospital)
        issued = self.state.done.prefix
        latencies: dict[str, list[float]] = {name: [] for name in OPERATIONS}
        errors = dict.fromkeys(OPERATIONS, 0)
        firsts: dict[str, str] = {}
        for name in OPERATIONS:
            for _ in range(WARMUP):
                calls[name](self.rng.randrange(issued))
        for n in range(self.args.samples):
            for name in OPERATIONS[n % 4 :] + OPERATIONS[: n % 4]:
                index = self.rng.randrange(issued)
                t = time.perf_counter()
                try:
                    ok = calls[name](index)
                except FAILURES as error:
                    errors[name] += 1
                    firsts.setdefault(name, f"{type(error).__name__}: {str(error)[:300]}")
                    continue
                latencies[name].append(time.perf_counter() - t)
                if not ok:
                    errors[name] += 1
                    firsts.setdefault(name, f"unexpected answer for bill {index}")
        for name, first in firsts.items():
            print(f"measure: {name}: {errors[name]} errors, first: {first}", file=sys.stderr)
        return {
            name: {
                "n": self.args.samples,
                "errors": errors[name],
                "p50": statistics.median(lat) if lat else float("nan"),
                "p95": nearest_rank(lat, 0.95),
                "latencies": lat,
            }
            for name, lat in latencies.items()
        }

    def checkpoint(self, hospital: Connection, bills: int) -> dict[str, Any]:
        """Measure at ``bills`` issued; the result is printed and kept in the state."""
        previous = [r for r in self.state.results if r["bills"] < bills]
        before = max(previous, key=lambda r: int(r["bills"])) if previous else None
        operations = self.measure(hospital)
        disk = disk_usage(self.layout)
        seconds = self.state.load_seconds
        stretch_bills = bills - (before["bills"] if before else 0)
        stretch_seconds = seconds - (before["loadSeconds"] if before else 0.0)
        result = {
            "bills": bills,
            "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "loadSeconds": seconds,
            "rate": bills / seconds if seconds else 0.0,
            "stretchBills": stretch_bills,
            "stretchRate": stretch_bills / stretch_seconds if stretch_seconds > 0 else 0.0,
            "inFlight": self.args.in_flight,
            "loadavg": list(os.getloadavg()),
            "operations": operations,
            "disk": disk,
            "diskPerBill": {
                node: (size - self.state.disk_base.get(node, 0)) / bills
                for node, size in disk.items()
            },
            "rss": memory(self.network),
        }
        self.measured.append(result)
        stored = {**result, "operations": {
            name: {k: v for k, v in op.items() if k != "latencies"}
            for name, op in operations.items()
        }}  # fmt: skip
        self.state.results = [r for r in self.state.results if r["bills"] != bills] + [stored]
        self.state.save(self.state_path)
        print(render_checkpoint(result), flush=True)
        print(flush=True)
        return result

    # the run -------------------------------------------------------------------------
    def run(self) -> None:
        args, state = self.args, self.state
        self.deploy_kvgo()
        state.stops = sorted(
            {
                *state.stops,
                *args.checkpoints,
                *range(state.stock_size, args.bills, state.stock_size),
            }
        )
        description = self.description
        with setup_connections(description) as (finance, hospital, at_finance):
            setup = Setup(description, finance, hospital)
            setup.ensure_unit()
            self.check_stock(setup)
            kvgo = hospital.network.get_contract(ceiling.GO_KV)
            kvgo.submit(
                "Put", arguments=[PROBE_KEY, VALUE], endorsing_organizations=ISSUE_ENDORSERS
            )
            height = BlockHeight(at_finance, "FinanceMSP")
            try:
                for bills in args.checkpoints:
                    measured = state.result(bills) is not None
                    if state.done.prefix > bills or (measured and state.done.prefix == bills):
                        why = "measured in an earlier run" if measured else "passed, not measured"
                        print(f"checkpoint {bills:,}: {why}", file=sys.stderr)
                        continue
                    for stop in [s for s in state.stops if s <= bills] + [bills]:
                        self.ensure_stock(setup, stop)
                        todo = [
                            b for b in plan_batches(stop, state.stops)
                            if not state.done.covers(*b)
                        ]  # fmt: skip
                        if todo:
                            asyncio.run(self.load(todo, height))
                    self.checkpoint(hospital, bills)
            finally:
                height.close()


def parse_args(argv: list[str] | None = None) -> Args:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--bills", default=str(DEFAULT_BILLS), help="bills to load: 20000, 100k, 1M (default 1M)")
    add(
        "--checkpoints",
        default=DEFAULT_CHECKPOINTS,
        help=f"bill counts to measure at (default {DEFAULT_CHECKPOINTS}); those above --bills"
        " are left out, --bills is always measured",
    )
    add(
        "--in-flight",
        type=int,
        default=DEFAULT_IN_FLIGHT,
        help=f"batches of {BATCH_SIZE} bills at once (default {DEFAULT_IN_FLIGHT})",
    )
    add(
        "--samples",
        type=int,
        default=DEFAULT_SAMPLES,
        help=f"timed calls per operation and checkpoint (default {DEFAULT_SAMPLES})",
    )
    add(
        "--page-size",
        type=int,
        default=DEFAULT_PAGE,
        help=f"ListBillsByUnit's page, 1..200 (default {DEFAULT_PAGE})",
    )
    add(
        "--stock-batch",
        default=str(MAX_STOCK_COUNT),
        help=f"numbers per stock batch (default and most {MAX_STOCK_COUNT:,}); when one is"
        " used up it is reconciled and the next approved",
    )
    add("--state", type=Path, help=f"the state file (default {STATE_NAME} in the data folder)")
    add("--resume", action="store_true", help="continue the load recorded in the state file")
    add("--json", type=Path, help="also write every checkpoint here (this run's with latencies)")
    add("--seed", type=int, help="seed of the random choice of bills (default: none)")
    ns = parser.parse_args(argv)
    try:
        bills = parse_count(ns.bills)
        checkpoints = parse_checkpoints(ns.checkpoints, bills)
        stock = parse_count(ns.stock_batch)
    except ValueError as error:
        parser.error(str(error))
    if stock > MAX_STOCK_COUNT:
        parser.error(f"--stock-batch: at most {MAX_STOCK_COUNT:,} (the contract's limit)")
    if ns.in_flight < 1 or ns.samples < 1 or not 1 <= ns.page_size <= 200:
        parser.error("--in-flight and --samples: at least 1; --page-size: 1..200")
    return Args(
        bills, checkpoints, ns.in_flight, ns.samples, ns.page_size, stock,
        ns.state, ns.resume, ns.json, ns.seed,
    )  # fmt: skip


def open_state(args: Args, layout: Layout, path: Path) -> State:
    """The state to continue (``--resume``) or a new one; SystemExit with the reason."""
    if args.resume:
        if not path.exists():
            raise SystemExit(f"bench-scale: --resume: {path} does not exist")
        state = State.load(path)
        print(
            f"resume: {state.done.prefix:,} bills issued in {state.load_seconds:.0f} s",
            file=sys.stderr,
        )
        return state
    if path.exists() and State.load(path).done.total:
        raise SystemExit(
            f"bench-scale: {path} records a load on this network: --resume to continue it,"
            " or start a fresh network (make bench-scale)"
        )
    t = time.perf_counter()
    state = State(new_pool(), args.stock_batch, disk_base=disk_usage(layout))
    print(
        f"setup: {len(state.pool)} check codes hashed in {time.perf_counter() - t:.1f} s",
        file=sys.stderr,
    )
    state.save(path)
    return state


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    layout = layout_from_env()
    path = args.state or layout.data_dir / STATE_NAME
    state = open_state(args, layout, path)
    scale = Scale(args, layout, state, path)
    print(
        f"bench-scale: {args.bills:,} bills on {layout.data_dir} (ports from {layout.base_port}),"
        f" checkpoints {', '.join(f'{c:,}' for c in args.checkpoints)}, state {path}",
        file=sys.stderr,
    )
    try:
        scale.run()
    finally:
        if args.json_out is not None:
            dump = {
                "measured": scale.measured,  # this run's checkpoints, with every latency
                "checkpoints": state.results,  # every checkpoint of the load
                "reconciles": state.reconciles,
                "loadSeconds": state.load_seconds,
                "bills": state.done.prefix,
            }
            args.json_out.write_text(json.dumps(dump, indent=1))
    print(
        f"summary: {state.done.prefix:,} bills in {state.load_seconds:.0f} s of load"
        f" ({state.done.prefix / max(state.load_seconds, 1e-9):.1f} bills/s),"
        f" {args.in_flight} batches of {BATCH_SIZE} in flight; reads sequential, p50 and its"
        " ratio to the Go kv Get of the same stretch; disk: all peers and orderers;"
        " bytes/bill: growth since the load began over the bills"
    )
    print(render_summary(state.results))
    for r in state.reconciles:
        print(
            f"ReconcileStock of a batch of {r['bills']:,} bills (and the next approved):"
            f" {r['seconds']:.1f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
