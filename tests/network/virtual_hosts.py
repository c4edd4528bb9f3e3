"""Hosts made of Linux network namespaces, for running each org on its own address.

``virtual_hosts(topology)`` makes one namespace per host of the topology that
names one, each with a veth pair whose other end is a port of a bridge in a
namespace of its own (the switch), so the root namespace has no interface, no
address and no route into the test range: traffic stays among those namespaces.
On leaving (also on an error), the veths, the bridge and every namespace are
removed, and that they are gone is checked. Needs root (``ip netns add``).

Import as ``from virtual_hosts import ...`` (pytest puts this folder on the path).
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from ebill_network.topology import Host, Topology

SWITCH = "ebt-switch"
BRIDGE = "br0"
PREFIX = 24


def ip(*args: str, check: bool = True) -> str:
    """Run ``ip ARGS``; its stdout. Raises CalledProcessError (with stderr) if ``check``."""
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30, check=False)
    if check and proc.returncode != 0:
        raise subprocess.CalledProcessError(
            proc.returncode, ["ip", *args], proc.stdout, proc.stderr
        )
    return proc.stdout


def namespaces() -> set[str]:
    """The names of the named network namespaces that exist now."""
    return {line.split()[0] for line in ip("netns", "list").splitlines() if line.strip()}


def _veth(host: str) -> str:
    return f"v-{host}"[:15]


def _remove(hosts: list[Host]) -> None:
    """Delete the hosts' veths and the bridge in the switch, then every namespace."""
    present = namespaces()
    if SWITCH in present:
        for host in hosts:
            ip("-n", SWITCH, "link", "del", _veth(host.name), check=False)
        ip("-n", SWITCH, "link", "del", BRIDGE, check=False)
    for netns in [*(h.netns for h in hosts), SWITCH]:
        if netns in present:
            ip("netns", "del", netns)


@contextmanager
def virtual_hosts(topology: Topology) -> Iterator[dict[str, str]]:
    """Make the topology's namespaced hosts on one private network; yields {host: netns}.

    Raises PermissionError when not root; AssertionError if anything is left behind.
    """
    if os.geteuid() != 0:
        raise PermissionError("the several-hosts test needs root (ip netns add)")
    hosts = {h.name: h for h in topology.hosts.values() if h.netns}
    nets = {ipaddress.ip_interface(f"{h.address}/{PREFIX}").network for h in hosts.values()}
    assert len(nets) == 1, f"the hosts must share one /{PREFIX}: {sorted(map(str, nets))}"
    _remove(list(hosts.values()))  # what a run killed before its cleanup left
    try:
        ip("netns", "add", SWITCH)
        ip("-n", SWITCH, "link", "add", BRIDGE, "type", "bridge")
        ip("-n", SWITCH, "link", "set", BRIDGE, "up")
        for host in hosts.values():
            ip("netns", "add", host.netns)
            veth = _veth(host.name)
            ip("-n", SWITCH, "link", "add", veth, "type", "veth", "peer", "name", "eth0",
               "netns", host.netns)  # fmt: skip
            ip("-n", SWITCH, "link", "set", veth, "master", BRIDGE, "up")
            ip("-n", host.netns, "addr", "add", f"{host.address}/{PREFIX}", "dev", "eth0")
            ip("-n", host.netns, "link", "set", "eth0", "up")
            ip("-n", host.netns, "link", "set", "lo", "up")
        yield {h.name: h.netns for h in hosts.values()}
    finally:
        _remove(list(hosts.values()))
        left = namespaces() & {*(h.netns for h in hosts.values()), SWITCH}
        assert not left, f"namespaces left behind: {sorted(left)}"


def listeners(netns: str) -> set[tuple[str, int]]:
    """Every TCP (address, port) something listens on inside ``netns``."""
    out = subprocess.run(
        ["ip", "netns", "exec", netns, "ss", "-ltnH"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    found = set()
    for line in out.splitlines():
        local = line.split()[3]
        address, _, port = local.rpartition(":")
        # an IPv6 socket bound to an IPv4 address (grpcio) shows it IPv4-mapped
        found.add((address.strip("[]").removeprefix("::ffff:"), int(port)))
    return found
