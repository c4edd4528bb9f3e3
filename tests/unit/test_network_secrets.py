"""The network's private files, its own CAs and the CRL config change (no network)."""

from __future__ import annotations

import base64
import datetime as dt
import stat
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ebill_network import channel, files
from ebill_network.layout import ORDERER_ORG, peer_org
from ebill_network.localca import LocalCA


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_secure_tree_narrows_keys_and_secrets_only(tmp_path: Path) -> None:
    root = tmp_path / "data"
    (root / "ca" / "msp" / "keystore").mkdir(parents=True)
    paths = {
        "idemix": root / "ca" / "msp" / "keystore" / "IssuerSecretKey",
        "sk": root / "ca" / "msp" / "keystore" / "abc_sk",
        "pem": root / "ca" / "other.pem",
        "secret": root / "finance-admin.secret",
        "cert": root / "ca" / "ca-cert.pem",
    }
    for path in paths.values():
        path.write_bytes(b"x")
    paths["pem"].write_bytes(b"-----BEGIN EC PRIVATE KEY-----\n")
    paths["cert"].write_bytes(b"-----BEGIN CERTIFICATE-----\n")
    for path in paths.values():
        path.chmod(0o644)
    root.chmod(0o755)

    narrowed = files.secure_tree(root)

    assert _mode(root) == 0o700
    assert sorted(narrowed) == sorted(p for k, p in paths.items() if k != "cert")
    for key, path in paths.items():
        assert _mode(path) == (0o644 if key == "cert" else 0o600), key


def test_write_private_creates_0600(tmp_path: Path) -> None:
    target = tmp_path / "s.secret"
    files.write_private(target, b"value")
    assert target.read_bytes() == b"value" and _mode(target) == 0o600


def test_new_secrets_are_long_and_distinct() -> None:
    made = {files.new_secret() for _ in range(50)}
    assert len(made) == 50
    assert all(len(s) >= 32 for s in made)


def test_local_ca_issues_server_and_client_pairs_once(tmp_path: Path) -> None:
    ca = LocalCA(tmp_path / "ca").ensure("test-ca")
    assert _mode(ca.home) == 0o700 and _mode(ca.key_file) == 0o600
    root = x509.load_pem_x509_certificate(ca.cert_file.read_bytes())

    server = ca.issue(tmp_path / "server", "srv", hosts=("127.0.0.1", "localhost"))
    cert = x509.load_pem_x509_certificate((server / "cert.pem").read_bytes())
    cert.verify_directly_issued_by(root)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert _mode(server / "key.pem") == 0o600

    client = ca.issue(tmp_path / "client", "peer0", client=True)
    eku = (
        x509.load_pem_x509_certificate((client / "cert.pem").read_bytes())
        .extensions.get_extension_for_class(x509.ExtendedKeyUsage)
        .value
    )
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]

    # Issuing again keeps the pair and the CA: a resumed network keeps its certificates.
    before = (server / "cert.pem").read_bytes()
    assert LocalCA(tmp_path / "ca").ensure("test-ca").cert_file.read_bytes() == (
        ca.cert_file.read_bytes()
    )
    ca.issue(tmp_path / "server", "srv", hosts=("127.0.0.1",))
    assert (server / "cert.pem").read_bytes() == before


def _config(*groups: tuple[str, str]) -> dict[str, object]:
    tree: dict[str, dict[str, object]] = {"Application": {"groups": {}}, "Orderer": {"groups": {}}}
    for group, msp in groups:
        msp_value = {"value": {"config": {"name": msp, "revocation_list": []}}}
        tree[group]["groups"][msp] = {"values": {"MSP": msp_value}}  # type: ignore[index]
    return {"channel_group": {"groups": tree}}


def test_revocation_list_change_sets_the_orgs_own_msp_only() -> None:
    config = _config(("Application", "AuditMSP"), ("Application", "UnitsMSP"))
    channel.set_revocation_list(peer_org("audit"), [b"CRL-PEM"])(config)
    groups = config["channel_group"]["groups"]["Application"]["groups"]  # type: ignore[index]
    audit = groups["AuditMSP"]["values"]["MSP"]["value"]["config"]
    units = groups["UnitsMSP"]["values"]["MSP"]["value"]["config"]
    assert audit["revocation_list"] == [base64.b64encode(b"CRL-PEM").decode()]
    assert units["revocation_list"] == []


def test_revocation_list_of_the_orderer_org_is_in_the_orderer_group() -> None:
    config = _config(("Orderer", "OrdererMSP"))
    channel.set_revocation_list(ORDERER_ORG, [b"A", b"B"])(config)
    msp = config["channel_group"]["groups"]["Orderer"]["groups"]["OrdererMSP"]  # type: ignore[index]
    assert len(msp["values"]["MSP"]["value"]["config"]["revocation_list"]) == 2


def _crl(serials: list[int], *, when: int = 0) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ca.audit.ebill")])
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=when)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(name)
        .last_update(now)
        .next_update(now + dt.timedelta(days=1))
    )
    for serial in serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now).build()
        )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def _audit_crls(config: dict[str, object]) -> list[str]:
    groups = config["channel_group"]["groups"]["Application"]["groups"]  # type: ignore[index]
    crls: list[str] = groups["AuditMSP"]["values"]["MSP"]["value"]["config"]["revocation_list"]
    return crls


def test_a_fresh_crl_revoking_the_same_certificates_changes_nothing() -> None:
    config = _config(("Application", "AuditMSP"))
    first = _crl([7])
    channel.set_revocation_list(peer_org("audit"), [first])(config)
    assert _audit_crls(config) == [base64.b64encode(first).decode()]

    channel.set_revocation_list(peer_org("audit"), [_crl([7], when=5)])(config)
    assert _audit_crls(config) == [base64.b64encode(first).decode()]  # same serials: kept

    wider = _crl([7, 8], when=10)
    channel.set_revocation_list(peer_org("audit"), [wider])(config)
    assert _audit_crls(config) == [base64.b64encode(wider).decode()]
