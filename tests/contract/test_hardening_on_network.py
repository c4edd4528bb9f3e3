"""Hardening on the real network: the chaincode link, secrets, revocation, operations.

Each test attacks the network as issue 7 describes and shows the attack refused.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import ssl
import stat
import subprocess
import sys
import tarfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import grpc
import pytest
from fabric_protos.peer import chaincode_shim_pb2, chaincode_shim_pb2_grpc

import fabricca
import fabricgw
from ebill.connection import connect
from ebill_network import operations, pki
from ebill_network.files import is_private_file
from ebill_network.layout import ALL_ORGS, ORDERER_ORG, PEER_ORGS, Layout, peer_org
from ebill_network.network import Network

Msg = chaincode_shim_pb2.ChaincodeMessage


def _open_stream(layout: Layout, cert: Path, key: Path) -> Any:
    """Open a Connect stream to the chaincode server with a client pair; its first message."""
    slot = int(json.loads(layout.state_file().read_text()).get("slot", 0))
    creds = grpc.ssl_channel_credentials(
        root_certificates=pki.link_ca(layout).cert_file.read_bytes(),
        private_key=key.read_bytes(),
        certificate_chain=cert.read_bytes(),
    )
    with grpc.secure_channel(layout.address(layout.chaincode_port(slot)), creds) as channel:
        stub = chaincode_shim_pb2_grpc.ChaincodeStub(channel)
        call = stub.Connect(iter(()), timeout=10)
        try:
            return next(call)
        finally:
            call.cancel()


# --- item 5: the chaincode server trusts the peers' link certificates only ----------------


def test_chaincode_server_refuses_a_certificate_of_the_finance_ca(network: Network) -> None:
    layout = network.layout
    payer_tls = layout.user_dir(peer_org("finance"), "payer1") / "tls"
    with pytest.raises(grpc.RpcError) as refused:
        _open_stream(layout, payer_tls / "cert.pem", payer_tls / "key.pem")
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE

    # A peer's own link pair passes the same handshake: the server greets it with REGISTER.
    link = pki.peer_link_tls(layout, peer_org("units"))
    assert _open_stream(layout, link / "cert.pem", link / "key.pem").type == Msg.REGISTER


def _tar_members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        out: dict[str, bytes] = {}
        for member in tar.getmembers():
            f = tar.extractfile(member)
            if f is not None:
                out[member.name] = f.read()
        return out


def _package_bytes(path: Path) -> list[bytes]:
    """Every file of a chaincode package, nested archives opened."""
    outer = _tar_members(path.read_bytes())
    files = list(outer.values())
    for name, data in outer.items():
        if name.endswith(".tar.gz"):
            files += _tar_members(gzip.decompress(data)).values()
    return files


def test_no_private_key_in_any_installed_package(network: Network) -> None:
    layout = network.layout
    packages = list(layout.chaincode_dir().glob("*.tar.gz"))
    for org in PEER_ORGS:
        packages += (layout.node_dir(org, "peer0") / "data").rglob("*.tar.gz")
    assert len(packages) > len(PEER_ORGS)  # ours and every peer's installed copy
    for package in packages:
        for data in _package_bytes(package):
            assert b"PRIVATE KEY" not in data, package


def test_each_peer_dials_with_its_own_key_readable_by_it_only(network: Network) -> None:
    layout = network.layout
    for org in PEER_ORGS:
        released = list(
            (layout.node_dir(org, "peer0") / "data").rglob("chaincode/server/connection.json")
        )
        assert released, f"peer0.{org.key} has no released chaincode"
        own_key = (pki.peer_link_tls(layout, org) / "key.pem").read_text()
        for path in released:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
            assert json.loads(path.read_text())["client_key"] == own_key


# --- item 6: no guessable secrets, one enrollment per secret, private files ---------------


def _ca(layout: Layout, org_key: str) -> fabricca.CAClient:
    org = next(o for o in ALL_ORGS if o.key == org_key)
    return pki.ca_client(layout, org)


@pytest.mark.parametrize("org", [o.key for o in ALL_ORGS])
def test_default_bootstrap_login_is_refused(network: Network, org: str) -> None:
    with pytest.raises(fabricca.AuthenticationError):
        _ca(network.layout, org).enroll("admin", "adminpw")


@pytest.mark.parametrize(
    ("org", "name"),
    [("finance", "admin0"), ("finance", "peer0"), ("orderer", "orderer0"), ("units", "hospital1")],
)
def test_name_pw_secrets_are_refused(network: Network, org: str, name: str) -> None:
    with pytest.raises(fabricca.AuthenticationError):
        _ca(network.layout, org).enroll(name, f"{name}pw")


def test_a_secret_enrolls_once(network: Network) -> None:
    layout = network.layout
    for org_key, name in (("orderer", "orderer0"), ("finance", "admin0"), ("finance", "admin")):
        org = next(o for o in ALL_ORGS if o.key == org_key)
        secret = pki.secret_file(layout, org, name).read_text().strip()
        with pytest.raises(fabricca.AuthenticationError):
            _ca(layout, org_key).enroll(name, secret)  # its one enrollment is used


def test_every_key_and_secret_file_is_private(network: Network) -> None:
    data = network.layout.data_dir
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    private = [
        p for p in data.rglob("*") if p.is_file() and not p.is_symlink() and is_private_file(p)
    ]
    names = {p.name for p in private}
    assert {"IssuerSecretKey", "IssuerRevocationPrivateKey", "key.pem", "ca.key"} <= names
    assert any(p.suffix == ".secret" for p in private)
    loose = [str(p) for p in private if stat.S_IMODE(p.stat().st_mode) & 0o077]
    assert loose == []


# --- item 9: operations endpoints for the operator only -----------------------------------


def _ops_ports(layout: Layout) -> list[int]:
    ports = [layout.ca_operations_port(o) for o in ALL_ORGS]
    ports += [layout.orderer_operations_port(i) for i in range(len(ORDERER_ORG.nodes))]
    return ports + [layout.peer_operations_port(o) for o in PEER_ORGS]


def test_operations_endpoints_refuse_plain_http_and_tls_without_the_operators_cert(
    network: Network,
) -> None:
    layout = network.layout
    plain = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    no_cert = ssl.create_default_context(cafile=str(pki.operations_ca(layout).cert_file))
    org_cert = ssl.create_default_context(cafile=str(pki.operations_ca(layout).cert_file))
    org_tls = layout.user_dir(ORDERER_ORG, "admin0") / "tls"
    org_cert.load_cert_chain(str(org_tls / "cert.pem"), str(org_tls / "key.pem"))
    for port in _ops_ports(layout):
        url = f"{layout.address(port)}/healthz"
        # Go's TLS listener answers plain HTTP with 400; never with the health report.
        with pytest.raises(urllib.error.HTTPError) as plain_refused:
            plain.open(f"http://{url}", timeout=5)
        assert plain_refused.value.code == 400
        for ctx in (no_cert, org_cert):
            with pytest.raises(OSError):
                urllib.request.urlopen(f"https://{url}", timeout=5, context=ctx)  # noqa: S310
        request = urllib.request.Request(
            f"https://{layout.address(port)}/logspec", data=b'{"spec":"DEBUG"}', method="PUT"
        )
        with pytest.raises(OSError):
            urllib.request.urlopen(request, timeout=5, context=no_cert)  # noqa: S310


def test_operator_reaches_every_operations_endpoint(network: Network) -> None:
    layout = network.layout
    for port in _ops_ports(layout):
        health = json.loads(operations.get(layout, port, "/healthz"))
        assert health["status"] == "OK", (port, health)


# --- item 7: a revoked identity is refused by the peers -----------------------------------


def test_revoked_identity_is_refused_by_the_peers(network: Network) -> None:
    name = "revoke-probe1"  # used by this test only
    network.add_user("audit", name, attrs={"role": "supervisor"})
    description = network.describe()
    with connect(description, "audit", name) as conn:
        assert conn.contract.evaluate_transaction("Ping") is not None
    network.revoke("audit", name, reason="keycompromise")

    with connect(description, "audit", name) as conn:
        with pytest.raises(fabricgw.GatewayError) as evaluated:
            conn.contract.evaluate_transaction("Ping")
        with pytest.raises(fabricgw.GatewayError) as submitted:
            conn.contract.submit_transaction("Ping")
    for refused in (evaluated.value, submitted.value):
        # The peer validates the proposal's creator against the channel MSP, CRL included.
        messages = [d.message for d in refused.details]
        assert messages and all("access denied" in m for m in messages), refused

    # The org's other identities still transact after the config update.
    with connect(description, "audit", "auditor1") as conn:
        conn.contract.submit_transaction("Ping")
    with pytest.raises(fabricca.AuthenticationError):  # and the CA will not re-issue
        _ca(network.layout, "audit").enroll(
            name, pki.secret_file(network.layout, peer_org("audit"), name).read_text().strip()
        )


def test_ebill_command_revokes_an_identity(network: Network) -> None:
    name = "revoke-probe2"  # used by this test only
    network.add_user("insurance", name, attrs={"role": "reimburser", "reimburser": "PROBE"})
    description = network.describe()
    with connect(description, "insurance", name) as conn:
        conn.contract.evaluate_transaction("Ping")
    ebill = Path(sys.executable).parent / "ebill"
    env = {**os.environ, "EBILL_BASE_PORT": str(network.layout.base_port)}
    network_file = str(network.layout.network_file())
    argv = [str(ebill), "--network", network_file, "--json", "network", "revoke", "insurance", name]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert (answer["org"], answer["user"], answer["revoked"]) == ("insurance", name, True)
    with (
        connect(description, "insurance", name) as conn,
        pytest.raises(fabricgw.GatewayError) as refused,
    ):
        conn.contract.evaluate_transaction("Ping")
    assert all("access denied" in d.message for d in refused.value.details)

    # Revoking again changes nothing: the CRL is the same, no config update is sent.
    again = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["configBlock"] == answer["configBlock"]

    unknown = [*argv[:-1], "nobody-registered-here"]
    missing = subprocess.run(unknown, capture_output=True, text=True, env=env, timeout=300)
    assert missing.returncode == 3, missing.stderr  # not found
    assert "cannot revoke nobody-registered-here of insurance" in missing.stderr


# --- up after down resumes on the stored enrollments --------------------------------------


def test_up_after_down_resumes_without_enrolling_again(network: Network) -> None:
    layout = network.layout
    secrets_before = sorted(p.name for p in pki.secrets_dir(layout).iterdir())
    cert = layout.user_dir(peer_org("units"), "hospital1") / "msp" / "signcerts" / "cert.pem"
    before = cert.read_bytes()
    network.down()
    network.up()
    assert cert.read_bytes() == before
    assert sorted(p.name for p in pki.secrets_dir(layout).iterdir()) == secrets_before
    with connect(network.describe(), "units", "hospital1") as conn:
        conn.contract.submit_transaction("Ping")
