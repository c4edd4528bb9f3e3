"""The Raft snapshot interval config change, the snapshot files, the orderer admin's CLI env."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ebill_network import channel
from ebill_network.layout import ORDERER_ORG, PEER_ORGS, Layout


def _config(kind: str) -> dict[str, Any]:
    options = {"snapshot_interval_size": 16777216, "tick_interval": "500ms"}
    value = {"type": kind, "metadata": {"options": options}, "state": "STATE_NORMAL"}
    orderer = {"values": {"ConsensusType": {"value": value}}}
    return {"channel_group": {"groups": {"Orderer": orderer}}}


def test_the_change_sets_only_the_snapshot_interval() -> None:
    config = _config("etcdraft")
    channel.set_snapshot_interval(262144)(config)
    value = config["channel_group"]["groups"]["Orderer"]["values"]["ConsensusType"]["value"]
    assert value["metadata"]["options"] == {
        "snapshot_interval_size": 262144,
        "tick_interval": "500ms",
    }
    assert value["type"] == "etcdraft"


def test_the_change_refuses_a_bft_channel_and_a_size_below_one() -> None:
    with pytest.raises(ValueError, match="not etcdraft"):
        channel.set_snapshot_interval(1024)(_config("BFT"))
    with pytest.raises(ValueError, match="size_bytes"):
        channel.set_snapshot_interval(0)


def test_snapshot_files_are_read_from_the_orderers_snap_folder(tmp_path: Path) -> None:
    layout = Layout(data_dir=tmp_path)
    assert channel.raft_snapshots(layout, 1) == []
    folder = layout.node_dir(ORDERER_ORG, "orderer1") / "data" / "snap" / "ebill"
    folder.mkdir(parents=True)
    (folder / "0000000000000002-0000000000000010.snap").write_bytes(b"x")
    (folder / "db").write_bytes(b"not a snapshot")
    assert [p.name for p in channel.raft_snapshots(layout, 1)] == [
        "0000000000000002-0000000000000010.snap"
    ]


def test_the_orderer_admin_uses_a_peer_config_and_its_own_msp(tmp_path: Path) -> None:
    layout = Layout(data_dir=tmp_path)
    env = channel.peer_admin_env(layout, ORDERER_ORG)
    assert env["FABRIC_CFG_PATH"] == str(layout.node_dir(PEER_ORGS[0], "peer0"))
    assert env["CORE_PEER_LOCALMSPID"] == "OrdererMSP"
    assert env["CORE_PEER_MSPCONFIGPATH"] == str(layout.user_dir(ORDERER_ORG, "admin0") / "msp")
