"""Running a fault scenario under load and checking what it left behind.

A scenario: a load of issuers runs (``bench.load.Load``); once bills commit, the
fault is injected (a node killed with SIGKILL, stopped, the network taken down);
the node stays out for a while (or until issuance succeeds again); then it is
restored and the load runs until bills commit again. Then the load stops, every
unknown outcome is resolved by its transaction id, and:

- every acknowledged bill (committed VALID, or unknown and resolved committed) is
  listed by the supervisor on every org's peer (``lost`` counts the missing);
- every peer is at one height with one block hash there, every live orderer at
  that height (the restarted ones caught up);
- the recovery seconds are measured (recorded, never asserted).

The row goes into the run's table before anything is asserted, so a failing
scenario still shows its figures.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from report import ROWS, Row

from bench.load import COMMITTED, FAILED, Load
from ebill.connection import Connection, connect
from ebill.finance import FinanceClient
from ebill.parties import open_client
from ebill.samples import HOSPITAL_UNIT, OUTPATIENT_CODE
from ebill.supervisor import SupervisorClient
from ebill.sync import BlockSync
from ebill.unit import UnitClient
from ebill_network import channel
from ebill_network.layout import PEER_ORGS
from ebill_network.network import Network
from ebill_network.processes import NetworkError, wait_for

#: Stock approved for the load: numbers 1 .. STOCK of the hospital's outpatient bills.
STOCK = 100000


def base_port(offset: int) -> int:
    """EBILL_TEST_BASE_PORT (default 27050) plus ``offset``: the fault networks' own ports
    (+200 Raft, +1200 BFT: clear of make test's networks at +0, +500 and +1000)."""
    return int(os.environ.get("EBILL_TEST_BASE_PORT", "27050")) + offset


def setup_world(description: dict[str, Any]) -> None:
    """Finance registers the hospital and approves it STOCK outpatient numbers (each step
    waits until every peer has the previous one's block)."""
    sync = BlockSync(description, "audit", "auditor1")
    with (
        open_client(FinanceClient, description, "finance", "finance1", sync=sync) as finance,
        open_client(UnitClient, description, "units", "hospital1", sync=sync) as hospital,
    ):
        u = HOSPITAL_UNIT
        finance.register_unit(u["unitCode"], u["name"], u["sector"], u["region"])
        batch = hospital.apply_stock(OUTPATIENT_CODE, "0000000001", STOCK)
        finance.approve_stock(batch.batch_id)
    sync.close()


@dataclass
class Faults:
    """One fault network and what its scenarios share: the next free bill number and
    the bills acknowledged so far (each scenario checks all of them again)."""

    network: Network
    next_number: int = 1
    acknowledged: set[tuple[str, str]] = field(default_factory=set)

    @property
    def description(self) -> dict[str, Any]:
        return self.network.describe()

    # -- nodes ------------------------------------------------------------
    def kill(self, name: str) -> None:
        """SIGKILL node ``name`` (its whole process) and wait until it is gone."""
        pid = self.network.procs.pid(name)
        assert pid is not None, f"{name} is not running"
        os.kill(pid, signal.SIGKILL)
        wait_for(f"{name} to exit", lambda: self.network.procs.pid(name) is None, timeout=30)

    def leader(self) -> str:
        """The orderer that leads (Raft) or is the primary (BFT) now; waits for one."""
        layout = self.network.layout
        index = wait_for("a consensus leader", lambda: channel.consensus_leader(layout), timeout=60)
        return layout.orderers()[index]

    def followers(self) -> list[str]:
        leader = self.leader()
        return [o for o in self.network.layout.orderers() if o != leader]

    # -- load ---------------------------------------------------------------
    def load(self, workers: int = 4, *, limit: int | None = None) -> Load:
        """A load on the next free numbers (the caller starts it)."""
        return Load(self.description, workers=workers, first_number=self.next_number, limit=limit)

    def finished(self, load: Load) -> None:
        """Mark the load's numbers used."""
        numbers = [int(a.number) for a in load.snapshot()]
        self.next_number = max([self.next_number - 1, *numbers]) + 1

    # -- checks -----------------------------------------------------------
    def converge(self, timeout: float = 90, *, grace: float = 20) -> tuple[bool, int, str, str]:
        """Wait until every peer has one height and one block hash there and every live
        orderer that height: (converged, height, what was last seen, what was done).

        An orderer restarted just before the load's last block can stay one block behind
        while nothing more is ordered (a SmartBFT replica learns of a decision it missed
        from the next one). If the peers agree and only live orderers lag for ``grace``
        seconds, one Ping is submitted (a new block for every node) and the wait goes
        on; the fourth value then says so ("" otherwise)."""
        net = self.network
        layout, bin_dir = net.layout, net.bin_dir
        seen = ""
        started = time.monotonic()
        nudged = ""

        def level() -> int | None:
            nonlocal seen, nudged
            infos = {o.key: channel.peer_chain_info(layout, bin_dir, o) for o in PEER_ORGS}
            orderers = {
                name: channel.orderer_height(layout, bin_dir, i)
                for i, name in enumerate(layout.orderers())
                if net.procs.pid(name) is not None
            }
            peer_heights = {o: int(i["height"]) for o, i in infos.items()}
            seen = f"peers {peer_heights}, orderers {orderers}"
            heights = set(peer_heights.values()) | set(orderers.values())
            hashes = {i.get("currentBlockHash") for i in infos.values()}
            if len(heights) == 1 and len(hashes) == 1 and None not in hashes:
                return heights.pop()
            peers_agree = len(set(peer_heights.values())) == 1 and len(hashes) == 1
            top = max(peer_heights.values())
            lagging = sorted(n for n, h in orderers.items() if h < top)
            if peers_agree and lagging and not nudged and time.monotonic() - started > grace:
                nudged = f"{', '.join(lagging)} behind with nothing ordered: one Ping sent"
                self.ping()
            return None

        try:
            height = wait_for("every peer and orderer at one height", level, timeout=timeout)
        except NetworkError as exc:
            return False, 0, f"{exc}; last seen {seen}", nudged
        return True, height, seen, nudged

    def ping(self) -> None:
        """Submit one Ping (a transaction that writes nothing) and wait for its commit."""
        conn: Connection = connect(self.description, "finance", "finance1")
        try:
            conn.contract.new_proposal("Ping").endorse().submit().status()
        finally:
            conn.close()

    def missing(self, keys: set[tuple[str, str]]) -> dict[str, set[tuple[str, str]]]:
        """Per org's peer, the bills of ``keys`` the supervisor does not find there."""
        out: dict[str, set[tuple[str, str]]] = {}
        description = self.description
        for org in PEER_ORGS:
            with open_client(SupervisorClient, description, "audit", "auditor1", via=org.key) as s:
                listed = {
                    (b.bill_code, b.bill_number)
                    for b in s.iter_bills_by_unit(HOSPITAL_UNIT["unitCode"], page_size=200)
                }
            out[org.key] = keys - listed
        return out

    def resolve(self, load: Load) -> None:
        """Resolve the load's unknown outcomes by transaction id, through the issuer's peer."""
        conn: Connection = connect(self.description, "units", "hospital1")
        try:
            network = conn.gateway.get_network(conn.channel_name)
            load.resolve(lambda tx: network.get_commit_status(tx, timeout=10))
        finally:
            conn.close()

    # -- a scenario ---------------------------------------------------------
    def scenario(
        self,
        name: str,
        inject: Callable[[], None],
        restore: Callable[[], None],
        *,
        tolerated: bool,
        outage: float = 5.0,
        workers: int = 4,
        note: str = "",
    ) -> Row:
        """Run one scenario under load and check it (see the module doc); returns its row,
        already in the table. Raises AssertionError when a bill is lost, an unknown
        outcome stays unknown, or the network does not converge."""
        row = Row(name, note=note)
        ROWS.append(row)
        load = self.load(workers)
        load.start()
        try:
            # bool(): wait_for takes any value but None and False as met, an empty list too
            wait_for("a first bill of the load", lambda: bool(load.committed_since(0)), timeout=120)
            fault = time.monotonic()
            inject()
            # The node stays out for ``outage`` seconds; a tolerated fault also until
            # issuance works again without it (bounded).
            time.sleep(outage)
            if tolerated:
                with suppress(NetworkError):
                    wait_for(
                        "issuance to succeed without the node",
                        lambda: bool(load.committed_since(fault)),
                        timeout=90,
                    )
            restore()
            restored = time.monotonic()
            wait_for(
                "issuance to succeed after the restore",
                lambda: len(load.committed_since(restored)) >= 3,
                timeout=180,
            )
        finally:
            load.stop()
            self.finished(load)
        self.record(row, load, fault, restored)
        return row

    def record(self, row: Row, load: Load, fault: float, restored: float) -> None:
        """Check what the load left and fill ``row``; then assert what must hold.

        Unknown outcomes are resolved once the network has converged (nothing is in
        flight then): committed VALID by commit status, or else not ordered, which the
        ledger must confirm (the bill's number is on no peer: no attempt reuses it).
        """
        row.converged, row.height, seen, nudged = self.converge()
        self.resolve(load)
        attempts = load.snapshot()
        unknown = load.unknown()
        row.acknowledged = sum(1 for a in attempts if a.outcome == COMMITTED)
        row.unknown = len(unknown)
        row.unknown_committed = sum(1 for a in unknown if a.resolved == COMMITTED)
        row.failed = sum(1 for a in attempts if a.outcome == FAILED)
        row.recovery_s = load.first_success_after(fault)
        row.after_restore_s = load.first_success_after(restored)
        durations = sorted(a.end - a.start for a in attempts if a.outcome == COMMITTED)
        errors = Counter(a.error.split(":")[0] for a in attempts if a.outcome != COMMITTED)
        median = f"issue median {durations[len(durations) // 2]:.1f} s" if durations else ""
        row.note = "; ".join(x for x in (row.note, median, _counts(errors), nudged) if x)
        self.acknowledged |= {a.key for a in load.acknowledged()}
        undecided = {a.key for a in unknown if a.resolved != COMMITTED}
        missing = self.missing(self.acknowledged | undecided)
        lost = set().union(*missing.values()) - undecided
        row.lost = len(lost)
        # An unknown outcome not found committed must be absent everywhere (never ordered).
        present = {k for k in undecided if any(k not in m for m in missing.values())}
        assert row.converged, f"{row.scenario}: not converged: {seen} {nudged}".rstrip()
        assert not lost, f"{row.scenario}: acknowledged bills missing: {_sample(missing)}"
        assert not present, f"{row.scenario}: unresolved outcomes found on a peer: {present}"


def _counts(errors: Counter[str]) -> str:
    return ", ".join(f"{name} x{n}" for name, n in errors.most_common())


def _sample(missing: dict[str, set[tuple[str, str]]]) -> str:
    return json.dumps({org: sorted(keys)[:5] for org, keys in missing.items() if keys})
