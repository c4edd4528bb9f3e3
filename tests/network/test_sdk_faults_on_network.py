"""The SDK under faults, on the real network: a gateway peer killed with SIGKILL during
issuances (fallback gateways, unknown outcomes resolved by transaction id, never a bill
issued twice) and the Raft leader killed during submits (the commit status wait
resends the dropped transactions and follows the new leader).

The figures (seconds until the callers return) are printed, not asserted: speed is
measured in bench/. Run with ``-s`` to see them.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from chain import World, eventually, query

import fabricgw
from ebill.connection import Connection, connect
from ebill.errors import EbillError, NotFound
from ebill.samples import SampleBill, outpatient_bill
from ebill.unit import UnitClient, new_check_code
from ebill_network import channel
from ebill_network.network import Network
from ebill_network.processes import wait_for

WORKERS = 3


@dataclass
class Outcomes:
    """What the issuing workers were told, per bill number."""

    acknowledged: list[SampleBill] = field(default_factory=list)
    refused: list[tuple[SampleBill, EbillError]] = field(default_factory=list)
    unknown: list[tuple[SampleBill, EbillError]] = field(default_factory=list)
    crashed: list[BaseException] = field(default_factory=list)
    """Anything but an EbillError: a defect of the client (it stops the worker)."""
    codes: dict[str, str] = field(default_factory=dict)
    """Each bill number's check code: a retry passes the same bill, salt and code."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        with self.lock:
            return (
                len(self.acknowledged) + len(self.refused) + len(self.unknown) + len(self.crashed)
            )


def _issue_until(
    unit: UnitClient, numbers: Callable[[], str], outcomes: Outcomes, stop: threading.Event
) -> None:
    while not stop.is_set():
        sample = outpatient_bill(numbers())
        code = new_check_code()
        with outcomes.lock:
            outcomes.codes[sample.number] = code
        try:
            unit.issue_bill(sample, check_code=code)
        except EbillError as error:
            with outcomes.lock:
                (outcomes.unknown if error.outcome_unknown else outcomes.refused).append(
                    (sample, error)
                )
            time.sleep(0.2)  # a refusal is quick: do not spin while the peer is down
        except Exception as error:  # noqa: BLE001 - recorded, and the test fails on it
            with outcomes.lock:
                outcomes.crashed.append(error)
            return
        else:
            with outcomes.lock:
                outcomes.acknowledged.append(sample)


def test_a_transaction_endorsed_before_its_gateway_died_commits_through_another(
    network: Network, world: World, description: dict[str, Any]
) -> None:
    """Endorsed through the audit peer, which is then killed with SIGKILL: its Submit goes
    to the next gateway (same envelope) and commits. Then a transaction submitted through
    the audit peer whose commit status is asked after the kill: the status comes through
    another gateway. Both are resolved by transaction id on every org's gateway."""
    before = connect(description, "finance", "finance1", via="audit")
    after = connect(description, "finance", "finance1", via="audit")
    try:
        endorsed = before.contract.new_proposal("Ping").endorse()
        submitted = after.contract.new_proposal("Ping").endorse()
        commit = submitted.submit()
        pid = network.procs.pid("peer0-audit")
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        wait_for("peer0-audit to be gone", lambda: network.procs.pid("peer0-audit") is None)

        try:
            status = endorsed.submit().status()  # the primary is dead: a fallback takes it
            late = commit.status()  # submitted before the kill, status asked after it
        finally:
            network.restart("peer0.audit")
        assert status.successful and status.transaction_id == endorsed.transaction_id
        assert late.successful and late.transaction_id == submitted.transaction_id
        for org in ("finance", "units", "insurance", "audit"):
            with connect(description, "finance", "finance1", via=org, fallbacks=()) as conn:
                for tx in (endorsed, submitted):
                    resolved = conn.network.get_commit_status(tx.transaction_id, timeout=30)
                    assert resolved.successful
    finally:
        before.close()
        after.close()


def test_gateway_peer_killed_during_issuances_leaves_no_outcome_wrong(
    network: Network,
    world: World,
    description: dict[str, Any],
    connect_as: Any,
    next_number: Callable[[], str],
) -> None:
    """The issuers' gateway is the audit peer (a billPrivate member); it is killed with
    SIGKILL while three issuers issue, then restarted. Every acknowledged bill exists on
    every peer; every definite failure issued nothing; every unknown outcome, retried with
    the same bill, returns the bill and never issues a second one."""
    lock = threading.Lock()

    def numbers() -> str:  # the session's numbers: never one another module issued
        with lock:
            return next_number()

    units: list[UnitClient] = []
    connections: list[Connection] = []
    for _ in range(WORKERS):
        conn = connect(description, "units", "hospital1", via="audit")
        connections.append(conn)
        units.append(UnitClient(conn))
    outcomes = Outcomes()
    stop = threading.Event()
    workers = [
        threading.Thread(target=_issue_until, args=(u, numbers, outcomes, stop), daemon=True)
        for u in units
    ]
    try:
        for worker in workers:
            worker.start()
        wait_for("three bills issued", lambda: len(outcomes.acknowledged) >= 3, timeout=120)
        pid = network.procs.pid("peer0-audit")
        assert pid is not None
        before_kill = outcomes.count()
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        wait_for(
            "two calls to end after the kill",
            lambda: outcomes.count() >= before_kill + 2,
            timeout=180,
        )
        network.restart("peer0.audit")
        restarted = time.monotonic()
        acked_at_restart = len(outcomes.acknowledged)
        wait_for(
            "an issuance acknowledged after the restart",
            lambda: len(outcomes.acknowledged) > acked_at_restart,
            timeout=120,
        )
        recovered = time.monotonic()
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=300)
        if network.procs.pid("peer0-audit") is None:  # leave the session network whole
            network.restart("peer0.audit")
    assert not any(worker.is_alive() for worker in workers)
    assert not outcomes.crashed, outcomes.crashed

    # Every unknown outcome is retried with the same bill, salt and check code (as
    # issue_bill says): it comes back issued, once.
    retried = []
    for sample, _ in outcomes.unknown:
        issued = units[0].issue_bill(sample, check_code=outcomes.codes[sample.number])
        assert (issued.bill.bill_code, issued.bill.bill_number) == (sample.code, sample.number)
        retried.append(sample)
    for unit in units:
        unit.close()

    # the supervisor reads through each org's gateway, which evaluates on its own peer
    readers = [
        connect_as("audit", "auditor1", via=org)
        for org in ("finance", "units", "insurance", "audit")
    ]
    for sample in [*outcomes.acknowledged, *retried]:
        for reader in readers:
            stored = eventually(lambda r=reader, s=sample: query(r, "ReadBill", s.code, s.number))
            assert stored["billNumber"] == sample.number
            assert stored["status"] == "issued"
    issuer = UnitClient(connect(description, "units", "hospital1"))
    try:
        for sample, error in outcomes.refused:  # told "failed": nothing was issued
            assert not error.outcome_unknown
            with pytest.raises(NotFound):
                issuer.read_bill(sample.code, sample.number)
                pytest.fail(f"told failed, yet issued: {sample.number}: {_chain(error)}")
    finally:
        issuer.close()
    print(
        f"\ngateway peer killed: {len(outcomes.acknowledged)} acknowledged, "
        f"{len(outcomes.refused)} refused (definite, none issued), "
        f"{len(outcomes.unknown)} unknown (all resolved by retrying the same bill); "
        f"restart took {restarted - killed:.1f}s after the kill, first issuance acknowledged "
        f"{recovered - restarted:.1f}s after the restart"
    )
    for sample, error in outcomes.refused[:3]:
        print(f"  refused {sample.number}: {type(error).__name__}: {error.one_line()[:200]}")


def _chain(error: BaseException) -> str:
    """An error and its causes, one line each: what the caller was told, and why."""
    lines = []
    cause: BaseException | None = error
    while cause is not None:
        lines.append(f"{type(cause).__name__}: {str(cause)[:300]}")
        cause = cause.__cause__ or cause.__context__
    return " <- ".join(lines)


@dataclass
class Call:
    started: float
    ended: float = 0.0
    status: fabricgw.Status | None = None
    error: BaseException | None = None


def _submit_until(conn: Connection, calls: list[Call], stop: threading.Event) -> None:
    while not stop.is_set():
        call = Call(time.monotonic())
        calls.append(call)
        try:
            transaction = conn.contract.new_proposal("Ping").endorse()
            call.status = transaction.submit().status()
        except fabricgw.GatewayError as error:
            call.error = error
            time.sleep(0.2)
        call.ended = time.monotonic()


def test_raft_leader_killed_during_submits_the_waiting_callers_see_their_commit(
    network: Network, world: World, description: dict[str, Any]
) -> None:
    """Four submitters wait for commit statuses; the Raft leader is killed with SIGKILL.
    Every call in flight at the kill returns committed VALID (the wait resends what the
    dead leader dropped), well before the 60 s commit status timeout."""
    leader = channel.consensus_leader(network.layout)
    assert leader is not None
    name = network.layout.orderers()[leader]
    connections = [connect(description, "finance", "finance1") for _ in range(4)]
    calls: list[list[Call]] = [[] for _ in connections]
    stop = threading.Event()
    workers = [
        threading.Thread(target=_submit_until, args=(c, log, stop), daemon=True)
        for c, log in zip(connections, calls, strict=True)
    ]
    try:
        for worker in workers:
            worker.start()
        wait_for("a dozen Pings submitted", lambda: sum(len(c) for c in calls) >= 12, timeout=120)
        pid = network.procs.pid(name)
        assert pid is not None, name
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        new_leader = wait_for(
            "a new Raft leader",
            lambda: channel.consensus_leader(network.layout) not in (None, leader) or None,
            timeout=120,
            interval=0.2,
        )
        elected = time.monotonic()
        wait_for(
            "every submitter to commit twice after the kill",
            lambda: all(
                sum(1 for c in log if c.started > killed and c.status is not None) >= 2
                for log in calls
            ),
            timeout=120,
        )
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=120)
        for conn in connections:
            conn.close()
    in_flight = [c for log in calls for c in log if c.started < killed < c.ended]
    assert in_flight, "no call was in flight at the kill"
    for call in in_flight:
        assert call.error is None, call.error
        assert call.status is not None and call.status.successful
    after = [c for log in calls for c in log if c.started > killed]
    first_ok = min(c.ended for c in after if c.status is not None)
    waits = sorted(c.ended - killed for c in in_flight)
    print(
        f"\nleader {name} killed: a new leader seen {elected - killed:.1f}s after the kill; "
        f"{len(in_flight)} calls in flight all committed VALID, returned "
        f"{waits[0]:.1f}..{waits[-1]:.1f}s after the kill; first new call committed "
        f"{first_ok - killed:.1f}s after it; {sum(1 for c in after if c.error)} new calls "
        "failed during the election"
    )
    assert new_leader
    network.restart(name)
