"""Identities: one Fabric CA per org issues its nodes', admins' and users' certificates.

Each CA signs both enrollment (MSP) and TLS certificates of its org. Every
identity is registered and enrolled through our own Fabric CA client
(``fabricca``). Users are registered with attributes (role, unit code,
reimburser id, payer id) that Fabric CA puts into the certificate, where the
chaincode reads them.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

import fabricca

from .layout import ALL_ORGS, Layout, Org, User
from .processes import ProcessManager, wait_for

REGISTRAR = ("admin", "adminpw")

NODE_OUS = fabricca.node_ous_yaml()


def ca_process(org: Org) -> str:
    return f"ca-{org.key}"


def start_cas(layout: Layout, procs: ProcessManager, bin_dir: Path) -> None:
    """Start (initialising on first run) every org's CA server and wait until each answers."""
    for org in ALL_ORGS:
        home = layout.ca_home(org)
        home.mkdir(parents=True, exist_ok=True)
        procs.start(
            ca_process(org),
            [
                bin_dir / "fabric-ca-server",
                "start",
                "--home", home,
                "-b", ":".join(REGISTRAR),
                "--port", str(layout.ca_port(org)),
                "--address", layout.host,
                "--ca.name", f"ca-{org.key}",
                "--csr.cn", f"ca.{org.key}.ebill",
                "--csr.hosts", f"{layout.host},localhost",
                "--tls.enabled",
                "--operations.listenaddress", layout.address(layout.ca_operations_port(org)),
                "--metrics.provider", "disabled",
            ],
        )  # fmt: skip
    for org in ALL_ORGS:
        name = ca_process(org)
        procs.wait_listening(name, layout.host, layout.ca_port(org))
        cert = layout.ca_tls_cert(org)
        wait_for(
            f"{name} to write {cert.name}", cert.exists, check=partial(procs.check_alive, name)
        )


class Enroller:
    """Registers and enrolls identities with one org's CA through our Fabric CA client."""

    def __init__(self, layout: Layout, org: Org) -> None:
        self.layout = layout
        self.ca = fabricca.CAClient(
            f"https://{layout.address(layout.ca_port(org))}",
            tls_cert=layout.ca_tls_cert(org),
            ca_name=f"ca-{org.key}",
        )
        self.registrar = self.ca.enroll(*REGISTRAR)
        chain = x509.load_pem_x509_certificates(self.registrar.ca_chain)
        # The CA's root signs enrollment and TLS certificates alike.
        self.root_pem = chain[-1].public_bytes(serialization.Encoding.PEM)

    def register(self, name: str, id_type: str, attrs: dict[str, str] | None = None) -> str:
        """Register ``name``; returns its enrollment secret."""
        return self.ca.register(
            self.registrar, name=name, type=id_type, secret=f"{name}pw", attrs=attrs or {}
        )

    def enroll_msp(self, name: str, secret: str, msp_dir: Path) -> None:
        """Enroll into an MSP folder (signcerts, keystore, cacerts, NodeOUs config)."""
        enrollment = self.ca.enroll(name, secret)
        fabricca.write_msp(msp_dir, enrollment, node_ous_config=NODE_OUS, overwrite=True)

    def enroll_tls(self, name: str, secret: str, tls_dir: Path) -> None:
        """Enroll a TLS certificate for 127.0.0.1/localhost into cert.pem, key.pem, ca.pem."""
        hosts = (self.layout.host, "localhost", name)
        enrollment = self.ca.enroll(name, secret, profile="tls", csr_hosts=hosts)
        tls_dir.mkdir(parents=True, exist_ok=True)
        (tls_dir / "cert.pem").write_bytes(enrollment.certificate)
        key = tls_dir / "key.pem"
        key.write_bytes(enrollment.key_pem())
        key.chmod(0o600)
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
        e.enroll_msp(node, secret, home / "msp")
        e.enroll_tls(node, secret, home / "tls")

    admin = User("admin0", type="admin")
    members: tuple[User, ...] = (admin, *org.users)
    if org.key == "finance":
        # TLS identities of the chaincode server and of the peers dialling it (mutual TLS).
        members += (User("ccaas", type="client"), User("ccaas-peer", type="client"))
    for user in members:
        secret = e.register(user.name, user.type, user.attrs)
        home = layout.user_dir(org, user.name)
        e.enroll_msp(user.name, secret, home / "msp")
        e.enroll_tls(user.name, secret, home / "tls")


def enroll_all(layout: Layout) -> None:
    """Enroll every org's identities, the orgs in parallel."""
    with ThreadPoolExecutor(max_workers=len(ALL_ORGS)) as pool:
        for f in [pool.submit(enroll_org, layout, org) for org in ALL_ORGS]:
            f.result()
