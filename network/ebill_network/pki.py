"""Identities: one Fabric CA per org issues its nodes', admins' and users' certificates.

Each CA signs both enrollment (MSP) and TLS certificates of its org. Every
identity is registered and enrolled through our own Fabric CA client
(``fabricca``). Users are registered with attributes (role, unit code,
reimburser id, payer id) that Fabric CA puts into the certificate, where the
chaincode reads them.

Secrets: every CA's bootstrap secret and every identity's enrollment secret is
random, made when the network is created and kept in ``secrets/`` (0700, files
0600). Each identity may enroll once (the CAs run with ``registry.maxenrollments``
1); later certificates come from a re-enrollment signed with the current one.
The bootstrap registrar's enrollment is kept in ``orgs/<org>/registrar`` (0700) for
later registrations and revocations, so nothing ever enrolls it again.

Two small CAs of the network's own (``localca``) serve one link each: the
chaincode-link CA (the chaincode server and each peer's client certificate) and
the operations CA (every operations listener and the operator's client certificate).
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

import fabricca

from .files import make_private_dir, new_secret, secure_tree, write_private
from .layout import ALL_ORGS, ORDERER_ORG, PEER_ORGS, Layout, Org, User
from .localca import LocalCA
from .processes import NetworkError, ProcessManager, run, wait_for
from .topology import Host

REGISTRAR_NAME = "admin"

NODE_OUS = fabricca.node_ous_yaml()


def ca_process(org: Org) -> str:
    return f"ca-{org.key}"


# --- where the secrets and the network's own CAs live -------------------------------------


def secrets_dir(layout: Layout) -> Path:
    return layout.data_dir / "secrets"


def secret_file(layout: Layout, org: Org, name: str) -> Path:
    """The file holding the enrollment secret of ``name`` at ``org``'s CA (0600)."""
    return secrets_dir(layout) / f"{org.key}-{name}.secret"


def ensure_secret(layout: Layout, org: Org, name: str) -> str:
    """The stored secret of ``name``, made (random) and stored on first use."""
    path = secret_file(layout, org, name)
    if path.exists():
        return path.read_text().strip()
    make_private_dir(secrets_dir(layout))
    value = new_secret()
    write_private(path, value.encode())
    return value


def registrar_store(layout: Layout, org: Org) -> fabricca.IdentityStore:
    """Where the enrollment of the org CA's bootstrap registrar is kept (0700, key 0600)."""
    return fabricca.IdentityStore(layout.org_dir(org) / "registrar")


def link_ca(layout: Layout) -> LocalCA:
    """The CA of the peer -> chaincode server link only."""
    return LocalCA(layout.data_dir / "pki" / "chaincode-link" / "ca")


def chaincode_server_tls(layout: Layout) -> Path:
    """The chaincode server's TLS pair (cert.pem, key.pem), signed by the link CA (on its host)."""
    return layout.host_dir(layout.chaincode_host()) / "pki" / "chaincode-link" / "server"


def link_root(layout: Layout) -> Path:
    """The link CA's certificate as the chaincode server's host has it (a copy with
    ``host_folders``; see :func:`copy_roots`)."""
    return layout.host_dir(layout.chaincode_host()) / "pki" / "chaincode-link" / "ca" / "ca.pem"


def peer_link_tls(layout: Layout, org: Org) -> Path:
    """The client pair a peer presents to the chaincode server (in the peer's own folder)."""
    return layout.node_dir(org, "peer0") / "chaincode-client"


def operations_ca(layout: Layout) -> LocalCA:
    """The CA of the operations listeners and the operator."""
    return LocalCA(layout.data_dir / "pki" / "operations" / "ca")


def operations_tls(layout: Layout, listener: str) -> Path:
    """The server pair of one operations listener (``ca-finance``, ``orderer0``...), on its host."""
    return layout.host_dir(layout.host_of(listener)) / "pki" / "operations" / "listeners" / listener


def operations_root(layout: Layout, listener: str) -> Path:
    """The operations CA's certificate as the listener's host has it (a copy with
    ``host_folders``; see :func:`copy_roots`): the only client root it trusts."""
    return layout.host_dir(layout.host_of(listener)) / "pki" / "operations" / "ca" / "ca.pem"


def copy_roots(layout: Layout) -> None:
    """Copy to each host's folder the roots its listeners trust that are made elsewhere:
    the operations CA's certificate and, on the chaincode server's host, the link CA's.
    Nothing to do on one machine (every host's folder is the data folder)."""
    copies = [
        (operations_ca(layout).cert_file, operations_root(layout, n))
        for n in operations_listeners()
    ]
    copies.append((link_ca(layout).cert_file, link_root(layout)))
    for source, target in copies:
        if source.resolve() != target.resolve():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)


def operator_tls(layout: Layout) -> Path:
    """The operator's client pair for every operations endpoint."""
    return layout.data_dir / "pki" / "operations" / "operator"


def operations_listeners() -> list[str]:
    names = [ca_process(o) for o in ALL_ORGS] + list(ORDERER_ORG.nodes)
    return names + [f"peer0-{o.key}" for o in PEER_ORGS]


def ensure_local_pki(layout: Layout) -> None:
    """Create whatever is missing of the link and operations CAs and their certificates."""
    link = link_ca(layout).ensure("chaincode-link-ca")
    cc_hosts = (*layout.chaincode_host().tls_names(), "localhost")
    link.issue(chaincode_server_tls(layout), "chaincode-server", hosts=cc_hosts)
    for org in PEER_ORGS:
        link.issue(peer_link_tls(layout, org), f"peer0.{org.key}", client=True)
    ops = operations_ca(layout).ensure("operations-ca")
    for listener in operations_listeners():
        hosts = (*layout.host_of(listener).tls_names(), "localhost")
        ops.issue(operations_tls(layout, listener), f"ops.{listener}", hosts=hosts)
    ops.issue(operator_tls(layout), "operator", client=True)
    copy_roots(layout)


# --- the CA servers -----------------------------------------------------------------------


def _ca_flags(layout: Layout, org: Org) -> list[str | Path]:
    host = layout.ca_host(org)
    address = host.address
    return [
        "--home", layout.ca_home(org),
        "--port", str(layout.ca_port(org)),
        "--address", address,
        "--ca.name", f"ca-{org.key}",
        "--csr.cn", f"ca.{org.key}.ebill",
        "--csr.hosts", ",".join((*host.tls_names(), "localhost")),
        "--tls.enabled",
        "--registry.maxenrollments", "1",
    ]  # fmt: skip


def _configure_ca(layout: Layout, org: Org, bin_dir: Path) -> None:
    """Initialise the CA on first run; then lay our settings over its config file.

    The bootstrap secret reaches ``fabric-ca-server init`` through its environment
    (never the command line, which other local users can read).
    """
    home = layout.ca_home(org)
    config_file = home / "fabric-ca-server-config.yaml"
    if not config_file.exists():
        make_private_dir(home)
        boot = f"{REGISTRAR_NAME}:{ensure_secret(layout, org, REGISTRAR_NAME)}"
        run(
            [bin_dir / "fabric-ca-server", "init", *_ca_flags(layout, org)],
            env={"FABRIC_CA_SERVER_BOOT": boot},
            what=f"fabric-ca-server init ({org.key})",
        )
        secure_tree(home)  # its Idemix issuer keys are written 0644
    config: dict[str, Any] = yaml.safe_load(config_file.read_text())
    ops = operations_tls(layout, ca_process(org))
    config["registry"]["maxenrollments"] = 1
    config["operations"] = {
        "listenAddress": layout.address(layout.ca_operations_port(org)),
        "tls": {
            "enabled": True,
            "cert": {"file": str(ops / "cert.pem")},
            "key": {"file": str(ops / "key.pem")},
            # fabric-ca-server reads these two by its struct's field names (the
            # "clientAuthRequired"/"clientRootCAs" of its sample config are ignored).
            "clientCertRequired": True,
            "clientCACertFiles": [str(operations_root(layout, ca_process(org)))],
        },
    }
    config["metrics"] = {"provider": "disabled"}
    write_private(config_file, yaml.safe_dump(config, sort_keys=False).encode())


def ca_argv(layout: Layout, org: Org, bin_dir: Path) -> list[str | Path]:
    """The command that starts the org's CA server, on its host (its launcher first)."""
    launcher: list[str | Path] = [*layout.ca_host(org).launcher()]
    return [*launcher, bin_dir / "fabric-ca-server", "start", *_ca_flags(layout, org)]


def start_cas(layout: Layout, procs: ProcessManager, bin_dir: Path) -> None:
    """Start (initialising on first run) every org's CA server and wait until each answers."""
    for org in ALL_ORGS:
        _configure_ca(layout, org, bin_dir)
        procs.start(ca_process(org), ca_argv(layout, org, bin_dir))
    for org in ALL_ORGS:
        name = ca_process(org)
        procs.wait_listening(name, layout.ca_host(org).address, layout.ca_port(org))
        cert = layout.ca_tls_cert(org)
        wait_for(
            f"{name} to write {cert.name}", cert.exists, check=partial(procs.check_alive, name)
        )
    # The CAs write their Idemix issuer keys 0644: narrow them (and anything else private).
    for org in ALL_ORGS:
        secure_tree(layout.ca_home(org))


def ca_client(layout: Layout, org: Org) -> fabricca.CAClient:
    """Our Fabric CA client for ``org``'s CA."""
    return fabricca.CAClient(
        f"https://{layout.address(layout.ca_port(org))}",
        tls_cert=layout.ca_tls_cert(org),
        ca_name=f"ca-{org.key}",
    )


def registrar(layout: Layout, org: Org) -> fabricca.Enrollment:
    """The org CA's bootstrap registrar: enrolled once with its secret, then kept.

    Raises :class:`NetworkError` if it is not stored and cannot be enrolled (the
    secret is missing, or its one enrollment was used).
    """
    store = registrar_store(layout, org)
    if REGISTRAR_NAME in store:
        return store.get(REGISTRAR_NAME)
    secret = secret_file(layout, org, REGISTRAR_NAME)
    if not secret.exists():
        raise NetworkError(f"no bootstrap secret of ca-{org.key} in {secret}")
    try:
        enrollment = ca_client(layout, org).enroll(REGISTRAR_NAME, secret.read_text().strip())
    except fabricca.CAError as exc:
        raise NetworkError(f"cannot enroll the registrar of ca-{org.key}: {exc}") from exc
    store.put(REGISTRAR_NAME, enrollment)
    return enrollment


class Enroller:
    """Registers and enrolls identities with one org's CA through our Fabric CA client."""

    def __init__(self, layout: Layout, org: Org) -> None:
        self.layout = layout
        self.org = org
        self.ca = ca_client(layout, org)
        self.registrar = registrar(layout, org)
        chain = x509.load_pem_x509_certificates(self.registrar.ca_chain)
        # The CA's root signs enrollment and TLS certificates alike.
        self.root_pem = chain[-1].public_bytes(serialization.Encoding.PEM)

    def register(self, name: str, id_type: str, attrs: dict[str, str] | None = None) -> str:
        """Register ``name`` with a random secret, enrollable once; returns the secret."""
        return self.ca.register(
            self.registrar,
            name=name,
            type=id_type,
            secret=ensure_secret(self.layout, self.org, name),
            max_enrollments=1,
            attrs=attrs or {},
        )

    def enroll_msp(self, name: str, secret: str, msp_dir: Path) -> fabricca.Enrollment:
        """Enroll (the one enrollment the secret allows) into an MSP folder (signcerts,
        keystore, cacerts, NodeOUs config)."""
        enrollment = self.ca.enroll(name, secret)
        fabricca.write_msp(msp_dir, enrollment, node_ous_config=NODE_OUS, overwrite=True)
        return enrollment

    def enroll_tls(
        self, identity: fabricca.Enrollment, name: str, tls_dir: Path, host: Host
    ) -> None:
        """Get a TLS certificate for ``host`` (its address and names: where it is used),
        localhost and ``name`` by re-enrolling ``identity`` (signed with its certificate)
        into cert.pem, key.pem (0600), ca.pem."""
        hosts = (*host.tls_names(), "localhost", name)
        enrollment = self.ca.reenroll(identity, profile="tls", csr_hosts=hosts)
        make_private_dir(tls_dir)
        (tls_dir / "cert.pem").write_bytes(enrollment.certificate)
        write_private(tls_dir / "key.pem", enrollment.key_pem())
        (tls_dir / "ca.pem").write_bytes(self.root_pem)


def enroll_org(layout: Layout, org: Org) -> None:
    """Create an org's MSP, its nodes' MSP and TLS folders, its admin and its users."""
    e = Enroller(layout, org)

    org_msp = layout.org_msp(org)
    for sub in ("cacerts", "tlscacerts"):
        (org_msp / sub).mkdir(parents=True, exist_ok=True)
        (org_msp / sub / "ca.pem").write_bytes(e.root_pem)
    (org_msp / "config.yaml").write_text(NODE_OUS)

    node_type = "orderer" if org.kind == "orderer" else "peer"
    for node in org.nodes:
        secret = e.register(node, node_type)
        home = layout.node_dir(org, node)
        identity = e.enroll_msp(node, secret, home / "msp")
        i = org.nodes.index(node)
        host = layout.orderer_host(i) if org.kind == "orderer" else layout.peer_host(org)
        e.enroll_tls(identity, node, home / "tls", host)

    admin = User("admin0", type="admin")
    for user in (admin, *org.users):
        enroll_user(e, user)


def enroll_user(e: Enroller, user: User) -> None:
    """Register and enroll one user (MSP and TLS folders under the org's users)."""
    secret = e.register(user.name, user.type, user.attrs)
    home = e.layout.user_dir(e.org, user.name)
    identity = e.enroll_msp(user.name, secret, home / "msp")
    # A user's TLS certificate is a client certificate: its org's peer host names it.
    e.enroll_tls(identity, user.name, home / "tls", e.layout.peer_host(e.org))


def enroll_all(layout: Layout) -> None:
    """Enroll every org's identities, the orgs in parallel."""
    with ThreadPoolExecutor(max_workers=len(ALL_ORGS)) as pool:
        for f in [pool.submit(enroll_org, layout, org) for org in ALL_ORGS]:
            f.result()


def secure_data(layout: Layout) -> None:
    """Data folder 0700; every key and secret file in it 0600."""
    make_private_dir(layout.data_dir)
    secure_tree(layout.data_dir)
