"""Operating the network node by node: restart under load, status flags a stuck
node, an unknown submit outcome resolved by transaction id, ``up`` that fails."""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from chain import Connect, World, eventually, issue, query

import fabricgw
from ebill.samples import SampleBill, outpatient_bill
from ebill_network.layout import PEER_ORGS, Layout
from ebill_network.network import Network
from ebill_network.processes import NetworkError, wait_for


def _healthy_and_level(network: Network) -> dict[str, Any]:
    """Poll status until every node is healthy and peers/orderers have one height each."""

    def level() -> dict[str, Any] | None:
        report = network.status()
        nodes = report["nodes"]
        if report["stopped"] or report["stuck"]:
            return None
        if any(n["healthz"] != "ok" for n in nodes.values()):
            return None
        for kind in ("peer", "orderer"):
            heights = {n["height"] for n in nodes.values() if n["kind"] == kind}
            if len(heights) != 1 or None in heights:
                return None
        return report

    return wait_for("every node healthy at equal heights", level, timeout=120, interval=1)


def test_restart_a_peer_and_an_orderer_under_load_loses_no_acknowledged_bill(
    network: Network, world: World, connect_as: Connect, next_number: Callable[[], str]
) -> None:
    hospital = connect_as("units", "hospital1")
    acknowledged: list[SampleBill] = []
    failures: list[BaseException] = []
    stop = threading.Event()
    samples = [outpatient_bill(next_number()) for _ in range(40)]

    def load() -> None:
        for sample in samples:  # bounded: at most 40 issuances
            if stop.is_set():
                return
            try:
                issue(hospital, sample)
                acknowledged.append(sample)
            except (fabricgw.GatewayError, AssertionError) as exc:
                failures.append(exc)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    try:
        wait_for("a first bill in flight", lambda: bool(acknowledged), timeout=60)
        network.restart("peer0.audit")
        network.restart("orderer1")
    finally:
        stop.set()
        worker.join(timeout=120)
    assert not worker.is_alive()
    assert acknowledged, f"no issuance acknowledged; failures: {failures[:3]}"

    auditor = connect_as("audit", "auditor1")
    for sample in acknowledged:  # the restarted peer serves every acknowledged bill
        stored = eventually(lambda s=sample: query(auditor, "ReadBill", s.code, s.number))
        assert stored["billNumber"] == sample.number

    report = _healthy_and_level(network)
    assert report["leader"] in ("orderer0", "orderer1", "orderer2")
    assert all(not n["stuck"] and n["alive"] for n in report["nodes"].values())


def test_status_flags_a_stopped_orderer_as_alive_but_stuck(network: Network, world: World) -> None:
    pid = network.procs.pid("orderer2")
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        report = network.status()
    finally:
        os.kill(pid, signal.SIGCONT)
    node = report["nodes"]["orderer2"]
    assert node["alive"] is True
    assert node["stuck"] is True
    assert node["healthz"] == "unreachable"
    assert "orderer2" in report["stuck"]
    assert "orderer2" not in report["stopped"]
    assert not report["nodes"]["orderer0"]["stuck"]

    after = _healthy_and_level(network)
    assert not after["nodes"]["orderer2"]["stuck"]


def test_restart_of_an_unknown_node_lists_the_names(network: Network) -> None:
    with pytest.raises(NetworkError) as info:
        network.restart("peer9.nowhere")
    message = str(info.value)
    assert "peer9.nowhere" in message
    assert "peer0-finance" in message and "orderer1" in message and "chaincode" in message


def test_an_unknown_outcome_is_resolved_by_transaction_id(
    world: World, connect_as: Connect
) -> None:
    conn = connect_as("finance", "finance1")
    transaction = conn.contract.new_proposal("Ping").endorse()
    transaction.submit()  # the Commit is dropped, as after a lost answer
    channel = conn.gateway.get_network(conn.channel_name)

    status = channel.get_commit_status(transaction.transaction_id)

    assert status.successful
    assert status.code_name == "VALID"
    assert status.transaction_id == transaction.transaction_id
    assert status.block_number > 0
    with pytest.raises(ValueError, match="transaction_id"):
        channel.get_commit_status("")


def test_up_names_the_node_whose_port_is_taken_and_leaves_nothing_running(
    tmp_path: Path,
) -> None:
    base = int(os.environ.get("EBILL_TEST_BASE_PORT", "27050")) + 500
    layout = Layout(data_dir=tmp_path / "net", base_port=base)
    finance = PEER_ORGS[0]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind((layout.host, layout.peer_port(finance)))
        taken.listen(1)
        network = Network(layout, log=lambda _: None)
        with pytest.raises(NetworkError) as info:
            network.up()
    message = str(info.value)
    assert f"peer0-{finance.key}" in message
    assert str(layout.peer_port(finance)) in message
    assert network.procs.running() == {}
