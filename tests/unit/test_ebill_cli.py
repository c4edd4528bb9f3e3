"""The ebill console on a fake party layer: arguments, calls, output and exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any
from unittest import mock

import grpc
import pytest

import fabricgw
from ebill import cli, errors
from ebill.finance import FinanceClient
from ebill.models import Bill, IssuedBill, StockBatch, Totals, Unit, Verification
from ebill.party import PartyClient
from ebill.payer import PayerClient
from ebill.reimburser import ReimburserClient
from ebill.supervisor import SupervisorClient
from ebill.unit import UnitClient

ROLES: dict[str, type[PartyClient]] = {
    "finance1": FinanceClient,
    "platform1": PayerClient,
    "hospital1": UnitClient,
    "school1": UnitClient,
    "medins1": ReimburserClient,
    "insurer1": ReimburserClient,
    "auditor1": SupervisorClient,
}

UNIT = Unit.from_json(
    {"unitCode": "HN0101", "name": "海南省人民医院", "sector": "medical", "region": "46",
     "status": "active", "registeredAt": "2026-11-28T00:00:00Z"}
)  # fmt: skip
BILL_JSON: dict[str, Any] = {
    "billCode": "46010126", "billNumber": "0000000001", "unitCode": "HN0101",
    "unitName": "海南省人民医院", "issueDate": "2026-11-28T09:30:00+08:00", "totalAmount": 26850,
    "status": "partially_reimbursed", "kind": "normal", "checkCode": "PPU3JE",
    "reimbursedTotal": 16110, "items": [], "claims": [],
}  # fmt: skip
BILL = Bill.from_json(BILL_JSON)


class Fakes:
    """The opener the CLI gets: one autospec'd client per identity, recorded."""

    def __init__(self) -> None:
        self.clients: dict[str, Any] = {}
        self.opened: list[tuple[Path, str, str]] = []

    def __call__(self, network: Path, org: str, user: str) -> Any:
        self.opened.append((network, org, user))
        if user not in self.clients:
            self.clients[user] = mock.create_autospec(ROLES[user], instance=True)
        return self.clients[user]

    def client(self, user: str) -> Any:
        return self(Path("unused"), "", user)


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


def run(fakes: Fakes, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["--network", "/tmp/n.json", *argv], opener=fakes, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    text = capsys.readouterr().out
    for code in range(8):
        assert f"  {code}  " in text


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["bogus"],
        ["units"],
        ["units", "register", "HN0101"],  # name and --sector missing
        ["units", "register", "HN0101", "x", "--sector", "space", "--region", "46"],
        ["stock", "apply", "--code", "46010126", "--start", "1", "--count", "many"],
    ],
)
def test_usage_errors_exit_2(fakes: Fakes, argv: list[str]) -> None:
    code, _, _ = run(fakes, *argv)
    assert code == 2
    assert fakes.opened == []


def test_bad_identity_and_amount_are_usage_errors_before_connecting(fakes: Fakes) -> None:
    code, _, err = run(fakes, "--as", "finance1", "units", "list")
    assert code == 2 and "ORG/USER" in err
    code, _, err = run(fakes, "reimburse", "claim", "46010126", "0000000001", "1.234",
                       "--voucher", "v")  # fmt: skip
    assert code == 2 and "at most 2 decimals" in err
    assert fakes.opened == []


def test_units_register(fakes: Fakes) -> None:
    fakes.client("finance1").register_unit.return_value = UNIT
    code, out, _ = run(
        fakes, "units", "register", "HN0101", "海南省人民医院", "--sector", "medical",
        "--region", "46",
    )  # fmt: skip
    assert code == 0
    fakes.clients["finance1"].register_unit.assert_called_once_with(
        "HN0101", "海南省人民医院", "medical", "46"
    )
    assert fakes.opened[-1] == (Path("/tmp/n.json"), "finance", "finance1")
    assert "registered unit HN0101" in out and "海南省人民医院" in out


def test_already_registered_is_a_conflict_unless_exist_ok(fakes: Fakes) -> None:
    finance = fakes.client("finance1")
    finance.register_unit.side_effect = errors.AlreadyExists(
        "RegisterUnit: unit HN0101 is already registered", kind="Conflict"
    )
    finance.read_unit.return_value = UNIT
    args = ["units", "register", "HN0101", "n", "--sector", "medical", "--region", "46"]
    code, _, err = run(fakes, *args)
    assert code == 5
    assert err.startswith("ebill: AlreadyExists: RegisterUnit: unit HN0101 is already registered")
    assert err.count("\n") == 1
    code, out, _ = run(fakes, *args, "--exist-ok")
    assert code == 0 and "already registered" in out


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.NotFound("bill 46010126/0000000009 not found"), 3),
        (errors.NotAuthorised("ReadBill: not a party of the bill"), 4),
        (errors.Conflict("x"), 5),
        (errors.OverClaim("ClaimBill: over", anomaly_id="a1", anomaly_type="over-claim"), 5),
        (errors.TransactionConflict("MVCC_READ_CONFLICT"), 5),
        (errors.InvalidInput("billNumber: must be 10 digits"), 6),
        (errors.NetworkUnavailable("the network did not answer"), 7),
        (errors.InternalError("odd"), 1),
        (errors.EbillError("other"), 1),
    ],
)
def test_exit_codes_follow_the_domain_errors(
    fakes: Fakes, error: errors.EbillError, code: int
) -> None:
    fakes.client("auditor1").read_bill.side_effect = error
    got, out, err = run(fakes, "bill", "show", "46010126", "0000000009")
    assert got == code
    assert out == ""
    assert err == f"ebill: {type(error).__name__}: {error.one_line()}\n"


def test_errors_as_json(fakes: Fakes) -> None:
    fakes.client("medins1").claim_bill.side_effect = errors.AlreadyReimbursed(
        "ClaimBill: bill 46010126/0000000001 is fully reimbursed (closed)",
        kind="Conflict",
        transaction_id="tx1",
        anomaly_id="tx1",
        anomaly_type="claim-on-reimbursed-bill",
    )
    code, out, err = run(
        fakes, "--json", "reimburse", "claim", "46010126", "0000000001", "10", "--voucher", "v"
    )
    assert code == 5 and out == ""
    payload = json.loads(err)
    assert payload["error"] == "AlreadyReimbursed"
    assert payload["anomalyType"] == "claim-on-reimbursed-bill"
    assert payload["exitCode"] == 5 and payload["kind"] == "Conflict"


def test_an_identity_of_the_wrong_role_is_not_authorised(fakes: Fakes) -> None:
    code, _, err = run(fakes, "--as", "insurance/medins1", "units", "suspend", "HN0101",
                       "--reason", "audit")  # fmt: skip
    assert code == 4
    assert "units suspend is for finance" in err


def test_claim_amount_in_yuan_becomes_fen(fakes: Fakes) -> None:
    fakes.client("medins1").claim_bill.return_value = BILL
    code, out, _ = run(fakes, "reimburse", "claim", "46010126", "0000000001", "161.10",
                       "--voucher", "YB-1")  # fmt: skip
    assert code == 0
    fakes.clients["medins1"].claim_bill.assert_called_once_with(
        "46010126", "0000000001", 16110, "YB-1"
    )
    assert "268.50 yuan" in out and "161.10 yuan" in out


def test_reimburse_run_and_unlock_by_finance(fakes: Fakes) -> None:
    fakes.client("insurer1").reimburse.return_value = BILL
    code, _, _ = run(fakes, "--as", "insurance/insurer1", "reimburse", "run", "46010126",
                     "0000000001", "107.40", "--voucher", "P-1")  # fmt: skip
    assert code == 0
    fakes.clients["insurer1"].reimburse.assert_called_once_with(
        "46010126", "0000000001", 10740, "P-1"
    )
    fakes.client("finance1").unlock_bill.return_value = BILL
    code, _, _ = run(fakes, "--as", "finance/finance1", "reimburse", "unlock", "46010126",
                     "0000000001")  # fmt: skip
    assert code == 0
    fakes.clients["finance1"].unlock_bill.assert_called_once()


def test_json_output_is_the_chaincode_json(fakes: Fakes) -> None:
    fakes.client("auditor1").read_bill.return_value = BILL
    code, out, _ = run(fakes, "--json", "bill", "show", "46010126", "0000000001")
    assert code == 0
    assert json.loads(out) == BILL_JSON


def test_bill_show_with_a_salt_reads_through_the_platform(fakes: Fakes) -> None:
    platform = fakes.client("platform1")
    platform.for_payer.return_value = platform
    platform.read_bill.return_value = BILL
    code, _, _ = run(fakes, "bill", "show", "46010126", "0000000001", "--salt", "ab" * 16,
                     "--payer", "person:460100199001011234")  # fmt: skip
    assert code == 0
    assert fakes.opened[-1][1:] == ("finance", "platform1")
    platform.for_payer.assert_called_once_with("person", "460100199001011234")
    platform.read_bill.assert_called_once_with("46010126", "0000000001", "ab" * 16)


def test_bill_show_with_a_salt_needs_the_payer(fakes: Fakes) -> None:
    code, _, err = run(fakes, "bill", "show", "46010126", "0000000001", "--salt", "ab" * 16)
    assert code == 2 and "--payer" in err


def test_bill_issue_from_a_file(fakes: Fakes, tmp_path: Path) -> None:
    code, sample, _ = run(fakes, "bill", "sample", "0000000007")
    assert code == 0 and fakes.opened == []
    path = tmp_path / "bill.json"
    path.write_text(sample, encoding="utf-8")
    unit = fakes.client("hospital1")
    unit.issue_bill.return_value = IssuedBill(BILL, b"\x01" * 16)
    code, out, _ = run(fakes, "bill", "issue", str(path), "--salt", "02" * 16)
    assert code == 0
    data = json.loads(sample)
    unit.issue_bill.assert_called_once_with(
        data["bill"], data["payer"], data["medical"], salt=b"\x02" * 16
    )
    assert "salt for the payer: " + "01" * 16 in out


def test_bill_issue_refuses_a_bad_file(fakes: Fakes, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{not json", encoding="utf-8")
    assert run(fakes, "bill", "issue", str(path))[0] == 6
    assert run(fakes, "bill", "issue", str(tmp_path / "missing.json"))[0] == 2


def test_issue_many_shows_progress_and_counts(fakes: Fakes) -> None:
    unit = fakes.client("hospital1")
    unit.unit_code = "HN0101"
    unit.read_unit.return_value = UNIT
    unit.open_batch.return_value = StockBatch.from_json(
        {"batchId": "b1", "unitCode": "HN0101", "billCode": "46010126",
         "startNumber": "0000000001", "endNumber": "0000001000", "count": 1000,
         "status": "approved"}
    )  # fmt: skip
    unit.next_free_number.return_value = "0000000011"
    unit.issue_bill.side_effect = lambda sample: IssuedBill(
        Bill.from_json({**BILL_JSON, "billNumber": sample.number, "status": "issued"}), sample.salt
    )
    code, out, err = run(fakes, "--json", "bill", "issue-many", "--count", "5", "--workers", "2")
    assert code == 0
    data = json.loads(out)
    assert [b["billNumber"] for b in data["issued"]] == [f"{n:010d}" for n in range(11, 16)]
    assert data["failed"] == []
    assert "5/5" in err.splitlines()[-1]
    numbers = sorted(c.args[0].number for c in unit.issue_bill.call_args_list)
    assert numbers == [f"{n:010d}" for n in range(11, 16)]
    assert all(c.args[0].code == "46010126" for c in unit.issue_bill.call_args_list)


def test_issue_many_reports_failures_with_their_exit_code(fakes: Fakes) -> None:
    unit = fakes.client("hospital1")
    unit.unit_code = "HN0101"
    unit.read_unit.return_value = UNIT

    def issue(sample: Any) -> IssuedBill:
        if sample.number == "0000000002":
            raise errors.AlreadyExists("bill 46010126/0000000002 already exists")
        return IssuedBill(BILL, sample.salt)

    unit.issue_bill.side_effect = issue
    code, out, err = run(fakes, "bill", "issue-many", "--count", "3", "--start", "0000000001")
    assert code == 5
    assert "issued 2 of 3" in out and "0000000002: AlreadyExists" in out
    assert "1 failed" in err


def test_issue_many_without_stock_is_out_of_stock(fakes: Fakes) -> None:
    unit = fakes.client("hospital1")
    unit.unit_code = "HN0101"
    unit.read_unit.return_value = UNIT
    unit.open_batch.return_value = None
    code, _, err = run(fakes, "bill", "issue-many", "--count", "3")
    assert code == 5 and "OutOfStock" in err


def test_verify_passes_amount_in_fen(fakes: Fakes) -> None:
    fakes.client("medins1").verify_bill.return_value = Verification.from_json(
        {"genuine": False, "reason": "total amount does not match"}, "46010126", "0000000001"
    )
    code, out, _ = run(fakes, "bill", "verify", "46010126", "0000000001", "PPU3JE",
                       "--amount", "268.50", "--date", "2026-11-28")  # fmt: skip
    assert code == 0
    fakes.clients["medins1"].verify_bill.assert_called_once_with(
        "46010126", "0000000001", "PPU3JE", total_amount=26850, issue_date="2026-11-28"
    )
    assert "NO" in out and "total amount does not match" in out


def test_payer_authorise_sends_the_salt(fakes: Fakes) -> None:
    platform = fakes.client("platform1")
    platform.for_payer.return_value = platform
    platform.authorise_reimburser.return_value = BILL
    code, out, _ = run(fakes, "payer", "authorise", "46010126", "0000000001", "MEDINS-HN",
                       "--salt", "ab" * 16, "--payer", "person:1")  # fmt: skip
    assert code == 0 and "authorised MEDINS-HN" in out
    platform.for_payer.assert_called_once_with("person", "1")
    fakes.clients["platform1"].authorise_reimburser.assert_called_once_with(
        "46010126", "0000000001", "MEDINS-HN", "ab" * 16
    )


def test_supervise_totals_of_every_unit(fakes: Fakes) -> None:
    auditor = fakes.client("auditor1")
    other = Unit.from_json({**UNIT.raw, "unitCode": "HN0201"})
    auditor.iter_units.return_value = iter([UNIT, other])
    auditor.unit_totals.side_effect = [Totals(2, 53700, 26850, 0), Totals(2, 0, 0, 1)]
    code, out, _ = run(fakes, "supervise", "totals")
    assert code == 0
    last = out.splitlines()[-1].split()
    assert last == ["all", "4", "537.00", "268.50", "1"]
    auditor.unit_totals.side_effect = None
    auditor.unit_totals.return_value = Totals(2, 53700, 26850, 0)
    code, out, _ = run(fakes, "--json", "supervise", "totals", "--unit", "HN0101")
    assert code == 0
    assert json.loads(out) == {
        "HN0101": {"count": 2, "totalAmount": 53700, "reimbursed": 26850, "redLettered": 0}
    }


def test_supervise_list_needs_exactly_one_index(fakes: Fakes) -> None:
    assert run(fakes, "supervise", "list")[0] == 2
    assert run(fakes, "supervise", "list", "--status", "issued", "--period", "202611")[0] == 2
    auditor = fakes.client("auditor1")
    auditor.iter_bills_by_status.return_value = iter([BILL] * 5)
    code, out, _ = run(fakes, "supervise", "list", "--status", "issued", "--limit", "3")
    assert code == 0 and len(out.splitlines()) == 2 + 3


def test_every_command_has_a_handler_and_a_default_identity() -> None:
    parser = cli.build_parser()
    groups = next(a for a in parser._actions if a.dest == "group")
    count = 0
    for group in groups.choices.values():
        commands = next(a for a in group._actions if a.dest == "command")
        for name, sub in commands.choices.items():
            defaults = sub._defaults
            assert callable(defaults["handler"]), name
            assert "/" in defaults["default_as"], name
            count += 1
    assert count >= 30


def test_global_options_may_follow_the_command(fakes: Fakes) -> None:
    fakes.client("finance1").read_bill.return_value = BILL
    code, out, _ = run(fakes, "bill", "show", "46010126", "0000000001", "--json",
                       "--as", "finance/finance1")  # fmt: skip
    assert code == 0 and json.loads(out) == BILL_JSON
    assert fakes.opened[-1][1:] == ("finance", "finance1")
    out_io, err_io = io.StringIO(), io.StringIO()
    fakes.client("auditor1").read_bill.return_value = BILL
    argv = ["bill", "show", "46010126", "0000000001", "--network", "/tmp/other.json"]
    assert cli.main(argv, opener=fakes, out=out_io, err=err_io) == 0
    assert fakes.opened[-1] == (Path("/tmp/other.json"), "audit", "auditor1")


def test_anomalies_anchor_sends_the_spool_as_finance(fakes: Fakes, tmp_path: Path) -> None:
    from ebill.finance import Anchored

    spool = tmp_path / "spool.jsonl"
    fakes.client("finance1").anchor_anomalies.return_value = Anchored(["tx-1"], ["tx-0"], 10)
    code, out, _ = run(fakes, "--json", "anomalies", "anchor", "--spool", str(spool))
    assert code == 0
    assert json.loads(out) == {"spool": str(spool), "recorded": ["tx-1"], "known": 1}
    fakes.client("finance1").anchor_anomalies.assert_called_once_with(spool, 0)


def test_anomalies_anchor_without_a_network_description_is_unavailable(fakes: Fakes) -> None:
    code, _, err = run(fakes, "anomalies", "anchor")  # /tmp/n.json does not exist
    assert code == 7 and "NetworkUnavailable" in err


def test_a_node_failure_exits_unavailable_and_prints_the_peers_details(fakes: Fakes) -> None:
    detail = fabricgw.ErrorDetail("127.0.0.1:27092", "UnitsMSP", "chaincode ebill unreachable")
    raw = fabricgw.EndorseError(
        "endorse failed for transaction t1: ABORTED: failed to endorse transaction, see"
        " attached details for more info",
        transaction_id="t1",
        code=grpc.StatusCode.ABORTED,
        details=[detail],
    )
    fakes.client("auditor1").read_bill.side_effect = errors.domain_error(raw, function="ReadBill")
    code, _, err = run(fakes, "bill", "show", "46010126", "0000000009")
    assert code == 7
    assert err.startswith("ebill: NodeUnavailable: a node of the network failed")
    assert "  - 127.0.0.1:27092 (UnitsMSP): chaincode ebill unreachable\n" in err
    assert "make network-up" not in err
    code, _, err = run(fakes, "--json", "bill", "show", "46010126", "0000000009")
    payload = json.loads(err)
    assert code == 7 and payload["exitCode"] == 7
    assert payload["details"] == [
        {
            "address": "127.0.0.1:27092",
            "mspId": "UnitsMSP",
            "message": "chaincode ebill unreachable",
        }
    ]
    assert payload["outcomeUnknown"] is False


def test_tx_status_resolves_an_unknown_outcome(fakes: Fakes) -> None:
    hospital = fakes.client("hospital1")
    hospital.resolve.return_value = fabricgw.Status("t1", 0, "VALID", True, 42)
    code, out, _ = run(fakes, "--json", "tx", "status", "t1")
    assert code == 0
    assert json.loads(out) == {
        "transactionId": "t1",
        "committed": True,
        "valid": True,
        "validationCode": "VALID",
        "blockNumber": 42,
    }
    hospital.resolve.assert_called_with("t1", timeout=10.0)
    hospital.resolve.return_value = fabricgw.Status("t1", 11, "MVCC_READ_CONFLICT", False, 43)
    code, out, _ = run(fakes, "tx", "status", "t1")
    assert code == 5 and "MVCC_READ_CONFLICT in block 43" in out
    hospital.resolve.return_value = None
    code, out, _ = run(fakes, "tx", "status", "t1", "--timeout", "2")
    assert code == 7 and "no commit status within 2s" in out


def test_network_add_org_refuses_a_bad_name_before_touching_anything(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    network = tmp_path / "network.json"
    argv = ["--network", str(network), "network", "add-org", "Insurer2", "--role", "insurance"]
    assert cli.main(argv, out=out, err=err) == 6
    assert "org name must be 2-20 lower-case letters" in err.getvalue()
    assert list(tmp_path.iterdir()) == []


def test_ebill_network_add_org_refuses_a_bad_role_and_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ebill_network.__main__ import main as network_main

    monkeypatch.setenv("EBILL_DATA_DIR", str(tmp_path))
    with pytest.raises(SystemExit) as exited:
        network_main(["add-org", "insurer2", "--role", "finance"])
    assert exited.value.code == 2
    assert network_main(["add-org", "units2", "--role", "units"]) == 2
    assert "unit: a units org needs its users' unit code" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
