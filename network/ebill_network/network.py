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

from . import chaincode, channel, configs, pki
from .layout import ALL_ORGS, CHAINCODE, CHANNEL, ORDERER_ORG, PEER_ORGS, Layout
from .processes import NetworkError, ProcessManager, port_open

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
        busy = [p for p in layout.all_ports() if port_open(layout.host, p)]
        if busy:
            raise NetworkError(
                f"ports {', '.join(map(str, busy))} on {layout.host} are taken by another program "
                "(another network?); stop it or choose other ports with EBILL_BASE_PORT"
            )
        bin_dir = self.bin_dir
        sample = bin_dir.parent / "config"
        state = self._state()
        self.log(f"network: data in {layout.data_dir}, ports from {layout.base_port}")

        self._step("starting 5 Fabric CAs")
        pki.start_cas(layout, self.procs, bin_dir)
        if not state.get("pki"):
            self._step("enrolling nodes, admins and users (with role/unit attributes)")
            pki.enroll_all(layout)
            self._save_state(pki=True)

        for org in PEER_ORGS:
            configs.write_peer_config(layout, org, sample)
        for i in range(len(ORDERER_ORG.nodes)):
            configs.write_orderer_config(layout, i, sample)
        configs.write_connection_profiles(layout)

        self._step("starting 3 Raft orderers and 4 peers")
        for node in ORDERER_ORG.nodes:
            home = layout.node_dir(ORDERER_ORG, node)
            self.procs.start(node, [bin_dir / "orderer"], env={"FABRIC_CFG_PATH": str(home)})
        for org in PEER_ORGS:
            home = layout.node_dir(org, "peer0")
            self.procs.start(
                f"peer0-{org.key}",
                [bin_dir / "peer", "node", "start"],
                env={"FABRIC_CFG_PATH": str(home), "FABRIC_LOGGING_SPEC": "INFO:gossip=WARN"},
            )
        for i, node in enumerate(ORDERER_ORG.nodes):
            self.procs.wait_listening(node, layout.host, layout.orderer_admin_port(i))
        for org in PEER_ORGS:
            self.procs.wait_listening(f"peer0-{org.key}", layout.host, layout.peer_port(org))

        if not state.get("channel"):
            self._step(f"creating channel {CHANNEL}: genesis block, osnadmin join x3")
            configtx = configs.write_configtx(layout)
            block = channel.create_genesis_block(layout, bin_dir, configtx)
            channel.join_orderers(layout, bin_dir, block)
            leader = channel.wait_for_raft(layout, bin_dir)
            self._step(f"Raft leader is orderer{leader}; joining 4 peers")
            for org in PEER_ORGS:
                channel.join_peer(layout, org, bin_dir, block)
            self._save_state(channel=True)
        else:
            leader = channel.wait_for_raft(layout, bin_dir)
            self._step(f"Raft leader is orderer{leader}")

        self.deploy(restart_server=True)
        self.wait_ready()
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
        if state.get("definition") == chaincode.definition_digest(current):
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
        self._step("deploying: install on 4 peers, approve for 4 orgs, commit")
        sequence = chaincode.deploy(layout, self.bin_dir, package)
        self._save_state(
            package_id=package.package_id,
            sequence=sequence,
            definition=chaincode.definition_digest(package),
            slot=slot,
        )
        self._step(f"chaincode {CHAINCODE} committed at sequence {sequence}")
        if upgrading:
            procs.stop(server)
            procs.rename(name, server)
        return package.package_id

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

    def wait_ready(self, timeout: float = 120) -> None:
        """Wait until every org's gateway can endorse with every org and a transaction commits."""
        from .ready import wait_gateways_ready

        self._step("waiting for every gateway to reach endorsers of all 4 orgs")
        wait_gateways_ready(self.describe(), timeout=timeout)

    def down(self) -> None:
        """Stop every process; keep the data so ``up`` resumes it."""
        names = self.procs.names()
        self.procs.stop_all()
        self.log(f"network: stopped {len(names)} processes; data kept in {self.layout.data_dir}")

    def clean(self) -> None:
        """Stop every process and remove the data folder."""
        self.procs.stop_all()
        if self.layout.data_dir.exists():
            shutil.rmtree(self.layout.data_dir)
        self.log(f"network: stopped and removed {self.layout.data_dir}")

    # -- reporting ----------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Processes (pid, resident memory) and the deployed chaincode."""
        procs = {}
        for name, pid in self.procs.running().items():
            procs[name] = {"pid": pid, "rss_mib": round(_rss_kib(pid) / 1024, 1)}
        expected = [pki.ca_process(o) for o in ALL_ORGS] + list(ORDERER_ORG.nodes)
        expected += [f"peer0-{o.key}" for o in PEER_ORGS] + [chaincode.SERVER_PROCESS]
        state = self._state()
        return {
            "data_dir": str(self.layout.data_dir),
            "running": procs,
            "stopped": [n for n in expected if n not in procs],
            "package_id": state.get("package_id"),
            "sequence": state.get("sequence"),
        }

    def describe(self) -> dict[str, Any]:
        """What a client needs: per org, the peer address, TLS root and each user's cert/key."""
        layout = self.layout
        orgs: dict[str, Any] = {}
        for org in PEER_ORGS:
            users = {}
            for user in ("admin0", *(u.name for u in org.users)):
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
            "orderer": layout.address(layout.orderer_port(0)),
            "orderer_tls_ca": str(layout.tls_ca(ORDERER_ORG)),
            "orgs": orgs,
            # the finance chaincode's anomaly spool, which finance anchors on the chain
            "anomaly_spool": str(chaincode.anomaly_spool(layout)),
        }

    def write_description(self) -> None:
        self.layout.network_file().write_text(json.dumps(self.describe(), indent=2))


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
