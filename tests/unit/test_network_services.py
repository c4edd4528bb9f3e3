"""Another chaincode as a service: its name, its port and its deterministic package."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from ebill_network import chaincode, pki
from ebill_network.layout import SERVICE_SLOTS, Layout
from ebill_network.services import Service, file_digest


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    layout = Layout(data_dir=tmp_path / "data", base_port=30000)
    pki.ensure_local_pki(layout)
    return layout


def _connection(data: bytes) -> dict[str, object]:
    def members(raw: bytes) -> dict[str, bytes]:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
            return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]

    inner = members(members(data)["code.tar.gz"])
    connection = json.loads(inner["connection.json"])
    assert isinstance(connection, dict)
    return connection


def test_service_package_dials_its_own_port_with_the_link_ca(layout: Layout) -> None:
    service = Service("kvgo", ("/bin/true",), "ab" * 32, port_index=3)
    package = service.package(layout)
    assert package.package_id == service.package(layout).package_id
    assert package.label == "kvgo_abababababab"
    connection = _connection(package.data)
    assert connection["address"] == "127.0.0.1:30065"
    assert connection["client_auth_required"] is True
    assert connection["root_cert"] == pki.link_ca(layout).cert_file.read_text()
    assert "client_key" not in connection


def test_new_code_or_policy_changes_the_definition(layout: Layout) -> None:
    a = Service("kvgo", ("/bin/true",), "ab" * 32).package(layout)
    b = Service("kvgo", ("/bin/true",), "cd" * 32).package(layout)
    assert a.package_id != b.package_id
    policy = "OR('FinanceMSP.peer')"
    assert chaincode.definition_digest(a, policy, ()) != chaincode.definition_digest(
        a, chaincode.ENDORSEMENT_POLICY, ()
    )
    assert chaincode.definition_digest(a, policy, ()) != chaincode.definition_digest(b, policy, ())


def test_service_ports_are_the_layouts_and_bounded(layout: Layout) -> None:
    ports = [layout.service_port(i) for i in range(SERVICE_SLOTS)]
    assert set(ports) <= set(layout.all_ports())
    with pytest.raises(ValueError, match="0..7"):
        layout.service_port(SERVICE_SLOTS)


@pytest.mark.parametrize("name", ["", "ebill", "kv go", "kv/go"])
def test_service_name_is_checked(name: str) -> None:
    with pytest.raises(ValueError, match="service name"):
        Service(name, ("/bin/true",), "ab" * 32)


def test_empty_command_is_refused() -> None:
    with pytest.raises(ValueError, match="command is empty"):
        Service("kvgo", (), "ab" * 32)


def test_file_digest_follows_name_and_bytes(tmp_path: Path) -> None:
    a, b = tmp_path / "a.go", tmp_path / "b.go"
    a.write_text("package main\n")
    b.write_text("package main\n")
    assert file_digest(a) != file_digest(b)
    first = file_digest(a)
    a.write_text("package main // changed\n")
    assert file_digest(a) != first
