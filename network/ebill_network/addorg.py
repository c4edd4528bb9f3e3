"""A new organisation joins the running channel (``ebill-network add-org NAME --role ROLE``).

The steps, each safe to run again (a failed ``add-org`` resumes where it stopped):

1. The org is recorded (``orgs.json``: from then on it is one of ``layout.peer_orgs()``,
   with ports of its own block) and gets its CA, its peer's MSP and TLS identities, its
   admin and the users of its role (``layout.joined_org``).
2. A channel config update adds the org's MSP (with its peer as anchor peer) to the
   Application group. That group's mod policy is ``MAJORITY Admins``: the update is signed
   by the admins of a majority of the orgs already in the channel, each signature checked
   (:mod:`.signatures`) before it is sent.
3. The new peer starts, joins the channel from the genesis block and catches up to the
   other peers' height.
4. Finance registers the org's part on the ledger (``RegisterOrg``: its role and the
   reimburser ids or unit codes of its users), so the contract honours its users.
5. The next chaincode definition sequence: the endorsement policy takes the new org's
   peer as one more choice beside finance, and collection ``billPrivate`` gets it as a
   member (units, insurers and supervisors all need private parts, see SECURITY.md).
   Every org approves, the new one included; the new definition's server starts beside
   the running one, so nothing stops. Then network.json and the profiles name the org.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from . import channel, configs, pki, signatures
from ._gateway import open_admin_gateway
from .layout import CHANNEL, FIRST_JOINED_INDEX, ORDERER_ORG, Layout, Org, joined_org
from .processes import InvalidOrg, NetworkError, port_open, run, wait_for

if TYPE_CHECKING:
    from .network import Network


def new_org(layout: Layout, name: str, role: str, *, unit: str = "") -> Org:
    """The org ``name`` will be: the recorded one when a previous ``add-org`` of it stopped
    half-way, else a fresh one with the next index. Raises InvalidOrg for a name that is
    taken (by a founding org, or a joined one of another role) or bad, a bad role or unit."""
    for org in layout.peer_orgs():
        if org.key == name:
            if org.index >= FIRST_JOINED_INDEX and org.role == role:
                return org
            raise InvalidOrg(f"org name {name!r} is taken by the org {org.msp_id}")
    if name == ORDERER_ORG.key:
        raise InvalidOrg(f"org name {name!r} is taken by the ordering service")
    index = max(o.index for o in layout.all_orgs()) + 1
    try:
        org = joined_org(name, role, index, unit=unit)
    except ValueError as exc:
        raise InvalidOrg(str(exc)) from None
    taken = {o.msp_id for o in layout.all_orgs()}
    if org.msp_id in taken:
        raise InvalidOrg(f"org name {name!r} gives MSP id {org.msp_id}, which is taken")
    return org


def org_group(layout: Layout, bin_dir: Path, org: Org, work: Path) -> dict[str, Any]:
    """The org's channel group (JSON of ``common.ConfigGroup``): its MSP, policies and anchor
    peer, printed by ``configtxgen -printOrg`` from a configtx.yaml holding only the org."""
    section = configs.org_section(layout, org)
    (work / "configtx.yaml").write_text(yaml.safe_dump({"Organizations": [section]}))
    out = run(
        [bin_dir / "configtxgen", "-configPath", work, "-printOrg", org.msp_id],
        env={"FABRIC_CFG_PATH": str(work)},
        what=f"configtxgen -printOrg {org.msp_id}",
    )
    group: dict[str, Any] = json.loads(out)
    group["values"].setdefault(
        "AnchorPeers",
        {
            "mod_policy": "Admins",
            "value": {"anchor_peers": [{"host": layout.host, "port": layout.peer_port(org)}]},
            "version": "0",
        },
    )
    return group


def add_group(msp_id: str, group: dict[str, Any]) -> channel.ConfigChange:
    """A change that puts ``group`` into the Application group as ``msp_id`` (no change if
    the org is there already)."""

    def change(config: dict[str, Any]) -> None:
        groups = config["channel_group"]["groups"]["Application"]["groups"]
        groups.setdefault(msp_id, group)

    return change


def in_channel(layout: Layout, bin_dir: Path, org: Org, fetch_as: Org) -> bool:
    """Is ``org`` in the channel's Application group (fetched as ``fetch_as``'s admin)?"""
    work = layout.channel_dir() / "updates" / f"check-{time.time_ns()}"
    work.mkdir(parents=True)
    try:
        config, _ = channel.fetch_config(layout, bin_dir, fetch_as, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return org.msp_id in signatures.application_orgs(config)


def registry_entry(org: Org) -> dict[str, Any]:
    """RegisterOrg's argument for ``org``: its part and the ids its users carry."""
    field = {"insurance": "reimburser", "units": "unit"}.get(org.role)
    ids = sorted({u.attrs[field] for u in org.users if field and field in u.attrs})
    return {"mspId": org.msp_id, "role": org.role, "ids": ids}


def add_org(
    network: Network,
    name: str,
    role: str,
    *,
    unit: str = "",
    signers: list[str] | None = None,
    register: Callable[[dict[str, Any], dict[str, Any]], None] | None = None,
    timeout: float = 120,
) -> dict[str, Any]:
    """Add the org ``name`` of ``role`` (insurance, units, audit; a units org needs
    ``unit``, its users' unit code) to the running channel; see the module's steps.

    ``signers``: the keys of the existing orgs whose admins sign the config update
    (default: the first majority of them, finance first). ``register(description,
    entry)`` registers the org on the ledger as finance (default: ``RegisterOrg``
    through finance1's gateway). Returns what was done: the org, the signers, the
    config block, the definition sequence and the seconds each step took. Raises
    InvalidOrg (nothing changed) for a bad name, role, unit or signer, NetworkError
    naming the step that failed (nothing is sent to the orderer when the signatures
    fall short of the majority).
    """
    layout, procs = network.layout, network.procs
    org = new_org(layout, name, role, unit=unit)
    bin_dir = network.bin_dir
    existing = layout.peer_orgs()
    stopped = [f"peer0-{o.key}" for o in existing if procs.pid(f"peer0-{o.key}") is None]
    if stopped:
        raise NetworkError(
            f"add-org needs the running network; not running: {', '.join(stopped)} "
            "(run `make network-up` first)"
        )
    members = [o for o in existing if o.key != org.key]
    by_key = {o.key: o for o in members}
    try:
        chosen = [by_key[k] for k in signers] if signers else None
    except KeyError as exc:
        raise InvalidOrg(f"signers: unknown org {exc.args[0]!r}") from None
    needed = signatures.majority(len(members))
    chosen = chosen or members[:needed]
    times: dict[str, float] = {}
    started = time.monotonic()

    def lap(step: str) -> None:
        times[step] = round(time.monotonic() - started - sum(times.values()), 2)

    # 1. the org, its CA and identities
    if org not in layout.joined_orgs():
        ports = [
            layout.ca_port(org),
            layout.ca_operations_port(org),
            layout.peer_port(org),
            layout.peer_chaincode_port(org),
            layout.peer_operations_port(org),
        ]
        busy = [p for p in ports if port_open(layout.host, p)]
        if busy:
            raise NetworkError(f"cannot add {name}: ports {busy} on {layout.host} are taken")
        layout.save_joined(org, unit=unit)
    network.log(f"add-org: {name} ({org.msp_id}, {role}); CA, peer and users")
    pki.ensure_local_pki(layout)
    if procs.pid(pki.ca_process(org)) is None:
        pki.start_cas(layout, procs, bin_dir, orgs=(org,))
    if not (layout.node_dir(org, "peer0") / "msp" / "signcerts" / "cert.pem").is_file():
        pki.enroll_org(layout, org)
    pki.secure_data(layout)
    configs.write_peer_config(layout, org, bin_dir.parent / "config")
    lap("identities")

    # 2. the config update, signed by a majority of the orgs in the channel
    block: int | None = None
    if not in_channel(layout, bin_dir, org, members[0]):
        network.log(
            f"add-org: config update adding {org.msp_id}, signed by "
            f"{', '.join(o.msp_id for o in chosen)} ({needed} of {len(members)} needed)"
        )
        work = layout.channel_dir() / "updates" / f"org-{org.key}"
        work.mkdir(parents=True, exist_ok=True)
        try:
            group = org_group(layout, bin_dir, org, work)
            block = channel.update_config(
                layout,
                bin_dir,
                add_group(org.msp_id, group),
                signers=chosen,
                peers=members,
                quorum=needed,
                timeout=timeout,
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)
    lap("config_update")

    # 3. the peer joins and catches up
    peer = f"peer0-{org.key}"
    if procs.pid(peer) is None:
        network.start_peer(org)
        procs.wait_listening(peer, layout.host, layout.peer_port(org))
    try:
        channel.peer_height(layout, bin_dir, org)
    except NetworkError:  # not joined yet
        network.log(f"add-org: peer0.{org.key} joins {CHANNEL} and catches up")
        channel.join_peer(layout, org, bin_dir, layout.channel_dir() / f"{CHANNEL}.block")

    def caught_up() -> int | None:
        top = max(channel.peer_height(layout, bin_dir, o) for o in members)
        mine = channel.peer_height(layout, bin_dir, org)
        return mine if mine >= top else None

    height = wait_for(
        f"peer0.{org.key} to catch up with the channel",
        caught_up,
        timeout=timeout,
        interval=0.5,
        check=lambda: procs.check_alive(peer),
    )
    lap("join")

    # 4. the chaincode definition with the new org, then the org on the ledger
    network.log("add-org: next chaincode definition (policy and billPrivate with the org)")
    network.deploy()
    sequence = network.status(health_check=False)["sequence"]
    lap("definition")
    configs.write_connection_profiles(layout)
    network.write_description()
    description = network.describe()
    entry = registry_entry(org)
    (register or register_with_finance)(description, entry)
    lap("register")
    network.wait_ready(timeout=timeout)
    # The org's role is honoured from the registration's block on: its own peer, which
    # endorses for its users, must have that block too before add-org reports done
    # (its first LockBill was refused "role not honoured" a block behind, in CI).
    wait_for(
        f"peer0.{org.key} to have the registration's block",
        caught_up,
        timeout=timeout,
        interval=0.2,
        check=lambda: procs.check_alive(peer),
    )
    lap("ready")
    return {
        "org": org.key,
        "msp_id": org.msp_id,
        "role": org.role,
        "signers": [o.msp_id for o in chosen],
        "config_block": block,
        "height_at_join": height,
        "sequence": sequence,
        "registered": entry,
        "seconds": {**times, "total": round(time.monotonic() - started, 2)},
    }


def register_with_finance(description: dict[str, Any], entry: dict[str, Any]) -> None:
    """Submit RegisterOrg as finance1 (an org already registered with this entry is fine).

    Connects with :mod:`fabricgw` alone (the network package knows no party client).
    Raises NetworkError for any other refusal or failure.
    """
    conn = open_admin_gateway(
        description, "finance", user="finance1", endorse_timeout=30, submit_timeout=30
    )
    try:
        conn.contract.submit_transaction("RegisterOrg", json.dumps(entry), commit_status_timeout=60)
    except Exception as exc:
        if "org-exists" not in str(exc):
            raise NetworkError(f"RegisterOrg {entry['mspId']} failed: {exc}") from exc
    finally:
        conn.close()
