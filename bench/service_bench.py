"""``python -m bench.service_bench``: the HTTP service against the direct SDK, in one run
on the running network (``$EBILL_DATA_DIR``); numbers, never assertions.

1. The units org's service runs as its own uvicorn process over HTTPS (``python -m
   ebill_service.cli serve --org units``, its self-signed certificate, its default state
   file ``$EBILL_DATA_DIR/service-units.sqlite``; rate limits raised for the run). An API
   client ``svcbench-his`` acting as ``hospital1`` is registered (rotated on later runs).
2. The same calls through both paths, A/B alternating in ``--rounds`` rounds:
   issuance (SDK: ``UnitClient.issue_bill`` of one client shared by the threads, as the
   service shares its party client; HTTP: ``POST /v1/bills`` with an Idempotency-Key,
   synchronous, answered when IssueBill committed) and verification (SDK:
   ``verify_bill`` as hospital1; HTTP: ``POST /v1/public/verify``, which the service runs
   as hospital1 too); sequentially and with ``--in-flight`` calls at once (threads; the
   HTTP ones share one httpx client with a connection pool). Both issuance paths
   include the check code's scrypt hash: in the bench process (SDK) or in the service
   (HTTP), shown by the CPU columns.
3. Projector lag: the service does not run a projector of its own yet, so an
   ``ebill_index`` Projector (SQLite, as hospital1, with private data) follows the units
   peer while the issuance load runs; every 0.5 s the blocks it is behind the peer's
   last delivered block are sampled: max and p95.
4. The read model (:mod:`bench.index_bench`'s own functions, not a copy): a rebuild
   from block 0 of this network's ledger (transactions/s end to end and projector
   alone), and a supervision total over ``--bills`` (100,000) bills *synthesised* in the
   read model's schema through its own row writer (issuing 100,000 bills would take
   hours here): p50/p95 of ``queries.totals``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from ebill.connection import connect, load_description
from ebill.parties import open_client
from ebill.samples import SampleBill
from ebill.unit import UnitClient
from ebill_index import Projector, Store
from ebill_index.source import PeerSource
from ebill_network.layout import layout_from_env
from ebill_service.apiclients import ApiClientError, ApiClients
from ebill_service.settings import Settings
from ebill_service.store import Store as ServiceStore

from . import index_bench
from .cpu import cpu_seconds
from .gateway_bench import Numbers, Setup
from .heights import BlockHeight
from .service_table import (
    COMPARISON_HEADER,
    HTTP,
    SDK,
    Lag,
    Series,
    comparison_rows,
    fmt,
    markdown,
)

ORG, USER = "units", "hospital1"
API_CLIENT = "svcbench-his"
UNLIMITED = 1_000_000  # the run's rate limits: a bench is not an abusive caller
LAG_INTERVAL = 0.5
WARMUP = 2  # issuances per path before anything is timed (connections, first calls)

Ref = tuple[str, str, str]  # bill code, number, check code


# --- the service process ---------------------------------------------------------------


@dataclass
class ServiceProcess:
    """The units service as a child process, and an HTTPS client pool of it."""

    proc: subprocess.Popen[bytes]
    url: str
    cert: Path
    key: str
    log: Path

    def client(self, connections: int) -> httpx.Client:
        """An HTTPS client trusting the service's certificate, ``connections`` pooled."""
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        return httpx.Client(
            base_url=self.url,
            verify=str(self.cert),
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=120,
            limits=limits,
        )

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def api_key(settings: Settings) -> str:
    """A key of the bench's API client (registered on the first run, rotated after)."""
    registry = ApiClients(ServiceStore(settings.state))
    try:
        return registry.register(API_CLIENT, "service bench", settings.org, USER)
    except ApiClientError:
        return registry.rotate(API_CLIENT, grace_seconds=0)


def start_service(settings: Settings, port: int, log: Path) -> ServiceProcess:
    """Start the service process on ``port``; returns once ``/readyz`` answers 200.

    Raises RuntimeError if it exits or is not ready within 90 s (its log is named).
    """
    key = api_key(settings)
    command = [
        sys.executable, "-m", "ebill_service.cli", "serve", "--org", settings.org,
        "--network", str(settings.network), "--state", str(settings.state),
        "--host", "127.0.0.1", "--port", str(port),
        "--public-rate", str(UNLIMITED), "--client-rate", str(UNLIMITED),
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    service = ServiceProcess(
        proc, f"https://127.0.0.1:{port}", settings.state.parent / "service-tls.crt", key, log
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the service exited ({proc.returncode}); see {log}")
        try:
            with service.client(1) as http:
                if http.get("/readyz").status_code == 200:
                    return service
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.5)
    service.stop()
    raise RuntimeError(f"the service was not ready in 90 s; see {log}")


def events_block(http: httpx.Client) -> float:
    """The service's ``ebill_events_last_block`` gauge (-1 if not reported)."""
    for line in http.get("/metrics").text.splitlines():
        if line.startswith("ebill_events_last_block "):
            return float(line.split()[1])
    return -1.0


def wait_events_settled(http: httpx.Client, quiet: float = 3.0, timeout: float = 300.0) -> None:
    """Wait until the service's event follower stops advancing (it replays the ledger's
    events on a first start), so its catching up is not measured as load."""
    deadline = time.monotonic() + timeout
    last, since = events_block(http), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = events_block(http)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
    print(f"service bench: the event follower still advancing after {timeout}s", file=sys.stderr)


# --- the calls -----------------------------------------------------------------------


class CallFailed(Exception):
    """A call answered, but not what it should (wrong status, not genuine)."""


def issue_body(sample: SampleBill) -> dict[str, Any]:
    return {"bill": sample.bill, "payer": sample.payer, "medical": sample.medical}


def http_issue(http: httpx.Client, sample: SampleBill) -> Ref:
    """POST /v1/bills (synchronous, a fresh Idempotency-Key); the bill's reference."""
    answer = http.post(
        "/v1/bills", json=issue_body(sample), headers={"Idempotency-Key": str(uuid.uuid4())}
    )
    if answer.status_code != 201:
        raise CallFailed(f"POST /v1/bills: {answer.status_code} {answer.text[:200]}")
    return sample.code, sample.number, str(answer.json()["checkCode"])


def sdk_issue(unit: UnitClient, sample: SampleBill) -> Ref:
    issued = unit.issue_bill(sample)
    return sample.code, sample.number, issued.check_code


def http_verify(http: httpx.Client, ref: Ref) -> None:
    body = {"billCode": ref[0], "billNumber": ref[1], "checkCode": ref[2]}
    answer = http.post("/v1/public/verify", json=body)
    if answer.status_code != 200 or not answer.json().get("genuine"):
        raise CallFailed(f"POST /v1/public/verify: {answer.status_code} {answer.text[:200]}")


def sdk_verify(unit: UnitClient, ref: Ref) -> None:
    if not unit.verify_bill(*ref).genuine:
        raise CallFailed(f"verify_bill {ref[0]}/{ref[1]}: not genuine")


def run_jobs(
    series: Series, in_flight: int, jobs: Sequence[Callable[[], object]], service_pid: int
) -> list[object]:
    """Run ``jobs`` with at most ``in_flight`` at once, adding to ``series`` (latencies,
    wall and CPU seconds, errors); the successful jobs' results."""
    results: list[object] = []

    def timed(job: Callable[[], object]) -> None:
        started = time.perf_counter()
        try:
            result = job()
        except Exception as error:  # every failure counts as an error of the row
            series.errors += 1
            series.first_error = series.first_error or f"{type(error).__name__}: {error}"[:300]
            return
        series.latencies.append(time.perf_counter() - started)
        results.append(result)

    bench0, service0 = cpu_seconds(os.getpid()), cpu_seconds(service_pid)
    started = time.perf_counter()
    if in_flight == 1:
        for job in jobs:
            timed(job)
    else:
        with ThreadPoolExecutor(max_workers=in_flight) as pool:
            list(pool.map(timed, jobs))
    series.seconds += time.perf_counter() - started
    series.bench_cpu += cpu_seconds(os.getpid()) - bench0
    series.service_cpu += cpu_seconds(service_pid) - service0
    return results


# --- projector lag -------------------------------------------------------------------


class LagProbe:
    """A Projector following the units peer into a SQLite read model, and the peer's
    last block from a filtered block stream; :meth:`sampling` records the lag."""

    def __init__(self, description: dict[str, Any], folder: Path) -> None:
        self.conn = connect(description, ORG, USER)
        self.peer_conn = connect(description, ORG, USER)
        self.store = Store.open(f"sqlite:///{folder / 'lag.sqlite'}")
        self.projector = Projector(
            self.store,
            PeerSource(self.conn),
            chaincode=description["chaincode"],
            channel=description["channel"],
        )
        self.catch_up = self.projector.catch_up()  # the ledger so far, before any load
        last = PeerSource(self.peer_conn).height() - 1
        self.peer = BlockHeight(self.peer_conn, self.conn.msp_id)
        self.peer.wait(last)  # the stream has delivered the peer's last block: seen is set
        self.samples: list[int] = []
        self._sampling = threading.Event()
        self._closed = threading.Event()
        self.error: BaseException | None = None
        threading.Thread(target=self._follow, name="projector", daemon=True).start()
        threading.Thread(target=self._sample, name="lag-sampler", daemon=True).start()

    def _follow(self) -> None:
        try:
            self.projector.run()
        except Exception as error:  # the stream ends when the probe closes its connection
            if not self._closed.is_set():
                self.error = error

    def behind(self) -> int | None:
        """Blocks between the peer's last block and the projector's last applied one."""
        position = self.store.position()
        if position is None or self.peer.seen < 0:
            return None
        return max(0, self.peer.seen - position.block_number)

    def _sample(self) -> None:
        while not self._closed.wait(LAG_INTERVAL):
            if self._sampling.is_set():
                lag = self.behind()
                if lag is not None:
                    self.samples.append(lag)

    @contextmanager
    def sampling(self) -> Iterator[None]:
        """Record the lag every 0.5 s while the block runs."""
        self._sampling.set()
        try:
            yield
        finally:
            self._sampling.clear()

    def result(self) -> Lag:
        return Lag(tuple(self.samples), LAG_INTERVAL)

    def close(self) -> None:
        self._closed.set()
        self.peer.close()
        self.conn.close()
        self.peer_conn.close()
        self.store.close()


# --- the run -------------------------------------------------------------------------


@dataclass
class Args:
    issues: int
    verifies: int
    in_flight: tuple[int, ...]
    issue_load: int
    verify_load: int
    rounds: int
    port: int | None
    read_model: bool
    bills: int
    queries: int
    postgres: bool
    json_out: Path | None


def parse_args(argv: list[str] | None = None) -> Args:
    parser = argparse.ArgumentParser(
        prog="python -m bench.service_bench",
        description=(__doc__ or "").split("\n\n")[0].replace("``", ""),
    )
    parser.add_argument("--issues", type=int, default=20, help="sequential issuances per path")
    parser.add_argument(
        "--verifies", type=int, default=50, help="sequential verifications per path"
    )
    parser.add_argument("--in-flight", default="10,50", help="comma-separated concurrency levels")
    parser.add_argument(
        "--issue-load", type=int, default=4, help="issuances per path and level: this x in flight"
    )
    parser.add_argument(
        "--verify-load", type=int, default=4, help="verifications per path and level: x in flight"
    )
    parser.add_argument("--rounds", type=int, default=2, help="A/B alternations per row")
    parser.add_argument(
        "--port", type=int, help="the service's port (default: EBILL_BASE_PORT + 300)"
    )
    parser.add_argument("--no-read-model", action="store_true", help="skip rebuild and totals")
    parser.add_argument("--bills", type=int, default=100_000, help="bills for the totals")
    parser.add_argument("--queries", type=int, default=200, help="totals queries timed")
    parser.add_argument("--postgres", action="store_true", help="totals on PostgreSQL too")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    ns = parser.parse_args(argv)
    try:
        levels = tuple(int(x) for x in ns.in_flight.split(","))
    except ValueError:
        parser.error(f"--in-flight: comma-separated integers, got {ns.in_flight!r}")
    if any(n < 2 for n in levels):
        parser.error(f"--in-flight: each level at least 2, got {ns.in_flight!r}")
    for name in ("issues", "verifies", "issue_load", "verify_load", "rounds", "queries"):
        if getattr(ns, name) < 1:
            parser.error(f"--{name.replace('_', '-')}: at least 1, got {getattr(ns, name)}")
    return Args(
        ns.issues, ns.verifies, levels, ns.issue_load, ns.verify_load, ns.rounds, ns.port,
        not ns.no_read_model, ns.bills, ns.queries, ns.postgres, ns.json,
    )  # fmt: skip


def split(count: int, rounds: int) -> list[int]:
    """``count`` calls over ``rounds`` rounds, as even as possible (none empty)."""
    rounds = max(1, min(rounds, count))
    return [count // rounds + (1 if r < count % rounds else 0) for r in range(rounds)]


class Bench:
    """One run: the SDK client, the service and its HTTP pool, the bill numbers."""

    def __init__(
        self, args: Args, unit: UnitClient, service: ServiceProcess, numbers: Numbers
    ) -> None:
        self.args = args
        self.unit = unit
        self.service = service
        self.numbers = numbers
        self.http = service.client(max(args.in_flight) + 4)
        self.refs: list[Ref] = []

    def pair(
        self,
        operation: str,
        in_flight: int,
        count: int,
        make: Callable[[str, int], list[Callable[[], object]]],
    ) -> tuple[Series, Series]:
        """``count`` calls per path, A/B alternating by round; ``make(path, n)`` the jobs."""
        series = {path: Series(operation, path, in_flight) for path in (SDK, HTTP)}
        for r, n in enumerate(split(count, self.args.rounds)):
            for path in (SDK, HTTP) if r % 2 == 0 else (HTTP, SDK):
                results = run_jobs(series[path], in_flight, make(path, n), self.service.proc.pid)
                if operation.startswith("issue"):
                    self.refs += [ref for ref in results if isinstance(ref, tuple)]
        for s in series.values():
            if s.errors:
                print(f"{operation} {s.path} x{in_flight}: {s.errors} errors, first: "
                      f"{s.first_error}", file=sys.stderr)  # fmt: skip
        return series[SDK], series[HTTP]

    def issue_jobs(self, path: str, n: int) -> list[Callable[[], object]]:
        samples = self.numbers.bills(n)
        if path == SDK:
            return [partial(sdk_issue, self.unit, s) for s in samples]
        return [partial(http_issue, self.http, s) for s in samples]

    def verify_jobs(self, path: str, n: int) -> list[Callable[[], object]]:
        refs = [self.refs[i % len(self.refs)] for i in range(n)]
        if path == SDK:
            return [partial(sdk_verify, self.unit, r) for r in refs]
        return [partial(http_verify, self.http, r) for r in refs]

    def warm_up(self) -> None:
        for path in (SDK, HTTP):
            scratch = Series("warm-up", path, 1)
            for job in self.issue_jobs(path, WARMUP):
                ref = job()
                assert isinstance(ref, tuple)
                self.refs.append(ref)
            run_jobs(scratch, 1, self.verify_jobs(path, 5), self.service.proc.pid)
            if scratch.errors:
                raise RuntimeError(f"warm-up verification by {path} failed: {scratch.first_error}")


def total_numbers(args: Args) -> int:
    per_path = WARMUP + args.issues + sum(args.issue_load * n for n in args.in_flight)
    return 2 * per_path


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    layout = layout_from_env()
    network_file = layout.network_file()
    description = load_description(network_file)
    settings = Settings.from_env(ORG, network=network_file)
    port = args.port or layout.base_port + 300
    load_before = os.getloadavg()
    started = time.monotonic()

    with (
        connect(description, "finance", "finance1") as finance,
        connect(description, ORG, USER) as hospital,
    ):
        setup = Setup(description, finance, hospital)
        setup.ensure_unit()
        total = total_numbers(args)
        numbers = Numbers(setup.fresh_batch(total), total)

    folder = Path(tempfile.mkdtemp(prefix="svcbench-"))
    service = start_service(settings, port, folder / "service.log")
    unit = open_client(UnitClient, description, ORG, USER)
    probe: LagProbe | None = None
    try:
        bench = Bench(args, unit, service, numbers)
        wait_events_settled(bench.http)
        bench.warm_up()
        pairs = [bench.pair("issue", 1, args.issues, bench.issue_jobs)]
        probe = LagProbe(description, folder)
        peer_before = probe.peer.seen
        load_seconds = time.perf_counter()
        with probe.sampling():
            for n in args.in_flight:
                pairs.append(bench.pair("issue", n, args.issue_load * n, bench.issue_jobs))
        load_seconds = time.perf_counter() - load_seconds
        peer_blocks = probe.peer.seen - peer_before
        lag, catch_up = probe.result(), probe.catch_up
        if probe.error is not None:
            print(f"projector: {type(probe.error).__name__}: {probe.error}", file=sys.stderr)
        pairs.append(bench.pair("verify", 1, args.verifies, bench.verify_jobs))
        for n in args.in_flight:
            pairs.append(bench.pair("verify", n, args.verify_load * n, bench.verify_jobs))
        bench.http.close()
    except BaseException:
        print(f"service bench: the service's log is kept in {service.log}", file=sys.stderr)
        raise
    finally:
        if probe is not None:
            probe.close()
        unit.close()
        service.stop()
    shutil.rmtree(folder, ignore_errors=True)

    read_model: dict[str, Any] = {}
    if args.read_model:
        read_model["replay"] = index_bench.replay(0)
        read_model["totals"] = index_bench.supervision(
            args.bills, args.queries, postgres=args.postgres
        )
    load_after = os.getloadavg()

    print(
        f"service bench: units service (uvicorn, HTTPS, 1 process) as {USER}; SDK:"
        f" ebill.UnitClient as {USER}, one client shared by the threads; A/B alternating in"
        f" {args.rounds} rounds; issue = deposit + IssueBill until committed (scrypt hash"
        " included), verify = VerifyBill (HTTP: /v1/public/verify)"
    )
    print()
    print(markdown(COMPARISON_HEADER, comparison_rows(pairs), left=3))
    print()
    print(lag_table(lag, load_seconds, peer_blocks, catch_up.rate, catch_up.transactions))
    if read_model:
        print()
        print(read_model_table(read_model, args.bills))
    print()
    print(
        "load average (1/5/15 min) before: " + " ".join(f"{x:.2f}" for x in load_before)
        + ", after: " + " ".join(f"{x:.2f}" for x in load_after)
        + f"; run {time.monotonic() - started:.0f} s"
    )  # fmt: skip
    if args.json_out is not None:
        dump = {
            "series": [s.__dict__ for pair in pairs for s in pair],
            "lag": {"samples": list(lag.samples), "interval": lag.interval},
            "read_model": read_model,
        }
        args.json_out.write_text(json.dumps(dump, indent=1))
    return 0


def lag_table(lag: Lag, seconds: float, blocks: int, catch_up_rate: float, catch_up: int) -> str:
    """The projector-lag table (one row)."""
    header = (
        "projector (ebill_index, SQLite) under the issuance load",
        "load s",
        "peer blocks",
        "samples",
        "max blocks behind",
        "p95 blocks behind",
        "catch-up tx/s",
    )
    row = [
        f"following the units peer, sampled every {lag.interval} s",
        fmt(seconds),
        str(blocks),
        str(len(lag.samples)),
        "-" if lag.max is None else str(lag.max),
        fmt(lag.p95),
        f"{catch_up_rate:.0f} ({catch_up} tx)",
    ]
    return markdown(header, [row])


def read_model_table(read_model: dict[str, Any], bills: int) -> str:
    """The read-model table: rebuild rates and supervision totals per database."""
    replay = read_model["replay"]
    rows = [
        [
            f"rebuild from block 0 ({replay['blocks']} blocks, {replay['transactions']} tx),"
            " end to end",
            f"{replay['rebuild_tx_per_s']} tx/s",
            ">= 2,000 events/s",
        ],
        ["rebuild, projector alone (blocks in memory)",
         f"{replay['projector_alone_tx_per_s']} tx/s", ">= 2,000 events/s"],
    ]  # fmt: skip
    for db, figures in read_model["totals"].items():
        if not isinstance(figures, dict):
            rows.append([f"supervision total ({db})", str(figures), "p50 < 20 ms"])
            continue
        for scope, label in (("unit", "one unit"), ("all", "all units")):
            f = figures[scope]
            rows.append(
                [
                    f"supervision total over {bills:,} synthesised bills ({db}), {label}"
                    f" ({f['bills']:,} bills counted), p50 / p95",
                    f"{f['p50_ms']} / {f['p95_ms']} ms",
                    "p50 < 20 ms",
                ]
            )
        rows.append([f"synthesised rows written ({db})", f"{figures['write_tx_per_s']} tx/s", ""])
    return markdown(("read model", "measured", "goal (issue 9)"), rows)


if __name__ == "__main__":
    sys.exit(main())
