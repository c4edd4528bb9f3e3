"""The ceiling beside the contract: key-value chaincodes deployed next to ``ebill``.

``kvgo`` (``bench/kvgo``: the official Go shim, fabric-chaincode-go/v2 v2.3.0) and
``kvpy`` (:mod:`bench.kvpy`: our Python shim) run as chaincode services with mutual
TLS on the link CA, as the e-bill server does, with the same endorsement policy
(Finance + one other org; the bench names Finance + Units, as for IssueBill). A
``Put`` is the least a transaction can do on this network: the Go one is the ceiling
the contract's issuance is measured against, the Python one shows our shim's share.

The Go binary is built with the local toolchain (``GOTOOLCHAIN=local``, at least the
version ``network/versions.env`` pins) into the cache folder the Fabric binaries use
(``~/.cache/ebill/kvgo-<digest>/kvgo``), keyed by the sources and the Go version, and
reused; nothing is built into the repository.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import ebill_chaincode.shim
from ebill_network.chaincode import ENDORSEMENT_POLICY, source_digest
from ebill_network.layout import PEER_ORGS, Org
from ebill_network.network import Network
from ebill_network.services import Service, file_digest

ROOT = Path(__file__).resolve().parents[1]
KVGO_DIR = Path(__file__).resolve().parent / "kvgo"
KVGO_SOURCES = ("go.mod", "go.sum", "main.go")
KVPY_FILE = Path(__file__).resolve().parent / "kvpy.py"
SHIM_DIR = Path(ebill_chaincode.shim.__file__).resolve().parent
GO_KV, PY_KV = "kvgo", "kvpy"


def cache_root() -> Path:
    """``$EBILL_CACHE``, else ``$XDG_CACHE_HOME/ebill``, else ``~/.cache/ebill``."""
    if os.environ.get("EBILL_CACHE"):
        return Path(os.environ["EBILL_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ebill"


def _go(*args: str, cwd: Path | None = None) -> str:
    if shutil.which("go") is None:
        raise RuntimeError("the Go toolchain is required to build bench/kvgo (go >= 1.24)")
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=readonly -buildvcs=false"}
    proc = subprocess.run(
        ["go", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"go {' '.join(args)} failed:\n{proc.stderr.strip()}")
    return proc.stdout.strip()


def build_kvgo() -> Path:
    """The kvgo binary, built on first use into the cache (see the module doc)."""
    sources = [KVGO_DIR / name for name in KVGO_SOURCES]
    version = _go("env", "GOVERSION")
    key = hashlib.sha256(f"{file_digest(*sources)} {version}".encode()).hexdigest()[:16]
    dest = cache_root() / f"kvgo-{key}" / "kvgo"
    if dest.is_file():
        return dest
    print(f"bench: building bench/kvgo with {version} into {dest.parent}", file=sys.stderr)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as stage:
        out = Path(stage) / "kvgo"
        _go("build", "-trimpath", "-o", str(out), ".", cwd=KVGO_DIR)
        out.rename(dest)
    return dest


def kv_collections(orgs: Sequence[Org]) -> tuple[dict[str, object], ...]:
    """``kvPrivate``, the collection both kv chaincodes' Pattern writes: every peer org a
    member (so no endorser is a non-member), kept forever, disseminated as billPrivate is."""
    members = ", ".join(f"'{o.msp_id}.member'" for o in orgs)
    return (
        {
            "name": "kvPrivate",
            "policy": f"OR({members})",
            "requiredPeerCount": 0,
            "maxPeerCount": 2,
            "blockToLive": 0,
            "memberOnlyRead": True,
            "memberOnlyWrite": True,
        },
    )


def services(orgs: Sequence[Org] = PEER_ORGS) -> list[Service]:
    """The two key-value services of the network's peer ``orgs``, on service ports 0 and 1."""
    shim = source_digest(SHIM_DIR)
    collections = kv_collections(orgs)
    kvgo = Service(
        GO_KV,
        (str(build_kvgo()),),
        file_digest(*(KVGO_DIR / n for n in KVGO_SOURCES)),
        policy=ENDORSEMENT_POLICY,
        port_index=0,
        collections=collections,
    )
    kvpy = Service(
        PY_KV,
        (sys.executable, "-m", "bench.kvpy"),
        hashlib.sha256(f"{file_digest(KVPY_FILE)} {shim}".encode()).hexdigest(),
        policy=ENDORSEMENT_POLICY,
        port_index=1,
        cwd=ROOT,
        collections=collections,
    )
    return [kvgo, kvpy]


def go_service(orgs: Sequence[Org] = PEER_ORGS) -> Service:
    """The Go key-value service alone (the ceiling of a read or a write)."""
    return next(s for s in services(orgs) if s.name == GO_KV)


def deploy(network: Network) -> dict[str, str]:
    """Deploy (or find deployed) both services, each server started afresh; package ids."""
    orgs = network.layout.peer_orgs()
    return {s.name: network.deploy_service(s, restart=True) for s in services(orgs)}
