"""Chain answers -> e-bill domain errors: fabricgw errors by refusal code, commit codes.

The chaincode's own refusal messages are produced by its life-cycle table, so the
mapping is checked against the texts the contract really writes.
"""

# ruff: noqa: E501  (the chaincode messages are kept whole, one per line)
from __future__ import annotations

import datetime as dt
from typing import Any

import grpc
import pytest

import fabricgw
from ebill import errors
from ebill.errors import domain_error
from ebill_chaincode.contract import lifecycle
from ebill_chaincode.contract.anomalies import TYPES, Anomaly
from ebill_chaincode.contract.codes import CODES
from ebill_chaincode.shim.errors import ChaincodeError

TX = "ab" * 32


def endorse_error(message: str, status: int = 409) -> fabricgw.EndorseError:
    """An EndorseError as the gateway reports a chaincode error response."""
    detail = fabricgw.ErrorDetail(
        address="127.0.0.1:37091",
        msp_id="FinanceMSP",
        message=f"chaincode response {status}, {message}",
    )
    return fabricgw.EndorseError(
        f"endorse failed for transaction {TX}: ABORTED: failed to endorse transaction",
        transaction_id=TX,
        code=grpc.StatusCode.ABORTED,
        details=[detail],
    )


def evaluate_error(message: str, status: int = 404) -> fabricgw.EvaluateError:
    return fabricgw.EvaluateError(
        f"evaluate failed for transaction {TX}: UNKNOWN: evaluate call to endorser returned"
        f" error: chaincode response {status}, {message}",
        transaction_id=TX,
        code=grpc.StatusCode.UNKNOWN,
    )


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("InvalidArgument [invalid-argument]: items[2].amount: must be an integer number of fen", errors.InvalidInput),
        ("Forbidden [not-authorised]: IssueBill may be called by issuer (UnitsMSP); caller is clerk", errors.NotAuthorised),
        ("NotFound [not-found]: bill 46010126/0000000009 not found", errors.NotFound),
        ("Conflict [bill-exists]: bill 46010126/0000000001 already exists", errors.AlreadyExists),
        ("Conflict [unit-exists]: RegisterUnit: unit HN0101 is already registered", errors.AlreadyExists),
        ("Conflict [already-authorised]: AuthoriseReimburser: MEDINS-HN is already authorised on bill 1/2", errors.AlreadyExists),
        ("Conflict [conflict]: SuspendUnit: unit HN0101 is already suspended", errors.Conflict),
        ("Conflict [stock-conflict]: ApplyStock: application x of unit HN0101 for 46010126 numbers 1-2 is still pending; finance must approve or reject it first", errors.StockConflict),
        ("Conflict [stock-conflict]: ApplyStock: batch x of unit HN0101 (46010126 numbers 1-2) is approved and not reconciled; finance must reconcile it before a new application", errors.StockConflict),
        ("Conflict [stock-conflict]: ApproveStock: 46010126 numbers 1-2 overlap batch y (numbers 1-5) of unit HN0102", errors.StockConflict),
        ("Conflict [stock-conflict]: ApproveStock: application x is approved, not pending", errors.StockConflict),
        ("Conflict [stock-conflict]: ReconcileStock: batch x is pending; only an approved batch is reconciled", errors.StockConflict),
        ("Conflict [stock-conflict]: ApplyStock: bill code 45010126 is of region 45 but unit HN0101 is in region 46", errors.StockConflict),
        ("Conflict [unit-suspended]: ApproveStock: unit HN0101 is suspended", errors.UnitSuspended),
        ("Forbidden [unit-suspended]: ApplyStock: unit HN0101 is suspended", errors.UnitSuspended),
        ("Conflict [authorisation-in-use]: RevokeAuthorisation: MEDINS-HN holds the lock of bill 1/2; a used authorisation cannot be revoked", errors.AuthorisationInUse),
        ("Conflict [too-many-authorised]: AuthoriseReimburser: bill 1/2 already has 10 authorised reimbursers; revoke an unused one first", errors.TooManyAuthorised),
        ("Forbidden [not-authorised]: ClaimBill: bill 1/2 is locked by MEDINS-HN, not by PICC-HN; only the lock holder may do this", errors.NotAuthorised),
        ("Forbidden [not-authorised]: LockBill: reimburser PICC-HN is not authorised on bill 1/2; the payer must authorise it first", errors.NotAuthorised),
        ("Internal [internal]: internal error", errors.InternalError),
    ],
)  # fmt: skip
def test_chaincode_errors_map_by_code(message: str, expected: type) -> None:
    error = domain_error(endorse_error(message), function="AnyFunction")
    assert type(error) is expected
    assert error.kind == message.split(" ")[0]
    assert error.code == message.split("[")[1].split("]")[0]
    assert error.message == message.split(": ", 1)[1]
    assert error.transaction_id == TX
    assert error.anomaly_id is None
    assert error.function == "AnyFunction"


def test_evaluate_errors_are_mapped_too() -> None:
    error = domain_error(evaluate_error("NotFound [not-found]: bill 46010126/0000000009 not found"))
    assert isinstance(error, errors.NotFound)
    assert error.message == "bill 46010126/0000000009 not found"


def _bill(status: str, **extra: Any) -> dict[str, Any]:
    bill = {"billCode": "46010126", "billNumber": "0000000001", "unitCode": "HN0101"}
    bill.update(status=status, kind="normal", issueDate="2026-11-28T09:30:00+08:00")
    bill.update(extra)
    return bill


EXPECTED_REFUSALS: dict[str, type[errors.EbillError]] = {
    "is already locked": errors.BillLocked,
    "is locked for a claim": errors.BillLocked,
    "is fully reimbursed (closed)": errors.AlreadyReimbursed,
    "is red-lettered (void)": errors.BillRedLettered,
    "is already red-lettered": errors.BillRedLettered,
    "is archived": errors.BillArchived,
    "is already archived": errors.BillArchived,
    "has been claimed": errors.BillClaimed,
    "is not locked": errors.BillNotLocked,
    "is not locked; LockBill first": errors.BillNotLocked,
}

REFUSALS = [
    (action, status, outcome)
    for action, row in lifecycle.TABLE.items()
    for status, outcome in row.items()
    if isinstance(outcome, lifecycle.Refusal)
]


def _chaincode_error(action: str, status: str) -> ChaincodeError:
    extra = {"lock": {"reimburserId": "MEDINS-HN"}} if status == lifecycle.LOCKED else {}
    with pytest.raises(ChaincodeError) as info:
        lifecycle.check(action, _bill(status, **extra))
    return info.value


@pytest.mark.parametrize(("action", "status", "refusal"), REFUSALS)
def test_every_life_cycle_refusal_maps_to_its_class(
    action: str, status: str, refusal: lifecycle.Refusal
) -> None:
    raised = _chaincode_error(action, status)
    expected = EXPECTED_REFUSALS[refusal.reason]
    error = domain_error(endorse_error(raised.message, raised.status), function=action)
    assert error.code == raised.code
    if isinstance(raised, Anomaly):
        # spooled by the finance chaincode under the proposal's transaction id
        assert error.anomaly_id == TX and error.transaction_id == TX
        assert error.anomaly_type == raised.anomaly_type == raised.code
    else:
        assert error.anomaly_id is None and error.anomaly_type is None
    assert type(error) is expected, (action, status, raised.text)
    assert isinstance(error, errors.Refused) and isinstance(error, errors.Conflict)


def test_red_bill_and_archive_age_refusals() -> None:
    red = _bill("issued", kind="red", redOf={"billCode": "46010126", "billNumber": "0000000002"})
    with pytest.raises(ChaincodeError) as info:
        lifecycle.check(lifecycle.LOCK, red)
    assert type(domain_error(endorse_error(info.value.message))) is errors.RedBill
    with pytest.raises(ChaincodeError) as info:
        lifecycle.check(lifecycle.ARCHIVE, _bill("issued"), dt.date(2026, 12, 1))
    assert type(domain_error(endorse_error(info.value.message))) is errors.TooEarlyToArchive


@pytest.mark.parametrize(
    ("function", "kind", "message", "expected", "anomaly_type"),
    [
        ("IssueBill", "Forbidden", "IssueBill: bill 46010126/0000200001 is outside the stock of unit HN0101: no approved batch holds this number", errors.OutOfStock, "issuance-outside-stock"),
        ("RedLetterBill", "Forbidden", "RedLetterBill: bill 46010126/0000200001 is outside the stock of unit HN0101: batch b is reconciled; its numbers are closed", errors.OutOfStock, "issuance-outside-stock"),
        ("IssueBill", "Forbidden", "IssueBill: unit HN0101 is suspended (audit)", errors.UnitSuspended, "issuance-by-suspended-unit"),
        ("ClaimBill", "Conflict", "ClaimBill: a claim of 30000 fen would take the reimbursed total of bill 1/2 to 30000 fen, above its 26850 fen; 26850 fen remain", errors.OverClaim, "over-claim"),
        ("LockBill", "Conflict", "LockBill: reimburser MEDINS-HN has already claimed bill 1/2; each reimburser claims a bill once", errors.RepeatedClaim, "repeated-claim"),
        ("ClaimBill", "Conflict", "ClaimBill: reimburser MEDINS-HN has already claimed bill 1/2; each reimburser claims a bill once", errors.RepeatedClaim, "repeated-claim"),
        ("RedLetterBill", "Conflict", "RedLetterBill: bill 1/2 has been claimed", errors.BillClaimed, "red-letter-after-claim"),
    ],
)  # fmt: skip
def test_anomaly_refusals_map_by_code_whatever_the_text(
    function: str, kind: str, message: str, expected: type, anomaly_type: str
) -> None:
    for text in (message, "reworded entirely"):
        wire = f"{kind} [{anomaly_type}]: {text}"
        error = domain_error(endorse_error(wire), function=function)
        assert type(error) is expected
        assert (error.kind, error.code, error.message) == (kind, anomaly_type, text)
    assert error.anomaly_id == TX
    assert error.anomaly_type == anomaly_type
    assert "logged as anomaly" in error.one_line()


def test_every_code_of_the_chaincode_is_mapped() -> None:
    assert set(errors.CODE_ERRORS) == set(CODES)
    assert set(TYPES) == errors.ANOMALY_CODES


def test_an_unknown_code_falls_back_to_its_kind() -> None:
    error = domain_error(endorse_error("Conflict [new-rule]: something new"))
    assert type(error) is errors.Conflict and error.code == "new-rule"


@pytest.mark.parametrize("code_name", ["MVCC_READ_CONFLICT", "PHANTOM_READ_CONFLICT"])
def test_mvcc_conflicts_are_transaction_conflicts(code_name: str) -> None:
    commit = fabricgw.CommitError(transaction_id=TX, code=11, code_name=code_name)
    error = domain_error(commit, function="LockBill")
    assert type(error) is errors.TransactionConflict
    assert isinstance(error, errors.Conflict)
    assert error.transaction_id == TX
    assert code_name in error.message and "same bill" in error.message


def test_other_invalid_commits_are_transaction_failures() -> None:
    commit = fabricgw.CommitError(
        transaction_id=TX, code=10, code_name="ENDORSEMENT_POLICY_FAILURE"
    )
    error = domain_error(commit, function="IssueBill")
    assert type(error) is errors.TransactionFailed
    assert not isinstance(error, errors.Conflict)


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (fabricgw.EvaluateError, grpc.StatusCode.UNAVAILABLE),
        (fabricgw.EndorseError, grpc.StatusCode.DEADLINE_EXCEEDED),
        (fabricgw.CommitStatusError, grpc.StatusCode.UNAVAILABLE),
    ],
)
def test_connection_failures_are_network_unavailable(cls: type, code: grpc.StatusCode) -> None:
    raw = cls(
        f"call failed for transaction {TX}: {code.name}: failed to connect to all addresses",
        transaction_id=TX,
        code=code,
    )
    error = domain_error(raw, function="ReadBill")
    assert type(error) is errors.NetworkUnavailable
    assert error.transaction_id == TX
    assert ("may still commit" in error.message) == (cls is fabricgw.CommitStatusError)
    assert "make network-up" in error.one_line()


def test_unrecognised_gateway_errors_keep_their_text() -> None:
    raw = fabricgw.EndorseError(
        "endorse failed: FAILED_PRECONDITION: requires endorsement from organisation(s)",
        transaction_id=TX,
        code=grpc.StatusCode.FAILED_PRECONDITION,
    )
    error = domain_error(raw)
    assert type(error) is errors.EbillError
    assert "FAILED_PRECONDITION" in error.message


def test_a_chaincode_message_without_a_kind_is_internal() -> None:
    error = domain_error(endorse_error("something odd", status=500))
    assert type(error) is errors.InternalError


def test_the_old_kind_only_form_is_not_parsed_from_prose() -> None:
    error = domain_error(endorse_error("Conflict: ClaimBill: bill 1/2 is fully reimbursed"))
    assert type(error) is errors.InternalError


def test_one_line_says_what_to_do() -> None:
    error = domain_error(
        endorse_error("Forbidden [not-authorised]: IssueBill may be called by issuer (UnitsMSP)")
    )
    line = error.one_line()
    assert "\n" not in line
    assert line.endswith(errors.NotAuthorised.hint)


def test_endorsers_that_disagree_are_a_transaction_conflict() -> None:
    raw = fabricgw.EndorseError(
        f"endorse failed for transaction {TX}: ABORTED: failed to collect enough transaction"
        " endorsements, see attached details for more info",
        transaction_id=TX,
        code=grpc.StatusCode.ABORTED,
        details=[fabricgw.ErrorDetail("a", "UnitsMSP", "ProposalResponsePayloads do not match")],
    )
    error = domain_error(raw, function="ClaimBill")
    assert type(error) is errors.TransactionConflict and error.transaction_id == TX


# --- node failures, details and unknown outcomes ------------------------------------------

PEER_DOWN = fabricgw.ErrorDetail(
    address="127.0.0.1:27092",
    msp_id="UnitsMSP",
    message="failed to send transaction to peer: connection refused",
)


def test_aborted_with_the_peers_details_is_a_node_failure_that_keeps_them() -> None:
    raw = fabricgw.EndorseError(
        f"endorse failed for transaction {TX}: ABORTED: failed to collect enough transaction"
        " endorsements, see attached details for more info",
        transaction_id=TX,
        code=grpc.StatusCode.ABORTED,
        details=[PEER_DOWN],
    )
    error = domain_error(raw, function="IssueBill")
    assert type(error) is errors.NodeUnavailable
    assert isinstance(error, errors.NetworkUnavailable)
    assert error.details == (PEER_DOWN,)
    assert "127.0.0.1:27092 (UnitsMSP): failed to send transaction" in str(error)
    assert not error.outcome_unknown
    assert "make network-up" not in error.one_line()
    assert "ebill-network restart" in error.one_line()


def test_the_network_up_hint_only_when_no_peer_answers_at_all() -> None:
    silent = fabricgw.EvaluateError(
        f"evaluate failed for transaction {TX}: UNAVAILABLE: failed to connect to all addresses",
        transaction_id=TX,
        code=grpc.StatusCode.UNAVAILABLE,
    )
    assert "make network-up" in domain_error(silent).one_line()
    orderers = fabricgw.SubmitError(
        f"submit failed for transaction {TX}: UNAVAILABLE: no orderers could successfully"
        " process transaction",
        transaction_id=TX,
        code=grpc.StatusCode.UNAVAILABLE,
        details=[fabricgw.ErrorDetail("127.0.0.1:27050", "OrdererMSP", "rpc error: EOF")],
    )
    error = domain_error(orderers)
    assert type(error) is errors.NodeUnavailable
    assert "make network-up" not in error.one_line()


def test_an_unknown_outcome_carries_the_transaction_id_and_says_to_resolve_it() -> None:
    raw = fabricgw.SubmitError(
        f"submit failed for transaction {TX}: DEADLINE_EXCEEDED: Deadline Exceeded",
        transaction_id=TX,
        code=grpc.StatusCode.DEADLINE_EXCEEDED,
    )
    error = domain_error(raw, function="IssueBill")
    assert isinstance(error, errors.NetworkUnavailable)
    assert error.outcome_unknown and error.transaction_id == TX
    assert "may still commit" in error.message
    assert "resolve its transaction id" in error.one_line()
    refused = fabricgw.SubmitError(
        f"submit failed for transaction {TX}: ABORTED: received unsuccessful response",
        transaction_id=TX,
        code=grpc.StatusCode.ABORTED,
    )
    assert not domain_error(refused).outcome_unknown


def test_a_refused_identity_is_not_authorised() -> None:
    raw = fabricgw.EndorseError(
        f"endorse failed for transaction {TX}: PERMISSION_DENIED: access denied",
        transaction_id=TX,
        code=grpc.StatusCode.PERMISSION_DENIED,
    )
    assert type(domain_error(raw)) is errors.NotAuthorised


def test_an_unavailable_the_gateway_sent_is_a_node_failure_not_a_stopped_network() -> None:
    raw = fabricgw.EndorseError(
        f"endorse failed for transaction {TX}: UNAVAILABLE: failed to find any endorsing peers"
        " for org(s): UnitsMSP",
        transaction_id=TX,
        code=grpc.StatusCode.UNAVAILABLE,
    )
    error = domain_error(raw)
    assert type(error) is errors.NodeUnavailable
    assert "make network-up" not in error.one_line()
