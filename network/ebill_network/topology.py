"""The topology file: which host every node of the network runs on, and its ports.

One YAML file (``network/topology.yaml`` by default, ``EBILL_TOPOLOGY`` to choose
another) names the hosts (an address each, optionally a Linux network namespace
the host's processes are started in) and, per org, the host and port offsets of
its CA and of each of its nodes, and the chaincode server's host and ports.
Ports are offsets from the layout's base port, so two networks still coexist by
their base ports. The org definitions (MSP ids, users) stay in ``layout``; an org
or node the file does not name runs on the default host with the default ports.

With ``host_folders: true`` each host's files (its nodes' MSP and TLS folders, the
TLS pairs of its listeners, the roots they trust) live under ``hosts/<host>/`` of
the data folder, and nothing a node is configured with lies outside its host's
folder: whatever a host needs from elsewhere is copied there explicitly.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_TOPOLOGY = Path(__file__).resolve().parents[1] / "topology.yaml"
DEFAULT_HOST = "local"
DEFAULT_ADDRESS = "127.0.0.1"

#: The port offsets each kind of node has, and the name of its main one.
NODE_PORTS = {
    "ca": ("port", "operations"),
    "orderer": ("port", "admin", "operations"),
    "peer": ("port", "chaincode", "operations"),
}


class TopologyError(ValueError):
    """The topology file is malformed; the message names the file, the field and the rule."""


@dataclass(frozen=True)
class Host:
    """A machine of the network: its address (IPv4 or DNS name) and, optionally, the
    network namespace (``ip netns exec NAME``) its processes are started in."""

    name: str
    address: str
    netns: str = ""
    names: tuple[str, ...] = ()  # more DNS names its TLS certificates carry

    def tls_names(self) -> tuple[str, ...]:
        """The names a server certificate of this host carries: its address, its other names."""
        return (self.address, *self.names)

    def launcher(self) -> list[str]:
        """The argv prefix that starts a process on this host (empty: this machine)."""
        return ["ip", "netns", "exec", self.netns] if self.netns else []


@dataclass(frozen=True)
class Placement:
    """Where one node runs: its host and its port offsets by name (``port``, ``admin``...)."""

    host: str
    ports: dict[str, int]


@dataclass(frozen=True)
class Topology:
    """The parsed topology file (see the module doc)."""

    source: Path
    hosts: dict[str, Host]
    nodes: dict[tuple[str, str], Placement] = field(default_factory=dict)
    chaincode: Placement | None = None
    host_folders: bool = False

    def host(self, name: str) -> Host:
        """The host of that name (the default host when the file does not name it)."""
        return self.hosts.get(name) or Host(name, DEFAULT_ADDRESS)

    def placement(self, org: str, node: str) -> Placement | None:
        """Where node ``node`` of org ``org`` (``ca`` for the org's CA) runs, if the file says."""
        return self.nodes.get((org, node))


def _fail(source: Path, where: str, rule: str) -> TopologyError:
    return TopologyError(f"{source}: {where}: {rule}")


def _mapping(source: Path, where: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(source, where, "must be a mapping")
    return value


_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def _is_address(value: Any) -> bool:
    """An IPv4 address, or a DNS name (a Kubernetes Service's, in deploy/k8s/topology.yaml)."""
    if not isinstance(value, str) or not value:
        return False
    try:
        ipaddress.IPv4Address(value)
        return True
    except ValueError:
        pass
    if value[0].isdigit() and value.replace(".", "").isdigit():
        return False  # a malformed IPv4 address, not a name
    return len(value) <= 253 and all(_LABEL.match(label) for label in value.split("."))


def _host(source: Path, name: str, raw: Any) -> Host:
    where = f"hosts.{name}"
    spec = _mapping(source, where, raw)
    unknown = set(spec) - {"address", "netns", "names"}
    if unknown:
        raise _fail(source, where, f"unknown keys {sorted(unknown)} (known: address, netns, names)")
    address = spec.get("address")
    if not _is_address(address):
        raise _fail(
            source, f"{where}.address", f"must be an IPv4 address or a DNS name, not {address!r}"
        )
    netns = spec.get("netns", "")
    if not isinstance(netns, str):
        raise _fail(source, f"{where}.netns", "must be a namespace name")
    names = spec.get("names", [])
    if not isinstance(names, list) or not all(_is_address(n) for n in names):
        raise _fail(source, f"{where}.names", "must be a list of DNS names")
    return Host(name, str(address), netns, tuple(names))


def _placement(source: Path, where: str, raw: Any, kind: str, hosts: dict[str, Host]) -> Placement:
    spec = _mapping(source, where, raw)
    host = spec.get("host", DEFAULT_HOST)
    if host not in hosts:
        raise _fail(source, f"{where}.host", f"names no host of `hosts` ({host!r})")
    names = NODE_PORTS[kind]
    unknown = set(spec) - {"host", *names}
    if unknown:
        raise _fail(source, where, f"unknown keys {sorted(unknown)} (known: host, {names})")
    ports: dict[str, int] = {}
    for name in names:
        value = spec.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1000:
            raise _fail(source, f"{where}.{name}", f"must be a port offset 0-999, not {value!r}")
        ports[name] = value
    return Placement(host, ports)


def load(path: Path = DEFAULT_TOPOLOGY) -> Topology:
    """Read and check a topology file.

    Raises TopologyError naming the file and the field: a missing or malformed
    field, a host named but not defined, or two listeners on one host and port.
    """
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise TopologyError(f"cannot read the topology file {path}: {exc.strerror}") from None
    top = _mapping(path, "the file", raw)
    hosts = {
        name: _host(path, name, spec)
        for name, spec in _mapping(path, "hosts", top.get("hosts")).items()
    }
    if not hosts:
        raise _fail(path, "hosts", "must name at least one host")
    nodes: dict[tuple[str, str], Placement] = {}
    for org, raw_org in _mapping(path, "orgs", top.get("orgs")).items():
        org_spec = _mapping(path, f"orgs.{org}", raw_org)
        if "ca" in org_spec:
            nodes[(org, "ca")] = _placement(path, f"orgs.{org}.ca", org_spec["ca"], "ca", hosts)
        for node, spec in _mapping(path, f"orgs.{org}.nodes", org_spec.get("nodes", {})).items():
            kind = "orderer" if node.startswith("orderer") else "peer"
            nodes[(org, node)] = _placement(path, f"orgs.{org}.nodes.{node}", spec, kind, hosts)
    chaincode = None
    if "chaincode" in top:
        cc = _mapping(path, "chaincode", top["chaincode"])
        slots = cc.get("ports")
        if (
            not isinstance(slots, list)
            or len(slots) != 2
            or not all(isinstance(p, int) and 0 <= p < 1000 for p in slots)
        ):
            raise _fail(path, "chaincode.ports", "must be two port offsets 0-999 (two slots)")
        host = cc.get("host", DEFAULT_HOST)
        if host not in hosts:
            raise _fail(path, "chaincode.host", f"names no host of `hosts` ({host!r})")
        chaincode = Placement(host, {"slot0": slots[0], "slot1": slots[1]})
    folders = top.get("host_folders", False)
    if not isinstance(folders, bool):
        raise _fail(path, "host_folders", "must be true or false")
    topology = Topology(path, hosts, nodes, chaincode, folders)
    _check_unique(topology)
    return topology


def _check_unique(topology: Topology) -> None:
    """Two listeners on one address and port offset cannot both bind."""
    seen: dict[tuple[str, int], str] = {}
    listeners = [((org, node), p) for (org, node), p in topology.nodes.items()]
    if topology.chaincode is not None:
        listeners.append((("chaincode", "server"), topology.chaincode))
    for (org, node), placement in listeners:
        address = topology.host(placement.host).address
        for name, offset in placement.ports.items():
            key = (address, offset)
            label = f"{org}.{node}.{name}"
            if key in seen:
                raise _fail(
                    topology.source,
                    label,
                    f"port offset {offset} on {address} is also {seen[key]}'s",
                )
            seen[key] = label
