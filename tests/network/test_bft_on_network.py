"""SmartBFT ordering: bills issued, claimed and read on a 4-orderer BFT network that loses one.

This module starts its own network (Layout(consensus="bft"): four orderers, the
consenter mapping in the channel config, channel capability V3_0) on its own
ports, EBILL_TEST_BFT_BASE_PORT or EBILL_TEST_BASE_PORT + 1000, and removes it
when the module ends, so it never runs beside the Raft network of the others.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chain import call, eventually, issue, query

from ebill.connection import Connection, connect
from ebill.samples import HOSPITAL_UNIT, OUTPATIENT_CODE, outpatient_bill
from ebill_network import channel
from ebill_network.layout import PEER_ORGS, Layout
from ebill_network.network import Network
from ebill_network.processes import wait_for

pytestmark = pytest.mark.network


def _bft_base_port() -> int:
    if "EBILL_TEST_BFT_BASE_PORT" in os.environ:
        return int(os.environ["EBILL_TEST_BFT_BASE_PORT"])
    return int(os.environ.get("EBILL_TEST_BASE_PORT", "27050")) + 1000


@pytest.fixture(scope="module")
def bft(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    data = tmp_path_factory.mktemp("fabric-bft")
    net = Network(Layout(data_dir=Path(data), base_port=_bft_base_port(), consensus="bft"))
    try:
        net.up()
        yield net
    finally:
        net.clean()


@pytest.fixture(scope="module")
def conns(bft: Network) -> Iterator[dict[str, Connection]]:
    """Connections by role; the auditor once through every org's peer (``audit@<org>``)."""
    description = bft.describe()
    opened = {
        "finance": connect(description, "finance", "finance1"),
        "hospital": connect(description, "units", "hospital1"),
        "platform": connect(description, "finance", "platform1"),
        "medins": connect(description, "insurance", "medins1"),
    }
    for org in PEER_ORGS:
        opened[f"audit@{org.key}"] = connect(description, "audit", "auditor1", via=org.key)
    yield opened
    for conn in opened.values():
        conn.close()


def _issue_claim_and_read(conns: dict[str, Connection], number: str) -> None:
    """Issue bill ``number``, authorise, lock and claim it; read it reimbursed on every peer."""
    sample = outpatient_bill(number)
    record = issue(conns["hospital"], sample)
    assert record["status"] == "issued"
    who = json.dumps({"type": sample.payer["type"], "id": sample.payer["id"]}).encode()
    proof = {"payer": who, "payerSalt": sample.salt}  # the platform acts for the payer
    args = (sample.code, sample.number)
    call(conns["platform"], "AuthoriseReimburser", *args, "MEDINS-HN", transient=proof)
    assert call(conns["medins"], "LockBill", *args)["status"] == "locked"
    claimed = call(conns["medins"], "ClaimBill", *args, "26850", "MI-2026-0200")
    assert claimed["status"] == "reimbursed"
    for org in PEER_ORGS:
        auditor = conns[f"audit@{org.key}"]

        def reimbursed(a: Connection = auditor) -> dict[str, Any]:
            stored = query(a, "ReadBill", OUTPATIENT_CODE, sample.number)
            assert stored["status"] == "reimbursed", stored["status"]
            return dict(stored)

        stored = eventually(reimbursed)
        assert stored["checkCodeHash"] == record["checkCodeHash"]
        assert stored["totalAmount"] == 26850


def _heights_agree(net: Network, live: list[int]) -> int | None:
    """The common height when every peer and every live orderer has the same one, else None."""
    layout, bin_dir = net.layout, net.bin_dir
    heights = {channel.peer_height(layout, bin_dir, org) for org in PEER_ORGS}
    heights |= {channel.orderer_height(layout, bin_dir, i) for i in live}
    return heights.pop() if len(heights) == 1 else None


def test_bft_network_orders_bills_and_survives_a_killed_orderer(
    bft: Network, conns: dict[str, Connection]
) -> None:
    layout = bft.layout
    assert layout.orderers() == ("orderer0", "orderer1", "orderer2", "orderer3")
    assert bft.status()["consensus"] == "bft"
    assert bft.describe()["orderers"] == [layout.address(layout.orderer_port(i)) for i in range(4)]

    finance = conns["finance"]
    call(finance, "RegisterUnit", json.dumps(HOSPITAL_UNIT, ensure_ascii=False))
    application = {
        "unitCode": HOSPITAL_UNIT["unitCode"],
        "billCode": OUTPATIENT_CODE,
        "startNumber": "0000000001",
        "count": 1000,
    }
    batch = call(conns["hospital"], "ApplyStock", json.dumps(application))
    assert call(finance, "ApproveStock", batch["batchId"])["status"] == "approved"

    _issue_claim_and_read(conns, "0000000001")

    # Kill the primary of the current view: the others must elect a new one.
    primary = channel.bft_primary(layout)
    assert primary is not None
    victim = layout.orderers()[primary]
    pid = bft.procs.pid(victim)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_for(f"{victim} to exit", lambda: bft.procs.pid(victim) is None, timeout=30)
    live = [i for i in range(4) if i != primary]

    # Submitted while the view changes: the gateway broadcasts to every orderer
    # and needs a quorum (3 of 4) to accept; the new primary orders it.
    _issue_claim_and_read(conns, "0000000002")
    new_primary = wait_for("a new BFT primary", lambda: channel.bft_primary(layout), timeout=60)
    assert new_primary != primary

    height = wait_for(
        "every peer and live orderer at the same height",
        lambda: _heights_agree(bft, live),
        timeout=60,
    )
    # genesis, 4 chaincode lifecycle blocks at least, 3 setup and 2 x 4 bill transactions
    assert height >= 1 + 3 + 2 * 4
