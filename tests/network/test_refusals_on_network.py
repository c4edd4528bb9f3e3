"""Refusals are errors to every client, with a stable code; anomalies reach the chain
through the finance chaincode's spool even when the offender never submits.

Runs on the real network: our SDK, the ``peer`` CLI, a raw endorse-only Gateway client.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from chain import Connect, World, call, issue
from test_rules_on_network import authorise

import fabricgw
from ebill import errors
from ebill.finance import FinanceClient
from ebill.reimburser import ReimburserClient
from ebill.samples import outpatient_bill
from ebill.spool import read_spool
from ebill.supervisor import SupervisorClient
from ebill_network.channel import orderer_flags, peer_admin_env
from ebill_network.layout import CHAINCODE, CHANNEL, PEER_ORGS
from ebill_network.network import Network

pytestmark = pytest.mark.network


def _days() -> tuple[str, str]:
    china = datetime.now(UTC) + timedelta(hours=8)
    return (
        (china - timedelta(days=1)).strftime("%Y-%m-%d"),
        (china + timedelta(days=1)).strftime("%Y-%m-%d"),
    )


def _closed_bill(connect_as: Connect, number: str) -> Any:
    """A bill medins1 has fully reimbursed."""
    sample = outpatient_bill(number)
    issue(connect_as("units", "hospital1"), sample)
    authorise(connect_as, sample, "medins1")
    medins = connect_as("insurance", "medins1")
    call(medins, "LockBill", sample.code, sample.number)
    call(medins, "ClaimBill", sample.code, sample.number, "26850", "MI-CLOSED")
    return sample


def _anomaly_ids(auditor: SupervisorClient) -> list[str]:
    return [a.anomaly_id for a in auditor.iter_anomalies(*_days())]


def test_a_refused_claim_raises_in_our_sdk_by_its_code(
    world: World,
    connect_as: Connect,
    party: Callable[..., Any],
    next_number: Callable[[], str],
) -> None:
    sample = _closed_bill(connect_as, next_number())
    medins: ReimburserClient = party(ReimburserClient, "insurance", "medins1")
    with pytest.raises(errors.AlreadyReimbursed) as info:
        medins.claim_bill(sample.code, sample.number, 100, "MI-AGAIN")
    assert info.value.code == "claim-on-reimbursed-bill"
    assert info.value.anomaly_type == "claim-on-reimbursed-bill"
    assert info.value.anomaly_id and info.value.anomaly_id == info.value.transaction_id


def test_an_endorse_only_offender_still_ends_up_on_the_chain_once(
    world: World,
    connect_as: Connect,
    party: Callable[..., Any],
    description: dict[str, Any],
    next_number: Callable[[], str],
) -> None:
    sample = _closed_bill(connect_as, next_number())
    offender = connect_as("insurance", "medins1")
    proposal = offender.contract.new_proposal(
        "ClaimBill", arguments=(sample.code, sample.number, "100", "MI-SKIP")
    )
    with pytest.raises(fabricgw.EndorseError) as info:
        proposal.endorse()  # the offender would never submit; here it cannot
    message = info.value.chaincode_message or ""
    assert message.startswith("Conflict [claim-on-reimbursed-bill]: "), message
    anomaly_id = proposal.transaction_id

    spool = Path(description["anomaly_spool"])
    assert spool.stat().st_mode & 0o777 == 0o600
    assert spool.parent.stat().st_mode & 0o777 == 0o700
    spooled = [e for e in read_spool(spool).entries if e["anomalyId"] == anomaly_id]
    assert len(spooled) == 1  # two endorsers ran the proposal; one line
    assert spooled[0]["type"] == "claim-on-reimbursed-bill"
    assert spooled[0]["lastAction"]["org"] == "InsuranceMSP"

    auditor: SupervisorClient = party(SupervisorClient, "audit", "auditor1")
    assert anomaly_id not in _anomaly_ids(auditor)
    finance: FinanceClient = party(FinanceClient, "finance", "finance1")
    first = finance.anchor_anomalies(spool)
    assert anomaly_id in first.recorded
    second = finance.anchor_anomalies(spool)
    assert second.recorded == [] and anomaly_id in second.known
    listed = [a for a in auditor.iter_anomalies(*_days()) if a.anomaly_id == anomaly_id]
    assert len(listed) == 1
    assert (listed[0].type, listed[0].function) == ("claim-on-reimbursed-bill", "ClaimBill")
    assert (listed[0].bill_code, listed[0].bill_number) == (sample.code, sample.number)


def test_anchoring_is_finance_only(
    world: World, party: Callable[..., Any], description: dict[str, Any]
) -> None:
    auditor: SupervisorClient = party(SupervisorClient, "audit", "auditor1")
    entries = read_spool(Path(description["anomaly_spool"])).entries
    with pytest.raises(errors.NotAuthorised) as info:
        auditor._submit("RecordAnomalies", json.dumps(entries[:1] or [{}]))
    assert info.value.code == "not-authorised"


def test_peer_cli_invoke_of_a_refusal_exits_non_zero_with_the_code(
    world: World,
    connect_as: Connect,
    network: Network,
    next_number: Callable[[], str],
) -> None:
    sample = _closed_bill(connect_as, next_number())
    layout = network.layout
    insurance = next(org for org in PEER_ORGS if org.key == "insurance")
    finance = next(org for org in PEER_ORGS if org.key == "finance")
    env = {**os.environ, **peer_admin_env(layout, insurance)}
    env["CORE_PEER_MSPCONFIGPATH"] = str(layout.user_dir(insurance, "medins1") / "msp")
    args = {"Args": ["ClaimBill", sample.code, sample.number, "100", "CLI-AGAIN"]}
    command = [
        str(network.bin_dir / "peer"),
        "chaincode",
        "invoke",
        *orderer_flags(layout),
        "-C",
        CHANNEL,
        "-n",
        CHAINCODE,
        "--peerAddresses",
        layout.address(layout.peer_port(finance)),
        "--tlsRootCertFiles",
        str(layout.tls_ca(finance)),
        "--peerAddresses",
        layout.address(layout.peer_port(insurance)),
        "--tlsRootCertFiles",
        str(layout.tls_ca(insurance)),
        "-c",
        json.dumps(args),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "[claim-on-reimbursed-bill]" in output, output


NODE_DIR = Path(__file__).resolve().parents[2] / "bench" / "node"


def test_the_official_node_client_gets_an_error_carrying_the_code(
    world: World,
    connect_as: Connect,
    description: dict[str, Any],
    next_number: Callable[[], str],
    tmp_path: Path,
) -> None:
    if not (NODE_DIR / "node_modules" / "@hyperledger" / "fabric-gateway").is_dir():
        subprocess.run(
            ["npm", "ci", "--prefix", str(NODE_DIR), "--ignore-scripts"],
            check=True,
            capture_output=True,
            timeout=600,
        )
    sample = _closed_bill(connect_as, next_number())
    org = description["orgs"]["insurance"]
    user = org["users"]["medins1"]
    config = {
        "peer": org["peer"],
        "tlsRootCert": org["tls_ca"],
        "mspId": org["msp_id"],
        "certPath": user["cert"],
        "keyPath": user["key"],
        "channel": description["channel"],
        "chaincode": description["chaincode"],
        "function": "ClaimBill",
        "args": [sample.code, sample.number, "100", "NODE-AGAIN"],
    }
    path = tmp_path / "probe.json"
    path.write_text(json.dumps(config))
    done = subprocess.run(
        ["node", str(NODE_DIR / "refusal_probe.mjs"), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    answer = json.loads(done.stdout)
    assert answer["error"] == "EndorseError", answer
    assert any("Conflict [claim-on-reimbursed-bill]: " in d for d in answer["details"]), answer
