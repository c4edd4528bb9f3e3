"""The load generator's bookkeeping: how a failed issuance is classified, how unknown
outcomes are resolved by transaction id, and the fault table (no network)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import fabricgw
from bench.load import COMMITTED, FAILED, UNKNOWN, Attempt, Load, classify
from ebill.errors import AlreadyExists, EbillError, NetworkUnavailable, domain_error

sys.path.insert(0, str(Path(__file__).parents[1] / "faults"))
from report import Row, markdown  # noqa: E402


def _raised(function: str, cause: fabricgw.GatewayError) -> EbillError:
    try:
        try:
            raise cause
        except fabricgw.GatewayError as error:
            raise domain_error(error, function=function, transaction_id="tx1") from error
    except EbillError as wrapped:
        return wrapped


def test_issue_bill_that_may_be_ordered_is_unknown_with_its_transaction_id() -> None:
    for cause in (
        fabricgw.SubmitError("submit failed", transaction_id="tx1"),
        fabricgw.CommitStatusError("commit status failed", transaction_id="tx1"),
    ):
        assert classify(_raised("IssueBill", cause)) == (UNKNOWN, "tx1", "IssueBill")


def test_a_refused_invalid_or_never_sent_issue_is_failed() -> None:
    endorse = fabricgw.EndorseError("endorse failed", transaction_id="tx1")
    assert classify(_raised("IssueBill", endorse))[0] == FAILED
    invalid = fabricgw.CommitError(transaction_id="tx1", code=11, code_name="MVCC_READ_CONFLICT")
    assert classify(_raised("IssueBill", invalid))[0] == FAILED
    # the deposit failed, even with an unknown outcome: IssueBill was never sent
    submit = fabricgw.SubmitError("submit failed", transaction_id="tx0")
    assert classify(_raised("DepositBillPrivate", submit))[0] == FAILED
    taken = AlreadyExists("bill exists", kind="Conflict", function="IssueBill", transaction_id="t")
    assert classify(taken)[0] == FAILED
    assert classify(TimeoutError("the peer of FinanceMSP has not reached block 9"))[0] == FAILED


def test_an_issue_error_the_client_does_not_call_final_is_unknown() -> None:
    error = NetworkUnavailable("no answer", function="IssueBill", transaction_id="tx2")
    assert classify(error) == (UNKNOWN, "tx2", "IssueBill")


class _Status:
    def __init__(self, successful: bool) -> None:
        self.successful = successful


def test_unknown_outcomes_are_resolved_by_transaction_id_never_reissued() -> None:
    load = Load({}, workers=0)
    a = Attempt(0, "0000000001", "C", 0.0, 1.0, UNKNOWN, "ok")
    b = Attempt(0, "0000000002", "C", 0.0, 1.0, UNKNOWN, "bad")
    c = Attempt(0, "0000000003", "C", 0.0, 1.0, UNKNOWN, "lost")
    d = Attempt(0, "0000000004", "C", 2.0, 3.0, COMMITTED)
    load.attempts += [a, b, c, d]
    asked: list[str] = []

    def status(tx: str) -> fabricgw.Status:
        asked.append(tx)
        if tx == "lost":
            raise fabricgw.CommitStatusError("still unknown", transaction_id=tx)
        return _Status(tx == "ok")  # type: ignore[return-value]

    load.resolve(status)
    assert asked == ["ok", "bad", "lost"]
    assert (a.resolved, b.resolved, c.resolved) == (COMMITTED, "not committed", UNKNOWN)
    assert [x.number for x in load.acknowledged()] == ["0000000001", "0000000004"]
    assert load.first_success_after(1.5) == pytest.approx(1.5)
    assert load.first_success_after(2.5) is None


def test_the_table_has_a_row_per_scenario_and_flags_no_convergence() -> None:
    text = markdown([Row("leader kill", 10, 0, 2, 2, 1, 6.25, 0.5, True, 40), Row("x")])
    lines = text.splitlines()
    assert lines[0].startswith("| scenario | acknowledged | lost |")
    assert lines[2] == "| leader kill | 10 | 0 | 2 -> 2 | 1 | 6.2 | 0.5 | yes (40) |  |"
    assert "| NO (0) |" in lines[3]
