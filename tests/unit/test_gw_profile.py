"""Connection profiles (JSON and YAML, pem and path forms) and TLS channels to their peers."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import fabricgw
from fabricgw._protos import gateway_pb2, gateway_pb2_grpc, proposal_response_pb2
from fabricgw.profile import ProfileError, load_connection_profile, parse_connection_profile

PEER_HOST = "peer0.org1.example.com"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def make_tls() -> tuple[bytes, bytes, bytes]:
    """A TLS CA and a server certificate for PEER_HOST only: (ca_pem, server_cert, server_key)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("tlsca.org1.example.com"))
        .issuer_name(_name("tlsca.org1.example.com"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(_name(PEER_HOST))
        .issuer_name(ca.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(PEER_HOST)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return _pem(ca), _pem(server), _key_pem(server_key)


CA_PEM, SERVER_CERT, SERVER_KEY = make_tls()
CA2_PEM = make_tls()[0]


def profile_data(peer_url: str, peer_certs: dict[str, Any], ca_certs: dict[str, Any]) -> Any:
    """The shape of fabric-samples' test-network connection-org1 profile."""
    return {
        "name": "test-network-org1",
        "version": "1.0.0",
        "client": {
            "organization": "Org1",
            "connection": {"timeout": {"peer": {"endorser": "300"}}},
        },
        "organizations": {
            "Org1": {
                "mspid": "Org1MSP",
                "peers": [PEER_HOST],
                "certificateAuthorities": ["ca.org1.example.com"],
            }
        },
        "peers": {
            PEER_HOST: {
                "url": peer_url,
                "tlsCACerts": peer_certs,
                "grpcOptions": {
                    "ssl-target-name-override": PEER_HOST,
                    "hostnameOverride": PEER_HOST,
                    "grpc.keepalive_time_ms": 120000,
                },
            }
        },
        "certificateAuthorities": {
            "ca.org1.example.com": {
                "url": "https://localhost:7054",
                "caName": "ca-org1",
                "tlsCACerts": ca_certs,
                "httpOptions": {"verify": False},
            }
        },
    }


def check_profile(profile: fabricgw.ConnectionProfile, peer_url: str) -> None:
    assert profile.name == "test-network-org1"
    assert profile.version == "1.0.0"
    assert profile.client_organization == "Org1"
    organization = profile.organization("Org1")
    assert organization == fabricgw.OrganizationConfig(
        name="Org1",
        msp_id="Org1MSP",
        peers=(PEER_HOST,),
        certificate_authorities=("ca.org1.example.com",),
    )
    assert profile.organization("Org1MSP") is organization
    peer = profile.peer(PEER_HOST)
    assert profile.peer("Org1") is peer and profile.peer("Org1MSP") is peer
    assert peer.url == peer_url
    assert peer.address == peer_url.split("://", 1)[1]
    assert peer.tls
    assert peer.tls_ca_certs == CA_PEM
    assert peer.ssl_target_name_override == PEER_HOST
    assert peer.channel_options() == [
        ("grpc.ssl_target_name_override", PEER_HOST),
        ("grpc.keepalive_time_ms", 120000),
    ]
    authority = profile.certificate_authority("Org1")
    assert authority == profile.certificate_authorities["ca.org1.example.com"]
    assert authority.url == "https://localhost:7054"
    assert authority.ca_name == "ca-org1"
    assert authority.tls_ca_certs == (CA_PEM, CA2_PEM)


def test_json_profile_with_pem_values(tmp_path: Path) -> None:
    url = "grpcs://localhost:7051"
    data = profile_data(url, {"pem": CA_PEM.decode()}, {"pem": [CA_PEM.decode(), CA2_PEM.decode()]})
    path = tmp_path / "connection-org1.json"
    path.write_text(json.dumps(data))
    check_profile(load_connection_profile(path), url)


def test_yaml_profile_with_path_values(tmp_path: Path) -> None:
    tls_dir = tmp_path / "tls"
    tls_dir.mkdir()
    (tls_dir / "tlsca.pem").write_bytes(CA_PEM)
    (tls_dir / "ca2.pem").write_bytes(CA2_PEM)
    url = "grpcs://localhost:7051"
    data = profile_data(
        url,
        {"path": "tls/tlsca.pem"},  # relative to the profile's directory
        {"path": [str(tls_dir / "tlsca.pem"), "tls/ca2.pem"]},
    )
    path = tmp_path / "profiles" / "connection-org1.yaml"
    path.parent.mkdir()
    (path.parent / "tls").symlink_to(tls_dir)
    path.write_text(yaml.safe_dump(data))
    check_profile(load_connection_profile(path), url)


def test_yaml_block_scalars_as_written_by_fabric_samples(tmp_path: Path) -> None:
    pem = "\n".join("          " + line for line in CA_PEM.decode().splitlines())
    text = f"""---
name: test-network-org1
version: 1.0.0
client:
  organization: Org1
organizations:
  Org1:
    mspid: Org1MSP
    peers:
    - {PEER_HOST}
peers:
  {PEER_HOST}:
    url: grpcs://localhost:7051
    tlsCACerts:
      pem: |
{pem}
    grpcOptions:
      ssl-target-name-override: {PEER_HOST}
"""
    path = tmp_path / "ccp.yml"
    path.write_text(text)
    profile = load_connection_profile(path)
    peer = profile.peer("Org1")
    assert peer.tls_ca_certs is not None
    assert x509.load_pem_x509_certificate(peer.tls_ca_certs) == x509.load_pem_x509_certificate(
        CA_PEM
    )
    assert profile.certificate_authorities == {}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("organizations"), "organizations is missing"),
        (lambda d: d["organizations"]["Org1"].pop("mspid"), "organizations.Org1.mspid is missing"),
        (lambda d: d["peers"][PEER_HOST].pop("url"), f"peers.{PEER_HOST}.url is missing"),
        (
            lambda d: d["peers"][PEER_HOST].update(url="https://localhost:7051"),
            f"peers.{PEER_HOST}.url must be grpcs://",
        ),
        (
            lambda d: d["peers"][PEER_HOST].update(url="grpcs://localhost"),
            f"peers.{PEER_HOST}.url needs a host and a port",
        ),
        (
            lambda d: d["peers"][PEER_HOST].update(tlsCACerts={}),
            f"peers.{PEER_HOST}.tlsCACerts needs pem or path",
        ),
        (
            lambda d: d["peers"][PEER_HOST].update(tlsCACerts={"pem": "not a certificate"}),
            "does not hold PEM data",
        ),
        (
            lambda d: d["peers"][PEER_HOST].update(tlsCACerts={"path": "missing.pem"}),
            f"peers.{PEER_HOST}.tlsCACerts.path cannot be read",
        ),
        (
            lambda d: d["certificateAuthorities"]["ca.org1.example.com"].pop("url"),
            "certificateAuthorities.ca.org1.example.com.url is missing",
        ),
        (
            lambda d: d["organizations"]["Org1"]["peers"].append("peer9"),
            "organizations.Org1.peers names 'peer9', missing from peers",
        ),
        (lambda d: d.update(peers=["x"]), "peers must be a mapping"),
    ],
)
def test_profile_errors_name_the_field(tmp_path: Path, change: Any, message: str) -> None:
    data = profile_data(
        "grpcs://localhost:7051", {"pem": CA_PEM.decode()}, {"pem": [CA_PEM.decode()]}
    )
    change(data)
    with pytest.raises(ProfileError) as info:
        parse_connection_profile(data, base_dir=tmp_path, source="ccp.json")
    assert message in str(info.value)
    assert str(info.value).startswith("ccp.json: ")
    assert isinstance(info.value, ValueError)


def test_unreadable_files_and_unknown_names(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot read"):
        load_connection_profile(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("peers: [unclosed")
    with pytest.raises(ProfileError, match="does not parse"):
        load_connection_profile(bad)
    data = profile_data(
        "grpcs://localhost:7051", {"pem": CA_PEM.decode()}, {"pem": CA_PEM.decode()}
    )
    profile = parse_connection_profile(data)
    with pytest.raises(ProfileError, match="no peer or organization named 'Org9'"):
        profile.peer("Org9")
    with pytest.raises(ProfileError, match="no peer or organization"):
        profile.peer_channel("Org9")


# --- channels -------------------------------------------------------------------------


class Echo(gateway_pb2_grpc.GatewayServicer):  # type: ignore[misc]
    def Evaluate(self, request: Any, context: Any) -> Any:  # noqa: N802
        return gateway_pb2.EvaluateResponse(
            result=proposal_response_pb2.Response(status=200, payload=b"over TLS")
        )


@pytest.fixture
def tls_port() -> Iterator[int]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    gateway_pb2_grpc.add_GatewayServicer_to_server(Echo(), server)
    credentials = grpc.ssl_server_credentials([(SERVER_KEY, SERVER_CERT)])
    port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    try:
        yield port
    finally:
        server.stop(grace=None)


def identity_and_signer() -> tuple[fabricgw.Identity, fabricgw.Signer]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("user1"))
        .issuer_name(_name("user1"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return fabricgw.Identity("Org1MSP", _pem(cert)), fabricgw.new_private_key_signer(key)


def test_peer_channel_uses_the_tls_root_and_the_name_override(tls_port: int) -> None:
    identity, signer = identity_and_signer()
    url = f"grpcs://127.0.0.1:{tls_port}"
    data = profile_data(url, {"pem": CA_PEM.decode()}, {"pem": CA_PEM.decode()})
    profile = parse_connection_profile(data)

    channel = profile.peer_channel("Org1")  # the certificate names PEER_HOST, not 127.0.0.1
    try:
        gateway = fabricgw.connect(channel, identity=identity, signer=signer)
        contract = gateway.get_network("ch").get_contract("cc")
        assert contract.evaluate_transaction("F") == b"over TLS"
    finally:
        channel.close()

    # Without the override the host name check fails.
    del data["peers"][PEER_HOST]["grpcOptions"]
    channel = parse_connection_profile(data).peer_channel(PEER_HOST)
    try:
        gateway = fabricgw.connect(channel, identity=identity, signer=signer, evaluate_timeout=3)
        with pytest.raises(fabricgw.EvaluateError) as info:
            gateway.get_network("ch").get_contract("cc").evaluate_transaction("F")
        assert info.value.code is grpc.StatusCode.UNAVAILABLE
    finally:
        channel.close()

    # A wrong TLS root is refused too.
    data = profile_data(url, {"pem": CA2_PEM.decode()}, {"pem": CA_PEM.decode()})
    channel = parse_connection_profile(data).peer_channel(PEER_HOST)
    try:
        gateway = fabricgw.connect(channel, identity=identity, signer=signer, evaluate_timeout=3)
        with pytest.raises(fabricgw.EvaluateError):
            gateway.get_network("ch").get_contract("cc").evaluate_transaction("F")
    finally:
        channel.close()


def test_plain_grpc_url_gives_an_insecure_channel() -> None:
    data = profile_data("grpc://127.0.0.1:7051", {"pem": CA_PEM.decode()}, {"pem": CA_PEM.decode()})
    peer = parse_connection_profile(data).peer(PEER_HOST)
    assert not peer.tls
    with pytest.raises(ProfileError, match="does not use TLS"):
        peer.credentials()
    peer.channel().close()
