"""Latency at low load against throughput at high load, per orderer batching setting.

For each ``BatchTimeout`` x ``MaxMessageCount`` of a sweep, applied to the running
network by a channel config update (:func:`ebill_network.channel.set_batching`):

- sequential latency: Go kv Puts one at a time (endorsed by Finance + Units), first
  with nothing else open on the network (the figure a caller sees: ``fabricgw.aio``,
  then the official Node client, ``bench/node/bench.js``, in turns), then again each
  split into endorse (proposal to endorsed transaction), submit (until the orderer
  accepted it) and commit wait (CommitStatus until the gateway peer committed it); the
  commit wait split again by the block's arrival on Deliver streams the bench opens
  for that stretch to every orderer and to the gateway peer (so that the latency
  itself is measured with nothing of the bench's beside it): ordered (the first
  orderer delivers the block: BatchTimeout, Raft and the orderer's block write), peer
  (the gateway peer delivers it: validation and commit) and notify (until CommitStatus
  answers); and
  two-step issuances one at a time (:mod:`bench.issuance`);
- throughput: Go kv Puts at ``--in-flight`` (200) for ``--seconds``: calls/s (the
  calls that ended after the first fifth of each stretch, over the rest of it: no
  ramp-up, no drain), latency, and transactions per block (the calls over the distinct
  block numbers of their commit statuses); and the project's own load, ``--bills``
  bills: half in batches of 100 (``DepositBillsPrivate`` + ``IssueBills``, 4 batches
  in flight), half one bill a caller through the SDK's ``GroupCommit`` (200 callers):
  bills/s of each (a batching setting is chosen for bills, not for Puts);
- where a sequential Put's time beyond ``BatchTimeout`` goes: the mean per block of the
  nodes' own histograms (operations ``/metrics``) over the sequential stretch.

Settings run A/B alternating: ``--rounds`` rounds, the grid in order then reversed, each
round a share of every count. The setting found at the start is put back at the end,
even on error. Numbers are measurements, never assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
from fabric_protos.orderer import ab_pb2_grpc as _ab_pb2_grpc

import fabricgw
from ebill import table as text_table
from ebill.connection import CHANNEL_OPTIONS, load_description
from ebill.groupcommit import GroupCommit
from ebill.unit import UnitClient
from ebill_network import channel, configs, operations
from ebill_network.layout import CHANNEL, ORDERER_ORG, Layout, layout_from_env
from ebill_network.network import Network
from fabricgw.block_events import build_seek_envelope
from fabricgw.commit import check_committed
from fabricgw.signing_identity import SigningIdentity

from . import ceiling
from .ceiling_table import BATCH, GROUP, VALUE, Cell, stretch
from .cpu import KINDS, Meter, load_line
from .gateway_bench import (
    GROUP_WORKERS,
    Numbers,
    Setup,
    aio_gateway,
    node_call,
    node_missing,
    node_rows,
    node_setup,
    setup_connections,
)
from .heights import BlockHeight
from .issuance import (
    BATCH_SIZE,
    ISSUE_ENDORSERS,
    BatchIssuance,
    Issuance,
    batch_job_async,
    group_job,
    issue_job_async,
)
from .stats import nearest_rank

FAILURES = (fabricgw.GatewayError, TimeoutError, RuntimeError)
ab_pb2_grpc: Any = _ab_pb2_grpc  # generated, untyped
#: Batches of 100 in flight, and GroupCommit's callers, in the bills load.
BATCHES_IN_FLIGHT, GROUP_CALLERS = 4, 200
#: Puts a fresh Node client makes before its measured ones (connections, JIT).
NODE_WARMUP = 3
#: The share of each load stretch left out of its rate (the ramp-up).
RAMP = 0.2

#: (label, node kind, histogram): each read as mean milliseconds per observation over the
#: sequential Puts; ``orderer``: every orderer, ``peer``: the gateway peer (units).
STAGES = (
    ("raft persist", "orderer", "consensus_etcdraft_data_persist_duration"),
    ("wal fsync", "orderer", "etcd_disk_wal_fsync_duration_seconds"),
    ("ord write", "orderer", "ledger_blockstorage_commit_time"),
    ("validate", "peer", "gossip_privdata_validation_duration"),
    ("commit block", "peer", "gossip_privdata_commit_block_duration"),
    ("state commit", "peer", "gossip_state_commit_duration"),
)


@dataclass(frozen=True)
class Setting:
    """One batching setting: ``BatchTimeout`` (a Go duration) and ``MaxMessageCount``."""

    timeout: str
    count: int

    @property
    def seconds(self) -> float:
        return channel.duration_seconds(self.timeout)

    def __str__(self) -> str:
        return f"{self.timeout}/{self.count}"


@dataclass(frozen=True)
class Phases:
    """One sequential submit, in seconds: endorse, submit, commit wait; the commit wait's
    first part until an orderer delivered the block (``ordered``) and its next until the
    gateway peer delivered it (``peer``); ``nan`` when a stream did not show the block."""

    endorse: float
    submit: float
    commit: float
    ordered: float = float("nan")
    peer: float = float("nan")

    @property
    def notify(self) -> float:
        """From the gateway peer's block event to the commit status."""
        return self.commit - self.ordered - self.peer

    @property
    def total(self) -> float:
        return self.endorse + self.submit + self.commit


@dataclass
class Result:
    """Everything measured for one setting, summed over its rounds."""

    setting: Setting
    plain: list[float] = field(default_factory=list)  # Puts with no stream open, s
    node: list[float] = field(default_factory=list)  # the same through the Node client
    puts: list[Phases] = field(default_factory=list)  # Puts split by the streams
    issues: list[float] = field(default_factory=list)
    load_latencies: list[float] = field(default_factory=list)
    load_blocks: set[int] = field(default_factory=set)
    window_calls: int = 0
    window_seconds: float = 0.0
    load_cpu: dict[str, float] = field(default_factory=lambda: dict.fromkeys(KINDS, 0.0))
    batches: Cell = field(default_factory=lambda: Cell(BATCH, BATCHES_IN_FLIGHT, BATCH_SIZE))
    grouped: Cell = field(default_factory=lambda: Cell(GROUP, GROUP_CALLERS))
    errors: int = 0
    first_error: str = ""
    stages: dict[str, list[float]] = field(default_factory=dict)  # label -> [sum s, count]

    def failed(self, error: BaseException) -> None:
        self.errors += 1
        self.first_error = self.first_error or f"{type(error).__name__}: {error}"

    @property
    def rate(self) -> float:
        """Puts done per second under load, past each stretch's ramp-up."""
        return self.window_calls / self.window_seconds if self.window_seconds else 0.0

    def cpu_ms(self, *kinds: str) -> str:
        """CPU ms per Put under load of the process ``kinds`` (all when none named)."""
        done = len(self.load_latencies)
        spent = sum(self.load_cpu[k] for k in kinds or KINDS)
        return f"{spent / done * 1000:.1f}" if done else "-"

    def stage_ms(self, label: str) -> str:
        total, count = self.stages.get(label, [0.0, 0.0])
        return f"{total / count * 1000:.1f}" if count else "-"


def median_ms(values: Sequence[float]) -> str:
    """The median in milliseconds, ``-`` for none (``nan`` values left out)."""
    known = [v for v in values if v == v]
    return f"{statistics.median(known) * 1000:.1f}" if known else "-"


# --- the network: applying a setting, reading the nodes' histograms --------------------


def current_setting(layout: Layout, bin_dir: Path) -> Setting:
    """The channel's batching now, from its config block."""
    with tempfile.TemporaryDirectory() as work:
        config, _ = channel.fetch_config(layout, bin_dir, ORDERER_ORG, Path(work))
    timeout, count = channel.batching(config)
    return Setting(timeout, count)


def apply(layout: Layout, bin_dir: Path, setting: Setting) -> None:
    """Put ``setting`` on the channel and wait until every peer has the config block."""
    channel.update_config(
        layout,
        bin_dir,
        channel.set_batching(setting.timeout, setting.count),
        signers=[ORDERER_ORG],
        peers=layout.peer_orgs(),
    )


_SERIES = re.compile(r"^(\w+)_(sum|count)(\{[^}]*\})? (\S+)$", re.M)


def stage_sums(text: str, kind: str, out: dict[str, list[float]]) -> None:
    """Add to ``out`` (``label -> [sum seconds, count]``) the :data:`STAGES` histograms of
    ``kind`` in one node's ``/metrics`` text: the channel's series, or those without one."""
    wanted = {name: label for label, k, name in STAGES if k == kind}
    for name, part, labels, value in _SERIES.findall(text):
        label = wanted.get(name)
        if label is None or ("channel=" in labels and f'channel="{CHANNEL}"' not in labels):
            continue
        out.setdefault(label, [0.0, 0.0])[0 if part == "sum" else 1] += float(value)


def histograms(layout: Layout) -> dict[str, list[float]]:
    """:func:`stage_sums` of every orderer and of the gateway peer (units) now."""
    ports = [("peer", layout.peer_operations_port(layout.peer_orgs()[1]))]
    ports += [("orderer", layout.orderer_operations_port(i)) for i in range(len(layout.orderers()))]
    out = {label: [0.0, 0.0] for label, _, _ in STAGES}
    for kind, port in ports:
        try:
            stage_sums(operations.get(layout, port, "/metrics", timeout=2), kind, out)
        except OSError:
            continue
    return out


def add_stages(
    result: Result, before: dict[str, list[float]], after: dict[str, list[float]]
) -> None:
    for label, (total, count) in after.items():
        acc = result.stages.setdefault(label, [0.0, 0.0])
        acc[0] += total - before[label][0]
        acc[1] += count - before[label][1]


# --- when each block arrived ---------------------------------------------------------


class Arrivals:
    """When each block number was first delivered by any orderer, and by the gateway peer
    (``time.perf_counter``), from Deliver streams kept open on the bench's event loop."""

    def __init__(self) -> None:
        self.orderers: dict[int, float] = {}
        self.peer: dict[int, float] = {}
        self._seen: dict[tuple[str, int], asyncio.Event] = {}

    def record(self, where: str, number: int) -> None:
        book = self.peer if where == "peer" else self.orderers
        book.setdefault(number, time.perf_counter())
        self._event(where, number).set()

    def _event(self, where: str, number: int) -> asyncio.Event:
        return self._seen.setdefault((where, number), asyncio.Event())

    async def wait(self, where: str, number: int, timeout: float = 2.0) -> None:
        """Until ``where`` (``orderer`` or ``peer``) delivered block ``number``, at most
        ``timeout`` seconds (a stream that failed leaves the split unknown, not the run)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event(where, number).wait(), timeout)


def _signed_seek(identity: SigningIdentity, channel_id: str) -> Any:
    envelope = build_seek_envelope(creator=identity.creator, channel_id=channel_id)
    envelope.signature = identity.sign(identity.digest(envelope.payload))
    return envelope


@contextlib.asynccontextmanager
async def follow_blocks(
    description: dict[str, Any], gateway_net: fabricgw.aio.AsyncNetwork
) -> AsyncIterator[Arrivals]:
    """:class:`Arrivals` fed by a Deliver stream from every orderer (as hospital1, a channel
    reader) and the gateway peer's filtered block events, from their newest block on."""
    user = description["orgs"]["units"]["users"]["hospital1"]
    identity = SigningIdentity(
        fabricgw.Identity.from_pem_file("UnitsMSP", user["cert"]),
        signer=fabricgw.signer_from_pem_file(user["key"]),
        hash=fabricgw.hash.SHA256,
    )
    arrivals = Arrivals()
    credentials = grpc.ssl_channel_credentials(Path(description["orderer_tls_ca"]).read_bytes())
    channels = [
        grpc.aio.secure_channel(address, credentials, options=CHANNEL_OPTIONS)
        for address in description["orderers"]
    ]

    async def from_orderer(ch: grpc.aio.Channel) -> None:
        stub = ab_pb2_grpc.AtomicBroadcastStub(ch)
        call = stub.Deliver(iter([_signed_seek(identity, description["channel"])]))
        async for response in call:
            if response.WhichOneof("Type") == "block":
                arrivals.record("orderer", int(response.block.header.number))

    async def from_peer() -> None:
        async for block in gateway_net.get_filtered_block_events():
            arrivals.record("peer", int(block.number))

    tasks = [asyncio.create_task(from_orderer(ch)) for ch in channels]
    tasks.append(asyncio.create_task(from_peer()))
    try:
        yield arrivals
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for ch in channels:
            await ch.close()


# --- the calls -----------------------------------------------------------------------


async def timed_put(
    contract: fabricgw.aio.AsyncContract, key: str, arrivals: Arrivals | None = None
) -> tuple[Phases, int]:
    """One Go kv Put through the fine-grained flow; its phases and block number.

    With ``arrivals``, waits after the commit status until both streams showed the block
    (they usually have by then), to split the commit wait.
    """
    t0 = time.perf_counter()
    proposal = contract.new_proposal(
        "Put", arguments=[key, VALUE], endorsing_organizations=ISSUE_ENDORSERS
    )
    transaction = await proposal.endorse()
    t1 = time.perf_counter()
    commit = await transaction.submit()
    t2 = time.perf_counter()
    status = await commit.status()
    t3 = time.perf_counter()
    check_committed(status)
    block = status.block_number
    if arrivals is None:
        return Phases(t1 - t0, t2 - t1, t3 - t2), block
    await arrivals.wait("orderer", block)
    await arrivals.wait("peer", block)
    nan = float("nan")
    ordered, at_peer = arrivals.orderers.get(block, nan), arrivals.peer.get(block, nan)
    return Phases(t1 - t0, t2 - t1, t3 - t2, ordered - t2, at_peer - ordered), block


async def sequential_puts(
    result: Result,
    contract: fabricgw.aio.AsyncContract,
    keys: Callable[[], str],
    n: int,
    layout: Layout,
    arrivals: Arrivals,
) -> None:
    """``n`` Puts one at a time; the nodes' histograms read before and after."""
    before = await asyncio.to_thread(histograms, layout)
    for _ in range(n):
        try:
            phases, _ = await timed_put(contract, keys(), arrivals)
        except FAILURES as error:
            result.failed(error)
            continue
        result.puts.append(phases)
    add_stages(result, before, await asyncio.to_thread(histograms, layout))


async def plain_puts(
    result: Result, contract: fabricgw.aio.AsyncContract, keys: Callable[[], str], n: int
) -> None:
    """``n`` Puts one at a time with no Deliver stream of the bench's open."""
    for _ in range(n):
        try:
            phases, _ = await timed_put(contract, keys())
        except FAILURES as error:
            result.failed(error)
            continue
        result.plain.append(phases.total)


def node_puts(
    result: Result, description: dict[str, Any], keys: Callable[[], str], n: int, height: int
) -> None:
    """``n`` Puts one at a time through the official Node client (after its warm-up);
    ``height``: the finance peer's newest block, where the Node bench's block stream starts."""
    call = {"endorsingOrganizations": ISSUE_ENDORSERS}
    rows = [
        {"name": "warm-up", "kind": "submit", "warmup": True,
         "calls": [{**node_call("Put", [keys(), VALUE]), **call} for _ in range(NODE_WARMUP)]},
        {"name": "sequential Put", "kind": "submit", "inFlight": 1,
         "calls": [{**node_call("Put", [keys(), VALUE]), **call} for _ in range(n)]},
    ]  # fmt: skip
    try:
        (row,) = node_rows(node_setup(description, ceiling.GO_KV, rows, height))
    except RuntimeError as error:
        result.failed(error)
        return
    result.node.extend(row.latencies)
    for _ in range(row.errors):
        result.failed(RuntimeError("a Node client Put failed (its error is on stderr)"))


async def sequential_issues(
    result: Result,
    ebill: fabricgw.aio.AsyncContract,
    numbers: Numbers,
    finance: BlockHeight,
    n: int,
) -> None:
    """``n`` two-step issuances one at a time (deposit, finance has it, IssueBill)."""
    for sample in numbers.bills(n):
        job = issue_job_async(ebill, Issuance.of(sample), finance)
        t = time.perf_counter()
        try:
            await job()
        except FAILURES as error:
            result.failed(error)
            continue
        result.issues.append(time.perf_counter() - t)


async def load(
    result: Result,
    contract: fabricgw.aio.AsyncContract,
    keys: Callable[[], str],
    in_flight: int,
    seconds: float,
    meter: Meter,
) -> None:
    """Puts with ``in_flight`` awaiting at once until ``seconds`` have passed; the rate
    counts the calls that ended past the ramp-up and before the end, the CPU every call."""
    cpu0 = meter.sample()
    t0 = time.perf_counter()
    start, deadline = t0 + RAMP * seconds, t0 + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            try:
                _, block = await timed_put(contract, keys())
            except FAILURES as error:
                result.failed(error)
                continue
            end = time.perf_counter()
            result.load_latencies.append(end - t)
            result.load_blocks.add(block)
            if start <= end <= deadline:
                result.window_calls += 1

    await asyncio.gather(*(worker() for _ in range(in_flight)))
    result.window_seconds += deadline - start
    for kind, spent in meter.sample().minus(cpu0).items():
        result.load_cpu[kind] += spent


# --- the run -------------------------------------------------------------------------


@dataclass
class Args:
    """The sweep. By default the timeouts with the network's own MaxMessageCount: below
    250 ms no block reached 100 transactions here (see README, make bench), so the count
    does not bind; four rounds, as two left the load's rate at the mercy of the machine."""

    timeouts: tuple[str, ...] = ("25ms", "50ms", "100ms", "250ms")
    counts: tuple[int, ...] = (configs.MAX_MESSAGE_COUNT,)
    puts: int = 32
    issues: int = 12
    in_flight: int = 200
    seconds: float = 16.0
    rounds: int = 4
    json_out: Path | None = None
    node: bool = True
    bills: int = 6400

    def bill_load(self) -> tuple[int, int]:
        """One round's bills load: (batches of 100, bills through GroupCommit), each at
        least a full wave of its callers; (0, 0) for none."""
        if self.bills <= 0:
            return 0, 0
        half = share(self.bills, self.rounds) / 2
        batches = max(BATCHES_IN_FLIGHT, round(half / BATCH_SIZE))
        return batches, max(GROUP_CALLERS, round(half))

    def bill_numbers(self) -> int:
        """The bill numbers the whole sweep uses: sequential issuances and the bills load."""
        batches, grouped = self.bill_load()
        per_round = share(self.issues, self.rounds) + batches * BATCH_SIZE + grouped
        return per_round * self.rounds * len(self.settings()) if self.issues or self.bills else 0

    def settings(self) -> list[Setting]:
        return [Setting(t, c) for t in self.timeouts for c in self.counts]


def share(total: float, rounds: int) -> int:
    """One round's share of ``total`` calls (at least one when any)."""
    return max(1, round(total / rounds)) if total > 0 else 0


async def bill_load(
    result: Result,
    ebill: fabricgw.aio.AsyncContract,
    group: GroupCommit,
    numbers: Numbers,
    finance: BlockHeight,
    load: tuple[int, int],
    meter: Meter,
) -> None:
    """One round's bills: ``load[0]`` batches of 100, then ``load[1]`` bills of one a
    caller through ``group``."""
    batches, grouped = load
    jobs = [
        batch_job_async(ebill, BatchIssuance.of(numbers.bills(BATCH_SIZE)), finance)
        for _ in range(batches)
    ]
    await stretch(result.batches, jobs, meter)
    await stretch(result.grouped, [group_job(group, s) for s in numbers.bills(grouped)], meter)


async def sweep(
    args: Args,
    layout: Layout,
    bin_dir: Path,
    description: dict[str, Any],
    numbers: Numbers | None,
    finance: BlockHeight,
    meter: Meter,
    group: GroupCommit | None = None,
) -> list[Result]:
    """Every setting in every round (the grid, then reversed); see the module doc."""
    results = {s: Result(s) for s in args.settings()}
    run, serial = os.urandom(4).hex(), itertools.count()

    def keys() -> str:
        return f"latency-{run}-{next(serial)}"

    async with aio_gateway(description) as gateway:
        net = gateway.get_network(description["channel"])
        kv = net.get_contract(ceiling.GO_KV)
        ebill = net.get_contract(description["chaincode"])
        for r in range(args.rounds):
            order = list(results) if r % 2 == 0 else list(reversed(results))
            for setting in order:
                result = results[setting]
                print(f"latency: round {r + 1}, {setting}", file=sys.stderr)
                await asyncio.to_thread(apply, layout, bin_dir, setting)
                await timed_put(kv, keys())  # the first block under the setting
                n = share(args.puts, args.rounds)
                # the two clients in turns: each round the other goes first
                clients = [plain_puts(result, kv, keys, n)]
                if args.node:
                    height = max(finance.seen, 0)
                    clients.append(
                        asyncio.to_thread(node_puts, result, description, keys, n, height)
                    )
                for client in clients if r % 2 == 0 else reversed(clients):
                    await client
                async with follow_blocks(description, net) as arrivals:
                    await sequential_puts(result, kv, keys, n, layout, arrivals)
                if numbers is not None:
                    n = share(args.issues, args.rounds)
                    await sequential_issues(result, ebill, numbers, finance, n)
                if args.in_flight > 0 and args.seconds > 0:
                    seconds = args.seconds / args.rounds
                    await load(result, kv, keys, args.in_flight, seconds, meter)
                if numbers is not None and group is not None and args.bills > 0:
                    await bill_load(result, ebill, group, numbers, finance, args.bill_load(), meter)
    return list(results.values())


# --- the report ----------------------------------------------------------------------

HEADER = [
    "BatchTimeout/Max", "n", "p50 ms", "p95 ms", "p50-BT", "node p50-BT", "split p50-BT",
    "endorse", "submit", "commit", "ordered-BT", "peer", "notify", "issue p50", "issue p95",
    "load tx/s", "p50 ms", "p95 ms", "tx/block", "CPU ms/tx", "peers",
    "batches bills/s", "GroupCommit bills/s", "err",
]  # fmt: skip


def cells(r: Result) -> list[str]:
    """One setting's row of the main table."""
    bt = r.setting.seconds
    done = len(r.load_latencies)

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.0f}"

    def beyond(totals: Sequence[float]) -> str:
        return f"{(statistics.median(totals) - bt) * 1000:.1f}" if totals else "-"

    return [
        str(r.setting),
        str(len(r.plain)),
        ms(statistics.median(r.plain)) if r.plain else "-",
        ms(nearest_rank(r.plain, 0.95)) if r.plain else "-",
        beyond(r.plain),
        beyond(r.node),
        beyond([p.total for p in r.puts]),
        median_ms([p.endorse for p in r.puts]),
        median_ms([p.submit for p in r.puts]),
        median_ms([p.commit for p in r.puts]),
        median_ms([p.ordered - bt for p in r.puts]),
        median_ms([p.peer for p in r.puts]),
        median_ms([p.notify for p in r.puts]),
        ms(statistics.median(r.issues)) if r.issues else "-",
        ms(nearest_rank(r.issues, 0.95)) if r.issues else "-",
        f"{r.rate:.0f}" if done else "-",
        ms(statistics.median(r.load_latencies)) if done else "-",
        ms(nearest_rank(r.load_latencies, 0.95)) if done else "-",
        f"{done / len(r.load_blocks):.1f}" if r.load_blocks else "-",
        r.cpu_ms(),
        r.cpu_ms("peers"),
        f"{r.batches.rate:.0f}" if r.batches.count else "-",
        f"{r.grouped.rate:.0f}" if r.grouped.count else "-",
        str(r.errors + r.batches.errors + r.grouped.errors),
    ]


def table(header: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest cell, the first left-aligned."""
    return text_table.render(header, rows, right=range(1, len(header)))


def render(results: list[Result]) -> str:
    """The main table, then the nodes' own timings per setting, then any errors."""
    out = [
        table(HEADER, [cells(r) for r in results]),
        "n, p50/p95: sequential Go kv Puts (Finance + Units) until committed through"
        " fabricgw.aio, no other stream open; p50-BT: p50 minus BatchTimeout; node: the"
        " same Puts through the official Node client, in turns; split: the same Puts again"
        " with Deliver streams open to every orderer and the gateway peer, and p50 ms of"
        " each step: endorse, submit (the orderer took it), commit (the commit status"
        " wait), split into ordered-BT (until the first orderer delivered the block, minus"
        " BatchTimeout: Raft and the block write), peer"
        " (until the gateway peer delivered it: validation and commit) and notify (until"
        " the status came); issue: two-step issuances one at a time; load: Go kv Puts in"
        " flight, tx/s past each stretch's ramp-up, Puts per block, CPU ms per Put of"
        " the network's processes and the bench (/proc/<pid>/stat), of the 4 peers alone;"
        f" bills/s of batches of 100 ({BATCHES_IN_FLIGHT} in flight) and of one bill a caller"
        f" through GroupCommit ({GROUP_CALLERS} callers)",
        "",
        table(
            ["BatchTimeout/Max"] + [f"{label} ms" for label, _, _ in STAGES],
            [[str(r.setting)] + [r.stage_ms(label) for label, _, _ in STAGES] for r in results],
        ),
        "mean ms per observation over the sequential Puts, from the nodes' /metrics (all"
        " orderers; the units peer): consensus_etcdraft_data_persist_duration,"
        " etcd_disk_wal_fsync_duration_seconds, the orderers' ledger_blockstorage_commit_time,"
        " gossip_privdata_validation_duration, gossip_privdata_commit_block_duration,"
        " gossip_state_commit_duration (validation and commit of a block)",
    ]
    for r in results:
        for count, first in (
            (r.errors, r.first_error),
            (r.batches.errors, r.batches.first_error),
            (r.grouped.errors, r.grouped.first_error),
        ):
            if count:
                out.append(f"errors at {r.setting}: {count}, first: {first}")
    return "\n".join(out)


def parse_args(argv: list[str] | None = None) -> Args:
    d = Args()
    parser = argparse.ArgumentParser(
        prog="python -m bench.latency",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--timeouts",
        default=",".join(d.timeouts),
        help="BatchTimeouts to try: Go durations, a bare number is milliseconds",
    )
    parser.add_argument(
        "--counts",
        default=",".join(map(str, d.counts)),
        help="MaxMessageCounts to try with each timeout",
    )
    parser.add_argument("--puts", type=int, default=d.puts, help="sequential Puts per setting")
    parser.add_argument(
        "--issues", type=int, default=d.issues, help="sequential issuances per setting (0: none)"
    )
    parser.add_argument(
        "--in-flight", type=int, default=d.in_flight, help="Puts in flight under load (0: none)"
    )
    parser.add_argument("--seconds", type=float, default=d.seconds, help="load per setting")
    parser.add_argument(
        "--rounds", type=int, default=d.rounds, help="A/B rounds: the grid, then reversed"
    )
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    parser.add_argument(
        "--no-node", action="store_true", help="leave out the official Node client's Puts"
    )
    parser.add_argument(
        "--bills",
        type=int,
        default=d.bills,
        help="bills per setting under load: half in batches of 100, half through GroupCommit"
        " (0: none)",
    )
    ns = parser.parse_args(argv)
    names = [t.strip() for t in ns.timeouts.split(",") if t.strip()]
    timeouts = tuple(f"{t}ms" if t.isdigit() else t for t in names)
    try:
        if any(channel.duration_seconds(t) <= 0 for t in timeouts):
            raise ValueError("each must be above zero")
    except ValueError as error:
        parser.error(f"--timeouts: {error}")
    try:
        counts = tuple(int(x) for x in ns.counts.split(","))
    except ValueError:
        parser.error(f"--counts: a comma-separated list of numbers, got {ns.counts!r}")
    if not timeouts or min(counts) < 1:
        parser.error("--timeouts: at least one; --counts: each at least 1")
    if ns.rounds < 1 or ns.puts < 1 or min(ns.issues, ns.in_flight, ns.seconds, ns.bills) < 0:
        parser.error(
            "--rounds, --puts: at least 1; --issues, --in-flight, --seconds, --bills: not below 0"
        )
    return Args(
        timeouts,
        counts,
        ns.puts,
        ns.issues,
        ns.in_flight,
        ns.seconds,
        ns.rounds,
        ns.json,
        node=not ns.no_node,
        bills=ns.bills,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.node and (why := node_missing()):
        print(f"latency: the Node client's Puts left out: {why}", file=sys.stderr)
        args.node = False
    layout = layout_from_env()
    description = load_description(layout.network_file())
    network = Network(layout, log=lambda line: print(line, file=sys.stderr))
    bin_dir = network.bin_dir
    kvgo = ceiling.go_service(layout.peer_orgs())
    print(f"setup: {ceiling.GO_KV} {network.deploy_service(kvgo, restart=True)}", file=sys.stderr)
    original = current_setting(layout, bin_dir)
    load_before = os.getloadavg()
    issues = args.bill_numbers()
    with setup_connections(description) as (finance_conn, hospital, at_finance):
        numbers = None
        if issues:
            setup = Setup(description, finance_conn, hospital)
            setup.ensure_unit()
            numbers = Numbers(setup.fresh_batch(issues), issues)
        finance = BlockHeight(at_finance, "FinanceMSP")
        group = GroupCommit(UnitClient(hospital), workers=GROUP_WORKERS) if args.bills else None
        try:
            meter = Meter(network.procs.running())
            results = asyncio.run(
                sweep(args, layout, bin_dir, description, numbers, finance, meter, group)
            )
        finally:
            if group is not None:
                group.close()
            finance.close()
            apply(layout, bin_dir, original)
            print(f"latency: restored {original}", file=sys.stderr)
    load_after = os.getloadavg()
    print(
        f"latency: hospital1 at the units peer through fabricgw.aio"
        f"{' and the official Node client' if args.node else ''}, {args.rounds} rounds"
        f" A/B; the setting found, and restored after: {original}"
    )
    print(render(results))
    print(load_line(load_before, load_after))
    if args.json_out is not None:
        dump = [
            {
                "setting": str(r.setting),
                "plain": r.plain,
                "node": r.node,
                "puts": [asdict(p) for p in r.puts],
                "issues": r.issues,
                "load_latencies": r.load_latencies,
                "load_rate": r.rate,
                "load_blocks": len(r.load_blocks),
                "load_cpu": r.load_cpu,
                "batch_bills_per_s": r.batches.rate,
                "group_bills_per_s": r.grouped.rate,
                "stages": r.stages,
                "errors": r.errors,
            }
            for r in results
        ]
        args.json_out.write_text(json.dumps(dump, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
