"""The chaincode: a deterministic ccaas package, the server process the peers
dial, and the lifecycle (install, approve for every org, commit).

The package holds ``connection.json`` (where the peers dial the server, the root of
the chaincode-link CA that signed the server's certificate, and that the server
requires a client certificate) and the SHA-256 of the chaincode's source, so the
same code on the same network always gives the same package id, and changed code
gives a new one. The package holds no private key: each peer's external builder
adds the peer's own link client certificate and key at release (see
``network/ccaas-builder/bin/release``). The server trusts the link CA alone.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import sys
import tarfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import pki
from .channel import orderer_flags, peer_admin_env
from .layout import CHAINCODE, CHANNEL, PEER_ORGS, Layout, peer_org
from .processes import ProcessManager, run

CHAINCODE_SRC = Path(__file__).resolve().parents[2] / "chaincode" / "ebill_chaincode"
SERVER_PROCESS = "chaincode"

# Every transaction needs the finance department's endorsement plus one other
# org's: "the unit signs the transaction, finance endorses it".
ENDORSEMENT_POLICY = (
    "AND('FinanceMSP.peer', OR('UnitsMSP.peer', 'InsuranceMSP.peer', 'AuditMSP.peer'))"
)

# Payer identity and medical details live in this collection, on the peers of
# the orgs that need them: the issuing units, the reimbursers (the chaincode
# lets only the reimbursers a payer authorised read a bill's part) and the
# supervisors. The finance department is not a member and never receives personal
# data: the collection has its own endorsement policy, so the transaction that
# deposits a bill's private part (writing only the collection) is endorsed and
# validated by the units peer alone; IssueBill, which finance endorses, carries
# only the public part and checks the deposit by its hash.
PRIVATE_ENDORSEMENT_POLICY = "OR('UnitsMSP.peer')"
COLLECTIONS = [
    {
        "name": "billPrivate",
        "policy": "OR('UnitsMSP.member', 'InsuranceMSP.member', 'AuditMSP.member')",
        "endorsementPolicy": {"signaturePolicy": PRIVATE_ENDORSEMENT_POLICY},
        "requiredPeerCount": 0,
        "maxPeerCount": 2,
        "blockToLive": 0,
        "memberOnlyRead": True,
        "memberOnlyWrite": True,
    }
]


def source_digest(src: Path = CHAINCODE_SRC) -> str:
    """SHA-256 over the chaincode's Python sources (paths and bytes), order-independent."""
    h = hashlib.sha256()
    for path in sorted(src.rglob("*.py")):
        h.update(path.relative_to(src).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def _tar_gz(files: dict[str, bytes]) -> bytes:
    """A gzip'd tar of ``files`` with fixed metadata, so equal input gives equal bytes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(files):
            data = files[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


@dataclass(frozen=True)
class Package:
    label: str
    data: bytes

    @property
    def package_id(self) -> str:
        """``label:sha256(package)``, as the peer computes it."""
        return f"{self.label}:{hashlib.sha256(self.data).hexdigest()}"


def build_package(
    layout: Layout, src: Path = CHAINCODE_SRC, *, tag: str = "", slot: int = 0
) -> Package:
    """The package of the code in ``src`` for a server on ``slot``'s port; a ``tag`` makes
    a distinct package of the same code."""
    digest = source_digest(src)
    label = f"{CHAINCODE}_{digest[:12]}{'_' + tag if tag else ''}"
    return ccaas_package(layout, label, layout.chaincode_port(slot), digest)


def ccaas_package(layout: Layout, label: str, port: int, digest: str) -> Package:
    """A ccaas package labelled ``label`` for a server on ``port`` that the peers dial with
    mutual TLS (the link CA's root); ``digest`` identifies the server's code."""
    connection = {
        "address": layout.address(port),
        "dial_timeout": "10s",
        "tls_required": True,
        "client_auth_required": True,
        "root_cert": _read(pki.link_ca(layout).cert_file),
    }
    code = _tar_gz(
        {
            "connection.json": json.dumps(connection, indent=2, sort_keys=True).encode(),
            "source.sha256": f"{digest}\n".encode(),
        }
    )
    metadata = json.dumps({"type": "ccaas", "label": label}, sort_keys=True).encode()
    return Package(label, _tar_gz({"metadata.json": metadata, "code.tar.gz": code}))


def definition_digest(
    package: Package,
    policy: str = ENDORSEMENT_POLICY,
    collections: Sequence[Mapping[str, object]] = COLLECTIONS,
) -> str:
    """A digest of everything the chaincode definition commits: package, policy, collections."""
    h = hashlib.sha256()
    for part in (package.package_id, policy, json.dumps(list(collections), sort_keys=True)):
        h.update(part.encode() + b"\0")
    return h.hexdigest()


def anomaly_spool(layout: Layout) -> Path:
    """The finance chaincode server's anomaly spool (in finance's folder on the server's
    host, dir 0700)."""
    home = layout.host_dir(layout.chaincode_host())
    return home / "orgs" / peer_org("finance").key / "anomalies" / "spool.jsonl"


def start_server(
    layout: Layout,
    procs: ProcessManager,
    package_id: str,
    *,
    slot: int = 0,
    name: str = SERVER_PROCESS,
) -> None:
    """Start the chaincode server the peers dial on ``slot``'s port; wait until it listens."""
    start_ccaas_server(
        layout,
        procs,
        name,
        [sys.executable, "-m", "ebill_chaincode"],
        package_id,
        layout.chaincode_port(slot),
        env={"CHAINCODE_ANOMALY_SPOOL": str(anomaly_spool(layout))},
    )


def start_ccaas_server(
    layout: Layout,
    procs: ProcessManager,
    name: str,
    command: Sequence[str | Path],
    package_id: str,
    port: int,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> None:
    """Start process ``name`` running ``command``, a chaincode server for ``package_id`` on
    ``port`` with the link's server pair; wait until it listens.

    The server gets CHAINCODE_ID, CHAINCODE_SERVER_ADDRESS, CHAINCODE_TLS_CERT,
    CHAINCODE_TLS_KEY and CHAINCODE_TLS_CLIENT_CA (the link CA alone: no certificate of
    an org's CA opens a stream), plus ``env``. Raises NetworkError when it does not listen
    within 30 s.
    """
    tls = pki.chaincode_server_tls(layout)
    procs.start(
        name,
        [*layout.chaincode_host().launcher(), *command],
        env={
            "CHAINCODE_ID": package_id,
            "CHAINCODE_SERVER_ADDRESS": layout.address(port),
            "CHAINCODE_TLS_CERT": str(tls / "cert.pem"),
            "CHAINCODE_TLS_KEY": str(tls / "key.pem"),
            # Only the peers' link certificates: not any certificate of an org's CA.
            "CHAINCODE_TLS_CLIENT_CA": str(pki.link_root(layout)),
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        },
        cwd=cwd,
    )
    procs.wait_listening(name, layout.chaincode_host().address, port, timeout=30)


def committed(layout: Layout, bin_dir: Path, name: str = CHAINCODE) -> dict[str, object] | None:
    """The committed definition (sequence, version...), or None before the first commit."""
    org = PEER_ORGS[0]
    try:
        out = run(
            [
                bin_dir / "peer",
                "lifecycle",
                "chaincode",
                "querycommitted",
                "-C",
                CHANNEL,
                "-n",
                name,
                "-O",
                "json",
            ],
            env=peer_admin_env(layout, org),
            what="peer lifecycle chaincode querycommitted",
        )
    except Exception as exc:  # noqa: BLE001
        if "404" in str(exc) or "not found" in str(exc):
            return None
        raise
    info = json.loads(out)
    assert isinstance(info, dict)
    return info


def deploy(
    layout: Layout,
    bin_dir: Path,
    package: Package,
    *,
    name: str = CHAINCODE,
    policy: str = ENDORSEMENT_POLICY,
    collections: Sequence[Mapping[str, object]] = COLLECTIONS,
) -> int:
    """Install the package on every peer, approve it for every org and commit it as
    chaincode ``name`` with the endorsement ``policy`` and private ``collections``.

    The sequence is the committed one plus one. Returns the committed sequence.
    """
    pkg_file = layout.chaincode_dir() / f"{package.label}.tar.gz"
    pkg_file.parent.mkdir(parents=True, exist_ok=True)
    pkg_file.write_bytes(package.data)

    current = committed(layout, bin_dir, name)
    sequence = int(current["sequence"]) + 1 if current else 1  # type: ignore[call-overload]
    version = package.label.removeprefix(f"{name}_")
    definition = [
        "--channelID", CHANNEL,
        "--name", name,
        "--version", version,
        "--sequence", str(sequence),
        "--signature-policy", policy,
    ]  # fmt: skip
    if collections:
        suffix = "" if name == CHAINCODE else f"-{name}"
        collections_file = layout.chaincode_dir() / f"collections{suffix}.json"
        collections_file.write_text(json.dumps(list(collections), indent=2))
        definition += ["--collections-config", str(collections_file)]

    def install_and_approve(org_key: str) -> None:
        org = peer_org(org_key)
        env = peer_admin_env(layout, org)
        installed = run(
            [bin_dir / "peer", "lifecycle", "chaincode", "queryinstalled", "-O", "json"],
            env=env,
            what=f"peer lifecycle chaincode queryinstalled ({org.key})",
        )
        if package.package_id not in installed:
            run(
                [bin_dir / "peer", "lifecycle", "chaincode", "install", pkg_file],
                env=env,
                what=f"peer lifecycle chaincode install ({org.key})",
            )
        run(
            [
                bin_dir / "peer", "lifecycle", "chaincode", "approveformyorg",
                *orderer_flags(layout), *definition,
                "--package-id", package.package_id,
            ],
            env=env,
            what=f"peer lifecycle chaincode approveformyorg ({org.key})",
        )  # fmt: skip

    with ThreadPoolExecutor(max_workers=len(PEER_ORGS)) as pool:
        for f in [pool.submit(install_and_approve, org.key) for org in PEER_ORGS]:
            f.result()

    peers: list[str] = []
    for org in PEER_ORGS:
        peers += ["--peerAddresses", layout.address(layout.peer_port(org))]
        peers += ["--tlsRootCertFiles", str(layout.tls_ca(org))]
    run(
        [
            bin_dir / "peer",
            "lifecycle",
            "chaincode",
            "commit",
            *orderer_flags(layout),
            *definition,
            *peers,
        ],
        env=peer_admin_env(layout, PEER_ORGS[0]),
        what="peer lifecycle chaincode commit",
    )
    return sequence
