"""The network's consensus choice (Raft or SmartBFT) and the configuration it writes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from ebill_network import configs
from ebill_network.layout import ORDERER_ORG, PEER_ORGS, Layout, layout_from_env

NETWORK_DIR = Path(__file__).resolve().parents[2] / "network"


def test_unknown_consensus_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match=r"consensus must be one of raft, bft, not 'pbft'"):
        Layout(consensus="pbft")


def test_consensus_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EBILL_CONSENSUS", raising=False)
    assert layout_from_env().consensus == "raft"
    monkeypatch.setenv("EBILL_CONSENSUS", "BFT")
    assert layout_from_env().consensus == "bft"
    monkeypatch.setenv("EBILL_CONSENSUS", "kafka")
    with pytest.raises(ValueError, match=r"EBILL_CONSENSUS must be one of raft, bft, not 'kafka'"):
        layout_from_env()


def test_raft_runs_three_orderers_and_bft_four() -> None:
    assert Layout().orderers() == ORDERER_ORG.nodes[:3]
    assert Layout(consensus="bft").orderers() == ORDERER_ORG.nodes[:4]


@pytest.mark.parametrize("consensus", ["raft", "bft"])
def test_ports_are_distinct_and_clear_of_a_network_1000_above(consensus: str) -> None:
    layout = Layout(base_port=31050, consensus=consensus)
    ports = layout.all_ports()
    assert len(ports) == len(set(ports))
    assert {layout.orderer_port(i) for i in range(len(layout.orderers()))} <= set(ports)
    other = Layout(base_port=32050, consensus="bft").all_ports()
    assert not set(ports) & set(other)


def _profile(tmp_path: Path, consensus: str) -> dict[str, Any]:
    layout = Layout(data_dir=tmp_path, consensus=consensus)
    out = configs.write_configtx(layout)
    data = yaml.safe_load((out / "configtx.yaml").read_text())
    profile = data["Profiles"]["EbillChannel"]
    assert isinstance(profile, dict)
    return profile


def test_bft_channel_maps_four_consenters_with_identity_and_tls(tmp_path: Path) -> None:
    profile = _profile(tmp_path, "bft")
    assert profile["Capabilities"] == {"V3_0": True}
    orderer = profile["Orderer"]
    assert orderer["OrdererType"] == "BFT"
    assert "EtcdRaft" not in orderer and "Addresses" not in orderer
    mapping = orderer["ConsenterMapping"]
    layout = Layout(data_dir=tmp_path, consensus="bft")
    assert [c["ID"] for c in mapping] == [1, 2, 3, 4]
    for i, consenter in enumerate(mapping):
        home = layout.node_dir(ORDERER_ORG, f"orderer{i}")
        assert consenter["Port"] == layout.orderer_port(i)
        assert consenter["MSPID"] == ORDERER_ORG.msp_id
        assert consenter["Identity"] == str(home / "msp" / "signcerts" / "cert.pem")
        assert consenter["ClientTLSCert"] == consenter["ServerTLSCert"]
        assert consenter["ServerTLSCert"] == str(home / "tls" / "cert.pem")
    endpoints = orderer["Organizations"][0]["OrdererEndpoints"]
    assert endpoints == [layout.address(layout.orderer_port(i)) for i in range(4)]
    assert orderer["SmartBFT"]["RequestBatchMaxCount"] == configs.MAX_MESSAGE_COUNT
    # SmartBFT cuts by its own interval, not by BatchTimeout: both carry the same value
    assert orderer["SmartBFT"]["RequestBatchMaxInterval"] == configs.BATCH_TIMEOUT


def test_raft_channel_has_three_consenters_and_no_bft_mapping(tmp_path: Path) -> None:
    orderer = _profile(tmp_path, "raft")["Orderer"]
    assert orderer["OrdererType"] == "etcdraft"
    assert "ConsenterMapping" not in orderer
    assert len(orderer["EtcdRaft"]["Consenters"]) == 3
    assert len(orderer["Organizations"][0]["OrdererEndpoints"]) == 3
    assert orderer["BatchTimeout"] == configs.BATCH_TIMEOUT
    assert orderer["BatchSize"]["MaxMessageCount"] == configs.MAX_MESSAGE_COUNT


def _sample_dir() -> Path:
    """The pinned release's sample config folder in the binary cache (see install-fabric.sh)."""
    pins = dict(
        line.split("=", 1)
        for line in (NETWORK_DIR / "versions.env").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    root = os.environ.get("EBILL_CACHE") or str(
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ebill"
    )
    key = (
        f"fabric-{pins['FABRIC_VERSION']}-{pins['FABRIC_PSEUDO'].rsplit('-', 1)[-1]}"
        f"_ca-{pins['FABRIC_CA_VERSION']}"
    )
    return Path(root) / key / "config"


# Keys the release reads although its sample file leaves them out (or only
# mentions them in a comment): checked against the Fabric 3.1.1 source.
READ_BUT_NOT_IN_SAMPLE = {
    "peer.chaincodeListenAddress",
    "General.Cluster.RootCAs",
    "Admin.TLS.RootCAs",
}


def _missing(base: Any, over: dict[str, Any], path: str = "") -> list[str]:
    out: list[str] = []
    for key, value in over.items():
        dotted = f"{path}.{key}" if path else key
        if dotted in READ_BUT_NOT_IN_SAMPLE:
            continue
        if not isinstance(base, dict) or key not in base:
            out.append(dotted)
        elif isinstance(value, dict):
            out += _missing(base[key], value, dotted)
    return out


def test_every_key_we_set_is_a_key_of_the_release_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key renamed or removed by a Fabric release would be silently ignored: catch it."""
    sample = _sample_dir()
    # `make test` builds the pinned Fabric first: a missing sample is a failure, never a skip.
    assert (sample / "core.yaml").exists(), (
        f"the pinned Fabric is not built ({sample}): make fabric"
    )
    overlays: list[dict[str, Any]] = []
    merge = configs._merge

    def record(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
        overlays.append(over)
        return merge(base, over)

    monkeypatch.setattr(configs, "_merge", record)
    layout = Layout(data_dir=tmp_path, consensus="bft")
    configs.write_peer_config(layout, PEER_ORGS[0], sample)
    configs.write_orderer_config(layout, 0, sample)
    monkeypatch.setattr(configs, "_merge", merge)
    # the top-level overlays (the merge recurses into sections through the same name)
    peer_over = next(o for o in overlays if "peer" in o)
    orderer_over = next(o for o in overlays if "General" in o)
    core = yaml.safe_load((sample / "core.yaml").read_text())
    orderer = yaml.safe_load((sample / "orderer.yaml").read_text())
    assert _missing(core, peer_over) == []
    assert _missing(orderer, orderer_over) == []
