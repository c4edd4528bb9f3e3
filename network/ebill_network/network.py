"""The local network as one object: up, down, clean, status, deploy.

``up`` is idempotent: on an empty data folder it creates identities, the
channel and the chaincode; on an existing one it restarts the processes on
their data and waits until the network is ready again.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fabricca

from . import chaincode, channel, configs, health, pki
from .layout import (
    CHAINCODE,
    CHANNEL,
    ORDERER_ORG,
    PEER_ORGS,
    Layout,
    Org,
    User,
)
from .processes import IdentityRefused, NetworkError, ProcessManager, port_open, wait_for
from .services import Service

INSTALL_SCRIPT = Path(__file__).resolve().parents[1] / "install-fabric.sh"


def install_binaries() -> Path:
    """Build (first time) or find the pinned Fabric binaries; returns their folder."""
    proc = subprocess.run(
        ["bash", str(INSTALL_SCRIPT)], stdout=subprocess.PIPE, text=True, check=False
    )
    if proc.returncode != 0:
        raise NetworkError(f"{INSTALL_SCRIPT} failed with exit {proc.returncode}")
    return Path(proc.stdout.strip().splitlines()[-1])


class Network:
    """A Fabric network of native processes under ``layout.data_dir``."""

    def __init__(
        self,
        layout: Layout | None = None,
        *,
        bin_dir: Path | None = None,
        log: Callable[[str], None] = print,
    ) -> None:
        self.layout = layout or Layout()
        self._bin_dir = bin_dir
        self.log = log
        self.procs = ProcessManager(self.layout.run_dir(), self.layout.logs_dir())

    # -- plumbing -----------------------------------------------------------
    @property
    def bin_dir(self) -> Path:
        if self._bin_dir is None:
            self._bin_dir = install_binaries()
        return self._bin_dir

    def _state(self) -> dict[str, Any]:
        path = self.layout.state_file()
        return json.loads(path.read_text()) if path.exists() else {}

    def _save_state(self, **changes: Any) -> None:
        state = {**self._state(), **changes}
        self.layout.data_dir.mkdir(parents=True, exist_ok=True)
        self.layout.state_file().write_text(json.dumps(state, indent=2, sort_keys=True))

    def _step(self, what: str) -> None:
        self.log(f"  {what}")

    # -- life cycle ---------------------------------------------------------
    def up(self) -> None:
        """Bring the whole network up and return when it is ready for transactions."""
        started = time.monotonic()
        layout = self.layout
        running = ", ".join(sorted(self.procs.running()))
        if running:
            raise NetworkError(
                f"the network in {layout.data_dir} is already running ({running}); "
                "run `make network-down` first"
            )
        busy = [p for p in layout.all_ports() if port_open(layout.host_of_port(p), p)]
        if busy:
            owners = ", ".join(
                f"{layout.address(p)} ({health.port_owner(layout, p)})" for p in busy
            )
            raise NetworkError(
                f"cannot start the network: ports {owners} are taken by "
                "another program (another network?); stop it or choose other ports with "
                "EBILL_BASE_PORT"
            )
        state = self._state()
        if state.get("channel") and state.get("consensus", "raft") != layout.consensus:
            raise NetworkError(
                f"the network in {layout.data_dir} was created with consensus "
                f"{state.get('consensus', 'raft')}, not {layout.consensus}; set EBILL_CONSENSUS "
                "accordingly or run `make network-clean` first"
            )
        try:
            self._up(started)
        except BaseException:
            # Nothing half-started stays behind: stop every process this `up` started.
            self.procs.stop_all()
            raise

    def _up(self, started: float) -> None:
        layout = self.layout
        state = self._state()
        bin_dir = self.bin_dir
        sample = bin_dir.parent / "config"
        orderers = layout.orderers()
        self.log(
            f"network: data in {layout.data_dir}, ports from {layout.base_port}, "
            f"consensus {layout.consensus}"
        )

        pki.secure_data(layout)
        pki.ensure_local_pki(layout)
        self._step("starting 5 Fabric CAs")
        pki.start_cas(layout, self.procs, bin_dir)
        if not state.get("pki"):
            self._step("enrolling nodes, admins and users (with role/unit attributes)")
            pki.enroll_all(layout)
            self._save_state(pki=True)
        pki.secure_data(layout)

        peer_orgs = layout.peer_orgs()
        for org in peer_orgs:
            configs.write_peer_config(layout, org, sample)
        for i in range(len(orderers)):
            configs.write_orderer_config(layout, i, sample)
        configs.write_connection_profiles(layout)

        kind = "Raft" if layout.consensus == "raft" else "SmartBFT"
        self._step(f"starting {len(orderers)} {kind} orderers and {len(peer_orgs)} peers")
        for i in range(len(orderers)):
            self._start_orderer(i)
        for org in peer_orgs:
            self.start_peer(org)
        for i, node in enumerate(orderers):
            address = layout.orderer_host(i).address
            self.procs.wait_listening(node, address, layout.orderer_admin_port(i))
        for org in peer_orgs:
            address = layout.peer_host(org).address
            self.procs.wait_listening(f"peer0-{org.key}", address, layout.peer_port(org))

        if not state.get("channel"):
            self._step(f"creating channel {CHANNEL}: genesis block, osnadmin join x{len(orderers)}")
            configtx = configs.write_configtx(layout)
            block = channel.create_genesis_block(layout, bin_dir, configtx)
            channel.join_orderers(layout, bin_dir, block)
            found = channel.wait_for_consensus(layout, bin_dir)
            self._step(f"{found}; joining {len(PEER_ORGS)} peers")
            for org in PEER_ORGS:
                channel.join_peer(layout, org, bin_dir, block)
            self._save_state(channel=True, consensus=layout.consensus)
        else:
            self._step(channel.wait_for_consensus(layout, bin_dir))

        self.deploy(restart_server=True)
        self.wait_ready()
        self._check_all_alive()
        self.write_description()
        self.log(f"network: ready in {time.monotonic() - started:.1f}s")

    def deploy(self, *, restart_server: bool = False, tag: str = "") -> str:
        """Deploy the chaincode as it is in the source tree; upgrade when it changed.

        The definition (package, endorsement policy, collections) is committed at
        the next sequence whenever any part of it differs from the deployed one;
        ``tag`` forces a distinct package of the same code.

        No downtime: the new package's server starts on the other slot's port
        beside the running one, which keeps serving the current definition until
        the new one commits; then the old server stops. Returns the package id.
        """
        layout, procs, server = self.layout, self.procs, chaincode.SERVER_PROCESS
        state = self._state()
        slot = int(state.get("slot", 0))
        current = chaincode.build_package(layout, tag=tag, slot=slot)
        orgs = self.layout.peer_orgs()
        if state.get("definition") == chaincode.definition_digest(current, orgs=orgs):
            if restart_server or procs.pid(server) is None:
                procs.stop(server)
                self._step(f"starting the Python chaincode server ({current.package_id[:24]}...)")
                chaincode.start_server(layout, procs, current.package_id, slot=slot)
            return current.package_id

        if "definition" in state:  # an upgrade: the other slot, beside the running server
            slot = 1 - slot
        package = chaincode.build_package(layout, tag=tag, slot=slot)
        upgrading = procs.pid(server) is not None
        name = f"{server}-next" if upgrading else server
        self._step(f"starting the Python chaincode server ({package.package_id[:24]}...)")
        chaincode.start_server(layout, procs, package.package_id, slot=slot, name=name)
        n = len(orgs)
        self._step(f"deploying: install on {n} peers, approve for {n} orgs, commit")
        sequence = chaincode.deploy(layout, self.bin_dir, package)
        self._save_state(
            package_id=package.package_id,
            sequence=sequence,
            definition=chaincode.definition_digest(package, orgs=orgs),
            slot=slot,
        )
        self._step(f"chaincode {CHAINCODE} committed at sequence {sequence}")
        if upgrading:
            procs.stop(server)
            procs.rename(name, server)
        return package.package_id

    def deploy_service(self, service: Service, *, restart: bool = False) -> str:
        """Deploy another chaincode ``service`` beside the e-bill contract; its package id.

        Starts its server (unless it runs on the current package and not ``restart``) and,
        when the package, the policy or the orgs (an org joined) differ from the committed
        ones, installs it on every peer, approves it for every org and commits the next
        sequence (with the service's collections). An upgrade stops the
        old server first: calls in between fail (no second slot, unlike ``deploy``).
        Raises NetworkError when the server does not listen or a lifecycle step fails.
        """
        layout, procs = self.layout, self.procs
        package = service.package(layout)
        orgs = layout.peer_orgs()
        definition = chaincode.definition_digest(
            package, service.policy, service.collections, orgs=orgs
        )
        known = dict(self._state().get("services", {}))
        running = procs.pid(service.process) is not None
        current = known.get(service.name, {})
        if current.get("definition") == definition and running and not restart:
            return package.package_id
        if running:
            procs.stop(service.process)
        self._step(f"starting chaincode service {service.name} ({package.package_id[:24]}...)")
        chaincode.start_ccaas_server(
            layout,
            procs,
            service.process,
            service.command,
            package.package_id,
            layout.service_port(service.port_index),
            env=service.env,
            cwd=service.cwd,
        )
        if current.get("definition") != definition:
            n = len(orgs)
            self._step(
                f"deploying {service.name}: install on {n} peers, approve for {n} orgs, commit"
            )
            sequence = chaincode.deploy(
                layout, self.bin_dir, package, name=service.name, policy=service.policy,
                collections=service.collections,
            )  # fmt: skip
            known[service.name] = {
                "package_id": package.package_id,
                "sequence": sequence,
                "definition": definition,
            }
            self._save_state(services=known)
            self._step(f"chaincode {service.name} committed at sequence {sequence}")
        return package.package_id

    def _check_all_alive(self) -> None:
        """Raise NetworkError naming the first node that is not running (with its log)."""
        for spec in health.node_specs(self.layout, int(self._state().get("slot", 0))):
            self.procs.check_alive(spec.name)

    def restart(self, name: str, *, timeout: float = 120) -> None:
        """Restart one node (``peer0-finance``/``peer0.finance``, ``orderer1``, ``ca-units``,
        ``chaincode``) with the command ``up`` starts it with, and return when it is healthy:
        listening, its ``/healthz`` OK and, for a peer or orderer, its channel height caught
        up with the highest of its kind.

        Raises NetworkError for an unknown node (listing the names) or if it does not
        become healthy within ``timeout`` (with the last lines of its log).
        """
        layout, procs = self.layout, self.procs
        slot = int(self._state().get("slot", 0))
        try:
            spec = health.find_node(layout, name, slot)
        except KeyError as exc:
            raise NetworkError(str(exc.args[0])) from None
        self._step(f"restarting {spec.name}")
        if spec.kind == "chaincode":
            self.restart_chaincode()
            return
        procs.stop(spec.name)
        self._start_node(spec)
        address = layout.host_of_port(spec.port)
        procs.wait_listening(spec.name, address, spec.port, timeout=timeout)
        wait_for(
            f"{spec.name} /healthz to be OK",
            lambda: health.healthz(layout, spec) == "ok",
            timeout=timeout,
            check=lambda: procs.check_alive(spec.name),
        )
        if spec.kind in ("peer", "orderer"):
            others = [
                s for s in health.node_specs(layout, slot) if s.kind == spec.kind and s != spec
            ]

            def caught_up() -> bool:
                # The others first, then this node: caught up with where they were. Asked
                # the other way round, under a steady load the others had always written
                # another block by the time they were asked (each `getinfo` takes about a
                # second on a busy machine) and a restarted peer never counted as caught up.
                top = max((health.height(layout, self.bin_dir, s) or 0 for s in others), default=0)
                mine = health.height(layout, self.bin_dir, spec)
                return mine is not None and mine >= top

            wait_for(
                f"{spec.name} to catch up with the other {spec.kind}s' height",
                caught_up,
                timeout=timeout,
                interval=0.5,
                check=lambda: procs.check_alive(spec.name),
            )

    def _start_node(self, spec: health.NodeSpec) -> None:
        """Start one CA, orderer or peer process as ``up`` does."""
        layout, bin_dir = self.layout, self.bin_dir
        if spec.kind == "ca":
            org = next(o for o in layout.all_orgs() if o.key == spec.org_key)
            self.procs.start(spec.name, pki.ca_argv(layout, org, bin_dir))
        elif spec.kind == "orderer":
            self._start_orderer(ORDERER_ORG.nodes.index(spec.name))
        else:
            self.start_peer(layout.peer_org(spec.org_key))

    def _start_orderer(self, i: int) -> None:
        """Start orderer ``i`` on its host (the host's launcher first)."""
        layout = self.layout
        home = layout.node_dir(ORDERER_ORG, ORDERER_ORG.nodes[i])
        self.procs.start(
            ORDERER_ORG.nodes[i],
            [*layout.orderer_host(i).launcher(), self.bin_dir / "orderer"],
            env={"FABRIC_CFG_PATH": str(home)},
        )

    def start_peer(self, org: Org) -> None:
        home = self.layout.node_dir(org, "peer0")
        self.procs.start(
            f"peer0-{org.key}",
            [*self.layout.peer_host(org).launcher(), self.bin_dir / "peer", "node", "start"],
            env={
                "FABRIC_CFG_PATH": str(home),
                "FABRIC_LOGGING_SPEC": "INFO:gossip=WARN",
                configs.CLIENT_TLS_ENV: str(pki.peer_link_tls(self.layout, org)),
            },
        )

    def restart_chaincode(self, *, kill: bool = False) -> None:
        """Stop the chaincode server (SIGKILL with ``kill``) and start it again on its package."""
        state = self._state()
        if kill:
            pid = self.procs.pid(chaincode.SERVER_PROCESS)
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
        self.procs.stop(chaincode.SERVER_PROCESS)
        chaincode.start_server(
            self.layout, self.procs, state["package_id"], slot=int(state.get("slot", 0))
        )

    # -- identities ---------------------------------------------------------
    def add_user(self, org_key: str, name: str, attrs: dict[str, str] | None = None) -> None:
        """Register and enroll a new client ``name`` of a peer org (with CA attributes)
        into ``orgs/<org>/users/<name>``; it appears in ``describe`` and network.json.

        Raises NetworkError for an unknown org, IdentityRefused for a name already registered.
        """
        org = self._peer_org(org_key)
        try:
            pki.enroll_user(pki.Enroller(self.layout, org), User(name, attrs=attrs or {}))
        except fabricca.CAError as exc:
            msg = f"cannot add {name} to {org_key}: {exc}"
            raise IdentityRefused(msg, status=exc.status) from exc
        self.write_description()

    def revoke(self, org_key: str, name: str, *, reason: str = "") -> int:
        """Revoke every certificate of ``name`` at its org's CA and put the CA's new CRL
        into the org's MSP in the channel configuration (a config update signed by
        the org's admin, as the org's Admins mod policy requires). Returns when every
        peer has the new config block: from then on the peers refuse the identity.
        Returns the config block's number.

        Revoking an identity again changes nothing and returns the current config
        block. Raises IdentityRefused if the CA refuses (an unknown identity, a bad
        reason), NetworkError for an unknown org or if a later step fails.
        """
        org = self._peer_org(org_key)
        layout = self.layout
        try:
            ca = pki.ca_client(layout, org)
            registrar = pki.registrar(layout, org)
            ca.revoke(registrar, name=name, reason=reason)
            crl = ca.gen_crl(registrar)
        except (fabricca.CAError, ValueError) as exc:
            status = exc.status if isinstance(exc, fabricca.CAError) else None
            msg = f"cannot revoke {name} of {org_key}: {exc}"
            raise IdentityRefused(msg, status=status) from exc
        crls = layout.org_msp(org) / "crls"
        crls.mkdir(parents=True, exist_ok=True)
        (crls / "crl.pem").write_bytes(crl)
        self._step(f"revoked {name} at ca-{org.key}; putting the CRL into {org.msp_id}")
        return channel.update_config(
            layout,
            self.bin_dir,
            channel.set_revocation_list(org, [crl]),
            signers=[org],
            peers=layout.peer_orgs(),
        )

    def add_org(
        self, name: str, role: str, *, unit: str = "", signers: list[str] | None = None
    ) -> dict[str, Any]:
        """Add a new org to the running channel (see :func:`.addorg.add_org`): its CA, users
        and peer, the config update signed by a majority of the orgs' admins, the peer joined
        and caught up, the org registered on the ledger, the next chaincode definition.
        Returns the steps' figures. Raises InvalidOrg or NetworkError."""
        from .addorg import add_org

        return add_org(self, name, role, unit=unit, signers=signers)

    def _peer_org(self, org_key: str) -> Org:
        try:
            return self.layout.peer_org(org_key)
        except KeyError:
            known = ", ".join(o.key for o in self.layout.peer_orgs())
            raise NetworkError(f"unknown org {org_key!r}; known: {known}") from None

    def wait_ready(self, timeout: float = 120) -> None:
        """Wait until every org's gateway can endorse with every org and a transaction commits."""
        from .ready import wait_gateways_ready

        n = len(self.layout.peer_orgs())
        self._step(f"waiting for every gateway to reach endorsers of all {n} orgs")
        wait_gateways_ready(self.describe(), timeout=timeout)

    def _stop_all(self) -> None:
        """Stop every recorded process: first those that are not the network's nodes
        (the services and portal that ``make demo`` records in ``run/`` beside them, which
        call the peers), then the nodes."""
        nodes = {spec.name for spec in health.node_specs(self.layout)}
        for name in self.procs.names():
            if name not in nodes:
                self.procs.stop(name)
        self.procs.stop_all()

    def down(self) -> None:
        """Stop every process (the demo's services and portal too); keep the data so
        ``up`` resumes it."""
        names = self.procs.names()
        self._stop_all()
        self.log(f"network: stopped {len(names)} processes; data kept in {self.layout.data_dir}")

    def clean(self) -> None:
        """Stop every process and remove the data folder."""
        self._stop_all()
        if self.layout.data_dir.exists():
            shutil.rmtree(self.layout.data_dir)
        self.log(f"network: stopped and removed {self.layout.data_dir}")

    # -- reporting ----------------------------------------------------------
    def status(self, *, health_check: bool = True) -> dict[str, Any]:
        """Processes (pid, resident memory), the deployed chaincode and, with
        ``health_check``, per node: alive, ``/healthz``, height, lag, ``stuck``; the Raft
        ``leader`` and the list of ``stuck`` nodes (see :mod:`.health`). Never raises for
        a node that does not answer: it shows as unreachable or stuck.
        """
        procs = {}
        for name, pid in self.procs.running().items():
            procs[name] = {"pid": pid, "rss_mib": round(health.rss_kib(pid) / 1024, 1)}
        state = self._state()
        slot = int(state.get("slot", 0))
        expected = [s.name for s in health.node_specs(self.layout, slot)]
        out: dict[str, Any] = {
            "data_dir": str(self.layout.data_dir),
            "consensus": state.get("consensus", self.layout.consensus),
            "orderers": len(self.layout.orderers()),
            "running": procs,
            "stopped": [n for n in expected if n not in procs],
            "package_id": state.get("package_id"),
            "sequence": state.get("sequence"),
        }
        if health_check:
            out.update(health.report(self.layout, self.bin_dir, self.procs, slot))
        return out

    def describe(self) -> dict[str, Any]:
        """What a client needs: per org, the peer address, TLS root and each user's cert/key."""
        layout = self.layout
        orgs: dict[str, Any] = {}
        for org in layout.peer_orgs():
            users = {}
            for user in self._user_names(org):
                home = layout.user_dir(org, user)
                users[user] = {
                    "cert": str(home / "msp" / "signcerts" / "cert.pem"),
                    "key": str(home / "msp" / "keystore" / "key.pem"),
                    "tls_cert": str(home / "tls" / "cert.pem"),
                    "tls_key": str(home / "tls" / "key.pem"),
                }
            orgs[org.key] = {
                "msp_id": org.msp_id,
                "peer": layout.address(layout.peer_port(org)),
                "tls_ca": str(layout.tls_ca(org)),
                "ca_url": f"https://{layout.address(layout.ca_port(org))}",
                "ca_tls_cert": str(layout.ca_tls_cert(org)),
                "users": users,
            }
        return {
            "channel": CHANNEL,
            "chaincode": CHAINCODE,
            "consensus": layout.consensus,
            "orderer": layout.address(layout.orderer_port(0)),
            "orderers": [
                layout.address(layout.orderer_port(i)) for i in range(len(layout.orderers()))
            ],
            "orderer_tls_ca": str(layout.tls_ca(ORDERER_ORG)),
            "orgs": orgs,
            # the finance chaincode's anomaly spool, which finance anchors on the chain
            "anomaly_spool": str(chaincode.anomaly_spool(layout)),
        }

    def _user_names(self, org: Org) -> list[str]:
        """The org's users of the layout, then any added later (``add_user``)."""
        names = ["admin0", *(u.name for u in org.users)]
        folder = self.layout.org_dir(org) / "users"
        if folder.is_dir():
            names += sorted(
                p.name
                for p in folder.iterdir()
                if p.name not in names and (p / "msp" / "signcerts" / "cert.pem").is_file()
            )
        return names

    def write_description(self) -> None:
        self.layout.network_file().write_text(json.dumps(self.describe(), indent=2))
