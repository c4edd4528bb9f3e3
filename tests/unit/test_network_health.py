"""Node names, port owners and the status table of ``ebill_network.health`` (no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ebill_network import health
from ebill_network.layout import ORDERER_ORG, PEER_ORGS, Layout


def _layout(tmp_path: Path) -> Layout:
    return Layout(data_dir=tmp_path, base_port=40000)


def test_every_node_is_listed_once_and_found_by_either_spelling(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    names = [s.name for s in health.node_specs(layout)]
    assert len(names) == len(set(names)) == 13
    assert health.find_node(layout, "peer0.units").name == "peer0-units"
    assert health.find_node(layout, "orderer1").kind == "orderer"
    assert health.find_node(layout, "ca-audit").kind == "ca"


def test_an_unknown_node_is_refused_with_the_known_names(tmp_path: Path) -> None:
    with pytest.raises(KeyError) as info:
        health.find_node(_layout(tmp_path), "peer1.finance")
    message = str(info.value)
    assert "peer1.finance" in message and "peer0-finance" in message and "chaincode" in message


def test_every_port_of_the_layout_has_its_node(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    assert all(health.port_owner(layout, p) for p in layout.all_ports())
    assert health.port_owner(layout, layout.peer_port(PEER_ORGS[1])) == "peer0-units"
    assert health.port_owner(layout, layout.orderer_operations_port(2)) == ORDERER_ORG.nodes[2]
    assert health.port_owner(layout, 1) == ""


def test_the_table_marks_the_leader_and_a_stuck_node() -> None:
    nodes = {
        "orderer0": {"alive": True, "pid": 7, "rss_mib": 1.0, "healthz": "ok", "height": 9,
                     "lag": 0, "stuck": False},
        "orderer1": {"alive": True, "pid": 8, "rss_mib": 1.0, "healthz": "unreachable",
                     "height": None, "lag": None, "stuck": True},
    }  # fmt: skip
    lines = health.table(nodes, "orderer0").splitlines()
    assert lines[1].startswith("orderer0") and lines[1].endswith("LEADER")
    assert lines[2].startswith("orderer1") and lines[2].endswith("STUCK")
    assert "unreachable" in lines[2]
