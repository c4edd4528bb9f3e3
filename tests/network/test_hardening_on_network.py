"""Hardening on the real network: the chaincode link, secrets, revocation, operations.

Each test attacks the network as issue 7 describes and shows the attack refused.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import queue
import ssl
import stat
import subprocess
import sys
import tarfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from chain import Connect, World, issue, query
from fabric_protos.common import common_pb2
from fabric_protos.peer import (
    chaincode_pb2,
    chaincode_shim_pb2,
    chaincode_shim_pb2_grpc,
    proposal_pb2,
)
from google.protobuf.timestamp_pb2 import Timestamp

import fabricca
import fabricgw
from ebill.connection import connect
from ebill.samples import HOSPITAL_UNIT, OUTPATIENT_CODE, outpatient_bill
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
    payer_tls = layout.user_dir(peer_org("finance"), "platform1") / "tls"
    with pytest.raises(grpc.RpcError) as refused:
        _open_stream(layout, payer_tls / "cert.pem", payer_tls / "key.pem")
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE

    # A peer's own link pair passes the same handshake: the server greets it with REGISTER.
    link = pki.peer_link_tls(layout, peer_org("units"))
    assert _open_stream(layout, link / "cert.pem", link / "key.pem").type == Msg.REGISTER


class _Stream:
    """One Connect stream opened by hand, as a misbehaving peer would."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._requests: queue.Queue[Any] = queue.Queue()
        stub = chaincode_shim_pb2_grpc.ChaincodeStub(channel)
        self._call = stub.Connect(iter(self._requests.get, None), timeout=120)

    def send(self, message: Any) -> None:
        self._requests.put(message)

    def recv(self) -> Any:
        return next(self._call)

    def close(self) -> None:
        self._requests.put(None)
        self._call.cancel()


def test_a_peer_whose_streams_never_answer_stops_no_other_transaction(
    network: Network, world: World, connect_as: Connect, next_number: Callable[[], str]
) -> None:
    """The attack of issue 7 item 5 with the only certificates the server now accepts:
    the units peer's own link pair (a faulty or compromised peer)."""
    layout = network.layout
    slot = int(json.loads(layout.state_file().read_text()).get("slot", 0))
    link = pki.peer_link_tls(layout, peer_org("units"))
    creds = grpc.ssl_channel_credentials(
        root_certificates=pki.link_ca(layout).cert_file.read_bytes(),
        private_key=(link / "key.pem").read_bytes(),
        certificate_chain=(link / "cert.pem").read_bytes(),
    )
    opened: list[_Stream] = []
    with grpc.secure_channel(layout.address(layout.chaincode_port(slot)), creds) as channel:
        try:
            refused: grpc.RpcError | None = None
            for _ in range(4):  # the real units peer holds one of its 4 slots already
                stream = _Stream(channel)
                opened.append(stream)
                try:
                    assert stream.recv().type == Msg.REGISTER
                except grpc.RpcError as error:
                    refused = error
                    break
                stream.send(Msg(type=Msg.REGISTERED))
                stream.send(Msg(type=Msg.READY))
                for i in range(60):  # far more than its workers; it answers none
                    args = [b"VerifyBill", OUTPATIENT_CODE.encode(), f"{i + 1:010d}".encode()]
                    payload = chaincode_pb2.ChaincodeInput(args=[*args, b"ABCDEF"])
                    txid = f"hang-{len(opened)}-{i}"
                    stream.send(
                        Msg(
                            type=Msg.TRANSACTION,
                            txid=txid,
                            channel_id="ebill",
                            payload=payload.SerializeToString(),
                            proposal=_timestamped_proposal(txid),
                        )
                    )
                assert stream.recv().type == Msg.GET_STATE  # held, waiting for us
            assert refused is not None and refused.code() == grpc.StatusCode.RESOURCE_EXHAUSTED

            # Meanwhile every org transacts: finance reads, a unit issues a bill.
            finance = connect_as("finance", "finance1")
            unit = query(finance, "ReadUnit", HOSPITAL_UNIT["unitCode"])
            assert unit["unitCode"] == HOSPITAL_UNIT["unitCode"]
            sample = outpatient_bill(next_number())
            assert issue(connect_as("units", "hospital1"), sample)["status"] == "issued"
        finally:
            for stream in opened:
                stream.close()


def _timestamped_proposal(txid: str) -> Any:
    """A signed-proposal shell stamped now: the chaincode refuses proposals off its clock."""
    stamp = Timestamp()
    stamp.GetCurrentTime()
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.ENDORSER_TRANSACTION, channel_id="ebill", tx_id=txid, timestamp=stamp
    )
    header = common_pb2.Header(channel_header=channel_header.SerializeToString())
    proposal = proposal_pb2.Proposal(header=header.SerializeToString())
    return proposal_pb2.SignedProposal(proposal_bytes=proposal.SerializeToString())


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
    ports += [layout.orderer_operations_port(i) for i in range(len(layout.orderers()))]
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
