"""Identities: one Fabric CA per org issues its nodes', admins' and users' certificates.

Each CA signs both enrollment (MSP) and TLS certificates of its org. Users are
registered with attributes (role, unit code, reimburser id) that Fabric CA puts
into the certificate, where the chaincode reads them.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from .layout import ALL_ORGS, Layout, Org, User
from .processes import ProcessManager, run, wait_for

REGISTRAR = ("admin", "adminpw")

NODE_OUS = """NodeOUs:
  Enable: true
  ClientOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: client
  PeerOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: peer
  AdminOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: admin
  OrdererOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: orderer
"""


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
    """Registers and enrolls identities with one org's CA through ``fabric-ca-client``."""

    def __init__(self, layout: Layout, org: Org, bin_dir: Path) -> None:
        self.layout = layout
        self.org = org
        self.client = bin_dir / "fabric-ca-client"
        self.url = f"https://{layout.address(layout.ca_port(org))}"
        self.registrar_home = layout.org_dir(org) / "registrar"

    def _ca(self, *args: str | Path, home: Path) -> str:
        return run(
            [
                self.client,
                *args,
                "--caname", f"ca-{self.org.key}",
                "--tls.certfiles", self.layout.ca_tls_cert(self.org),
                "--home", home,
            ],
            what=f"fabric-ca-client {args[0]} ({self.org.key})",
        )  # fmt: skip

    def enroll_registrar(self) -> None:
        user, secret = REGISTRAR
        host = self.url.removeprefix("https://")
        self._ca("enroll", "-u", f"https://{user}:{secret}@{host}", home=self.registrar_home)

    def register(self, name: str, id_type: str, attrs: dict[str, str] | None = None) -> str:
        """Register ``name`` with the registrar; returns its enrollment secret."""
        secret = f"{name}pw"
        args: list[str | Path] = [
            "register",
            "--id.name", name,
            "--id.secret", secret,
            "--id.type", id_type,
            "-u", self.url,
        ]  # fmt: skip
        if attrs:
            args += ["--id.attrs", ",".join(f"{k}={v}:ecert" for k, v in attrs.items())]
        self._ca(*args, home=self.registrar_home)
        return secret

    def enroll(self, name: str, secret: str, msp_dir: Path, *, tls: bool = False) -> None:
        """Enroll into ``msp_dir`` (an MSP folder, or with ``tls`` a TLS folder of cert/key/ca)."""
        host = self.url.removeprefix("https://")
        work = msp_dir.parent / f".enroll-{msp_dir.name}"
        args: list[str | Path] = ["enroll", "-u", f"https://{name}:{secret}@{host}", "-M", work]
        if tls:
            args += [
                "--enrollment.profile",
                "tls",
                "--csr.hosts",
                f"{self.layout.host},localhost,{name}",
            ]
        self._ca(*args, home=work.parent)
        if tls:
            msp_dir.mkdir(parents=True, exist_ok=True)
            shutil.copy(_only(work / "signcerts"), msp_dir / "cert.pem")
            shutil.copy(_only(work / "keystore"), msp_dir / "key.pem")
            shutil.copy(_only(work / "tlscacerts"), msp_dir / "ca.pem")
        else:
            _normalise_msp(work, msp_dir)
        shutil.rmtree(work)
        (work.parent / "fabric-ca-client-config.yaml").unlink(missing_ok=True)


def _only(folder: Path) -> Path:
    files = sorted(p for p in folder.iterdir() if p.is_file())
    if len(files) != 1:
        raise RuntimeError(f"expected one file in {folder}, found {len(files)}")
    return files[0]


def _normalise_msp(work: Path, msp: Path) -> None:
    """Lay out an enrolled MSP with fixed file names and NodeOUs enabled."""
    if msp.exists():
        shutil.rmtree(msp)
    for sub in ("cacerts", "signcerts", "keystore"):
        (msp / sub).mkdir(parents=True)
    shutil.copy(_only(work / "cacerts"), msp / "cacerts" / "ca.pem")
    shutil.copy(_only(work / "signcerts"), msp / "signcerts" / "cert.pem")
    key = msp / "keystore" / "key.pem"
    shutil.copy(_only(work / "keystore"), key)
    key.chmod(0o600)
    (msp / "config.yaml").write_text(NODE_OUS)


def enroll_org(layout: Layout, org: Org, bin_dir: Path) -> None:
    """Create an org's MSP, its nodes' MSP and TLS folders, its admin and its users."""
    e = Enroller(layout, org, bin_dir)
    e.enroll_registrar()

    org_msp = layout.org_msp(org)
    ca_cert = _only(e.registrar_home / "msp" / "cacerts")
    for sub in ("cacerts", "tlscacerts"):
        (org_msp / sub).mkdir(parents=True, exist_ok=True)
        shutil.copy(ca_cert, org_msp / sub / "ca.pem")
    (org_msp / "config.yaml").write_text(NODE_OUS)

    node_type = "orderer" if org.kind == "orderer" else "peer"
    for node in org.nodes:
        secret = e.register(node, node_type)
        home = layout.node_dir(org, node)
        e.enroll(node, secret, home / "msp")
        e.enroll(node, secret, home / "tls", tls=True)

    admin = User("admin0", type="admin")
    members: tuple[User, ...] = (admin, *org.users)
    if org.key == "finance":
        # TLS identities of the chaincode server and of the peers dialling it (mutual TLS).
        members += (User("ccaas", type="client"), User("ccaas-peer", type="client"))
    for user in members:
        secret = e.register(user.name, user.type, user.attrs)
        home = layout.user_dir(org, user.name)
        e.enroll(user.name, secret, home / "msp")
        e.enroll(user.name, secret, home / "tls", tls=True)


def enroll_all(layout: Layout, bin_dir: Path) -> None:
    """Enroll every org's identities, the orgs in parallel."""
    with ThreadPoolExecutor(max_workers=len(ALL_ORGS)) as pool:
        for f in [pool.submit(enroll_org, layout, org, bin_dir) for org in ALL_ORGS]:
            f.result()
