"""The network on several hosts: each org, the orderers and the chaincode server on a
host of its own (a Linux network namespace with its own address in 10.231.0.0/24),
as `tests/network/topology-netns.yaml` places them.

This module makes the hosts (``virtual_hosts``: namespaces, veth pairs, a bridge),
brings the network up with ``ebill-network up`` run on the admin host, copies the
client's credentials explicitly to the client host's folder, runs a bill's life
cycle with the ``ebill`` console on the client host, and checks that every node
listens on its host's address only, runs in its host's namespace, uses no file
outside its host's folder, and that all peers converge. It always stops the
network and removes the hosts, also when a step fails. Runs as root (CI does).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from virtual_hosts import listeners, virtual_hosts

from ebill.samples import PAYER1
from ebill_network import channel
from ebill_network import topology as topo
from ebill_network.layout import CHANNEL, PEER_ORGS, SERVICE_SLOTS, Layout
from ebill_network.network import Network, install_binaries
from ebill_network.processes import wait_for

TOPOLOGY = Path(__file__).with_name("topology-netns.yaml")
BIN = Path(sys.executable).parent
# Its own ports (the hosts' addresses are apart anyway; the base keeps logs apart).
BASE = int(os.environ.get("EBILL_TEST_BASE_PORT", "27050")) + 3000
CODE = "46010126"  # the outpatient bill code of the samples
UNIT = "HN0101"


@dataclass(frozen=True)
class Hosts:
    layout: Layout
    netns: dict[str, str]  # host name -> namespace
    env: dict[str, str]
    client_network: Path  # network.json as copied to the client host


def in_host(
    netns: str, argv: list[str], env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` on the host whose namespace is ``netns``."""
    return subprocess.run(
        ["ip", "netns", "exec", netns, *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def _copy_for_client(layout: Layout, client_dir: Path) -> Path:
    """Copy the files network.json names (TLS roots, the users' pairs) to the client
    host's folder and write a network.json naming the copies; returns its path."""
    data = layout.data_dir

    def relocate(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: relocate(v) for k, v in value.items()}
        if isinstance(value, list):
            return [relocate(v) for v in value]
        if isinstance(value, str) and value.startswith(f"{data}/"):
            target = client_dir / Path(value).relative_to(data)
            if Path(value).is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(value, target)
            return str(target)
        return value

    description = relocate(json.loads(layout.network_file().read_text()))
    out = client_dir / "network.json"
    out.write_text(json.dumps(description, indent=2))
    return out


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosts]:
    topology = topo.load(TOPOLOGY)
    data = tmp_path_factory.mktemp("hosts")
    layout = Layout(data_dir=data, base_port=BASE, topology=topology)
    env = {
        **os.environ,
        "EBILL_DATA_DIR": str(data),
        "EBILL_BASE_PORT": str(BASE),
        "EBILL_TOPOLOGY": str(TOPOLOGY),
        "EBILL_CONSENSUS": "raft",
    }
    install_binaries()  # built before the hosts exist (the build needs the module proxy)
    with virtual_hosts(topology) as netns:
        try:
            up = in_host(netns["admin"], [str(BIN / "ebill-network"), "up"], env, timeout=600)
            assert up.returncode == 0, f"up failed:\n{up.stdout}\n{up.stderr}"
            client_dir = tmp_path_factory.mktemp("client-host")
            yield Hosts(layout, netns, env, _copy_for_client(layout, client_dir))
        finally:
            net = Network(layout, log=lambda line: None)
            net.clean()
            assert net.procs.running() == {}


def ebill(h: Hosts, *args: str) -> subprocess.CompletedProcess[str]:
    """The ``ebill`` console on the client host, on the copied network.json."""
    argv = [str(BIN / "ebill"), "--network", str(h.client_network), *args]
    return in_host(h.netns["client"], argv, h.env, timeout=120)


def _netns_inode(netns: str) -> int:
    return os.stat(f"/run/netns/{netns}").st_ino


def test_every_node_runs_in_its_hosts_namespace_and_listens_on_its_address_only(
    hosts: Hosts,
) -> None:
    layout = hosts.layout
    running = Network(layout, log=lambda line: None).procs.running()
    expected = {"chaincode", *(f"ca-{o.key}" for o in (*PEER_ORGS,)), "ca-orderer"}
    expected |= {*layout.orderers(), *(f"peer0-{o.key}" for o in PEER_ORGS)}
    assert set(running) == expected
    for name, pid in running.items():
        host = layout.host_of(name)
        assert host.netns, name
        assert os.stat(f"/proc/{pid}/ns/net").st_ino == _netns_inode(host.netns), name
    for host in layout.hosts():
        found = listeners(host.netns)
        allowed = {(h.address, port) for _n, h, port in layout.listeners() if h == host}
        # the second chaincode slot and the chaincode services' ports are idle here
        idle = {layout.chaincode_port(1), *(layout.service_port(i) for i in range(SERVICE_SLOTS))}
        wanted = {(address, port) for address, port in allowed if port not in idle}
        assert wanted and wanted <= found <= allowed, f"{host.name}: {sorted(found)}"
    # The root namespace has no address in the test range and no way into it.
    root = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, check=True)
    assert "10.231.0." not in root.stdout


def _paths_in(value: Any, prefix: str) -> list[str]:
    """Every string in a YAML/JSON tree that is a path under ``prefix``."""
    if isinstance(value, dict):
        return [p for v in value.values() for p in _paths_in(v, prefix)]
    if isinstance(value, list):
        return [p for v in value for p in _paths_in(v, prefix)]
    return [value] if isinstance(value, str) and value.startswith(prefix) else []


def test_each_node_uses_only_files_of_its_own_host(hosts: Hosts) -> None:
    layout = hosts.layout
    data = f"{layout.data_dir}/"
    running = Network(layout, log=lambda line: None).procs.running()
    for name, pid in running.items():
        own = layout.host_dir(layout.host_of(name))
        used: list[str] = []
        # its command line, its environment (but the data folder variable itself)
        used += [a for a in Path(f"/proc/{pid}/cmdline").read_text().split("\0") if a]
        environ = Path(f"/proc/{pid}/environ").read_text().split("\0")
        used += [kv.split("=", 1)[1] for kv in environ if "=" in kv and not kv.startswith("EBILL_")]
        used += [v for kv in environ if kv.startswith("EBILL_CHAINCODE") for v in kv.split("=")[1:]]
        # every file it has open (its stdout and stderr are the launcher's log)
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            if int(fd.name) > 2:
                try:
                    used.append(os.readlink(fd))
                except OSError:
                    continue
        # and every path in its configuration file
        for config in ("core.yaml", "orderer.yaml", "fabric-ca-server-config.yaml"):
            for folder in {Path(u) for u in used if u.startswith(data)}:
                if (folder / config).is_file():
                    used += _paths_in(yaml.safe_load((folder / config).read_text()), data)
        mine = [u for u in used if u.startswith(data)]
        assert mine, f"{name} names no file of the data folder"
        outside = [u for u in mine if not Path(u).is_relative_to(own)]
        assert not outside, f"{name} uses files outside {own}: {outside}"


def test_a_bills_life_cycle_from_the_client_host(hosts: Hosts) -> None:
    registered = ebill(hosts, "units", "register", UNIT, "海南省人民医院", "--sector", "medical",
                       "--region", "46", "--exist-ok")  # fmt: skip
    assert registered.returncode == 0, registered.stderr
    applied = ebill(hosts, "--json", "stock", "apply", "--code", CODE, "--start", "0000000001",
                    "--count", "100", "--unit", UNIT)  # fmt: skip
    assert applied.returncode == 0, applied.stderr
    approved = ebill(hosts, "stock", "approve", json.loads(applied.stdout)["batchId"])
    assert approved.returncode == 0, approved.stderr

    number = "0000000001"
    sample = ebill(hosts, "bill", "sample", number)
    assert sample.returncode == 0, sample.stderr
    bill_file = hosts.client_network.parent / "bill.json"
    bill_file.write_text(sample.stdout, encoding="utf-8")
    issued = ebill(hosts, "--json", "bill", "issue", str(bill_file))
    assert issued.returncode == 0, issued.stderr
    answer = json.loads(issued.stdout)
    check, salt = answer["bill"]["checkCode"], answer["salt"]

    verify = ebill(hosts, "bill", "verify", CODE, number, check, "--amount", "268.50")
    assert verify.returncode == 0 and "genuine  yes" in verify.stdout, verify.stderr
    payer = "person:" + PAYER1["id"]
    authorised = ebill(hosts, "payer", "authorise", CODE, number, "MEDINS-HN", "--salt", salt,
                       "--payer", payer)  # fmt: skip
    assert authorised.returncode == 0, authorised.stderr
    locked = ebill(hosts, "reimburse", "lock", CODE, number)
    assert locked.returncode == 0, locked.stderr
    claimed = ebill(hosts, "reimburse", "claim", CODE, number, "268.50", "--voucher", "YB-H-1")
    assert claimed.returncode == 0, claimed.stderr
    again = ebill(hosts, "reimburse", "lock", CODE, number)
    assert again.returncode == 5, again.stderr

    # Every org's peer (each user's gateway is its own org's peer) has the whole history.
    for who in ("finance/finance1", "units/hospital1", "insurance/medins1", "audit/auditor1"):
        shown = ebill(hosts, "--as", who, "bill", "verify", CODE, number, check)
        assert shown.returncode == 0 and "genuine  yes" in shown.stdout, (who, shown.stderr)
    history = ebill(hosts, "--as", "audit/auditor1", "bill", "history", CODE, number)
    assert history.returncode == 0, history.stderr
    assert [line.split()[1] for line in history.stdout.splitlines()[2:]] == [
        "IssueBill", "AuthoriseReimburser", "LockBill", "ClaimBill",
    ]  # fmt: skip


def _chain_info(hosts: Hosts, bin_dir: Path) -> dict[str, tuple[int, str]]:
    """Per peer, (height, current block hash) by ``peer channel getinfo`` on the admin host."""
    out = {}
    for org in PEER_ORGS:
        env = {**hosts.env, **channel.peer_admin_env(hosts.layout, org)}
        argv = [str(bin_dir / "peer"), "channel", "getinfo", "-c", CHANNEL]
        got = in_host(hosts.netns["admin"], argv, env, timeout=60)
        assert got.returncode == 0, got.stderr
        info = json.loads(got.stdout[got.stdout.index("{") :])
        out[org.key] = (int(info["height"]), str(info["currentBlockHash"]))
    return out


def test_all_peers_converge(hosts: Hosts) -> None:
    bin_dir = install_binaries()

    def converged() -> dict[str, tuple[int, str]] | None:
        info = _chain_info(hosts, bin_dir)
        return info if len(set(info.values())) == 1 else None

    info = wait_for("every peer at one height and block hash", converged, timeout=60, interval=0.5)
    heights = {height for height, _hash in info.values()}
    assert min(heights) > 1  # the channel's config block and the transactions since
