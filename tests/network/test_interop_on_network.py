"""Our SDK and Fabric's own tools on one network: each accepts what the other wrote.

The ``peer`` CLI reads a bill our Gateway client issued and submits a bill our
chaincode event listener hears; transactions signed off-line (no signer in the
Gateway) are accepted by the peers; and the asyncio API evaluates and submits.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import pytest
from chain import ISSUING_ORGS, Connect, World, hashed, issue, query
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)

import fabricgw
from ebill import consistency
from ebill.connection import CHANNEL_OPTIONS, Connection, open_channel
from ebill.samples import HOSPITAL, OUTPATIENT_CODE, SampleBill, outpatient_bill
from ebill.sealed import ReplyKey
from ebill_network.channel import orderer_flags, peer_admin_env
from ebill_network.layout import CHAINCODE, CHANNEL, peer_org
from ebill_network.network import Network

pytestmark = pytest.mark.network

CLI_TIMEOUT = 60
EVENT_TIMEOUT = 30.0


# --- the peer CLI --------------------------------------------------------------------


def peer_cli_env(network: Network, org_key: str, user: str) -> dict[str, str]:
    """The ``peer`` CLI acting as ``user`` of ``org_key`` against that org's peer."""
    layout = network.layout
    org = peer_org(org_key)
    return {
        **os.environ,
        **peer_admin_env(layout, org),
        "CORE_PEER_MSPCONFIGPATH": str(layout.user_dir(org, user) / "msp"),
        "FABRIC_LOGGING_SPEC": "INFO",  # invoke reports the committed txid at INFO
    }


def peer_cli(
    network: Network, org_key: str, user: str, *args: str
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(network.bin_dir / "peer"), *args],
        env=peer_cli_env(network, org_key, user),
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    assert proc.returncode == 0, f"peer {args[:2]} failed ({proc.returncode}):\n{proc.stderr}"
    return proc


def deposit(conn: Connection, sample: SampleBill) -> None:
    """DepositBillPrivate of ``sample`` (units peer only), committed on every peer."""
    transient = {**sample.transient(), "bill": sample.argument().encode()}
    consistency.submit(
        conn,
        "DepositBillPrivate",
        sample.code,
        sample.number,
        transient=transient,
        endorsing_organizations=["UnitsMSP"],
    )


def public(sample: SampleBill) -> str:
    """IssueBill's argument for ``sample``: its public part."""
    return json.dumps(sample.public(), ensure_ascii=False)


CHECK = hashed("ABC123")


def issue_committed(conn: Connection, sample: SampleBill) -> tuple[dict[str, Any], fabricgw.Status]:
    """Issue ``sample`` (deposit, then the public part); the stored public record (read
    back) and the commit status (block) of the issuance."""
    deposit(conn, sample)
    result, commit = conn.contract.submit_async(
        "IssueBill",
        public(sample),
        transient=CHECK,
        endorsing_organizations=list(ISSUING_ORGS),
    )
    status = commit.status()
    assert status.successful, status
    answer = json.loads(result)  # IssueBill answers the key, status and tx id only
    assert answer["issueTxId"] == status.transaction_id
    record = query(conn, "ReadBill", sample.code, sample.number)
    assert record["issueTxId"] == answer["issueTxId"]
    return record, status


def ctor(function: str, *args: str) -> str:
    """The ``-c`` argument of the peer CLI."""
    return json.dumps({"Args": [function, *args]})


@pytest.mark.parametrize(
    ("org", "user"),
    [("units", "hospital1"), ("audit", "auditor1")],
    ids=["issuing-unit", "auditor"],
)
def test_peer_cli_reads_a_bill_issued_through_the_sdk(
    world: World,
    network: Network,
    connect_as: Connect,
    next_number: Callable[[], str],
    org: str,
    user: str,
) -> None:
    sample = outpatient_bill(next_number())
    record, status = issue_committed(connect_as("units", "hospital1"), sample)
    reader = connect_as(org, user)  # at the peer of its own org, as the CLI
    consistency.wait_for_block(reader, status.block_number, peers=[reader.msp_id])

    # ReadBill is for the bill's parties: the issuing unit's staff, finance,
    # supervisors (the org admin has no role attribute and would be refused).
    proc = peer_cli(
        network, org, user,
        "chaincode", "query", "-C", CHANNEL, "-n", CHAINCODE,
        "-c", ctor("ReadBill", OUTPATIENT_CODE, sample.number),
    )  # fmt: skip
    from_cli = json.loads(proc.stdout)
    assert from_cli == record
    assert from_cli == query(reader, "ReadBill", OUTPATIENT_CODE, sample.number)
    assert from_cli["issueTxId"] and from_cli["unitCode"] == HOSPITAL[0]


def test_peer_cli_refuses_readbill_to_an_admin_without_role(
    world: World, network: Network, connect_as: Connect, next_number: Callable[[], str]
) -> None:
    """The access rules hold for the CLI too: the units org admin has no role attribute."""
    sample = outpatient_bill(next_number())
    issue(connect_as("units", "hospital1"), sample)
    layout = network.layout
    proc = subprocess.run(
        [
            str(network.bin_dir / "peer"),
            "chaincode", "query", "-C", CHANNEL, "-n", CHAINCODE,
            "-c", ctor("ReadBill", OUTPATIENT_CODE, sample.number),
        ],
        env={**os.environ, **peer_admin_env(layout, peer_org("units"))},
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )  # fmt: skip
    assert proc.returncode != 0
    assert "ReadBill may be called by" in proc.stderr


def test_bill_invoked_with_peer_cli_reaches_the_sdk_event_listener(
    world: World, network: Network, connect_as: Connect, next_number: Callable[[], str]
) -> None:
    layout = network.layout
    hospital = connect_as("units", "hospital1")
    events_network = hospital.gateway.get_network(CHANNEL)
    # The block the invoke will land in is at least the next one: start there.
    with events_network.get_filtered_block_events(timeout=EVENT_TIMEOUT) as blocks:
        start_block = int(next(iter(blocks)).number) + 1

    sample = outpatient_bill(next_number())
    deposit(hospital, sample)  # the private part first, through the SDK
    transient = {k: base64.b64encode(v).decode() for k, v in CHECK.items()}
    endorsers: list[str] = []
    for key in ("finance", "units"):
        org = peer_org(key)
        endorsers += ["--peerAddresses", layout.address(layout.peer_port(org))]
        endorsers += ["--tlsRootCertFiles", str(layout.tls_ca(org))]

    with events_network.get_chaincode_events(
        CHAINCODE, start_block=start_block, timeout=EVENT_TIMEOUT
    ) as events:
        proc = peer_cli(
            network, "units", "hospital1",
            "chaincode", "invoke", *orderer_flags(layout),
            "-C", CHANNEL, "-n", CHAINCODE, *endorsers,
            "-c", ctor("IssueBill", public(sample)),
            "--transient", json.dumps(transient),
            "--waitForEvent", "--waitForEventTimeout", "30s",
        )  # fmt: skip
        committed = re.findall(
            r"txid \[([0-9a-f]{64})\] committed with status \((\w+)\)", proc.stderr
        )
        assert committed, proc.stderr
        assert {status for _, status in committed} == {"VALID"}
        tx_id = committed[0][0]
        heard = next(e for e in events if e.transaction_id == tx_id)

    assert heard.event_name == "IssueBill"
    assert heard.chaincode_name == CHAINCODE
    assert heard.block_number >= start_block
    assert json.loads(heard.payload) == {
        "billCode": OUTPATIENT_CODE,
        "billNumber": sample.number,
        "status": "issued",
        "unitCode": HOSPITAL[0],
        "batchId": world.outpatient_batch,
        "org": "UnitsMSP",
    }
    # and the SDK reads what the CLI wrote, with its payer data kept out of the record
    record = query(hospital, "ReadBill", OUTPATIENT_CODE, sample.number)
    assert record["issueTxId"] == tx_id
    assert sample.payer["id"] not in json.dumps(record, ensure_ascii=False)
    key = ReplyKey()
    raw = hospital.contract.evaluate(
        "ReadBillPrivate", arguments=[OUTPATIENT_CODE, sample.number], transient=key.transient()
    )
    private = key.open(json.loads(raw), "ReadBillPrivate")
    assert private["payer"] == sample.payer and private["salt"] == sample.salt.hex()


# --- off-line signing --------------------------------------------------------------------

_P256_ORDER = int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16)


class OfflineSigner:
    """Holds the key, away from the Gateway: signs SHA-256 digests, low-S as Fabric wants."""

    def __init__(self, key_file: Path) -> None:
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
        self._key = key
        self.signed: list[bytes] = []

    def sign(self, message: bytes, digest: bytes) -> bytes:
        # The signer does not trust the digest it is handed: it hashes the message itself.
        assert hashlib.sha256(message).digest() == digest
        der = self._key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        r, s = decode_dss_signature(der)
        if s > _P256_ORDER // 2:
            s = _P256_ORDER - s
        self.signed.append(digest)
        return encode_dss_signature(r, s)


def test_offline_signed_transaction_is_accepted_by_the_peers(
    world: World,
    description: dict[str, Any],
    connect_as: Connect,
    next_number: Callable[[], str],
) -> None:
    units = description["orgs"]["units"]
    user = units["users"]["hospital1"]
    signer = OfflineSigner(Path(user["key"]))
    channel = open_channel(units["peer"], Path(units["tls_ca"]))
    gateway = fabricgw.connect(
        channel,
        identity=fabricgw.Identity.from_pem_file(units["msp_id"], user["cert"]),
        signer=None,
    )
    try:
        contract = gateway.get_network(CHANNEL).get_contract(CHAINCODE)
        sample = outpatient_bill(next_number())
        deposit(connect_as("units", "hospital1"), sample)
        unsigned = contract.new_proposal(
            "IssueBill",
            arguments=[public(sample)],
            transient=CHECK,
            endorsing_organizations=list(ISSUING_ORGS),
        )
        with pytest.raises(fabricgw.GatewayError, match="no signer"):
            unsigned.endorse()

        # proposal -> bytes -> signed elsewhere -> endorsed
        proposal_bytes = unsigned.bytes()
        signature = signer.sign(unsigned.proposal_bytes, unsigned.digest())
        proposal = gateway.new_signed_proposal(proposal_bytes, signature)
        assert proposal.transaction_id == unsigned.transaction_id
        transaction = proposal.endorse()

        # endorsed transaction -> bytes -> signed elsewhere -> submitted
        transaction_bytes = transaction.bytes()
        envelope_payload = fabricgw.gateway.decode_prepared_transaction(
            transaction_bytes
        ).envelope.payload
        signed_transaction = gateway.new_signed_transaction(
            transaction_bytes, signer.sign(envelope_payload, transaction.digest())
        )
        commit = signed_transaction.submit()

        # commit status request -> bytes -> signed elsewhere -> status
        commit_bytes = commit.bytes()
        status_request = fabricgw.gateway.decode_commit(commit_bytes).signed_request.request
        signed_commit = gateway.new_signed_commit(
            commit_bytes, signer.sign(status_request, commit.digest())
        )
        status = signed_commit.status()
    finally:
        gateway.close()
        channel.close()

    assert len(signer.signed) == 3
    assert status.successful, status
    assert status.transaction_id == proposal.transaction_id == transaction.transaction_id
    result = json.loads(signed_transaction.result)
    assert result["issueTxId"] == status.transaction_id
    stored = query(connect_as("units", "hospital1"), "ReadBill", OUTPATIENT_CODE, sample.number)
    # IssueBill answers the key, status, tx id, time and batch: each as stored
    assert set(result) == {"billCode", "billNumber", "status", "issueTxId", "issuedAt", "batchId"}
    assert {name: stored[name] for name in result} == result
    auditor = connect_as("audit", "auditor1")
    consistency.wait_for_block(auditor, status.block_number, peers=[auditor.msp_id])
    auditor_view = query(auditor, "ReadBill", OUTPATIENT_CODE, sample.number)
    assert auditor_view["issueTxId"] == status.transaction_id


# --- asyncio -------------------------------------------------------------------------


async def _aio_issue_and_read(
    description: dict[str, Any], first: SampleBill, second: SampleBill
) -> dict[str, Any]:
    units = description["orgs"]["units"]
    user = units["users"]["hospital1"]
    credentials = grpc.ssl_channel_credentials(root_certificates=Path(units["tls_ca"]).read_bytes())
    async with (
        grpc.aio.secure_channel(units["peer"], credentials, options=CHANNEL_OPTIONS) as channel,
        fabricgw.aio.connect(
            channel,
            identity=fabricgw.Identity.from_pem_file(units["msp_id"], user["cert"]),
            signer=fabricgw.signer_from_pem_file(user["key"]),
        ) as gateway,
    ):
        contract = gateway.get_network(CHANNEL).get_contract(CHAINCODE)
        assert await contract.evaluate_transaction("Ping") == b"pong"
        issued = json.loads(
            await contract.submit(
                "IssueBill",
                arguments=[public(first)],
                transient=CHECK,
                endorsing_organizations=list(ISSUING_ORGS),
            )
        )
        # then, concurrently on one event loop: a read and a submit_async + commit status
        read, (result, commit) = await asyncio.gather(
            contract.evaluate("ReadBill", arguments=[OUTPATIENT_CODE, first.number]),
            contract.submit_async(
                "IssueBill",
                public(second),
                transient=CHECK,
                endorsing_organizations=list(ISSUING_ORGS),
            ),
        )
        status = await commit.status()
        return {
            "issued": issued,
            "read": json.loads(read),
            "second": json.loads(result),
            "status": status,
        }


def test_asyncio_api_evaluates_and_submits(
    world: World,
    description: dict[str, Any],
    connect_as: Connect,
    next_number: Callable[[], str],
) -> None:
    first, second = outpatient_bill(next_number()), outpatient_bill(next_number())
    hospital = connect_as("units", "hospital1")
    deposit(hospital, first)
    deposit(hospital, second)
    out = asyncio.run(_aio_issue_and_read(description, first, second))
    assert out["issued"]["billNumber"] == first.number and out["issued"]["status"] == "issued"
    # IssueBill answers the key, status, tx id, time and batch: each as ReadBill reads it
    assert {name: out["read"][name] for name in out["issued"]} == out["issued"]
    assert out["status"].successful
    assert out["second"]["issueTxId"] == out["status"].transaction_id
    hospital = connect_as("units", "hospital1")
    stored = query(hospital, "ReadBill", OUTPATIENT_CODE, second.number)
    assert {name: stored[name] for name in out["second"]} == out["second"]
