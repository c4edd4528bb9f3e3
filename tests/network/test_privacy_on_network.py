"""Privacy on the real network (issue 7, items 1-4, 8, 9): read the blocks and the
finance peer's disk, not only the answers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from chain import BILL_NUMBERS, Connect, Open, World

import fabricgw
from ebill import consistency
from ebill.models import IssuedBill
from ebill.payer import PayerClient
from ebill.reimburser import ReimburserClient
from ebill.samples import PAYER1, outpatient_bill
from ebill.sealed import ReplyKey
from ebill.unit import UnitClient
from ebill_network.layout import PEER_ORGS
from ebill_network.network import Network

pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def issued(world: World, party: Open[Any]) -> tuple[IssuedBill, dict[str, Any], Any]:
    """A bill issued by the SDK, authorised for MEDINS-HN through the platform."""
    hospital: UnitClient = party(UnitClient, "units", "hospital1")
    sample = outpatient_bill(f"{next(BILL_NUMBERS):010d}")
    bill = hospital.issue_bill(sample)
    platform: PayerClient = party(PayerClient, "finance", "platform1")
    payer = platform.for_payer(PAYER1["type"], PAYER1["id"])
    payer.authorise_reimburser(bill.bill.bill_code, bill.bill.bill_number, "MEDINS-HN", bill.salt)
    return bill, sample.medical or {}, sample


def _secrets(issued: tuple[IssuedBill, dict[str, Any], Any]) -> dict[str, bytes]:
    bill, medical, sample = issued
    return {
        "payer id": PAYER1["id"].encode(),
        "payer name": PAYER1["name"].encode(),
        "patient number": str(medical["patientNumber"]).encode(),
        "item name": sample.bill["items"][2]["name"].encode(),
        "clerk": sample.bill["clerk"].encode(),
        "salt": bill.salt,
        "salt hex": bill.salt.hex().encode(),
        "check code": bill.check_code.encode(),
    }


def _blocks(connect_as: Connect) -> list[bytes]:
    conn = connect_as("audit", "auditor1")
    qscc = conn.gateway.get_network(conn.channel_name).get_contract("qscc")
    height = consistency.height(conn, "AuditMSP")
    return [
        qscc.evaluate(
            "GetBlockByNumber",
            arguments=[conn.channel_name, str(n)],
            target_organizations=["AuditMSP"],
        )
        for n in range(height)
    ]


def test_no_block_holds_personal_data_items_salt_or_check_code(
    issued: tuple[IssuedBill, dict[str, Any], Any], party: Open[Any], connect_as: Connect
) -> None:
    bill = issued[0]
    medins: ReimburserClient = party(ReimburserClient, "insurance", "medins1")
    private = medins.read_bill_private(bill.bill.bill_code, bill.bill.bill_number)
    assert private.payer.id == PAYER1["id"] and private.items  # the private part is there
    assert medins.verify_bill(bill.bill.bill_code, bill.bill.bill_number, bill.check_code).genuine
    blocks = _blocks(connect_as)
    assert len(blocks) > 5
    for what, value in _secrets(issued).items():
        holding = [n for n, block in enumerate(blocks) if value in block]
        assert holding == [], f"{what} is in block(s) {holding}"
    # no certificate that signs carries a personal attribute
    assert not any(b"payerId" in block for block in blocks)


def test_a_submitted_private_read_writes_only_ciphertext(
    issued: tuple[IssuedBill, dict[str, Any], Any], connect_as: Connect
) -> None:
    bill = issued[0]
    conn = connect_as("insurance", "medins1")
    key = ReplyKey()
    proposal = conn.contract.new_proposal(
        "ReadBillPrivate",
        arguments=[bill.bill.bill_code, bill.bill.bill_number],
        transient=key.transient(),
        endorsing_organizations=["InsuranceMSP"],
    )
    transaction = proposal.endorse()
    answer = key.open(json.loads(transaction.result), "ReadBillPrivate")
    assert answer["payer"]["id"] == PAYER1["id"]  # the caller can open it
    status = transaction.submit().status()
    assert not status.successful  # one endorser: fails the policy, but is in a block
    consistency.wait_for_block(conn, status.block_number, peers=["AuditMSP"])
    blocks = _blocks(connect_as)
    assert proposal.transaction_id.encode() in blocks[status.block_number]
    for what, value in _secrets(issued).items():
        if what == "check code":
            continue
        assert value not in blocks[status.block_number], what


def test_the_finance_peer_keeps_no_personal_data_on_disk(
    issued: tuple[IssuedBill, dict[str, Any], Any], network: Network
) -> None:
    finance = next(org for org in PEER_ORGS if org.key == "finance")
    folder = network.layout.node_dir(finance, "peer0")
    files = [path for path in folder.rglob("*") if path.is_file()]
    assert any("transientstore" in str(path) for path in files)
    assert any("chains" in str(path) for path in files)
    secrets = {
        k: v
        for k, v in _secrets(issued).items()
        if k in ("payer id", "payer name", "patient number", "item name")
    }
    for path in files:
        data = Path(path).read_bytes()
        for what, value in secrets.items():
            assert value not in data, f"{what} in {path.relative_to(folder)}"


def test_a_proposal_far_from_the_clock_is_refused(connect_as: Connect) -> None:
    """An hour ahead: the peer refuses it (peer.authentication.timewindow, 15 min); ten
    minutes ahead passes the peer but not the chaincode (CHAINCODE_MAX_CLOCK_SKEW, 300 s)."""
    conn = connect_as("finance", "finance1")
    now = dt.datetime.now(dt.UTC)
    hour = conn.contract.new_proposal(
        "ListUnits", arguments=["10"], timestamp=now + dt.timedelta(hours=1)
    )
    with pytest.raises(fabricgw.GatewayError, match="incorrect timestamp"):
        hour.evaluate()
    for delta in (dt.timedelta(minutes=10), -dt.timedelta(minutes=10)):
        skewed = conn.contract.new_proposal(
            "ListUnits", arguments=["10"], timestamp=dt.datetime.now(dt.UTC) + delta
        )
        with pytest.raises(
            fabricgw.GatewayError,
            match="timestamp: the proposal is (59[0-9]|60[0-9]) s (ahead of|behind) the endorser",
        ):
            skewed.evaluate()
    late = conn.contract.new_proposal(
        "SuspendUnit",
        arguments=["HN0101", "audit"],
        timestamp=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10),
    )
    with pytest.raises(fabricgw.GatewayError, match="timestamp: the proposal is"):
        late.endorse()
    ok = conn.contract.new_proposal("ListUnits", arguments=["10"])
    assert json.loads(ok.evaluate())["count"] >= 1


def test_issue_needs_the_deposit_and_salts_are_transient_only(
    issued: tuple[IssuedBill, dict[str, Any], Any], connect_as: Connect, next_number: Any
) -> None:
    conn = connect_as("units", "hospital1")
    sample = outpatient_bill(next_number())
    public = {
        k: sample.bill[k]
        for k in (
            "billCode",
            "billNumber",
            "billName",
            "unitCode",
            "unitName",
            "issueDate",
            "totalAmount",
        )
    }
    public["payerHash"] = "ab" * 32
    with pytest.raises(fabricgw.GatewayError, match="no private part deposited"):
        consistency.submit(
            conn,
            "IssueBill",
            json.dumps(public, ensure_ascii=False),
            transient={"checkCode": b"ABC123"},
            endorsing_organizations=["UnitsMSP", "FinanceMSP"],
        )
    bill = issued[0]
    platform = connect_as("finance", "platform1")
    with pytest.raises(fabricgw.GatewayError, match="expects 2 arguments"):
        platform.contract.evaluate(
            "ReadBill", arguments=[bill.bill.bill_code, bill.bill.bill_number, bill.salt.hex()]
        )
    proof = {
        "payer": json.dumps({"type": "person", "id": PAYER1["id"]}).encode(),
        "payerSalt": bytes(16),
    }
    with pytest.raises(fabricgw.GatewayError, match="must be random bytes"):
        platform.contract.evaluate(
            "ReadBill", arguments=[bill.bill.bill_code, bill.bill.bill_number], transient=proof
        )
