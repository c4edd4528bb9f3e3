"""``make bench``: latency and throughput of the Python Gateway client, anchored by the
official Node client, on the running network.

Prints one table with a row per client and measurement: evaluate (ReadBill) and
submit (IssueBill) latency (median, p95, p99) sequentially, issuance throughput
with 1, 10 and 50 submits in flight, and the client's CPU seconds per
transaction. The same calls are made, in the same run against the same network,
by our SDK (``fabricgw``, threads over one gRPC channel) and by the official
Node client ``@hyperledger/fabric-gateway`` (``bench/node/bench.js``, async over
one gRPC connection). Numbers are measurements, never assertions.

Setup, before anything is timed: finance registers the hospital unit if it is
not registered yet; the unit's open batch of outpatient bills, if any, is closed
(a pending application rejected, an approved batch reconciled); the unit applies
for a fresh range after every range of that bill code already handed out, and
finance approves it. Every issuance of the run takes a new number of that batch
(payer, salt and medical part as transient data, as the contract requires);
evaluations read a bill issued during the warm-up as the issuing hospital user.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import grpc.aio

import fabricgw
from ebill import consistency
from ebill.connection import CHANNEL_OPTIONS, Connection, connect, load_description
from ebill.samples import HOSPITAL_UNIT, OUTPATIENT_CODE, SampleBill, outpatient_bill
from ebill_network.layout import layout_from_env

NODE_DIR = Path(__file__).resolve().parent / "node"
NODE_SCRIPT = NODE_DIR / "bench.js"
PYTHON_CLIENT = "python fabricgw"
AIO_CLIENT = "python fabricgw.aio"
NODE_CLIENT = "node fabric-gateway"
CLIENT_ORDER = (PYTHON_CLIENT, AIO_CLIENT, NODE_CLIENT)
WARMUP_EVALUATIONS = 20
PAGE_SIZE = "200"
# The gateway protects transient data: a proposal carrying it is endorsed only by
# orgs in the collection's distribution policy unless the client names the
# endorsers. Finance endorses every transaction (and only writes billPrivate), so
# issuance names finance and the issuing unit's org, as every IssueBill client must.
ISSUE_ENDORSERS = ["FinanceMSP", "UnitsMSP"]


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
            if not lat:
                return "-"
            return f"{lat[min(len(lat) - 1, int(round(p * (len(lat) - 1))))] * 1000:.1f}"

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
    table = [HEADER] + [r.cells() for r in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(HEADER))]
    lines = []
    for i, r in enumerate(table):
        lines.append(
            "  ".join(
                c.ljust(w) if j < 2 else c.rjust(w)
                for j, (c, w) in enumerate(zip(r, widths, strict=True))
            ).rstrip()
        )
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


# --- the plan: which calls each row makes ----------------------------------------------


@dataclass(frozen=True)
class Plan:
    evaluations: int
    submits: int
    throughput: tuple[tuple[int, int], ...]  # (in flight, count)

    @property
    def issues_per_client(self) -> int:
        """Bill numbers one client uses: one warm-up issuance, then the submit rows."""
        return 1 + self.submits + sum(count for _, count in self.throughput)


def make_plan(evaluations: int, submits: int, scale: float) -> Plan:
    rows = tuple(
        (in_flight, max(in_flight, int(count * scale)))
        for in_flight, count in ((1, 40), (10, 200), (50, 400))
    )
    return Plan(evaluations, submits, rows)


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


class Setup:
    """Finance and the hospital user preparing the run, each step committed on every peer."""

    def __init__(self, description: dict[str, Any], finance: Connection, hospital: Connection):
        self.description = description
        self.finance = finance
        self.hospital = hospital

    def submit(self, conn: Connection, function: str, *args: str) -> Any:
        """Submit and wait until every org's peer has the block (see ebill.consistency)."""
        result = consistency.submit(conn, function, *args)
        answer = json.loads(result) if result else None
        if isinstance(answer, dict) and "refused" in answer:
            raise RuntimeError(f"{function} refused: {answer}")
        return answer

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
    """Run ``jobs`` with at most ``in_flight`` at once (threads sharing one Gateway)."""
    latencies: list[float] = []

    def timed(job: Callable[[], object]) -> None:
        t = time.perf_counter()
        job()
        latencies.append(time.perf_counter() - t)

    cpu0, t0 = time.process_time(), time.perf_counter()
    if in_flight == 1:
        for job in jobs:
            timed(job)
    else:
        with ThreadPoolExecutor(max_workers=in_flight) as pool:
            list(pool.map(timed, jobs))
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return Row(PYTHON_CLIENT, name, len(jobs), seconds, cpu, latencies)


def issue_job(conn: Connection, sample: SampleBill) -> Callable[[], object]:
    argument, transient = sample.argument(), sample.transient()
    return lambda: conn.contract.submit(
        "IssueBill",
        arguments=[argument],
        transient=transient,
        endorsing_organizations=ISSUE_ENDORSERS,
    )


def python_rows(hospital: Connection, plan: Plan, numbers: Numbers) -> tuple[list[Row], str]:
    """Warm up, then measure every row; returns the rows and the number of the read bill."""
    first = numbers.bills(1)[0]
    issue_job(hospital, first)()
    read: Callable[[], object] = lambda: hospital.contract.evaluate(  # noqa: E731
        "ReadBill", arguments=[OUTPATIENT_CODE, first.number]
    )
    for _ in range(WARMUP_EVALUATIONS):
        read()
    rows = [
        measure("evaluate ReadBill, sequential", 1, [read] * plan.evaluations),
        measure(
            "submit IssueBill, sequential",
            1,
            [issue_job(hospital, s) for s in numbers.bills(plan.submits)],
        ),
    ]
    for in_flight, count in plan.throughput:
        jobs = [issue_job(hospital, s) for s in numbers.bills(count)]
        rows.append(measure(f"issue, {in_flight} in flight", in_flight, jobs))
    return rows, first.number


# --- the Python asyncio rows ---------------------------------------------------------


async def measure_async(
    name: str, in_flight: int, jobs: Sequence[Callable[[], Awaitable[object]]]
) -> Row:
    """Run ``jobs`` with at most ``in_flight`` awaiting at once (one event loop)."""
    latencies: list[float] = []
    pending = iter(jobs)

    async def worker() -> None:
        for job in pending:
            t = time.perf_counter()
            await job()
            latencies.append(time.perf_counter() - t)

    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(in_flight, len(jobs)))))
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return Row(AIO_CLIENT, name, len(jobs), seconds, cpu, latencies)


async def aio_rows(
    description: dict[str, Any], plan: Plan, numbers: Numbers, read_number: str
) -> list[Row]:
    """The same rows through :mod:`fabricgw.aio` over a ``grpc.aio`` channel."""
    org = description["orgs"]["units"]
    user = org["users"]["hospital1"]
    credentials = grpc.ssl_channel_credentials(root_certificates=Path(org["tls_ca"]).read_bytes())
    async with grpc.aio.secure_channel(org["peer"], credentials, options=CHANNEL_OPTIONS) as ch:
        gateway = fabricgw.aio.connect(
            ch,
            identity=fabricgw.Identity.from_pem_file(org["msp_id"], user["cert"]),
            signer=fabricgw.signer_from_pem_file(user["key"]),
        )
        contract = gateway.get_network(description["channel"]).get_contract(
            description["chaincode"]
        )

        def read() -> Awaitable[bytes]:
            return contract.evaluate("ReadBill", arguments=[OUTPATIENT_CODE, read_number])

        def issue(sample: SampleBill) -> Callable[[], Awaitable[bytes]]:
            argument, transient = sample.argument(), sample.transient()
            return lambda: contract.submit(
                "IssueBill",
                arguments=[argument],
                transient=transient,
                endorsing_organizations=ISSUE_ENDORSERS,
            )

        with gateway:
            await issue(numbers.bills(1)[0])()
            for _ in range(WARMUP_EVALUATIONS):
                await read()
            rows = [
                await measure_async("evaluate ReadBill, sequential", 1, [read] * plan.evaluations),
                await measure_async(
                    "submit IssueBill, sequential",
                    1,
                    [issue(s) for s in numbers.bills(plan.submits)],
                ),
            ]
            for in_flight, count in plan.throughput:
                jobs = [issue(s) for s in numbers.bills(count)]
                rows.append(await measure_async(f"issue, {in_flight} in flight", in_flight, jobs))
    return rows


# --- the Node rows -------------------------------------------------------------------


def node_call(function: str, args: list[str], transient: dict[str, bytes] | None = None) -> Any:
    call: dict[str, Any] = {"function": function, "args": args}
    if transient:
        call["transient"] = {k: base64.b64encode(v).decode() for k, v in transient.items()}
    return call


def issue_call(sample: SampleBill) -> Any:
    call = node_call("IssueBill", [sample.argument()], sample.transient())
    call["endorsingOrganizations"] = ISSUE_ENDORSERS
    return call


def node_config(
    description: dict[str, Any], plan: Plan, numbers: Numbers, read_number: str
) -> dict[str, Any]:
    """The Node bench's config: hospital1 at the units peer, and the same rows as Python's."""
    org = description["orgs"]["units"]
    user = org["users"]["hospital1"]
    read = node_call("ReadBill", [OUTPATIENT_CODE, read_number])
    rows: list[dict[str, Any]] = [
        {"name": "warm-up issue", "kind": "submit", "warmup": True,
         "calls": [issue_call(s) for s in numbers.bills(1)]},
        {"name": "warm-up read", "kind": "evaluate", "warmup": True, "calls": [read],
         "repeat": WARMUP_EVALUATIONS},
        {"name": "evaluate ReadBill, sequential", "kind": "evaluate", "inFlight": 1,
         "calls": [read], "repeat": plan.evaluations},
        {"name": "submit IssueBill, sequential", "kind": "submit", "inFlight": 1,
         "calls": [issue_call(s) for s in numbers.bills(plan.submits)]},
    ]  # fmt: skip
    for in_flight, count in plan.throughput:
        rows.append(
            {
                "name": f"issue, {in_flight} in flight",
                "kind": "submit",
                "inFlight": in_flight,
                "calls": [issue_call(s) for s in numbers.bills(count)],
            }
        )
    return {
        "peer": org["peer"],
        "tlsRootCert": org["tls_ca"],
        "mspId": org["msp_id"],
        "certPath": user["cert"],
        "keyPath": user["key"],
        "channel": description["channel"],
        "chaincode": description["chaincode"],
        # the Python SDK's defaults, so both clients run with the same deadlines
        "timeouts": {
            "evaluate": fabricgw.DEFAULT_TIMEOUTS.evaluate,
            "endorse": fabricgw.DEFAULT_TIMEOUTS.endorse,
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
    submits: int = 60
    scale: float = 1.0
    node: bool = True
    aio: bool = True
    json_out: Path | None = None


def parse_args(argv: list[str] | None = None) -> Args:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--evaluations", type=int, default=300)
    parser.add_argument("--submits", type=int, default=60)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the throughput counts")
    parser.add_argument("--no-node", action="store_true", help="leave out the Node client")
    parser.add_argument("--no-aio", action="store_true", help="leave out the asyncio rows")
    parser.add_argument("--json", type=Path, help="also write every row (with latencies) here")
    ns = parser.parse_args(argv)
    return Args(ns.evaluations, ns.submits, ns.scale, not ns.no_node, not ns.no_aio, ns.json)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    description = load_description(layout_from_env().network_file())
    plan = make_plan(args.evaluations, args.submits, args.scale)
    use_node = args.node
    if use_node and (why := node_missing()):
        print(f"bench: the Node anchor cannot run: {why}", file=sys.stderr)
        return 2

    clients = 1 + int(use_node) + int(args.aio)
    with (
        connect(description, "finance", "finance1") as finance,
        connect(description, "units", "hospital1") as hospital,
    ):
        setup = Setup(description, finance, hospital)
        setup.ensure_unit()
        start = setup.fresh_batch(plan.issues_per_client * clients)
        numbers = Numbers(start, plan.issues_per_client * clients)
        rows, read_number = python_rows(hospital, plan, numbers)
    if args.aio:
        rows += asyncio.run(aio_rows(description, plan, numbers, read_number))
    if use_node:
        rows += node_rows(node_config(description, plan, numbers, read_number))

    order = {name: i for i, name in enumerate(r.name for r in rows if r.client == PYTHON_CLIENT)}
    rows.sort(key=lambda r: (order.get(r.name, len(order)), CLIENT_ORDER.index(r.client)))
    peer = description["orgs"]["units"]["peer"]
    print(
        f"make bench: hospital1 (UnitsMSP) at the units peer {peer};"
        f" IssueBill endorsed by {' + '.join(ISSUE_ENDORSERS)}, transient payer data"
    )
    print(render(rows))
    print(
        "p50/p95/p99: latency of one call (submit: until committed); tx/s: calls done / wall"
        " seconds of the row; CPU ms/tx: the client process's CPU time (user + system, all"
        " threads) / calls"
    )
    if args.json_out is not None:
        args.json_out.write_text(json.dumps([r.__dict__ for r in rows], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
