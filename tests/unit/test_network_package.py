"""The chaincode package is deterministic and tied to the chaincode source."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from ebill_network import chaincode
from ebill_network.layout import Layout, peer_org


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    layout = Layout(data_dir=tmp_path / "data", base_port=30000)
    ca = layout.tls_ca(peer_org("finance"))
    ca.parent.mkdir(parents=True)
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
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
    assert "BEGIN CERTIFICATE" in connection["root_cert"]
    assert code["source.sha256"].decode().strip() == chaincode.source_digest()


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
