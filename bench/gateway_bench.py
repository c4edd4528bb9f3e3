"""``make bench``: latency and throughput of the Python Gateway client, anchored by the
official Node client, and the contract's issuance against a key-value ceiling, on the
running network.

Prints two tables. The first has a row per client and measurement: evaluate
(ReadBill) latency, issuance latency (the two transactions of one bill, see
:mod:`bench.issuance`) sequentially, issuance throughput with 1, 10 and 50 bills in
flight, and the client's CPU seconds per call. The same calls are made, in the same
run against the same network, by our SDK (``fabricgw``, threads over one gRPC
channel; ``fabricgw.aio``, one event loop) and by the official Node client
``@hyperledger/fabric-gateway`` (``bench/node/bench.js``, async over one gRPC
connection). The second (:mod:`bench.ceiling_table`) puts issuance beside a Put of
the Go and the Python key-value chaincodes (:mod:`bench.ceiling`) at 10, 50 and 200
in flight, A/B alternating, with each process kind's CPU per call. Numbers are
measurements, never assertions.

Setup, before anything is timed: the kv chaincodes are deployed beside ``ebill``
(first run) and their servers started afresh; finance registers the hospital unit if
it is not registered yet; the unit's open batch of outpatient bills, if any, is
closed (a pending application rejected, an approved batch reconciled); the unit
applies for a fresh range after every range of that bill code already handed out,
and finance approves it. Every issuance of the run takes a new number of that batch
(payer, salt and medical part as transient data of the deposit, as the contract
requires); evaluations read a bill issued during the warm-up as the issuing
hospital user.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import grpc.aio

import fabricgw
from ebill import consistency, table
from ebill.connection import CHANNEL_OPTIONS, Connection, connect, load_description
from ebill.groupcommit import GroupCommit
from ebill.samples import HOSPITAL_UNIT, OUTPATIENT_CODE, SampleBill, outpatient_bill
from ebill.unit import UnitClient
from ebill_network.layout import layout_from_env
from ebill_network.network import Network

from . import ceiling, ceiling_table, txsize
from .ceiling_table import (
    BATCH,
    GO_PATTERN,
    GO_PUBLIC,
    GO_PUT,
    GROUP,
    ISSUE,
    PY_PATTERN,
    PY_PUT,
    Cell,
    put_job,
)
from .cpu import Meter, load_line
from .heights import BlockHeight
from .issuance import (
    BATCH_SIZE,
    ISSUE_ENDORSERS,
    BatchIssuance,
    Issuance,
    batch_job_async,
    group_job,
    hash_cost,
    issue_job,
    issue_job_async,
)
from .stats import nearest_rank

NODE_DIR = Path(__file__).resolve().parent / "node"
NODE_SCRIPT = NODE_DIR / "bench.js"
PYTHON_CLIENT = "python fabricgw"
AIO_CLIENT = "python fabricgw.aio"
NODE_CLIENT = "node fabric-gateway"
CLIENT_ORDER = (PYTHON_CLIENT, AIO_CLIENT, NODE_CLIENT)
WARMUP_EVALUATIONS = 20
PAGE_SIZE = "200"
#: Batches a GroupCommit keeps in flight in the ceiling table (its default is 4; 8
#: kept this 2-core machine busiest in bench.scale's load).
GROUP_WORKERS = 8
ISSUE_SEQUENTIAL = "issue (deposit + IssueBill), sequential"
# Longer than the peers' chaincode execute timeout (30 s): under load the network, not
# the client's deadline, decides whether an endorsement fails.
ENDORSE_TIMEOUT = 60.0
# A call that fails counts as an error of its row; anything else stops the bench.
FAILURES = (fabricgw.GatewayError, TimeoutError, RuntimeError)


# --- results -------------------------------------------------------------------------


@dataclass
class Row:
    """One measured row: ``count`` calls, their latencies, wall and CPU seconds."""

    client: str
    name: str
    count: int
    seconds: float
    cpu: float
    latencies: list[float]
    errors: int = 0

    def cells(self) -> list[str]:
        lat = sorted(self.latencies)

        def pct(p: float) -> str:
            return f"{nearest_rank(lat, p) * 1000:.1f}" if lat else "-"

        median = f"{statistics.median(lat) * 1000:.1f}" if lat else "-"
        done = self.count - self.errors
        return [
            self.client,
            self.name,
            str(self.count),
            str(self.errors),
            median,
            pct(0.95),
            pct(0.99),
            f"{done / self.seconds:.1f}" if self.seconds > 0 else "-",
            f"{self.cpu / self.count * 1000:.2f}" if self.count else "-",
        ]


HEADER = ["client", "operation", "n", "err", "p50 ms", "p95 ms", "p99 ms", "tx/s", "CPU ms/tx"]


def render(rows: list[Row]) -> str:
    """The first table: client and operation left-aligned, the figures right."""
    return table.render(HEADER, [r.cells() for r in rows], right=range(2, len(HEADER)))


# --- the plan: which calls each row makes ----------------------------------------------


@dataclass(frozen=True)
class Plan:
    evaluations: int
    submits: int
    throughput: tuple[tuple[int, int], ...]  # (in flight, count)
    ceiling: tuple[tuple[int, int, int], ...]  # (in flight, bills, Puts per kv chaincode)
    rounds: int = 2
    workloads: tuple[str, ...] = ceiling_table.WORKLOADS
    first_table: bool = True

    @property
    def issues_per_client(self) -> int:
        """Bill numbers one client uses: one warm-up issuance, then the submit rows."""
        if not self.first_table:
            return 0
        return 1 + self.submits + sum(count for _, count in self.throughput)

    @property
    def ceiling_issues(self) -> int:
        """Bill numbers the ceiling table uses (one warm-up, then every stretch)."""
        size = ceiling_table.stretch_size
        singles = sum(size(n, bills, self.rounds) * self.rounds for n, bills, _ in self.ceiling)
        if GROUP in self.workloads:  # callers of one bill each, as many as Puts, a warm-up
            singles += 1 + sum(
                size(n, puts, self.rounds) * self.rounds for n, _, puts in self.ceiling
            )
        batches = 1  # the warm-up batch
        for n, _, _ in self.ceiling:
            in_flight, count = ceiling_table.BATCH_LEVELS.get(n, (1, 2))
            batches += size(in_flight, count, self.rounds) * self.rounds
        return 1 + singles + batches * ceiling_table.BATCH_BILLS + TXSIZE_BILLS


def make_plan(
    evaluations: int,
    submits: int,
    scale: float,
    levels: Sequence[int] | None = None,
    workloads: Sequence[str] = ceiling_table.WORKLOADS,
    first_table: bool = True,
) -> Plan:
    """The calls of every row; ``levels`` keeps only those in-flight levels of the ceiling,
    ``workloads`` only those workloads of it; without ``first_table`` only the ceiling."""

    def scaled(rows: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
        return tuple((in_flight, max(in_flight, int(count * scale))) for in_flight, count in rows)

    ceiling = tuple(
        (n, max(n, int(bills * scale)), max(n, int(puts * scale)))
        for n, bills, puts in ceiling_table.LEVELS
        if levels is None or n in levels
    )
    throughput = scaled(((1, 20), (10, 100), (50, 200)))
    return Plan(evaluations, submits, throughput, ceiling, 2, tuple(workloads), first_table)


#: Bills the transaction-size probe issues: one alone, one batch.
TXSIZE_BILLS = 1 + BATCH_SIZE


class Numbers:
    """The bill numbers of this run's stock batch, handed out in order."""

    def __init__(self, start: int, count: int) -> None:
        self.next = start
        self.end = start + count - 1

    def __call__(self) -> str:
        if self.next > self.end:
            raise RuntimeError("the bench used more bill numbers than its stock batch holds")
        number = f"{self.next:010d}"
        self.next += 1
        return number

    def bills(self, count: int) -> list[SampleBill]:
        return [outpatient_bill(self()) for _ in range(count)]


# --- setup: unit and a fresh stock batch -----------------------------------------------


@contextmanager
def setup_connections(
    description: dict[str, Any],
) -> Iterator[tuple[Connection, Connection, Connection]]:
    """finance1, hospital1 at the units peer (the bench's endorse deadline) and hospital1
    through the finance peer (to follow that peer's height)."""
    with (
        connect(description, "finance", "finance1") as finance,
        connect(description, "units", "hospital1", endorse_timeout=ENDORSE_TIMEOUT) as hospital,
        connect(description, "units", "hospital1", via="finance") as at_finance,
    ):
        yield finance, hospital, at_finance


class Setup:
    """Finance and the hospital user preparing the run, each step committed on every peer."""

    def __init__(self, description: dict[str, Any], finance: Connection, hospital: Connection):
        self.description = description
        self.finance = finance
        self.hospital = hospital

    def submit(self, conn: Connection, function: str, *args: str) -> Any:
        """Submit and wait until every org's peer has the block (see ebill.consistency)."""
        result = consistency.submit(conn, function, *args)
        return json.loads(result) if result else None

    def evaluate(self, conn: Connection, function: str, *args: str) -> Any:
        raw = conn.contract.evaluate(function, arguments=args)
        return json.loads(raw) if raw else None

    def pages(self, conn: Connection, function: str, *args: str) -> Iterator[dict[str, Any]]:
        bookmark = ""
        while True:
            page = self.evaluate(conn, function, *args, PAGE_SIZE, bookmark)
            yield from page["records"]
            bookmark = page["bookmark"]
            if not bookmark or not page["records"]:
                return

    def ensure_unit(self) -> None:
        unit_code = HOSPITAL_UNIT["unitCode"]
        try:
            self.evaluate(self.finance, "ReadUnit", unit_code)
        except fabricgw.EvaluateError as err:
            if "not found" not in str(err):
                raise
            self.submit(self.finance, "RegisterUnit", json.dumps(HOSPITAL_UNIT, ensure_ascii=False))
            print(f"setup: registered unit {unit_code}", file=sys.stderr)

    def fresh_batch(self, count: int) -> int:
        """Close the unit's open outpatient batch, get a new one approved; its first number."""
        finance, unit_code = self.finance, HOSPITAL_UNIT["unitCode"]
        highest = 0
        for unit in list(self.pages(finance, "ListUnits")):
            for batch in list(self.pages(finance, "ListStock", unit["unitCode"])):
                if batch["billCode"] != OUTPATIENT_CODE:
                    continue
                if batch["status"] in ("approved", "reconciled"):
                    highest = max(highest, int(batch["endNumber"]))
                if batch["unitCode"] != unit_code:
                    continue
                if batch["status"] == "pending":
                    self.submit(finance, "RejectStock", batch["batchId"], "superseded by bench")
                    print(f"setup: rejected application {batch['batchId']}", file=sys.stderr)
                elif batch["status"] == "approved":
                    self.submit(finance, "ReconcileStock", batch["batchId"])
                    print(f"setup: reconciled open batch {batch['batchId']}", file=sys.stderr)
        application = {
            "unitCode": unit_code,
            "billCode": OUTPATIENT_CODE,
            "startNumber": f"{highest + 1:010d}",
            "count": count,
        }
        batch = self.submit(self.hospital, "ApplyStock", json.dumps(application))
        approved = self.submit(finance, "ApproveStock", batch["batchId"])
        assert approved["status"] == "approved", approved
        print(
            f"setup: batch {batch['batchId'][:16]}... approved, {OUTPATIENT_CODE} numbers"
            f" {batch['startNumber']}-{batch['endNumber']}",
            file=sys.stderr,
        )
        return highest + 1


# --- the Python rows -----------------------------------------------------------------


def measure(name: str, in_flight: int, jobs: Sequence[Callable[[], object]]) -> Row:
    """Run ``jobs`` with at most ``in_flight`` at once (threads sharing one Gateway);
    a failed call counts as an error (the first is printed)."""
    latencies: list[float] = []
    errors: list[str] = []

    def timed(job: Callable[[], object]) -> None:
        t = time.perf_counter()
        try:
            job()
        except FAILURES as error:
            errors.append(f"{type(error).__name__}: {error}")
            return
        latencies.append(time.perf_counter() - t)

    cpu0, t0 = time.process_time(), time.perf_counter()
    if in_flight == 1:
        for job in jobs:
            timed(job)
    else:
        with ThreadPoolExecutor(max_workers=in_flight) as pool:
            list(pool.map(timed, jobs))
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    report_errors(PYTHON_CLIENT, name, errors)
    return Row(PYTHON_CLIENT, name, len(jobs), seconds, cpu, latencies, len(errors))


def report_errors(client: str, name: str, errors: list[str]) -> None:
    if errors:
        print(f"{client}: {name}: {len(errors)} errors, first: {errors[0]}", file=sys.stderr)


def python_rows(
    hospital: Connection, plan: Plan, numbers: Numbers, finance: BlockHeight
) -> tuple[list[Row], str]:
    """Warm up, then measure every row; returns the rows and the number of the read bill."""
    contract = hospital.contract
    first = numbers.bills(1)[0]
    issue_job(contract, Issuance.of(first), finance)()
    read: Callable[[], object] = lambda: hospital.contract.evaluate(  # noqa: E731
        "ReadBill", arguments=[OUTPATIENT_CODE, first.number]
    )
    for _ in range(WARMUP_EVALUATIONS):
        read()
    rows = [
        measure("evaluate ReadBill, sequential", 1, [read] * plan.evaluations),
        measure(
            ISSUE_SEQUENTIAL,
            1,
            [issue_job(contract, Issuance.of(s), finance) for s in numbers.bills(plan.submits)],
        ),
    ]
    for in_flight, count in plan.throughput:
        jobs = [issue_job(contract, Issuance.of(s), finance) for s in numbers.bills(count)]
        rows.append(measure(f"issue, {in_flight} in flight", in_flight, jobs))
    return rows, first.number


# --- the Python asyncio rows ---------------------------------------------------------


async def measure_async(
    name: str, in_flight: int, jobs: Sequence[Callable[[], Awaitable[object]]]
) -> Row:
    """Run ``jobs`` with at most ``in_flight`` awaiting at once (one event loop)."""
    latencies: list[float] = []
    errors: list[str] = []
    pending = iter(jobs)

    async def worker() -> None:
        for job in pending:
            t = time.perf_counter()
            try:
                await job()
            except FAILURES as error:
                errors.append(f"{type(error).__name__}: {error}")
                continue
            latencies.append(time.perf_counter() - t)

    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(in_flight, len(jobs)))))
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    report_errors(AIO_CLIENT, name, errors)
    return Row(AIO_CLIENT, name, len(jobs), seconds, cpu, latencies, len(errors))


@asynccontextmanager
async def aio_gateway(description: dict[str, Any]) -> AsyncIterator[fabricgw.aio.AsyncGateway]:
    """hospital1 at the units peer through :mod:`fabricgw.aio` over a ``grpc.aio`` channel."""
    org = description["orgs"]["units"]
    user = org["users"]["hospital1"]
    credentials = grpc.ssl_channel_credentials(root_certificates=Path(org["tls_ca"]).read_bytes())
    async with grpc.aio.secure_channel(org["peer"], credentials, options=CHANNEL_OPTIONS) as ch:
        gateway = fabricgw.aio.connect(
            ch,
            identity=fabricgw.Identity.from_pem_file(org["msp_id"], user["cert"]),
            signer=fabricgw.signer_from_pem_file(user["key"]),
            endorse_timeout=ENDORSE_TIMEOUT,
        )
        with gateway:
            yield gateway


async def aio_rows(
    description: dict[str, Any],
    plan: Plan,
    numbers: Numbers,
    read_number: str,
    finance: BlockHeight,
) -> list[Row]:
    """The same rows through :mod:`fabricgw.aio` over a ``grpc.aio`` channel."""
    async with aio_gateway(description) as gateway:
        contract = gateway.get_network(description["channel"]).get_contract(
            description["chaincode"]
        )

        def read() -> Awaitable[bytes]:
            return contract.evaluate("ReadBill", arguments=[OUTPATIENT_CODE, read_number])

        def issue(sample: SampleBill) -> Callable[[], Awaitable[object]]:
            return issue_job_async(contract, Issuance.of(sample), finance)

        await issue(numbers.bills(1)[0])()
        for _ in range(WARMUP_EVALUATIONS):
            await read()
        rows = [
            await measure_async("evaluate ReadBill, sequential", 1, [read] * plan.evaluations),
            await measure_async(
                ISSUE_SEQUENTIAL,
                1,
                [issue(s) for s in numbers.bills(plan.submits)],
            ),
        ]
        for in_flight, count in plan.throughput:
            jobs = [issue(s) for s in numbers.bills(count)]
            rows.append(await measure_async(f"issue, {in_flight} in flight", in_flight, jobs))
    return rows


# --- the ceiling table --------------------------------------------------------------


async def ceiling_cells(
    description: dict[str, Any], plan: Plan, numbers: Numbers, finance: BlockHeight, meter: Meter
) -> list[Cell]:
    """Issuance against the Go and Python kv Puts (see :mod:`bench.ceiling_table`)."""
    async with aio_gateway(description) as gateway:
        network = gateway.get_network(description["channel"])
        ebill = network.get_contract(description["chaincode"])
        run, keys = os.urandom(4).hex(), itertools.count()

        def puts(name: str, function: str = "Put") -> Callable[[int], list[ceiling_table.Job]]:
            contract = network.get_contract(name)
            return lambda n: [
                put_job(contract, f"bench-{run}-{next(keys)}", function) for _ in range(n)
            ]

        def issues(n: int) -> list[ceiling_table.Job]:
            return [issue_job_async(ebill, Issuance.of(s), finance) for s in numbers.bills(n)]

        def batches(n: int) -> list[ceiling_table.Job]:
            return [
                batch_job_async(ebill, BatchIssuance.of(numbers.bills(BATCH_SIZE)), finance)
                for _ in range(n)
            ]

        make_jobs = {
            ISSUE: issues,
            BATCH: batches,
            GO_PUT: puts(ceiling.GO_KV),
            PY_PUT: puts(ceiling.PY_KV),
            GO_PATTERN: puts(ceiling.GO_KV, "Pattern"),
            PY_PATTERN: puts(ceiling.PY_KV, "Pattern"),
            GO_PUBLIC: puts(ceiling.GO_KV, "PatternPublic"),
        }
        make_jobs = {w: make for w, make in make_jobs.items() if w in plan.workloads}
        with ExitStack() as stack:
            if GROUP in plan.workloads:  # a GroupCommit on a connection of its own
                conn = stack.enter_context(
                    connect(description, "units", "hospital1", endorse_timeout=ENDORSE_TIMEOUT)
                )
                group = stack.enter_context(GroupCommit(UnitClient(conn), workers=GROUP_WORKERS))
                make_jobs[GROUP] = lambda n: [group_job(group, s) for s in numbers.bills(n)]
            for make in make_jobs.values():  # warm-up: every peer connects to every server
                await make(1)[0]()
            return await ceiling_table.measure(
                make_jobs, meter, levels=plan.ceiling, rounds=plan.rounds
            )


# --- the Node rows -------------------------------------------------------------------


def node_call(function: str, args: list[str], transient: dict[str, bytes] | None = None) -> Any:
    call: dict[str, Any] = {"function": function, "args": args}
    if transient:
        call["transient"] = {k: base64.b64encode(v).decode() for k, v in transient.items()}
    return call


def issue_call(sample: SampleBill) -> Any:
    return Issuance.of(sample).node_calls()


def node_config(
    description: dict[str, Any], plan: Plan, numbers: Numbers, read_number: str, start_block: int
) -> dict[str, Any]:
    """The Node bench's config: hospital1 at the units peer, and the same rows as Python's."""
    read = node_call("ReadBill", [OUTPATIENT_CODE, read_number])
    rows: list[dict[str, Any]] = [
        {"name": "warm-up issue", "kind": "issue", "warmup": True,
         "calls": [issue_call(s) for s in numbers.bills(1)]},
        {"name": "warm-up read", "kind": "evaluate", "warmup": True, "calls": [read],
         "repeat": WARMUP_EVALUATIONS},
        {"name": "evaluate ReadBill, sequential", "kind": "evaluate", "inFlight": 1,
         "calls": [read], "repeat": plan.evaluations},
        {"name": ISSUE_SEQUENTIAL, "kind": "issue", "inFlight": 1,
         "calls": [issue_call(s) for s in numbers.bills(plan.submits)]},
    ]  # fmt: skip
    for in_flight, count in plan.throughput:
        rows.append(
            {
                "name": f"issue, {in_flight} in flight",
                "kind": "issue",
                "inFlight": in_flight,
                "calls": [issue_call(s) for s in numbers.bills(count)],
            }
        )
    return node_setup(description, description["chaincode"], rows, start_block)


def node_setup(
    description: dict[str, Any], chaincode: str, rows: list[dict[str, Any]], start_block: int
) -> dict[str, Any]:
    """A Node bench config running ``rows`` on ``chaincode`` as hospital1 at the units
    peer, with the Python SDK's deadlines; ``start_block``: where the Node bench starts
    following the finance peer's blocks (its issue rows wait on them; a block far behind
    the height makes the peer replay the chain to it during the rows)."""
    org = description["orgs"]["units"]
    user = org["users"]["hospital1"]
    return {
        "peer": org["peer"],
        "tlsRootCert": org["tls_ca"],
        "mspId": org["msp_id"],
        "certPath": user["cert"],
        "keyPath": user["key"],
        "channel": description["channel"],
        "chaincode": chaincode,
        "finance": {
            "peer": description["orgs"]["finance"]["peer"],
            "tlsRootCert": description["orgs"]["finance"]["tls_ca"],
            "startBlock": start_block,
        },
        # the Python SDK's defaults (endorse: the bench's own), so both clients run with
        # the same deadlines
        "timeouts": {
            "evaluate": fabricgw.DEFAULT_TIMEOUTS.evaluate,
            "endorse": ENDORSE_TIMEOUT,
            "submit": fabricgw.DEFAULT_TIMEOUTS.submit,
            "commitStatus": fabricgw.DEFAULT_TIMEOUTS.commit_status,
        },
        "rows": rows,
    }


def node_missing() -> str | None:
    """Why the Node bench cannot run, or None."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (NODE_DIR / "node_modules" / "@hyperledger" / "fabric-gateway").is_dir():
        return f"its packages are not installed: run `npm ci --ignore-scripts --prefix {NODE_DIR}`"
    return None


def node_rows(config: dict[str, Any]) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="ebill-bench-") as tmp:
        path = Path(tmp) / "config.json"
        path.write_text(json.dumps(config, ensure_ascii=False))
        os.chmod(path, 0o600)
        proc = subprocess.run(
            ["node", str(NODE_SCRIPT), str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"node bench failed (exit {proc.returncode}):\n{proc.stderr.strip()}")
    result = json.loads(proc.stdout)
    print(f"node client: {result['client']} on node {result['node']}", file=sys.stderr)
    rows = []
    for r in result["rows"]:
        if r["errors"]:
            first = r["firstError"]
            print(f"node: {r['name']}: {r['errors']} errors, first: {first}", file=sys.stderr)
        latencies = [float(x) for x in r["latencies"]]
        rows.append(
            Row(
                NODE_CLIENT,
                r["name"],
                r["count"],
                r["wallSeconds"],
                r["cpuSeconds"],
                latencies,
                r["errors"],
            )  # fmt: skip
        )
    return rows


# --- main ----------------------------------------------------------------------------


@dataclass
class Args:
    evaluations: int = 300
    submits: int = 20
    scale: float = 1.0
    node: bool = True
    aio: bool = True
    json_out: Path | None = None
    levels: tuple[int, ...] | None = None
    workloads: tuple[str, ...] = ceiling_table.WORKLOADS
    first_table: bool = True


def parse_args(argv: list[str] | None = None) -> Args:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--evaluations", type=int, default=300)
    parser.add_argument("--submits", type=int, default=20)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the throughput counts")
    parser.add_argument("--no-node", action="store_true", help="leave out the Node client")
    parser.add_argument("--no-aio", action="store_true", help="leave out the asyncio rows")
    parser.add_argument("--json", type=Path, help="also write every row (with latencies) here")
    known = ",".join(str(level[0]) for level in ceiling_table.LEVELS)
    parser.add_argument(
        "--levels", default=known, help=f"the ceiling table's in-flight levels, of {known}"
    )
    parser.add_argument(
        "--ceiling-only", action="store_true", help="leave out the first table (clients)"
    )
    shorts = {
        "issue": ISSUE,
        "group": GROUP,
        "batch": BATCH,
        "go-put": GO_PUT,
        "py-put": PY_PUT,
        "go-pattern": GO_PATTERN,
        "py-pattern": PY_PATTERN,
        "go-public": GO_PUBLIC,
    }
    parser.add_argument(
        "--workloads",
        default=",".join(shorts),
        help=f"the ceiling table's workloads, of {','.join(shorts)}",
    )
    ns = parser.parse_args(argv)
    chosen = tuple(w.strip() for w in ns.workloads.split(",") if w.strip())
    if not chosen or not set(chosen) <= set(shorts):
        parser.error(f"--workloads: a comma-separated list of {','.join(shorts)}")
    try:
        levels = tuple(int(x) for x in ns.levels.split(","))
    except ValueError:
        parser.error(f"--levels: a comma-separated list of {known}, got {ns.levels!r}")
    if not set(levels) <= {level[0] for level in ceiling_table.LEVELS}:
        parser.error(f"--levels: each level must be one of {known}, got {ns.levels!r}")
    return Args(
        ns.evaluations,
        ns.submits,
        ns.scale,
        not ns.no_node and not ns.ceiling_only,
        not ns.no_aio and not ns.ceiling_only,
        ns.json,
        levels,
        tuple(shorts[w] for w in chosen),
        not ns.ceiling_only,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    layout = layout_from_env()
    description = load_description(layout.network_file())
    plan = make_plan(
        args.evaluations, args.submits, args.scale, args.levels, args.workloads, args.first_table
    )
    use_node = args.node
    if use_node and (why := node_missing()):
        print(f"bench: the Node anchor cannot run: {why}", file=sys.stderr)
        return 2

    network = Network(layout, log=lambda line: print(line, file=sys.stderr))
    packages = ceiling.deploy(network)
    print(f"setup: kv chaincodes {', '.join(packages.values())}", file=sys.stderr)
    meter = Meter(network.procs.running())
    load_before = os.getloadavg()

    clients = 1 + int(use_node) + int(args.aio)
    total = plan.issues_per_client * clients + plan.ceiling_issues
    with setup_connections(description) as (finance, hospital, at_finance):
        setup = Setup(description, finance, hospital)
        setup.ensure_unit()
        numbers = Numbers(setup.fresh_batch(total), total)
        finance_height = BlockHeight(at_finance, "FinanceMSP")
        try:
            rows: list[Row] = []
            read_number = ""
            if plan.first_table:
                rows, read_number = python_rows(hospital, plan, numbers, finance_height)
            if args.aio:
                rows += asyncio.run(
                    aio_rows(description, plan, numbers, read_number, finance_height)
                )
            if use_node:
                start_block = consistency.height(hospital, "FinanceMSP") - 1
                rows += node_rows(node_config(description, plan, numbers, read_number, start_block))
            cells = asyncio.run(ceiling_cells(description, plan, numbers, finance_height, meter))
            sizes = txsize.measure(
                hospital, numbers.bills(1)[0], numbers.bills(BATCH_SIZE), finance_height
            )
        finally:
            finance_height.close()
    load_after = os.getloadavg()

    order = {name: i for i, name in enumerate(r.name for r in rows if r.client == PYTHON_CLIENT)}
    rows.sort(key=lambda r: (order.get(r.name, len(order)), CLIENT_ORDER.index(r.client)))
    if rows:
        peer = description["orgs"]["units"]["peer"]
        print(
            f"make bench: hospital1 (UnitsMSP) at the units peer {peer};"
            f" IssueBill endorsed by {' + '.join(ISSUE_ENDORSERS)}, transient payer data"
        )
        print(render(rows))
        print(
            "p50/p95/p99: latency of one call (submit: until committed; issue: both transactions);"
            " tx/s: calls done / wall seconds of the row (issue: bills/s, 2 transactions each);"
            " CPU ms/tx: the client process's CPU time (user + system, all threads) / calls"
        )
        print()
    print(
        f"ceiling: {AIO_CLIENT}, hospital1 at the units peer, every call endorsed by"
        f" {' + '.join(ISSUE_ENDORSERS)}; A/B alternating in {plan.rounds} rounds per level;"
        " CPU ms per call per process kind (/proc/<pid>/stat)"
    )
    print(ceiling_table.render(cells))
    print(
        f"the issuer's check-code hash (scrypt N=2^15, r=8, p=1): {hash_cost() * 1000:.0f} ms"
        " CPU on this machine, in the issuer's process (the bench hashes a pool of codes"
        " before the run: bench/issuance.py)"
    )
    for line in sizes.lines():
        print(line)
    print(load_line(load_before, load_after))
    if args.json_out is not None:
        dump = {"rows": [r.__dict__ for r in rows], "ceiling": [c.__dict__ for c in cells]}
        args.json_out.write_text(json.dumps(dump, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
