"""The ``ebill`` console end to end on the real network: output and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from chain import World

from ebill.samples import PAYER1
from ebill_network.network import Network

EBILL = Path(sys.executable).parent / "ebill"


@pytest.fixture(scope="module")
def ebill(network: Network, world: World) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``ebill(*args)``: run the console against the test network."""
    network_file = network.layout.network_file()
    assert network_file.exists()

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(EBILL), "--network", str(network_file), *args],
            capture_output=True,
            text=True,
            input=stdin,
            timeout=120,
            # the console finds the network's ports (status probes them) from the env
            env={**os.environ, "EBILL_BASE_PORT": str(network.layout.base_port)},
        )

    return run


def test_units_and_stock(ebill: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    listed = ebill("units", "list")
    assert listed.returncode == 0, listed.stderr
    assert "HN0101" in listed.stdout and "海南省人民医院" in listed.stdout
    again = ebill("units", "register", "HN0101", "海南省人民医院", "--sector", "medical",
                  "--region", "46")  # fmt: skip
    assert again.returncode == 5
    assert again.stderr.startswith("ebill: AlreadyExists: ") and again.stderr.count("\n") == 1
    ok = ebill("units", "register", "HN0101", "海南省人民医院", "--sector", "medical",
               "--region", "46", "--exist-ok")  # fmt: skip
    assert ok.returncode == 0 and "already registered" in ok.stdout
    stock = ebill("--json", "stock", "list", "HN0101")
    assert stock.returncode == 0
    assert any(b["billCode"] == "46010126" for b in json.loads(stock.stdout))
    clerk = ebill("--as", "units/clerk1", "stock", "list", "HN0201")
    assert clerk.returncode == 4 and "NotAuthorised" in clerk.stderr


def test_a_bill_from_issue_to_refused_second_claim(
    ebill: Callable[..., subprocess.CompletedProcess[str]],
    next_number: Callable[[], str],
    tmp_path: Path,
) -> None:
    number = next_number()
    sample = ebill("bill", "sample", number)
    assert sample.returncode == 0
    path = tmp_path / "bill.json"
    path.write_text(sample.stdout, encoding="utf-8")

    clerk = ebill("--as", "units/clerk1", "bill", "issue", str(path))
    assert clerk.returncode == 4, clerk.stderr

    issued = ebill("--json", "bill", "issue", str(path))
    assert issued.returncode == 0, issued.stderr
    answer = json.loads(issued.stdout)
    check, salt = answer["bill"]["checkCode"], answer["salt"]
    assert answer["bill"]["billNumber"] == number and len(salt) == 32

    verify = ebill("bill", "verify", "46010126", number, check, "--amount", "268.50")
    assert verify.returncode == 0 and "genuine  yes" in verify.stdout
    assert "268.50 yuan" in verify.stdout

    payer = "person:" + PAYER1["id"]
    shown = ebill("bill", "show", "46010126", number, "--salt", salt, "--payer", payer)
    assert shown.returncode == 0 and "268.50" in shown.stdout
    assert "门诊诊查费" not in shown.stdout  # line items are in the private part only
    assert (
        ebill(
            "payer", "authorise", "46010126", number, "MEDINS-HN", "--salt", salt, "--payer", payer
        ).returncode
        == 0
    )
    paid = ebill("reimburse", "run", "46010126", number, "268.50", "--voucher", "YB-CLI-1")
    assert paid.returncode == 0, paid.stderr
    assert "reimbursed" in paid.stdout and "268.50 yuan" in paid.stdout

    again = ebill("reimburse", "run", "46010126", number, "1.00", "--voucher", "YB-CLI-2")
    assert again.returncode == 5
    assert again.stderr.startswith("ebill: AlreadyReimbursed: LockBill: ")
    assert "logged as anomaly lock-on-reimbursed-bill" in again.stderr

    history = ebill("bill", "history", "46010126", number)
    assert history.returncode == 0
    assert [line.split()[1] for line in history.stdout.splitlines()[2:]] == [
        "IssueBill", "AuthoriseReimburser", "LockBill", "ClaimBill",
    ]  # fmt: skip
    refused = ebill("--json", "reimburse", "run", "46010126", number, "1.00", "--voucher", "Y3")
    assert refused.returncode == 5
    assert json.loads(refused.stderr)["code"] == "lock-on-reimbursed-bill"
    anchored = ebill("--json", "anomalies", "anchor")  # finance anchors its chaincode's spool
    assert anchored.returncode == 0, anchored.stderr
    assert len(json.loads(anchored.stdout)["recorded"]) >= 2
    again_anchored = ebill("--json", "anomalies", "anchor")
    assert again_anchored.returncode == 0 and json.loads(again_anchored.stdout)["recorded"] == []
    anomalies = ebill("--json", "supervise", "anomalies", "--type", "lock-on-reimbursed-bill")
    assert anomalies.returncode == 0
    assert number in {a["billNumber"] for a in json.loads(anomalies.stdout)}


def test_issue_many_with_progress_and_totals(
    ebill: Callable[..., subprocess.CompletedProcess[str]], next_number: Callable[[], str]
) -> None:
    numbers = [next_number() for _ in range(6)]
    many = ebill("--json", "bill", "issue-many", "--count", "6", "--start", numbers[0])
    assert many.returncode == 0, many.stderr
    data = json.loads(many.stdout)
    assert [b["billNumber"] for b in data["issued"]] == numbers
    assert "6/6" in many.stderr.splitlines()[-1]
    totals = ebill("supervise", "totals", "--unit", "HN0101")
    assert totals.returncode == 0
    row = totals.stdout.splitlines()[-1].split()
    assert row[0] == "HN0101" and int(row[1]) >= 6
    listed = ebill("supervise", "list", "--status", "issued", "--limit", "3")
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 5


def test_errors_have_their_exit_codes(
    ebill: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    missing = ebill("bill", "show", "46010126", "0000099996")
    assert missing.returncode == 3
    assert missing.stderr == (
        "ebill: NotFound: bill 46010126/0000099996 not found; check the code and number\n"
    )
    invalid = ebill("bill", "show", "46010126", "12")
    assert invalid.returncode == 6 and "billNumber" in invalid.stderr
    usage = ebill("reimburse", "claim", "46010126", "0000000001", "x", "--voucher", "v")
    assert usage.returncode == 2
    down = subprocess.run(
        [str(EBILL), "--network", "/nonexistent/network.json", "units", "list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert down.returncode == 7 and "NetworkUnavailable" in down.stderr


def test_network_status_reports_every_process(
    ebill: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    shown = ebill("--json", "network", "status")
    assert shown.returncode == 0, shown.stderr
    status = json.loads(shown.stdout)
    assert status["stopped"] == []
    running = set(status["running"])
    assert {"orderer0", "orderer1", "orderer2", "chaincode"} <= running
    assert {f"peer0-{org}" for org in ("finance", "units", "insurance", "audit")} <= running
    assert all(p["rss_mib"] > 0 for p in status["running"].values())
    assert status["leader"] in ("orderer0", "orderer1", "orderer2")
    assert all(n["healthz"] == "ok" for n in status["nodes"].values())


def test_network_restart_of_an_unknown_node_names_the_known_ones(
    ebill: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    shown = ebill("network", "restart", "peer7.nowhere")
    assert shown.returncode == 7
    assert "peer7.nowhere" in shown.stderr and "peer0-finance" in shown.stderr
