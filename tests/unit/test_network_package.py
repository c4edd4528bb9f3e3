"""The chaincode package is deterministic and tied to the chaincode source."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest
from cryptography import x509

from ebill_network import chaincode, configs, pki
from ebill_network.layout import PEER_ORGS, Layout, peer_org


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    layout = Layout(data_dir=tmp_path / "data", base_port=30000)
    pki.ensure_local_pki(layout)
    return layout


def _members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        out = {}
        for m in tar.getmembers():
            f = tar.extractfile(m)
            assert f is not None
            assert m.mtime == 0 and m.uid == 0 and m.gid == 0
            out[m.name] = f.read()
        return out


def test_same_source_gives_same_bytes_and_package_id(layout: Layout) -> None:
    a, b = chaincode.build_package(layout), chaincode.build_package(layout)
    assert a.data == b.data
    assert a.package_id == b.package_id
    assert a.package_id.startswith("ebill_") and len(a.package_id.split(":")[1]) == 64


def test_package_is_ccaas_with_connection_and_source_digest(layout: Layout) -> None:
    outer = _members(chaincode.build_package(layout).data)
    assert json.loads(outer["metadata.json"])["type"] == "ccaas"
    code = _members(outer["code.tar.gz"])
    connection = json.loads(code["connection.json"])
    assert connection["address"] == "127.0.0.1:30060"
    assert connection["client_auth_required"] is True
    assert connection["tls_required"] is True
    # The peers verify the server against the chaincode-link CA, not an org's CA.
    assert connection["root_cert"] == pki.link_ca(layout).cert_file.read_text()
    assert code["source.sha256"].decode().strip() == chaincode.source_digest()


def test_package_holds_no_private_key(layout: Layout) -> None:
    package = chaincode.build_package(layout)
    outer = _members(package.data)
    code = _members(outer["code.tar.gz"])
    connection = json.loads(code["connection.json"])
    assert "client_key" not in connection and "client_cert" not in connection
    for data in (*outer.values(), *code.values()):
        assert b"PRIVATE KEY" not in data


def _release(build: Path, out: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = configs.BUILDER_DIR / "bin" / "release"
    return subprocess.run(
        [str(script), str(build), str(out)], env=env, capture_output=True, text=True, check=False
    )


def test_release_adds_the_peers_own_client_pair_readable_by_it_only(
    layout: Layout, tmp_path: Path
) -> None:
    code = _members(_members(chaincode.build_package(layout).data)["code.tar.gz"])
    build, out = tmp_path / "build", tmp_path / "release"
    build.mkdir()
    out.mkdir()
    (build / "connection.json").write_bytes(code["connection.json"])
    client = pki.peer_link_tls(layout, peer_org("units"))
    env = {"PATH": os.environ["PATH"], configs.CLIENT_TLS_ENV: str(client)}
    assert _release(build, out, env).returncode == 0
    released = out / "chaincode" / "server" / "connection.json"
    assert stat.S_IMODE(released.stat().st_mode) == 0o600
    connection = json.loads(released.read_text())
    assert connection["client_key"] == (client / "key.pem").read_text()
    assert connection["client_cert"] == (client / "cert.pem").read_text()
    assert connection["root_cert"] == pki.link_ca(layout).cert_file.read_text()


def test_release_without_the_peers_client_pair_fails(layout: Layout, tmp_path: Path) -> None:
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "connection.json").write_text("{}")
    failed = _release(tmp_path / "build", tmp_path, {"PATH": os.environ["PATH"]})
    assert failed.returncode != 0
    assert configs.CLIENT_TLS_ENV in failed.stderr


def test_link_certificates_chain_to_the_link_ca_only(layout: Layout) -> None:
    link = x509.load_pem_x509_certificate(pki.link_ca(layout).cert_file.read_bytes())
    for org in PEER_ORGS:
        cert = x509.load_pem_x509_certificate(
            (pki.peer_link_tls(layout, org) / "cert.pem").read_bytes()
        )
        cert.verify_directly_issued_by(link)
        key = pki.peer_link_tls(layout, org) / "key.pem"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(pki.link_ca(layout).key_file.stat().st_mode) == 0o600


def test_changed_source_gives_new_package_id(layout: Layout, tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(chaincode.CHAINCODE_SRC, src, ignore=shutil.ignore_patterns("__pycache__"))
    before = chaincode.build_package(layout, src)
    (src / "contract" / "__init__.py").write_text(
        (src / "contract" / "__init__.py").read_text() + "\n# v2\n"
    )
    after = chaincode.build_package(layout, src)
    assert before.package_id != after.package_id
    assert before.label != after.label
