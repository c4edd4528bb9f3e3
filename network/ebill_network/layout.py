"""The shape of the local network: organisations, nodes, identities and ports.

Everything the other modules need to know about *where* things are lives here,
so a reader finds every port and every path of the network in one place.
"""

from __future__ import annotations

import json
import os
import re
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
    role: str = ""  # a peer org's part: finance, units, insurance or audit (see ORG_ROLES)


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
        "finance",
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
        "units",
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
        "insurance",
    ),
    Org(
        "audit",
        "AuditMSP",
        "peer",
        4,
        ("peer0",),
        (User("auditor1", attrs={"role": "supervisor"}),),
        "audit",
    ),
)
ALL_ORGS: tuple[Org, ...] = (ORDERER_ORG, *PEER_ORGS)

#: The parts an org added later (``ebill-network add-org``) may play.
ORG_ROLES = ("insurance", "units", "audit")
#: The first index of an added org; its ports are in a block of their own (``_joined_port``).
FIRST_JOINED_INDEX = len(ALL_ORGS)
_ORG_NAME = re.compile(r"[a-z][a-z0-9]{1,19}")
_UNIT_CODE = re.compile(r"[A-Za-z0-9]{1,32}")  # as the contract's unitCode


def joined_org(key: str, role: str, index: int, *, unit: str = "") -> Org:
    """The Org of an org added to the running channel: one peer, an admin and role users.

    An insurance org gets ``reimburser1`` (reimburser id ``<KEY>``), a units org
    ``issuer1`` and ``clerk1`` of unit ``unit``, an audit org ``auditor1``.
    Raises ValueError naming the field: a key that is not 2-20 lower-case letters and
    digits starting with a letter, an unknown role, a units org without a unit.
    """
    if not _ORG_NAME.fullmatch(key):
        raise ValueError(
            f"org name must be 2-20 lower-case letters or digits, starting with a letter,"
            f" not {key!r}"
        )
    if role not in ORG_ROLES:
        raise ValueError(f"role must be one of {', '.join(ORG_ROLES)}, not {role!r}")
    users: tuple[User, ...]
    if role == "insurance":
        users = (User("reimburser1", attrs={"role": "reimburser", "reimburser": key.upper()}),)
    elif role == "units":
        if not _UNIT_CODE.fullmatch(unit):
            raise ValueError(
                "unit: a units org needs its users' unit code (1-32 letters or digits),"
                f" not {unit!r}"
            )
        users = (
            User("issuer1", attrs={"role": "issuer", "unit": unit}),
            User("clerk1", attrs={"role": "clerk", "unit": unit}),
        )
    else:
        users = (User("auditor1", attrs={"role": "supervisor"}),)
    msp_id = f"{key[0].upper()}{key[1:]}MSP"
    return Org(key, msp_id, "peer", index, ("peer0",), users, role)


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

    # organisations ---------------------------------------------------------
    def joined_file(self) -> Path:
        """The orgs added to the channel after its creation (JSON list), in joining order."""
        return self.data_dir / "orgs.json"

    def joined_orgs(self) -> tuple[Org, ...]:
        """The orgs added by ``add-org`` (read from :meth:`joined_file`), in joining order."""
        path = self.joined_file()
        if not path.exists():
            return ()
        entries = json.loads(path.read_text())
        return tuple(
            joined_org(e["key"], e["role"], int(e["index"]), unit=e.get("unit", ""))
            for e in entries
        )

    def save_joined(self, org: Org, *, unit: str = "") -> None:
        """Record ``org`` as joined (once); from then on it is one of :meth:`peer_orgs`."""
        entries = json.loads(self.joined_file().read_text()) if self.joined_file().exists() else []
        if any(e["key"] == org.key for e in entries):
            return
        entries.append({"key": org.key, "role": org.role, "index": org.index, "unit": unit})
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.joined_file().write_text(json.dumps(entries, indent=2))

    def peer_orgs(self) -> tuple[Org, ...]:
        """The founding peer orgs, then every org added since."""
        return (*PEER_ORGS, *self.joined_orgs())

    def all_orgs(self) -> tuple[Org, ...]:
        """The orderer org and every peer org."""
        return (ORDERER_ORG, *self.peer_orgs())

    def peer_org(self, key: str) -> Org:
        """The peer org with that key (founding or joined); KeyError otherwise."""
        for org in self.peer_orgs():
            if org.key == key:
                return org
        raise KeyError(key)

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
    def _joined_port(self, org: Org, offset: int) -> int:
        """Ports of an added org: a block of 5 from ``base_port + 100`` per org."""
        return self.base_port + 100 + 5 * (org.index - FIRST_JOINED_INDEX) + offset

    def _offset(self, org: Org, node: str, which: str, default: int, joined: int) -> int:
        """The port the topology gives the node; else an added org's block (slot
        ``joined``) or the founding orgs' ``base_port + default``."""
        placed = self._placed(org, node)
        if placed is not None:
            return self.base_port + placed.ports[which]
        if org.index >= FIRST_JOINED_INDEX:
            return self._joined_port(org, joined)
        return self.base_port + default

    def ca_port(self, org: Org) -> int:
        return self._offset(org, "ca", "port", org.index, 0)

    def ca_operations_port(self, org: Org) -> int:
        return self._offset(org, "ca", "operations", 10 + org.index, 1)

    def orderer_port(self, i: int) -> int:
        return self._offset(ORDERER_ORG, ORDERER_ORG.nodes[i], "port", 20 + i, 0)

    def orderer_admin_port(self, i: int) -> int:
        return self._offset(ORDERER_ORG, ORDERER_ORG.nodes[i], "admin", 25 + i, 0)

    def orderer_operations_port(self, i: int) -> int:
        return self._offset(ORDERER_ORG, ORDERER_ORG.nodes[i], "operations", 30 + i, 0)

    def peer_port(self, org: Org) -> int:
        return self._offset(org, "peer0", "port", 40 + org.index, 2)

    def peer_chaincode_port(self, org: Org) -> int:
        return self._offset(org, "peer0", "chaincode", 45 + org.index, 3)

    def peer_operations_port(self, org: Org) -> int:
        return self._offset(org, "peer0", "operations", 50 + org.index, 4)

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
        for org in self.all_orgs():
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
        for org in self.peer_orgs():
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
