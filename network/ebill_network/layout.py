"""The shape of the local network: organisations, nodes, identities and ports.

Everything the other modules need to know about *where* things are lives here,
so a reader finds every port and every path of the network in one place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from . import topology as topo
from .topology import Host, Topology

CHANNEL = "ebill"
CHAINCODE = "ebill"
DEFAULT_BASE_PORT = 17050
DEFAULT_DATA_DIR = Path(
    os.environ.get("EBILL_DATA_DIR", Path(__file__).resolve().parents[2] / ".data")
)


@dataclass(frozen=True)
class User:
    """A client identity enrolled from its org's CA, with CA attributes put in its certificate."""

    name: str
    type: str = "client"
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Org:
    """One organisation: its CA, its nodes (peers or orderers) and its users."""

    key: str
    msp_id: str
    kind: str  # "orderer" or "peer"
    index: int
    nodes: tuple[str, ...]
    users: tuple[User, ...] = ()


# Identities for four ordering nodes: Raft runs the first three (tolerates one
# crash), SmartBFT all four (3f+1 with f=1: tolerates one faulty node).
ORDERER_ORG = Org(
    "orderer", "OrdererMSP", "orderer", 0, ("orderer0", "orderer1", "orderer2", "orderer3")
)
CONSENSUS_TYPES = ("raft", "bft")
ORDERER_COUNT = {"raft": 3, "bft": 4}
PEER_ORGS: tuple[Org, ...] = (
    Org(
        "finance",
        "FinanceMSP",
        "peer",
        1,
        ("peer0",),
        (
            User("finance1", attrs={"role": "finance"}),
            # Payers act through the finance department's public platform: it
            # authenticates the person off-chain and signs with this identity, which
            # carries no personal attribute (certificates are in every block).
            User("platform1", attrs={"role": "platform"}),
        ),
    ),
    Org(
        "units",
        "UnitsMSP",
        "peer",
        2,
        ("peer0",),
        (
            User("hospital1", attrs={"role": "issuer", "unit": "HN0101"}),
            User("school1", attrs={"role": "issuer", "unit": "HN0201"}),
            User("clerk1", attrs={"role": "clerk", "unit": "HN0101"}),
        ),
    ),
    Org(
        "insurance",
        "InsuranceMSP",
        "peer",
        3,
        ("peer0",),
        (
            User("medins1", attrs={"role": "reimburser", "reimburser": "MEDINS-HN"}),
            User("insurer1", attrs={"role": "reimburser", "reimburser": "PICC-HN"}),
        ),
    ),
    Org(
        "audit",
        "AuditMSP",
        "peer",
        4,
        ("peer0",),
        (User("auditor1", attrs={"role": "supervisor"}),),
    ),
)
ALL_ORGS: tuple[Org, ...] = (ORDERER_ORG, *PEER_ORGS)


#: Ports for chaincode services deployed beside the e-bill contract.
SERVICE_SLOTS = 8


@dataclass(frozen=True)
class Layout:
    """Where the network lives on disk, on which hosts and on which ports.

    Ports are ``base_port`` plus the offsets of the topology file, so two networks
    (a demo and a test run) coexist by choosing different bases and data folders.
    Each node listens on its host's address (``topology``); ``host`` is the
    address of a node the topology does not place.
    """

    data_dir: Path = DEFAULT_DATA_DIR
    base_port: int = DEFAULT_BASE_PORT
    host: str = topo.DEFAULT_ADDRESS
    consensus: str = "raft"  # "raft" (etcdraft, 3 orderers) or "bft" (SmartBFT, 4 orderers)
    topology: Topology = field(default_factory=topo.load, hash=False, compare=False)

    def __post_init__(self) -> None:
        """Raises ValueError when ``consensus`` is not one of CONSENSUS_TYPES."""
        if self.consensus not in CONSENSUS_TYPES:
            raise ValueError(
                f"consensus must be one of {', '.join(CONSENSUS_TYPES)}, not {self.consensus!r}"
            )

    # orderers ------------------------------------------------------------
    def orderers(self) -> tuple[str, ...]:
        """The ordering nodes this network runs: orderer0..2 on Raft, orderer0..3 on BFT."""
        return ORDERER_ORG.nodes[: ORDERER_COUNT[self.consensus]]

    # hosts ---------------------------------------------------------------
    def _placed(self, org: Org, node: str) -> topo.Placement | None:
        return self.topology.placement(org.key, node)

    def _node_host(self, org: Org, node: str) -> Host:
        placed = self._placed(org, node)
        if placed is None:
            return Host(topo.DEFAULT_HOST, self.host)
        return self.topology.host(placed.host)

    def ca_host(self, org: Org) -> Host:
        """The host the org's CA runs on."""
        return self._node_host(org, "ca")

    def orderer_host(self, i: int) -> Host:
        return self._node_host(ORDERER_ORG, ORDERER_ORG.nodes[i])

    def peer_host(self, org: Org) -> Host:
        return self._node_host(org, "peer0")

    def chaincode_host(self) -> Host:
        """The host the chaincode server (both slots) runs on."""
        placed = self.topology.chaincode
        if placed is None:
            return Host(topo.DEFAULT_HOST, self.host)
        return self.topology.host(placed.host)

    def host_of(self, name: str) -> Host:
        """The host of a process by name (``ca-units``, ``orderer1``, ``peer0-finance``,
        ``chaincode``...); the default host for a name of no node."""
        for listener, host, _port in self.listeners():
            if listener == name or name.startswith(f"{listener}-"):
                return host
        return Host(topo.DEFAULT_HOST, self.host)

    def host_dir(self, host: Host) -> Path:
        """The folder of one host's files: ``hosts/<host>`` with ``host_folders``, else the
        data folder itself (one machine)."""
        if self.topology.host_folders:
            return self.data_dir / "hosts" / host.name
        return self.data_dir

    def hosts(self) -> list[Host]:
        """Every host a node of this network runs on, each once."""
        seen: dict[str, Host] = {}
        for _name, host, _port in self.listeners():
            seen.setdefault(host.name, host)
        return list(seen.values())

    # ports ---------------------------------------------------------------
    def _offset(self, org: Org, node: str, which: str, default: int) -> int:
        placed = self._placed(org, node)
        return self.base_port + (placed.ports[which] if placed is not None else default)

    def ca_port(self, org: Org) -> int:
        return self._offset(org, "ca", "port", org.index)

    def ca_operations_port(self, org: Org) -> int:
        return self._offset(org, "ca", "operations", 10 + org.index)

    def orderer_port(self, i: int) -> int:
        return self._offset(ORDERER_ORG, ORDERER_ORG.nodes[i], "port", 20 + i)

    def orderer_admin_port(self, i: int) -> int:
        return self._offset(ORDERER_ORG, ORDERER_ORG.nodes[i], "admin", 25 + i)

    def orderer_operations_port(self, i: int) -> int:
        return self._offset(ORDERER_ORG, ORDERER_ORG.nodes[i], "operations", 30 + i)

    def peer_port(self, org: Org) -> int:
        return self._offset(org, "peer0", "port", 40 + org.index)

    def peer_chaincode_port(self, org: Org) -> int:
        return self._offset(org, "peer0", "chaincode", 45 + org.index)

    def peer_operations_port(self, org: Org) -> int:
        return self._offset(org, "peer0", "operations", 50 + org.index)

    def chaincode_port(self, slot: int = 0) -> int:
        """Slot 0 or 1: an upgrade starts the new server on the other slot's port."""
        placed = self.topology.chaincode
        if placed is None:
            return self.base_port + 60 + slot
        return self.base_port + placed.ports[f"slot{slot}"]

    def service_port(self, index: int) -> int:
        """The port of another chaincode service (``Network.deploy_service``), 0..7, on the
        chaincode server's host."""
        if not 0 <= index < SERVICE_SLOTS:
            raise ValueError(f"service port index must be 0..{SERVICE_SLOTS - 1}, got {index}")
        return self.base_port + 62 + index

    def listeners(self) -> list[tuple[str, Host, int]]:
        """Every listener of the network: (process name, its host, port); the chaincode
        services' processes (``chaincode-<name>``) are on the chaincode server's host."""
        cc = self.chaincode_host()
        out = [("chaincode", cc, self.chaincode_port(0)), ("chaincode", cc, self.chaincode_port(1))]
        out += [("chaincode", cc, self.service_port(i)) for i in range(SERVICE_SLOTS)]
        for org in ALL_ORGS:
            host = self.ca_host(org)
            out += [
                (f"ca-{org.key}", host, p)
                for p in (self.ca_port(org), self.ca_operations_port(org))
            ]
        for i, node in enumerate(self.orderers()):
            host = self.orderer_host(i)
            ports = (
                self.orderer_port(i),
                self.orderer_admin_port(i),
                self.orderer_operations_port(i),
            )
            out += [(node, host, p) for p in ports]
        for org in PEER_ORGS:
            host = self.peer_host(org)
            ports = (
                self.peer_port(org),
                self.peer_chaincode_port(org),
                self.peer_operations_port(org),
            )
            out += [(f"peer0-{org.key}", host, p) for p in ports]
        return out

    def all_ports(self) -> list[int]:
        """Every port the network listens on."""
        return [port for _name, _host, port in self.listeners()]

    def host_of_port(self, port: int) -> str:
        """The address of the host that listens on ``port`` (``host`` for a port of no node)."""
        for _name, host, p in self.listeners():
            if p == port:
                return host.address
        return self.host

    def address(self, port: int) -> str:
        """``host:port`` of the node listening on ``port``, on that node's host."""
        return f"{self.host_of_port(port)}:{port}"

    # paths ---------------------------------------------------------------
    def org_dir(self, org: Org) -> Path:
        return self.data_dir / "orgs" / org.key

    def ca_home(self, org: Org) -> Path:
        """The CA server's home, on its host."""
        return self.host_dir(self.ca_host(org)) / "orgs" / org.key / "ca"

    def ca_tls_cert(self, org: Org) -> Path:
        """The certificate the CA server presents for its own TLS listener."""
        return self.ca_home(org) / "tls-cert.pem"

    def org_msp(self, org: Org) -> Path:
        return self.org_dir(org) / "msp"

    def tls_ca(self, org: Org) -> Path:
        """The root that signs every TLS certificate of the org's nodes and users."""
        return self.org_msp(org) / "tlscacerts" / "ca.pem"

    def node_dir(self, org: Org, node: str) -> Path:
        """A peer's or orderer's home (MSP, TLS, config, ledger), on its host."""
        return self.host_dir(self._node_host(org, node)) / "orgs" / org.key / "nodes" / node

    def user_dir(self, org: Org, user: str) -> Path:
        return self.org_dir(org) / "users" / user

    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    def run_dir(self) -> Path:
        return self.data_dir / "run"

    def channel_dir(self) -> Path:
        return self.data_dir / "channel"

    def chaincode_dir(self) -> Path:
        return self.data_dir / "chaincode"

    def state_file(self) -> Path:
        return self.data_dir / "state.json"

    def network_file(self) -> Path:
        """A JSON description of the running network for clients (see ``describe``)."""
        return self.data_dir / "network.json"

    def profiles_dir(self) -> Path:
        return self.data_dir / "profiles"


def peer_org(key: str) -> Org:
    """The peer org with that key (finance, units, insurance, audit); KeyError otherwise."""
    for org in PEER_ORGS:
        if org.key == key:
            return org
    raise KeyError(key)


def topology_from_env() -> Topology:
    """The topology file EBILL_TOPOLOGY names, else ``network/topology.yaml``.

    Raises TopologyError (a ValueError) naming the file and the field when it is malformed.
    """
    path = os.environ.get("EBILL_TOPOLOGY", "").strip()
    return topo.load(Path(path).resolve()) if path else topo.load()


def layout_from_env() -> Layout:
    """A layout from EBILL_DATA_DIR, EBILL_BASE_PORT, EBILL_CONSENSUS (raft|bft) and
    EBILL_TOPOLOGY (the topology file), with defaults.

    Raises ValueError naming EBILL_CONSENSUS when it is neither raft nor bft, and
    TopologyError for a malformed topology file.
    """
    consensus = os.environ.get("EBILL_CONSENSUS", "raft").strip().lower() or "raft"
    if consensus not in CONSENSUS_TYPES:
        raise ValueError(
            f"EBILL_CONSENSUS must be one of {', '.join(CONSENSUS_TYPES)}, not {consensus!r}"
        )
    return Layout(
        data_dir=Path(os.environ.get("EBILL_DATA_DIR", DEFAULT_DATA_DIR)).resolve(),
        base_port=int(os.environ.get("EBILL_BASE_PORT", DEFAULT_BASE_PORT)),
        consensus=consensus,
        topology=topology_from_env(),
    )
