"""Health of each node: alive, ``/healthz``, channel height, lag, Raft leader, stuck.

A node is *stuck* when its process is alive but it does not serve: its
``/healthz`` fails or does not answer (a SIGSTOPped process), or it stays behind
the highest height of its kind while a second sample shows it did not move.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import chaincode, channel, operations, pki
from .layout import ALL_ORGS, CHANNEL, ORDERER_ORG, PEER_ORGS, SERVICE_SLOTS, Layout
from .processes import ProcessManager, port_open


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """One long-running process of the network: its name, kind and ports."""

    name: str
    kind: str  # "ca", "orderer", "peer" or "chaincode"
    org_key: str
    index: int
    port: int
    operations_port: int | None


def node_specs(layout: Layout, slot: int = 0) -> list[NodeSpec]:
    """Every node ``status`` lists, in a stable order (CAs, orderers, peers, chaincode)."""
    specs = [
        NodeSpec(
            pki.ca_process(o), "ca", o.key, o.index, layout.ca_port(o), layout.ca_operations_port(o)
        )
        for o in ALL_ORGS
    ]
    specs += [
        NodeSpec(
            node,
            "orderer",
            ORDERER_ORG.key,
            i,
            layout.orderer_admin_port(i),
            layout.orderer_operations_port(i),
        )
        for i, node in enumerate(layout.orderers())
    ]
    specs += [
        NodeSpec(
            f"peer0-{o.key}",
            "peer",
            o.key,
            o.index,
            layout.peer_port(o),
            layout.peer_operations_port(o),
        )
        for o in PEER_ORGS
    ]
    specs.append(
        NodeSpec(chaincode.SERVER_PROCESS, "chaincode", "", 0, layout.chaincode_port(slot), None)
    )
    return specs


def find_node(layout: Layout, name: str, slot: int = 0) -> NodeSpec:
    """The node called ``name`` (``peer0-finance`` or ``peer0.finance``).

    Raises KeyError with the known names.
    """
    wanted = name.replace(".", "-")
    for spec in node_specs(layout, slot):
        if spec.name == wanted:
            return spec
    known = ", ".join(s.name for s in node_specs(layout, slot))
    raise KeyError(f"unknown node {name!r}; known: {known}")


def port_owner(layout: Layout, port: int) -> str:
    """The node that listens on ``port`` (any of its ports), or ``""``."""
    for org in ALL_ORGS:
        if port in (layout.ca_port(org), layout.ca_operations_port(org)):
            return pki.ca_process(org)
    for i, node in enumerate(layout.orderers()):
        ports = (
            layout.orderer_port(i),
            layout.orderer_admin_port(i),
            layout.orderer_operations_port(i),
        )
        if port in ports:
            return node
    for org in PEER_ORGS:
        peer_ports = (
            layout.peer_port(org),
            layout.peer_chaincode_port(org),
            layout.peer_operations_port(org),
        )
        if port in peer_ports:
            return f"peer0-{org.key}"
    if port in (layout.chaincode_port(0), layout.chaincode_port(1)):
        return chaincode.SERVER_PROCESS
    for i in range(SERVICE_SLOTS):
        if port == layout.service_port(i):
            return f"chaincode service {i}"
    return ""


def healthz(layout: Layout, spec: NodeSpec, *, timeout: float = 2) -> str:
    """``ok``, ``failing`` (it answered, not OK) or ``unreachable``; never raises."""
    if spec.operations_port is None:
        return "ok" if port_open(layout.host_of_port(spec.port), spec.port) else "unreachable"
    try:
        body = operations.get(layout, spec.operations_port, "/healthz", timeout=timeout)
    except OSError as exc:
        code = getattr(exc, "code", None)
        return "failing" if isinstance(code, int) else "unreachable"
    try:
        status = json.loads(body).get("status")
    except ValueError:
        return "failing"
    return "ok" if status == "OK" else "failing"


def height(layout: Layout, bin_dir: Path, spec: NodeSpec, *, timeout: float = 10) -> int | None:
    """The node's block height of the channel (peers and orderers), or None if unknown."""
    if spec.kind == "orderer":
        admin_tls = layout.user_dir(ORDERER_ORG, "admin0") / "tls"
        argv = [
            bin_dir / "osnadmin", "channel", "list", "--channelID", CHANNEL,
            "-o", layout.address(spec.port),
            "--ca-file", layout.tls_ca(ORDERER_ORG),
            "--client-cert", admin_tls / "cert.pem",
            "--client-key", admin_tls / "key.pem",
        ]  # fmt: skip
        out = _run(argv, {}, timeout)
        if out is None or "{" not in out:
            return None
        try:
            value = json.loads(out[out.index("{") :]).get("height")
        except ValueError:
            return None
        return int(value) if isinstance(value, int) else None
    if spec.kind == "peer":
        org = next(o for o in PEER_ORGS if o.key == spec.org_key)
        argv = [bin_dir / "peer", "channel", "getinfo", "-c", CHANNEL]
        out = _run(argv, channel.peer_admin_env(layout, org), timeout)
        if out is None or "{" not in out:
            return None
        try:
            value = json.loads(out[out.index("{") :]).get("height")
        except ValueError:
            return None
        return int(value) if isinstance(value, int) else None
    return None


def _run(argv: list[Any], env: dict[str, str], timeout: float) -> str | None:
    """Run a CLI query; its output, or None if it failed or timed out (never raises)."""
    try:
        proc = subprocess.run(
            [str(a) for a in argv],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout + proc.stderr if proc.returncode == 0 else None


def sample(
    layout: Layout, bin_dir: Path, procs: ProcessManager, slot: int = 0
) -> dict[str, dict[str, Any]]:
    """One look at every node: alive, pid, rss_mib, healthz, height (None if not a ledger node)."""
    out: dict[str, dict[str, Any]] = {}
    for spec in node_specs(layout, slot):
        pid = procs.pid(spec.name)
        entry: dict[str, Any] = {
            "kind": spec.kind,
            "alive": pid is not None,
            "pid": pid,
            "rss_mib": round(rss_kib(pid) / 1024, 1) if pid is not None else 0.0,
            "healthz": "unreachable",
            "height": None,
        }
        if pid is not None:
            entry["healthz"] = healthz(layout, spec)
            if entry["healthz"] == "ok" and spec.kind in ("peer", "orderer"):
                entry["height"] = height(layout, bin_dir, spec)
        out[spec.name] = entry
    return out


def _lags(nodes: dict[str, dict[str, Any]]) -> None:
    """Set ``lag`` of each peer and orderer: blocks behind the highest of its kind."""
    for kind in ("peer", "orderer"):
        heights = [n["height"] for n in nodes.values() if n["kind"] == kind and n["height"]]
        top = max(heights, default=None)
        for n in nodes.values():
            if n["kind"] == kind:
                n["lag"] = top - n["height"] if top is not None and n["height"] else None


def report(
    layout: Layout,
    bin_dir: Path,
    procs: ProcessManager,
    slot: int = 0,
    *,
    settle: float = 5,
) -> dict[str, Any]:
    """Every node's health, the Raft leader, and which nodes are stuck.

    A lagging node is sampled again (polled until it catches up, at most
    ``settle`` seconds): it is stuck if it is still behind and did not move.
    """
    first = sample(layout, bin_dir, procs, slot)
    _lags(first)
    nodes = first
    behind = [n for n, e in first.items() if e.get("lag")]
    if behind:
        deadline = time.monotonic() + settle
        while True:
            nodes = sample(layout, bin_dir, procs, slot)
            _lags(nodes)
            if not any(nodes[n].get("lag") for n in behind) or time.monotonic() >= deadline:
                break
            time.sleep(0.5)
    for name, entry in nodes.items():
        unhealthy = entry["healthz"] != "ok"
        no_height = entry["kind"] in ("peer", "orderer") and entry["height"] is None
        before, now = first[name]["height"], entry["height"]
        stalled = bool(entry.get("lag")) and before == now
        entry["stuck"] = entry["alive"] and (unhealthy or no_height or stalled)
    leader = channel.consensus_leader(layout)
    return {
        "nodes": nodes,
        "consensus": layout.consensus,
        "leader": layout.orderers()[leader] if leader is not None else None,
        "stuck": [n for n, e in nodes.items() if e["stuck"]],
    }


def table(nodes: dict[str, dict[str, Any]], leader: str | None) -> str:
    """The nodes as a human table."""
    lines = [f"{'NODE':<16}{'ALIVE':<7}{'PID':<9}{'RSS':>8}  {'HEALTHZ':<12}HEIGHT  LAG  FLAGS"]
    for name, e in nodes.items():
        flags = " ".join(
            f for f, on in (("LEADER", name == leader), ("STUCK", e.get("stuck"))) if on
        )
        lines.append(
            f"{name:<16}{'yes' if e['alive'] else 'no':<7}{e['pid'] or '-':<9}"
            f"{e['rss_mib']:>7.1f}M  {e['healthz']:<12}{_dash(e['height']):<8}"
            f"{_dash(e.get('lag')):<5}{flags}"
        )
    return "\n".join(lines)


def _dash(value: object) -> str:
    return "-" if value is None else str(value)


def rss_kib(pid: int) -> int:
    """The resident memory of process ``pid`` in KiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


__all__ = ["NodeSpec", "find_node", "node_specs", "port_owner", "report", "table"]
