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
    for i in range(len(ORDERER_ORG.nodes)):
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
    for i in range(len(ORDERER_ORG.nodes)):
        url = f"http://{layout.address(layout.orderer_operations_port(i))}/metrics"
        try:
            if 1.0 in _metric(url, "consensus_etcdraft_is_leader"):
                return i
        except OSError:
            continue
    return None


def wait_for_raft(layout: Layout, bin_dir: Path, timeout: float = 60) -> int:
    """Wait until every orderer serves the channel and one of them leads it."""
    for i in range(len(ORDERER_ORG.nodes)):

        def active(i: int = i) -> bool:
            return orderer_channel_info(layout, bin_dir, i).get("status") == "active"

        wait_for(f"orderer{i} to serve channel {CHANNEL}", active, timeout=timeout, interval=0.3)
    return wait_for(
        f"a Raft leader of channel {CHANNEL}", lambda: raft_leader(layout), timeout=timeout
    )


def join_peer(layout: Layout, org: Org, bin_dir: Path, block: Path) -> None:
    run(
        [bin_dir / "peer", "channel", "join", "-b", block],
        env=peer_admin_env(layout, org),
        what=f"peer channel join ({org.key})",
    )
