"""The application channel: genesis block, orderers joined by the channel
participation API (osnadmin, mutual TLS), peers joined with their org's admin, and
configuration updates (fetch, change, compute the update, sign, submit, wait until
every peer has the new config block), used to put an org's CRL into its MSP."""

from __future__ import annotations

import base64
import copy
import json
import re
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cryptography import x509

from . import operations, signatures
from .layout import CHANNEL, ORDERER_ORG, PEER_ORGS, Layout, Org
from .processes import NetworkError, run, wait_for


def peer_admin_env(layout: Layout, org: Org) -> dict[str, str]:
    """Environment for the ``peer`` CLI acting as the org's admin against the org's peer.

    For the orderer org (no peer of its own: it only fetches and signs config
    updates) the CLI reads the first peer org's ``core.yaml``.
    """
    cfg = layout.node_dir(PEER_ORGS[0] if org.kind == "orderer" else org, "peer0")
    return {
        "FABRIC_CFG_PATH": str(cfg),
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


def _metric(layout: Layout, port: int, name: str) -> list[float]:
    text = operations.get(layout, port, "/metrics", timeout=2)
    pattern = re.compile(rf'^{name}\{{[^}}]*channel="{CHANNEL}"[^}}]*\}} (\S+)$', re.M)
    return [float(v) for v in pattern.findall(text)]


def raft_leader(layout: Layout) -> int | None:
    """The index of the orderer that reports itself Raft leader of the channel, or None."""
    for i in range(len(layout.orderers())):
        try:
            port = layout.orderer_operations_port(i)
            if 1.0 in _metric(layout, port, "consensus_etcdraft_is_leader"):
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
        port = layout.orderer_operations_port(i)
        try:
            for leader_id in _metric(layout, port, "consensus_smartbft_view_leader_id"):
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


# --- channel configuration updates ---------------------------------------------------------

#: A function that changes a channel configuration (the JSON of ``common.Config``) in place.
ConfigChange = Callable[[dict[str, Any]], None]


def _translate(bin_dir: Path, verb: str, proto: str, src: Path, out: Path) -> None:
    run(
        [bin_dir / "configtxlator", verb, "--type", proto, "--input", src, "--output", out],
        what=f"configtxlator {verb} {proto}",
    )


def fetch_config(layout: Layout, bin_dir: Path, org: Org, work: Path) -> tuple[dict[str, Any], int]:
    """The channel's current configuration (JSON of ``common.Config``) and the number of
    the block that holds it, fetched from the orderers as ``org``'s admin."""
    block = work / "config_block.pb"
    run(
        [
            bin_dir / "peer",
            "channel",
            "fetch",
            "config",
            block,
            "-c",
            CHANNEL,
            *orderer_flags(layout),
        ],
        env=peer_admin_env(layout, org),
        what="peer channel fetch config",
    )
    _translate(bin_dir, "proto_decode", "common.Block", block, work / "config_block.json")
    decoded = json.loads((work / "config_block.json").read_text())
    config = decoded["data"]["data"][0]["payload"]["data"]["config"]
    return config, int(decoded["header"].get("number", 0))


def peer_chain_info(layout: Layout, bin_dir: Path, org: Org) -> dict[str, Any]:
    """``peer channel getinfo`` of ``org``'s peer: ``height``, ``currentBlockHash`` (base64 of
    the hash of block height-1) and ``previousBlockHash``. Raises NetworkError if it fails."""
    out = run(
        [bin_dir / "peer", "channel", "getinfo", "-c", CHANNEL],
        env=peer_admin_env(layout, org),
        what=f"peer channel getinfo ({org.key})",
    )
    info = json.loads(out[out.index("{") :])
    assert isinstance(info, dict)
    return info


def peer_height(layout: Layout, bin_dir: Path, org: Org) -> int:
    """The height of the channel's chain on ``org``'s peer."""
    return int(peer_chain_info(layout, bin_dir, org)["height"])


def update_config(
    layout: Layout,
    bin_dir: Path,
    change: ConfigChange,
    *,
    signers: Sequence[Org],
    peers: Sequence[Org],
    quorum: int = 0,
    timeout: float = 60,
) -> int:
    """Change the channel configuration and return the number of the new config block.

    Fetches the config block, applies ``change`` to a copy, computes the update
    (configtxlator), has the admin of every org in ``signers`` sign it (as the
    modified groups' mod policies require: an org's own MSP needs that org's
    admin; the Application group's ``MAJORITY Admins`` a majority of the orgs),
    checks every signature (:mod:`.signatures`: it verifies, by an admin of an org
    in the channel) and that at least ``quorum`` application orgs signed validly,
    submits it through the orderers as the last signer and waits until every peer
    of ``peers`` has the new config block. No change: nothing is sent and the
    current config block's number is returned. Raises NetworkError naming the
    signer when a signature does not count or the quorum is not met (nothing is
    sent then), or if a step fails or the peers do not reach the block within
    ``timeout``.
    """
    if not signers:
        raise ValueError("a config update needs at least one signer")
    work = layout.channel_dir() / "updates" / f"{time.time_ns()}"
    work.mkdir(parents=True)
    try:
        config, number = fetch_config(layout, bin_dir, signers[-1], work)
        updated = copy.deepcopy(config)
        change(updated)
        if updated == config:
            return number
        for name, value in (("original", config), ("updated", updated)):
            (work / f"{name}.json").write_text(json.dumps(value))
            _translate(
                bin_dir, "proto_encode", "common.Config", work / f"{name}.json", work / f"{name}.pb"
            )
        run(
            [
                bin_dir / "configtxlator", "compute_update", "--channel_id", CHANNEL,
                "--original", work / "original.pb", "--updated", work / "updated.pb",
                "--output", work / "update.pb",
            ],
            what="configtxlator compute_update",
        )  # fmt: skip
        _translate(
            bin_dir, "proto_decode", "common.ConfigUpdate", work / "update.pb", work / "update.json"
        )
        envelope = {
            "payload": {
                "header": {"channel_header": {"channel_id": CHANNEL, "type": 2}},
                "data": {"config_update": json.loads((work / "update.json").read_text())},
            }
        }
        (work / "envelope.json").write_text(json.dumps(envelope))
        tx = work / "envelope.pb"
        _translate(bin_dir, "proto_encode", "common.Envelope", work / "envelope.json", tx)
        for org in signers:
            run(
                [bin_dir / "peer", "channel", "signconfigtx", "-f", tx],
                env=peer_admin_env(layout, org),
                what=f"peer channel signconfigtx ({org.key})",
            )
        check_signatures(tx.read_bytes(), config, [o.msp_id for o in signers], quorum)
        # `peer channel update` signs once more as the submitter (its own org, already
        # counted: Fabric counts one signature per identity) and wraps it for the orderer.
        run(
            [
                bin_dir / "peer",
                "channel",
                "update",
                "-f",
                tx,
                "-c",
                CHANNEL,
                *orderer_flags(layout),
            ],
            env=peer_admin_env(layout, signers[-1]),
            what="peer channel update",
        )

        def newer_config() -> int | None:
            _, latest = fetch_config(layout, bin_dir, signers[-1], work)
            return latest if latest > number else None

        block = wait_for("the orderers to cut the config block", newer_config, timeout=timeout)
        for org in peers:
            wait_for(
                f"peer0.{org.key} to commit config block {block}",
                lambda org=org: peer_height(layout, bin_dir, org) > block,  # type: ignore[misc]
                timeout=timeout,
                interval=0.3,
            )
        return block
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check_signatures(
    envelope: bytes, config: dict[str, Any], expected: Sequence[str], quorum: int
) -> set[str]:
    """The application orgs that validly signed ``envelope``; raises NetworkError naming
    each expected signer whose signature is missing or does not count, or when fewer than
    ``quorum`` application orgs signed validly."""
    found = signatures.signatures(envelope, config)
    problems = [f"{s.msp_id} ({s.subject}): {s.reason}" for s in found if not s.valid]
    valid = {s.msp_id for s in found if s.valid}
    problems += [
        f"{m}: no signature"
        for m in expected
        if m not in valid and m not in {s.msp_id for s in found}
    ]
    if problems:
        raise NetworkError("config update not sent: " + "; ".join(problems))
    members = signatures.application_orgs(config)
    counted = valid & set(members)
    if len(counted) < quorum:
        raise NetworkError(
            f"config update not sent: {len(counted)} of {len(members)} application orgs signed "
            f"({', '.join(sorted(counted)) or 'none'}); it needs {quorum}"
        )
    return counted


def _revoked_serials(crls: Sequence[bytes]) -> set[tuple[bytes, int]]:
    """(issuer, serial) of every certificate the CRLs (PEM) list."""
    out: set[tuple[bytes, int]] = set()
    for pem in crls:
        crl = x509.load_pem_x509_crl(pem)
        issuer = crl.issuer.public_bytes()
        out |= {(issuer, entry.serial_number) for entry in crl}
    return out


def set_revocation_list(org: Org, crls: Sequence[bytes]) -> ConfigChange:
    """A change that makes ``crls`` (PEM) the revocation list of ``org``'s channel MSP.

    When the MSP's current CRLs already revoke the same certificates, nothing
    changes (a fresh CRL of the same content is not worth a config block).
    """
    group = "Orderer" if org.kind == "orderer" else "Application"

    def change(config: dict[str, Any]) -> None:
        msp = config["channel_group"]["groups"][group]["groups"][org.msp_id]["values"]["MSP"]
        current = [base64.b64decode(c) for c in msp["value"]["config"].get("revocation_list", [])]
        try:
            same = bool(current) and _revoked_serials(current) == _revoked_serials(crls)
        except ValueError:  # a CRL that does not parse is replaced
            same = False
        if not same:
            msp["value"]["config"]["revocation_list"] = [
                base64.b64encode(crl).decode("ascii") for crl in crls
            ]

    return change


def set_snapshot_interval(size_bytes: int) -> ConfigChange:
    """A change that sets the etcdraft ``SnapshotIntervalSize`` (bytes of blocks between two
    Raft snapshots). Sign it as the orderer org (``signers=[ORDERER_ORG]``).

    Raises ValueError for a size below 1 or a channel that is not on etcdraft.
    """
    if size_bytes < 1:
        raise ValueError(f"size_bytes: must be at least 1, not {size_bytes}")

    def change(config: dict[str, Any]) -> None:
        value = config["channel_group"]["groups"]["Orderer"]["values"]["ConsensusType"]["value"]
        if value.get("type") != "etcdraft":
            raise ValueError(f"the channel orders with {value.get('type')!r}, not etcdraft")
        value["metadata"]["options"]["snapshot_interval_size"] = size_bytes

    return change


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def duration_seconds(text: str) -> float:
    """Seconds of a Go duration such as ``250ms`` or ``1m30s`` (Fabric's config form).

    Raises ValueError for anything else (a bare number, a sign, an unknown unit).
    """
    parts = _DURATION.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration like '250ms' or '2s': {text!r}")
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


def set_batching(timeout: str, max_message_count: int) -> ConfigChange:
    """A change that sets how the orderers cut blocks: ``BatchTimeout`` (a Go duration,
    ``"50ms"``) and ``BatchSize.MaxMessageCount``. Sign it as the orderer org
    (``signers=[ORDERER_ORG]``).

    On a SmartBFT channel it also sets the consensus options ``RequestBatchMaxInterval``
    (SmartBFT's batch timeout: it reads this, not ``BatchTimeout``) and
    ``RequestBatchMaxCount`` (which Fabric replaces with ``MaxMessageCount`` anyway).
    Raises ValueError for a timeout that is not a positive duration or a count below 1.
    """
    if duration_seconds(timeout) <= 0:
        raise ValueError(f"timeout: must be above zero, not {timeout!r}")
    if max_message_count < 1:
        raise ValueError(f"max_message_count: must be at least 1, not {max_message_count}")

    def change(config: dict[str, Any]) -> None:
        values = config["channel_group"]["groups"]["Orderer"]["values"]
        values["BatchTimeout"]["value"]["timeout"] = timeout
        values["BatchSize"]["value"]["max_message_count"] = max_message_count
        consensus = values["ConsensusType"]["value"]
        if consensus.get("type") == "BFT":
            options = consensus["metadata"]
            options["request_batch_max_interval"] = timeout
            # a uint64: protojson (configtxlator) writes it as a string
            options["request_batch_max_count"] = str(max_message_count)

    return change


def batching(config: dict[str, Any]) -> tuple[str, int]:
    """The channel's ``BatchTimeout`` and ``BatchSize.MaxMessageCount`` in ``config``."""
    values = config["channel_group"]["groups"]["Orderer"]["values"]
    return (
        str(values["BatchTimeout"]["value"]["timeout"]),
        int(values["BatchSize"]["value"]["max_message_count"]),
    )


def raft_snapshots(layout: Layout, i: int) -> list[Path]:
    """The Raft snapshot files orderer ``i`` has taken of the channel (oldest first)."""
    folder = layout.node_dir(ORDERER_ORG, layout.orderers()[i]) / "data" / "snap" / CHANNEL
    return sorted(folder.glob("*.snap")) if folder.is_dir() else []


def orderer_height(layout: Layout, bin_dir: Path, i: int) -> int:
    """The block height of the channel on orderer ``i`` (osnadmin channel list)."""
    return int(str(orderer_channel_info(layout, bin_dir, i)["height"]))
