"""The topology file: the default one keeps today's ports, names and paths; a bad one
is refused naming the field; a namespaced one places every node on its host."""

from __future__ import annotations

from pathlib import Path

import pytest

from ebill_network import topology as topo
from ebill_network.layout import ALL_ORGS, ORDERER_ORG, PEER_ORGS, Layout, layout_from_env
from ebill_network.topology import TopologyError

NETNS = Path(__file__).parents[1] / "network" / "topology-netns.yaml"


def _old_ports(base: int, orderers: int) -> list[int]:
    """The ports as the layout computed them before the topology file."""
    ports = [base + 60, base + 61, *(base + 62 + i for i in range(8))]  # + chaincode services
    for org in ALL_ORGS:
        ports += [base + org.index, base + 10 + org.index]
    for i in range(orderers):
        ports += [base + 20 + i, base + 25 + i, base + 30 + i]
    for org in PEER_ORGS:
        ports += [base + 40 + org.index, base + 45 + org.index, base + 50 + org.index]
    return ports


@pytest.mark.parametrize(("consensus", "orderers"), [("raft", 3), ("bft", 4)])
def test_the_default_topology_keeps_the_ports_addresses_and_paths(
    tmp_path: Path, consensus: str, orderers: int
) -> None:
    layout = Layout(data_dir=tmp_path, base_port=30000, consensus=consensus)
    assert layout.topology.source == topo.DEFAULT_TOPOLOGY
    assert layout.all_ports() == _old_ports(30000, orderers)
    assert {layout.address(p).split(":")[0] for p in layout.all_ports()} == {"127.0.0.1"}
    assert [h.name for h in layout.hosts()] == ["local"]
    assert layout.peer_host(PEER_ORGS[0]).launcher() == []
    assert layout.node_dir(PEER_ORGS[1], "peer0") == tmp_path / "orgs" / "units" / "nodes" / "peer0"
    assert layout.node_dir(ORDERER_ORG, "orderer2") == tmp_path / "orgs/orderer/nodes/orderer2"
    assert layout.ca_home(PEER_ORGS[3]) == tmp_path / "orgs" / "audit" / "ca"
    assert layout.host_dir(layout.chaincode_host()) == tmp_path


def test_ebill_topology_chooses_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EBILL_TOPOLOGY", raising=False)
    assert layout_from_env().topology.source == topo.DEFAULT_TOPOLOGY
    monkeypatch.setenv("EBILL_TOPOLOGY", str(NETNS))
    assert layout_from_env().topology.source == NETNS


def test_a_namespaced_topology_places_each_node_on_its_host(tmp_path: Path) -> None:
    layout = Layout(data_dir=tmp_path, base_port=20000, topology=topo.load(NETNS))
    finance, units = PEER_ORGS[0], PEER_ORGS[1]
    assert layout.address(layout.peer_port(finance)) == "10.231.0.11:20041"
    assert layout.address(layout.orderer_admin_port(1)) == "10.231.0.10:20026"
    assert layout.address(layout.chaincode_port(0)) == "10.231.0.20:20060"
    assert layout.ca_host(units).address == "10.231.0.12"
    assert layout.peer_host(units).launcher() == ["ip", "netns", "exec", "ebt-units"]
    assert layout.host_of("chaincode-next").name == "chaincode"
    assert layout.node_dir(units, "peer0") == tmp_path / "hosts/units/orgs/units/nodes/peer0"
    assert layout.ca_home(ORDERER_ORG) == tmp_path / "hosts/orderers/orgs/orderer/ca"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "topology.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("hosts: {a: {address: 10.0.0.300}}\norgs: {}", "hosts.a.address"),
        ("hosts: {a: {address: 10.0.0.1, nic: x}}\norgs: {}", "hosts.a: unknown keys"),
        (
            "hosts: {a: {address: 10.0.0.1}}\norgs: {finance: {ca: {host: b, port: 1, "
            "operations: 11}}}",
            "orgs.finance.ca.host",
        ),
        (
            "hosts: {a: {address: 10.0.0.1}}\norgs: {finance: {ca: {host: a, port: x, "
            "operations: 11}}}",
            "orgs.finance.ca.port",
        ),
        (
            "hosts: {a: {address: 10.0.0.1}}\norgs: {finance: {ca: {host: a, port: 1, "
            "operations: 1}}}",
            "port offset 1 on 10.0.0.1",
        ),
        ("hosts: {a: {address: 10.0.0.1}}\norgs: {}\nchaincode: {host: a, ports: [60]}",
         "chaincode.ports"),
        ("hosts: {}\norgs: {}", "hosts: must name at least one host"),
        ("- a list", "the file: must be a mapping"),
    ],
)  # fmt: skip
def test_a_bad_topology_is_refused_naming_the_field(tmp_path: Path, text: str, field: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(TopologyError) as refused:
        topo.load(path)
    assert str(refused.value).startswith(f"{path}: ")
    assert field in str(refused.value)


def test_a_missing_topology_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(TopologyError, match="cannot read the topology file .*nowhere.yaml"):
        topo.load(tmp_path / "nowhere.yaml")


def test_a_hosts_names_are_its_tls_names_and_must_be_dns_names(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "hosts: {a: {address: 127.0.0.1, names: [peer0.ebill-finance.svc.cluster.local]}}\n"
        "orgs: {}",
    )
    host = topo.load(path).host("a")
    assert host.tls_names() == ("127.0.0.1", "peer0.ebill-finance.svc.cluster.local")
    bad = _write(tmp_path, "hosts: {a: {address: 127.0.0.1, names: [Not_A_Name]}}\norgs: {}")
    with pytest.raises(TopologyError, match=r"hosts\.a\.names: must be a list of DNS names"):
        topo.load(bad)


def test_the_k8s_topologies_load() -> None:
    k8s = Path(__file__).parents[2] / "deploy" / "k8s"
    cluster = Layout(base_port=7000, topology=topo.load(k8s / "topology.yaml"))
    assert cluster.address(cluster.peer_port(PEER_ORGS[0])) == (
        "peer0.ebill-finance.svc.cluster.local:7051"
    )
    local = Layout(base_port=30000, topology=topo.load(k8s / "pki-topology.yaml"))
    assert local.all_ports() == _old_ports(30000, 3)
    assert local.peer_host(PEER_ORGS[0]).names == ("peer0.ebill-finance.svc.cluster.local",)
