"""PartyClient's calls on a fake contract: answers, refusals after commit, pages, sync."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from gw_keys import IDENTITY

import fabricgw
from ebill import consistency, errors
from ebill.finance import FinanceClient
from ebill.payer import payer_hash
from ebill.reimburser import ReimburserClient
from ebill.unit import CHECK_CODE_ALPHABET, UnitClient, new_check_code
from ebill_chaincode.contract.checkcode import check_code_matches

TX = "cd" * 32


@dataclass
class FakeContract:
    """Answers by function name; records every call."""

    answers: dict[str, list[Any]] = field(default_factory=dict)
    calls: list[tuple[str, tuple[Any, ...], Any, Any]] = field(default_factory=list)
    commit_code: str = "VALID"
    #: What each commit status wait meets, in order (an error is raised after sleeping
    #: out the wait's timeout); VALID once empty. The timeouts asked are recorded.
    statuses: list[Exception] = field(default_factory=list)
    waits: list[float | None] = field(default_factory=list)

    def new_proposal(
        self,
        name: str,
        *,
        arguments: Any = (),
        transient: Any = None,
        endorsing_organizations: Any = None,
    ) -> FakeProposal:
        self.calls.append((name, tuple(arguments), transient, endorsing_organizations))
        return FakeProposal(self, name)


@dataclass
class FakeProposal:
    contract: FakeContract
    name: str
    transaction_id: str = TX

    def _answer(self) -> bytes:
        answer = self.contract.answers[self.name].pop(0)
        if isinstance(answer, Exception):
            raise answer
        return json.dumps(answer).encode()

    def evaluate(self) -> bytes:
        return self._answer()

    def endorse(self) -> FakeProposal:
        self.result = self._answer()
        return self

    def submit(self) -> FakeProposal:
        return self

    def status(self, *, timeout: float | None = None) -> fabricgw.Status:
        self.contract.waits.append(timeout)
        if self.contract.statuses:
            time.sleep(timeout or 0)
            raise self.contract.statuses.pop(0)
        code = self.contract.commit_code
        return fabricgw.Status(TX, 0 if code == "VALID" else 11, code, code == "VALID", 42)


@dataclass
class FakeConnection:
    contract: FakeContract
    attributes: dict[str, str]
    user: str = "medins1"
    msp_id: str = "InsuranceMSP"

    def close(self) -> None:
        pass


@dataclass
class FakeGateway:
    identity: fabricgw.Identity
    timeouts: Any = fabricgw.DEFAULT_TIMEOUTS
    retry: Any = fabricgw.DEFAULT_RETRY


def client(cls: type, answers: dict[str, list[Any]], **attrs: str) -> Any:
    return cls(FakeConnection(FakeContract(answers), dict(attrs)))


BILL = {
    "billCode": "46010126",
    "billNumber": "0000000001",
    "unitCode": "HN0101",
    "issueDate": "2026-11-28T09:30:00+08:00",
    "totalAmount": 26850,
    "status": "locked",
}


def test_submit_answers_a_model() -> None:
    medins = client(ReimburserClient, {"LockBill": [BILL]}, reimburser="MEDINS-HN")
    bill = medins.lock_bill("46010126", "0000000001")
    assert bill.status == "locked" and medins.reimburser_id == "MEDINS-HN"
    assert medins.connection.contract.calls == [
        ("LockBill", ("46010126", "0000000001"), None, None)
    ]


def refusal(message: str, status: int = 409) -> fabricgw.EndorseError:
    """The gateway's EndorseError for a chaincode error answer."""
    detail = fabricgw.ErrorDetail(
        "127.0.0.1:1", "FinanceMSP", f"chaincode response {status}, {message}"
    )
    return fabricgw.EndorseError(
        f"endorse failed for transaction {TX}: ABORTED: failed to endorse transaction",
        transaction_id=TX,
        code=grpc.StatusCode.ABORTED,
        details=[detail],
    )


def test_a_refusal_is_raised_from_its_code_and_never_submitted() -> None:
    refused = refusal("Conflict [lock-on-reimbursed-bill]: LockBill: bill 46010126/0000000001"
                      " is fully reimbursed (closed)")  # fmt: skip
    medins = client(ReimburserClient, {"LockBill": [refused]})
    with pytest.raises(errors.AlreadyReimbursed) as info:
        medins.lock_bill("46010126", "0000000001")
    assert info.value.anomaly_id == TX and info.value.function == "LockBill"
    assert info.value.anomaly_type == "lock-on-reimbursed-bill"
    assert info.value.code == "lock-on-reimbursed-bill"


def test_an_mvcc_conflict_is_a_transaction_conflict() -> None:
    medins = client(ReimburserClient, {"LockBill": [BILL]})
    medins.connection.contract.commit_code = "MVCC_READ_CONFLICT"
    with pytest.raises(errors.TransactionConflict) as info:
        medins.lock_bill("46010126", "0000000001")
    assert info.value.transaction_id == TX


def test_an_evaluate_error_is_mapped() -> None:
    failure = fabricgw.EvaluateError(
        "evaluate failed: chaincode response 404,"
        " NotFound [not-found]: bill 46010126/0000000009 not found",
        transaction_id=TX,
        code=grpc.StatusCode.UNKNOWN,
    )
    medins = client(ReimburserClient, {"ReadBill": [failure]})
    with pytest.raises(errors.NotFound):
        medins.read_bill("46010126", "0000000009")


def test_reimburse_unlocks_when_the_claim_fails() -> None:
    over = refusal("Conflict [over-claim]: ClaimBill: a claim of 1 fen would take"
                   " the reimbursed total of bill 1/2 to 30000 fen")  # fmt: skip
    answers = {
        "LockBill": [BILL],
        "ClaimBill": [over],
        "UnlockBill": [{**BILL, "status": "issued"}],
    }
    medins = client(ReimburserClient, answers)
    with pytest.raises(errors.OverClaim):
        medins.reimburse("46010126", "0000000001", 30000, "V1")
    assert [c[0] for c in medins.connection.contract.calls] == [
        "LockBill",
        "ClaimBill",
        "UnlockBill",
    ]
    assert medins.connection.contract.calls[1][1] == ("46010126", "0000000001", "30000", "V1")


def test_iterators_follow_bookmarks() -> None:
    unit = {"unitCode": "HN0101", "name": "n", "sector": "medical", "region": "46",
            "status": "active"}  # fmt: skip
    pages = [
        {"records": [unit, {**unit, "unitCode": "HN0102"}], "count": 2, "bookmark": "b1"},
        {"records": [{**unit, "unitCode": "HN0103"}], "count": 1, "bookmark": ""},
    ]
    finance = client(FinanceClient, {"ListUnits": pages})
    assert [u.unit_code for u in finance.iter_units(page_size=2)] == ["HN0101", "HN0102", "HN0103"]
    assert [c[1] for c in finance.connection.contract.calls] == [("2", ""), ("2", "b1")]


def test_totals_sum_every_page() -> None:
    pages = [
        {"count": 200, "totalAmount": 100, "reimbursed": 10, "redLettered": 1, "bookmark": "b"},
        {"count": 3, "totalAmount": -5, "reimbursed": 0, "redLettered": 0, "bookmark": ""},
    ]
    finance = client(FinanceClient, {"TotalsByUnit": pages})
    totals = finance.unit_totals("HN0101", "2026-11-01", "2026-11-30")
    assert (totals.count, totals.total_amount, totals.reimbursed, totals.red_lettered) == (
        203, 95, 10, 1,
    )  # fmt: skip


def test_issue_deposits_the_private_part_then_issues_the_public_part(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waited: list[tuple[int, tuple[str, ...]]] = []
    monkeypatch.setattr(
        consistency,
        "wait_for_block",
        lambda conn, block, peers: waited.append((block, tuple(peers))),
    )
    answer = {
        "billCode": "46010126",
        "billNumber": "0000000001",
        "status": "issued",
        "issueTxId": TX,
        "issuedAt": "2026-01-05T02:30:00Z",
        "batchId": "b" * 64,
    }
    answers = {"DepositBillPrivate": [{"billCode": "46010126"}], "IssueBill": [answer]}
    hospital = client(UnitClient, answers, unit="HN0101")
    hospital.connection.msp_id = "UnitsMSP"
    hospital.connection.gateway = FakeGateway(fabricgw.Identity("UnitsMSP", IDENTITY.credentials))
    payer = {"type": "person", "id": "460100199001011234", "name": "张三"}
    full = {
        "billCode": "46010126",
        "billNumber": "0000000001",
        "unitCode": "HN0101",
        "issueDate": "2026-01-05T10:30:00+08:00",
        "totalAmount": 100,
        "items": [],
    }
    salt = bytes(range(16))
    issued = hospital.issue_bill(full, payer, None, salt=salt)
    (deposit, args, transient, endorsers), issue = hospital.connection.contract.calls
    assert deposit == "DepositBillPrivate" and args == ("46010126", "0000000001")
    assert json.loads(transient["bill"]) == full
    assert json.loads(transient["payer"]) == payer and transient["payerSalt"] == salt
    assert "medical" not in transient
    assert endorsers == ["UnitsMSP"]  # the finance peer never receives the personal part
    assert waited == [(42, ("FinanceMSP",))]  # finance has the deposit before IssueBill
    name, args, transient, endorsers = issue
    public = json.loads(args[0])
    assert name == "IssueBill" and set(transient) == {"checkCodeHash"}
    assert public == {
        "billCode": "46010126",
        "billNumber": "0000000001",
        "unitCode": "HN0101",
        "issueDate": "2026-01-05T10:30:00+08:00",
        "totalAmount": 100,
        "payerHash": payer_hash(salt, "person", "460100199001011234"),
    }
    code = issued.check_code
    assert len(code) == 6 and all(c in CHECK_CODE_ALPHABET for c in code)
    # only the code's salted slow hash leaves the client; the issuer hashed it itself
    stored = transient["checkCodeHash"].decode()
    assert code not in stored and check_code_matches(code, stored)
    assert endorsers == ["UnitsMSP", "FinanceMSP"]
    assert issued.salt == salt and issued.bill.check_code == code
    # the bill is built from what was sent and the short answer, as the contract stores it
    bill = issued.bill
    assert (bill.status, bill.issue_tx_id, bill.batch_id) == ("issued", TX, "b" * 64)
    assert bill.check_code_hash == stored and bill.payer_hash == public["payerHash"]
    assert bill.last_action is not None and bill.last_action.actor_name == "user1"
    assert bill.issuer_msp == "UnitsMSP" and bill.issued_at == "2026-01-05T02:30:00Z"


def test_check_codes_are_random() -> None:
    codes = {new_check_code() for _ in range(50)}
    assert len(codes) > 45


ISSUED = {
    "billCode": "46010126",
    "billNumber": "0000000001",
    "status": "issued",
    "issueTxId": TX,
    "issuedAt": "2026-01-05T02:30:00Z",
    "batchId": "b" * 64,
}
FULL_BILL = {
    "billCode": "46010126",
    "billNumber": "0000000001",
    "unitCode": "HN0101",
    "issueDate": "2026-01-05T10:30:00+08:00",
    "totalAmount": 100,
    "items": [],
}
PAYER = {"type": "person", "id": "460100199001011234", "name": "张三"}


def _lost() -> fabricgw.CommitStatusError:
    return fabricgw.CommitStatusError(
        f"commit status failed for transaction {TX}: no commit status",
        transaction_id=TX,
        code=grpc.StatusCode.DEADLINE_EXCEEDED,
    )


def _hospital(answers: dict[str, list[Any]], **gateway: Any) -> Any:
    hospital = client(UnitClient, answers, unit="HN0101")
    hospital.connection.msp_id = "UnitsMSP"
    hospital.connection.gateway = FakeGateway(
        fabricgw.Identity("UnitsMSP", IDENTITY.credentials), **gateway
    )
    return hospital


def test_a_deposit_without_commit_status_is_made_again_as_a_new_transaction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A deposit dropped by the orderers (no status within the resend interval) is
    endorsed again, not waited for during whole commit status timeouts; its envelope
    is never sent twice (it writes private data)."""
    monkeypatch.setattr(consistency, "wait_for_block", lambda conn, block, peers: None)
    answers = {"DepositBillPrivate": [{}, {}], "IssueBill": [ISSUED]}
    retry = fabricgw.RetryPolicy(resubmit_interval=0.05)
    hospital = _hospital(answers, retry=retry)
    contract = hospital.connection.contract
    contract.statuses = [_lost()]
    issued = hospital.issue_bill(FULL_BILL, PAYER, None, salt=bytes(16))
    names = [call[0] for call in contract.calls]
    assert names == ["DepositBillPrivate", "DepositBillPrivate", "IssueBill"]
    assert contract.calls[0][2] == contract.calls[1][2]  # the same private part again
    # the first deposit waited the resend interval, the second twice as long; IssueBill
    # the connection's own commit status timeout
    assert contract.waits == [0.05, 0.1, None]
    assert issued.bill.status == "issued"


def test_a_deposit_still_unknown_at_the_commit_status_timeout_is_raised_unknown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(consistency, "wait_for_block", lambda conn, block, peers: None)
    answers = {"DepositBillPrivate": [{}] * 10, "IssueBill": [ISSUED]}
    hospital = _hospital(
        answers,
        retry=fabricgw.RetryPolicy(resubmit_interval=0.05),
        timeouts=fabricgw.Timeouts(commit_status=0.12),
    )
    contract = hospital.connection.contract
    contract.statuses = [_lost() for _ in range(10)]
    with pytest.raises(errors.NetworkUnavailable) as info:
        hospital.issue_bill(FULL_BILL, PAYER, None, salt=bytes(16))
    assert info.value.outcome_unknown is True
    names = {call[0] for call in contract.calls}
    assert names == {"DepositBillPrivate"}  # IssueBill never sent: nothing issued
    # windows 0.05, then 0.1 cut to what was left of the 0.12 s: no wait beyond it
    assert len(contract.waits) == 2 and contract.waits[0] == 0.05
    assert all(w is not None and w <= 0.1 for w in contract.waits)
