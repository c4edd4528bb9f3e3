"""IdentityStore and write_msp: files, modes and round trips."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml
from ca_testpki import make_ca, make_enrollment
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from fabricca import CAClient, Enrollment, IdentityStore, node_ous_yaml, write_msp


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_put_writes_private_files_and_get_reads_them_back(tmp_path: Path) -> None:
    store = IdentityStore(tmp_path / "ids")
    alice = make_enrollment("alice")
    folder = store.put("alice", alice)

    assert folder == tmp_path / "ids" / "alice"
    assert mode(tmp_path / "ids") == 0o700
    assert mode(folder) == 0o700
    assert mode(folder / "key.pem") == 0o600
    assert (folder / "cert.pem").read_bytes() == alice.certificate
    assert (folder / "ca.pem").read_bytes() == alice.ca_chain
    assert b"BEGIN PRIVATE KEY" in (folder / "key.pem").read_bytes()

    loaded = store.get("alice")
    assert loaded.certificate == alice.certificate
    assert loaded.ca_chain == alice.ca_chain
    assert loaded.key.private_numbers() == alice.key.private_numbers()


def test_put_replaces_and_keeps_modes_under_a_wide_umask(tmp_path: Path) -> None:
    import os

    store = IdentityStore(tmp_path)
    old_umask = os.umask(0)
    try:
        store.put("bob", make_enrollment("bob"))
        newer = Enrollment(key=make_enrollment("bob").key, certificate=b"", ca_chain=b"")
        second = make_enrollment("bob")
        store.put("bob", Enrollment(key=second.key, certificate=second.certificate))
    finally:
        os.umask(old_umask)
    assert newer.ca_chain == b""
    assert mode(tmp_path / "bob" / "key.pem") == 0o600
    assert mode(tmp_path / "bob") == 0o700
    assert not (tmp_path / "bob" / "ca.pem").exists()  # no stale chain
    assert store.get("bob").certificate == second.certificate
    assert [p.name for p in (tmp_path / "bob").iterdir() if p.name.startswith(".")] == []


def test_list_contains_and_remove(tmp_path: Path) -> None:
    store = IdentityStore(tmp_path / "ids")
    assert store.list() == []
    for label in ("zed", "admin", "peer0.org1@example"):
        store.put(label, make_enrollment(label))
    (tmp_path / "ids" / "stray").mkdir()  # not an identity
    assert store.list() == ["admin", "peer0.org1@example", "zed"]
    assert "admin" in store and "stray" not in store and "../x" not in store
    store.remove("admin")
    assert store.list() == ["peer0.org1@example", "zed"]
    with pytest.raises(KeyError):
        store.remove("admin")
    with pytest.raises(KeyError):
        store.get("admin")


@pytest.mark.parametrize("label", ["", "..", ".hidden", "a/b", "a\\b", "x" * 129, "sp ace"])
def test_invalid_labels_are_refused(tmp_path: Path, label: str) -> None:
    store = IdentityStore(tmp_path)
    with pytest.raises(ValueError):
        store.put(label, make_enrollment())
    with pytest.raises(ValueError):
        store.get(label)


def test_get_refuses_a_key_that_does_not_match(tmp_path: Path) -> None:
    store = IdentityStore(tmp_path)
    store.put("a", make_enrollment("a"))
    store.put("b", make_enrollment("b"))
    (tmp_path / "a" / "key.pem").write_bytes((tmp_path / "b" / "key.pem").read_bytes())
    with pytest.raises(ValueError, match="does not match"):
        store.get("a")


def test_write_msp_layout_and_modes(tmp_path: Path) -> None:
    alice = make_enrollment("alice")
    msp = write_msp(tmp_path / "msp", alice, node_ous_config=node_ous_yaml())

    assert (msp / "signcerts" / "cert.pem").read_bytes() == alice.certificate
    assert mode(msp / "keystore") == 0o700
    assert mode(msp / "keystore" / "key.pem") == 0o600
    assert (
        serialization.load_pem_private_key(
            (msp / "keystore" / "key.pem").read_bytes(), None
        ).public_key()
        == alice.key.public_key()
    )
    assert (msp / "cacerts" / "ca.pem").read_bytes() == alice.ca_chain
    assert not (msp / "intermediatecerts").exists()
    config = yaml.safe_load((msp / "config.yaml").read_text())
    assert config["NodeOUs"]["Enable"] is True
    assert config["NodeOUs"]["ClientOUIdentifier"] == {
        "Certificate": "cacerts/ca.pem",
        "OrganizationalUnitIdentifier": "client",
    }
    assert set(config["NodeOUs"]) == {
        "Enable",
        "ClientOUIdentifier",
        "PeerOUIdentifier",
        "AdminOUIdentifier",
        "OrdererOUIdentifier",
    }


def test_write_msp_splits_root_and_intermediates(tmp_path: Path) -> None:
    root_key, root = make_ca("root")
    inter_key, inter = make_ca("intermediate", issuer=(root_key, root))
    pem = serialization.Encoding.PEM
    leaf = make_enrollment("carol", issuer=(inter_key, inter), chain=[inter, root])
    msp = write_msp(tmp_path / "msp", leaf)
    assert (msp / "cacerts" / "ca.pem").read_bytes() == root.public_bytes(pem)
    assert (msp / "intermediatecerts" / "intermediate.pem").read_bytes() == inter.public_bytes(pem)
    assert not (msp / "config.yaml").exists()


def test_write_msp_refuses_to_mix_identities_unless_overwrite(tmp_path: Path) -> None:
    write_msp(tmp_path / "msp", make_enrollment("a"))
    b = make_enrollment("b")
    with pytest.raises(FileExistsError):
        write_msp(tmp_path / "msp", b)
    write_msp(tmp_path / "msp", b, overwrite=True)
    assert [p.name for p in (tmp_path / "msp" / "keystore").iterdir()] == ["key.pem"]
    assert (tmp_path / "msp" / "signcerts" / "cert.pem").read_bytes() == b.certificate


def test_write_msp_needs_a_chain(tmp_path: Path) -> None:
    e = make_enrollment()
    with pytest.raises(ValueError):
        write_msp(tmp_path, Enrollment(key=e.key, certificate=e.certificate))


def test_real_enrollment_round_trip(ca: CAClient, admin: Enrollment, tmp_path: Path) -> None:
    store = IdentityStore(tmp_path / "ids")
    store.put("admin", admin)
    assert mode(tmp_path / "ids" / "admin" / "key.pem") == 0o600
    loaded = store.get("admin")
    assert loaded == Enrollment(
        key=loaded.key, certificate=admin.certificate, ca_chain=admin.ca_chain
    )
    # The loaded identity still authenticates at the CA.
    renewed = ca.reenroll(loaded)
    assert renewed.enrollment_id == "admin"
    msp = write_msp(tmp_path / "msp", renewed, node_ous_config=node_ous_yaml())
    root = x509.load_pem_x509_certificate((msp / "cacerts" / "ca.pem").read_bytes())
    renewed.parsed_certificate().verify_directly_issued_by(root)
