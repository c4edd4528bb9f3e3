"""The application channel: genesis block, orderers joined by the channel
participation API (osnadmin, mutual TLS), peers joined with their org's admin."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

from .layout import CHANNEL, ORDERER_ORG, Layout, Org
from .processes import run, wait_for


def peer_admin_env(layout: Layout, org: Org) -> dict[str, str]:
    """Environment for the ``peer`` CLI acting as the org's admin against the org's peer."""
    return {
        "FABRIC_CFG_PATH": str(layout.node_dir(org, "peer0")),
        "CORE_PEER_LOCALMSPID": org.msp_id,
        "CORE_PEER_MSPCONFIGPATH": str(layout.user_dir(org, "admin0") / "msp"),
        "CORE_PEER_ADDRESS": layout.address(layout.peer_port(org)),
        "CORE_PEER_TLS_ENABLED": "true",
        "CORE_PEER_TLS_ROOTCERT_FILE": str(layout.tls_ca(org)),
        "FABRIC_LOGGING_SPEC": "WARN",
    }


def orderer_flags(layout: Layout) -> list[str]:
    """The ``peer`` CLI flags that reach the first orderer over TLS."""
    return [
        "-o",
        layout.address(layout.orderer_port(0)),
        "--tls",
        "--cafile",
        str(layout.tls_ca(ORDERER_ORG)),
    ]


def create_genesis_block(layout: Layout, bin_dir: Path, configtx_dir: Path) -> Path:
    block = layout.channel_dir() / f"{CHANNEL}.block"
    run(
        [
            bin_dir / "configtxgen",
            "-configPath", configtx_dir,
            "-profile", "EbillChannel",
            "-channelID", CHANNEL,
            "-outputBlock", block,
        ],
        env={"FABRIC_CFG_PATH": str(configtx_dir)},
        what="configtxgen",
    )  # fmt: skip
    return block


def _osnadmin(layout: Layout, bin_dir: Path, i: int, *args: str | Path) -> str:
    admin_tls = layout.user_dir(ORDERER_ORG, "admin0") / "tls"
    return run(
        [
            bin_dir / "osnadmin",
            "channel",
            *args,
            "-o", layout.address(layout.orderer_admin_port(i)),
            "--ca-file", layout.tls_ca(ORDERER_ORG),
            "--client-cert", admin_tls / "cert.pem",
            "--client-key", admin_tls / "key.pem",
        ],
        what=f"osnadmin channel {args[0]} (orderer{i})",
    )  # fmt: skip


def join_orderers(layout: Layout, bin_dir: Path, block: Path) -> None:
    for i in range(len(layout.orderers())):
        _osnadmin(layout, bin_dir, i, "join", "--channelID", CHANNEL, "--config-block", block)


def orderer_channel_info(layout: Layout, bin_dir: Path, i: int) -> dict[str, object]:
    """What orderer ``i`` says of the channel (status, consensusRelation, height)."""
    out = _osnadmin(layout, bin_dir, i, "list", "--channelID", CHANNEL)
    body = out[out.index("{") :]
    info = json.loads(body)
    assert isinstance(info, dict)
    return info


def _metric(url: str, name: str) -> list[float]:
    with urllib.request.urlopen(url, timeout=2) as resp:
        text = resp.read().decode()
    pattern = re.compile(rf'^{name}\{{[^}}]*channel="{CHANNEL}"[^}}]*\}} (\S+)$', re.M)
    return [float(v) for v in pattern.findall(text)]


def raft_leader(layout: Layout) -> int | None:
    """The index of the orderer that reports itself Raft leader of the channel, or None."""
    for i in range(len(layout.orderers())):
        url = f"http://{layout.address(layout.orderer_operations_port(i))}/metrics"
        try:
            if 1.0 in _metric(url, "consensus_etcdraft_is_leader"):
                return i
        except OSError:
            continue
    return None


def bft_primary(layout: Layout) -> int | None:
    """The index of the current view's primary, when a BFT quorum of orderers names the same one.

    Each orderer reports the consenter ID (1-based, as in the consenter mapping)
    of the leader of its current view; a quorum is 2f+1 of the 3f+1 orderers.
    """
    n = len(layout.orderers())
    quorum = n - (n - 1) // 3
    votes: dict[int, int] = {}
    for i in range(n):
        url = f"http://{layout.address(layout.orderer_operations_port(i))}/metrics"
        try:
            for leader_id in _metric(url, "consensus_smartbft_view_leader_id"):
                votes[int(leader_id)] = votes.get(int(leader_id), 0) + 1
        except OSError:
            continue
    for leader_id, count in votes.items():
        if count >= quorum and 1 <= leader_id <= n:
            return leader_id - 1
    return None


def consensus_leader(layout: Layout) -> int | None:
    """The Raft leader or the BFT primary of the channel (an orderer index), or None."""
    return raft_leader(layout) if layout.consensus == "raft" else bft_primary(layout)


def wait_for_consensus(layout: Layout, bin_dir: Path, timeout: float = 60) -> str:
    """Wait until every orderer serves the channel and the ordering service can order.

    Raft: one orderer leads the channel. BFT: one orderer is the primary of the
    current view, and every orderer has the same block height (they agree on
    the chain so far). Returns a line saying what was found; raises NetworkError
    naming the condition not met within ``timeout``.
    """
    orderers = range(len(layout.orderers()))
    for i in orderers:

        def active(i: int = i) -> bool:
            return orderer_channel_info(layout, bin_dir, i).get("status") == "active"

        wait_for(f"orderer{i} to serve channel {CHANNEL}", active, timeout=timeout, interval=0.3)
    leader = wait_for(
        f"a {layout.consensus} leader of channel {CHANNEL}",
        lambda: consensus_leader(layout),
        timeout=timeout,
    )
    if layout.consensus == "raft":
        return f"Raft leader is orderer{leader}"

    def same_height() -> int | None:
        heights = {orderer_height(layout, bin_dir, i) for i in orderers}
        return heights.pop() if len(heights) == 1 else None

    height = wait_for(
        f"every orderer at the same height of channel {CHANNEL}", same_height, timeout=timeout
    )
    return f"BFT primary is orderer{leader}; {len(orderers)} orderers at height {height}"


def join_peer(layout: Layout, org: Org, bin_dir: Path, block: Path) -> None:
    run(
        [bin_dir / "peer", "channel", "join", "-b", block],
        env=peer_admin_env(layout, org),
        what=f"peer channel join ({org.key})",
    )


def peer_height(layout: Layout, org: Org, bin_dir: Path) -> int:
    """The block height of the channel on the org's peer (``peer channel getinfo``)."""
    out = run(
        [bin_dir / "peer", "channel", "getinfo", "-c", CHANNEL],
        env=peer_admin_env(layout, org),
        what=f"peer channel getinfo ({org.key})",
    )
    info = json.loads(out[out.index("{") :])
    return int(info["height"])


def orderer_height(layout: Layout, bin_dir: Path, i: int) -> int:
    """The block height of the channel on orderer ``i`` (osnadmin channel list)."""
    return int(str(orderer_channel_info(layout, bin_dir, i)["height"]))
