"""Error types, error detail parsing and chaincode message extraction (no server)."""

from __future__ import annotations

import grpc

from fabricgw import errors
from fabricgw._protos import gateway_pb2, identities_pb2, status_pb2
from fabricgw.commit import validation_code_name


def status_bytes(*messages: tuple[str, str, str], extra: bool = False) -> bytes:
    status = status_pb2.Status(code=10, message="failed to endorse transaction")
    for address, msp_id, message in messages:
        status.details.add().Pack(
            gateway_pb2.ErrorDetail(address=address, msp_id=msp_id, message=message)
        )
    if extra:  # a detail of another type is skipped
        status.details.add().Pack(identities_pb2.SerializedIdentity(mspid="x"))
    data: bytes = status.SerializeToString()
    return data


def test_parse_status_details() -> None:
    data = status_bytes(
        ("peer0.org1:7051", "Org1MSP", "chaincode response 409, Conflict: bill B1 already exists"),
        ("peer0.org2:9051", "Org2MSP", "some other failure"),
        extra=True,
    )
    details = errors.parse_status_details(data)
    assert details == [
        errors.ErrorDetail(
            "peer0.org1:7051", "Org1MSP", "chaincode response 409, Conflict: bill B1 already exists"
        ),
        errors.ErrorDetail("peer0.org2:9051", "Org2MSP", "some other failure"),
    ]
    assert details[0].chaincode_response == errors.ChaincodeResponse(
        409, "Conflict: bill B1 already exists"
    )
    assert details[1].chaincode_response is None
    assert errors.parse_status_details(b"\xff\xfe garbage") == []
    assert errors.parse_status_details(b"") == []


def test_chaincode_message_extraction() -> None:
    assert (
        errors.chaincode_message("chaincode response 409, Conflict: bill X already exists")
        == "Conflict: bill X already exists"
    )
    assert (
        errors.chaincode_message(
            "evaluate call to endorser returned error: chaincode response 404, NotFound: bill B9"
        )
        == "NotFound: bill B9"
    )
    assert errors.parse_chaincode_response(
        "chaincode response 400, InvalidArgument: amount: must be > 0"
    ) == errors.ChaincodeResponse(400, "InvalidArgument: amount: must be > 0")
    assert errors.chaincode_message("chaincode response 403, Forbidden: line1\nline2") == (
        "Forbidden: line1\nline2"
    )
    assert errors.chaincode_message("failed to collect enough endorsements") is None


def test_endorse_error_str_includes_peer_messages() -> None:
    details = [
        errors.ErrorDetail(
            "peer0.org1:7051", "Org1MSP", "chaincode response 409, Conflict: bill B1 already exists"
        )
    ]
    err = errors.EndorseError(
        "endorse failed for transaction tx1: ABORTED: failed to endorse transaction",
        transaction_id="tx1",
        code=grpc.StatusCode.ABORTED,
        details=details,
    )
    assert isinstance(err, errors.TransactionError)
    assert isinstance(err, errors.GatewayError)
    text = str(err)
    assert text.splitlines()[0].startswith("endorse failed for transaction tx1")
    assert (
        "peer0.org1:7051 (Org1MSP): chaincode response 409, Conflict: bill B1 already exists"
        in (text)
    )
    assert err.chaincode_message == "Conflict: bill B1 already exists"
    assert err.chaincode_response == errors.ChaincodeResponse(
        409, "Conflict: bill B1 already exists"
    )


def test_chaincode_message_falls_back_to_error_message() -> None:
    err = errors.EvaluateError(
        "evaluate failed: UNKNOWN: evaluate call to endorser returned error: "
        "chaincode response 404, NotFound: bill B2",
        transaction_id="t",
    )
    assert err.details == ()
    assert err.chaincode_message == "NotFound: bill B2"
    assert errors.GatewayError("plain").chaincode_message is None
    assert str(errors.GatewayError("plain")) == "plain"


def test_commit_error() -> None:
    err = errors.CommitError(transaction_id="tx9", code=11, code_name="MVCC_READ_CONFLICT")
    assert isinstance(err, errors.GatewayError)
    assert err.transaction_id == "tx9"
    assert err.validation_code == 11
    assert err.code_name == "MVCC_READ_CONFLICT"
    assert err.code is None
    assert str(err) == "transaction tx9 failed to commit with status code 11 (MVCC_READ_CONFLICT)"


def test_validation_code_names() -> None:
    assert validation_code_name(0) == "VALID"
    assert validation_code_name(11) == "MVCC_READ_CONFLICT"
    assert validation_code_name(10) == "ENDORSEMENT_POLICY_FAILURE"
    assert validation_code_name(9999) == "UNKNOWN_9999"


class _FakeRpcError(grpc.RpcError):  # type: ignore[misc]
    def __init__(self, metadata: tuple[tuple[str, bytes | str], ...]) -> None:
        self._metadata = metadata

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.ABORTED

    def details(self) -> str:
        return "failed to endorse transaction, see attached details for more info"

    def trailing_metadata(self) -> tuple[tuple[str, bytes | str], ...]:
        return self._metadata


def test_from_rpc_error() -> None:
    data = status_bytes(("peer1:7051", "Org2MSP", "chaincode response 403, Forbidden: not owner"))
    rpc_error = _FakeRpcError((("other", "x"), (errors.STATUS_DETAILS_KEY, data)))
    err = errors.EndorseError.from_rpc_error(rpc_error, "tx5")
    assert isinstance(err, errors.EndorseError)
    assert err.code is grpc.StatusCode.ABORTED
    assert err.transaction_id == "tx5"
    assert err.details == (
        errors.ErrorDetail("peer1:7051", "Org2MSP", "chaincode response 403, Forbidden: not owner"),
    )
    assert err.message == (
        "endorse failed for transaction tx5: ABORTED: "
        "failed to endorse transaction, see attached details for more info"
    )
    assert err.chaincode_message == "Forbidden: not owner"
    # An error with no status methods still maps.
    bare = errors.SubmitError.from_rpc_error(grpc.RpcError("boom"), "tx6")
    assert bare.code is None and bare.details == ()
    assert bare.message == "submit failed for transaction tx6: UNKNOWN: boom"
