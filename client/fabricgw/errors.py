"""Errors raised by the Gateway client.

Hierarchy::

    GatewayError                  any failure of this client (``message``; ``code``
    |                             and ``details`` when a gRPC call failed)
    +-- TransactionError          a gRPC call about one transaction failed (``transaction_id``,
    |   |                         ``outcome_unknown``, ``resolve(network)``)
    |   +-- EvaluateError         Evaluate call failed (nothing was submitted)
    |   +-- EndorseError          Endorse call failed (nothing was submitted)
    |   +-- SubmitError           Submit call failed: not accepted for ordering, or (timed
    |   |                         out, gateway gone) unknown whether an orderer has it
    |   +-- CommitStatusError     no commit status came (commit outcome unknown)
    +-- CommitError               the transaction was committed but marked invalid
    +-- EventsError               an event stream (chaincode or block events) failed

The official clients raise a plain ``GatewayError`` for evaluate failures;
here :class:`EvaluateError` is raised instead, which is a ``GatewayError``, so
``except GatewayError`` catches it as well.

``str(error)`` holds the message followed by one line per node that reported
an error, e.g.::

    endorse failed for transaction 3f...: ABORTED: failed to endorse transaction, ...
      - peer0.org1.example.com:7051 (Org1MSP): chaincode response 409, Conflict: bill X exists

An error whose ``outcome_unknown`` is true (a :class:`CommitStatusError`, or a
:class:`SubmitError` that timed out or lost its gateway) may still commit. Its
``resolve(network)`` asks the commit status of its ``transaction_id`` (through every
gateway endpoint of ``network``) and returns the :class:`~fabricgw.commit.Status`,
or raises :class:`CommitStatusError` while it is still unknown. Retry only after
that, and with the same transaction (``Transaction.submit`` again), never a new one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, Self, TypeVar

import grpc

from ._protos import gateway_pb2, status_pb2

STATUS_DETAILS_KEY = "grpc-status-details-bin"
"""Trailing metadata key carrying a serialized ``google.rpc.Status``."""

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

#: Submit failures after which an orderer may still have the transaction.
_SUBMIT_UNKNOWN = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
)


class CommitStatusSource(Protocol[T_co]):
    """A ``Network`` (``Status``) or ``AsyncNetwork`` (an awaitable ``Status``)."""

    def get_commit_status(self, transaction_id: str, *, timeout: float | None = None) -> T_co:
        """Resolve the outcome of ``transaction_id``."""
        ...


_CHAINCODE_RESPONSE = re.compile(r"chaincode response (\d+), (.*)", re.DOTALL)


class ChaincodeResponse(NamedTuple):
    """Status and message of an error response written by the chaincode."""

    status: int
    message: str


def parse_chaincode_response(text: str) -> ChaincodeResponse | None:
    """Find ``chaincode response NNN, <message>`` in ``text`` (as written by the Fabric gateway).

    Returns ``None`` if ``text`` has no such part. Never raises.
    """
    match = _CHAINCODE_RESPONSE.search(text)
    if match is None:
        return None
    return ChaincodeResponse(int(match.group(1)), match.group(2))


def chaincode_message(text: str) -> str | None:
    """Return the chaincode's own message from ``text``, e.g. ``Conflict: bill X already exists``.

    Returns ``None`` if ``text`` has no ``chaincode response NNN, ...`` part. Never raises.
    """
    response = parse_chaincode_response(text)
    return None if response is None else response.message


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """Error reported by one Fabric node (peer or orderer) the gateway called."""

    address: str
    msp_id: str
    message: str

    @property
    def chaincode_response(self) -> ChaincodeResponse | None:
        """Chaincode status and message if this detail is a chaincode error response."""
        return parse_chaincode_response(self.message)

    def __str__(self) -> str:
        return f"{self.address} ({self.msp_id}): {self.message}"


class GatewayError(Exception):
    """Base class of all errors raised by this client.

    ``code`` is the gRPC status code and ``details`` the per-node errors when a
    gRPC call failed; otherwise ``code`` is ``None`` and ``details`` is empty.
    The original ``grpc.RpcError`` is available as ``__cause__``.
    """

    def __init__(
        self,
        message: str,
        *,
        code: grpc.StatusCode | None = None,
        details: Sequence[ErrorDetail] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.details: tuple[ErrorDetail, ...] = tuple(details)

    def __str__(self) -> str:
        return "\n".join([self.message, *(f"  - {detail}" for detail in self.details)])

    @property
    def chaincode_response(self) -> ChaincodeResponse | None:
        """First chaincode error response found in the details, else in the message."""
        for text in (*(detail.message for detail in self.details), self.message):
            response = parse_chaincode_response(text)
            if response is not None:
                return response
        return None

    @property
    def chaincode_message(self) -> str | None:
        """The chaincode's message (e.g. ``NotFound: bill X``), or ``None`` if there is none."""
        response = self.chaincode_response
        return None if response is None else response.message


class TransactionError(GatewayError):
    """A gRPC call about the transaction ``transaction_id`` failed."""

    operation = "transaction"

    def __init__(
        self,
        message: str,
        *,
        transaction_id: str,
        code: grpc.StatusCode | None = None,
        details: Sequence[ErrorDetail] = (),
    ) -> None:
        super().__init__(message, code=code, details=details)
        self.transaction_id = transaction_id

    @property
    def outcome_unknown(self) -> bool:
        """Whether the transaction may have been ordered (and may commit) despite this error.

        False for evaluate and endorse failures (nothing was submitted) and for a
        submit the orderers refused; true for a commit status that did not come and a
        submit that timed out or lost its gateway.
        """
        return False

    def resolve(self, network: CommitStatusSource[T], *, timeout: float | None = None) -> T:
        """The commit status of :attr:`transaction_id` from ``network`` (a ``Network``, or
        an ``AsyncNetwork``: then await the result).

        Returns the :class:`~fabricgw.commit.Status` once the transaction committed (check
        ``successful``); raises :class:`CommitStatusError` while it is still unknown after
        ``timeout`` (default the Gateway's commit status timeout).
        """
        return network.get_commit_status(self.transaction_id, timeout=timeout)

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError, transaction_id: str) -> Self:
        """Build this error from a failed gRPC call, parsing the error details it carries."""
        code = rpc_status_code(error)
        text = rpc_error_message(error)
        code_name = code.name if code is not None else "UNKNOWN"
        message = f"{cls.operation} failed for transaction {transaction_id}: {code_name}: {text}"
        return cls(
            message,
            transaction_id=transaction_id,
            code=code,
            details=error_details_from_rpc_error(error),
        )


class EvaluateError(TransactionError):
    """The Evaluate call failed (for example the chaincode returned an error)."""

    operation = "evaluate"


class EndorseError(TransactionError):
    """The Endorse call failed: the proposal was not endorsed, nothing was submitted."""

    operation = "endorse"


class SubmitError(TransactionError):
    """The Submit call failed: the endorsed transaction was not accepted for ordering.

    When it timed out or the gateway went away (``outcome_unknown``) an orderer may
    still have it: resolve it (:meth:`resolve`) or submit the same transaction again.
    """

    operation = "submit"

    @property
    def outcome_unknown(self) -> bool:
        """True unless the gateway answered that the orderers refused the transaction."""
        return self.code is None or self.code in _SUBMIT_UNKNOWN


class CommitStatusError(TransactionError):
    """No commit status came: whether the transaction committed is unknown (:meth:`resolve`)."""

    operation = "commit status"

    @property
    def outcome_unknown(self) -> bool:
        """Always true: the transaction may still commit."""
        return True


class CommitError(GatewayError):
    """The transaction was committed to the ledger but marked invalid.

    ``validation_code`` is the ``TxValidationCode`` number (e.g. 11) and
    ``code_name`` its name (e.g. ``MVCC_READ_CONFLICT``). There was no gRPC
    failure, so the inherited ``code`` is ``None`` and ``details`` is empty.
    """

    def __init__(
        self, *, transaction_id: str, code: int, code_name: str, block_number: int = 0
    ) -> None:
        super().__init__(
            f"transaction {transaction_id} failed to commit with status code {code} ({code_name})"
        )
        self.transaction_id = transaction_id
        self.validation_code = code
        self.code_name = code_name
        self.block_number = block_number


class EventsError(GatewayError):
    """An event stream failed while being read: chaincode events or block events.

    ``code`` is the gRPC status code (e.g. ``DEADLINE_EXCEEDED`` when the
    stream's timeout passed, ``UNAVAILABLE`` when the peer went away);
    ``details`` are the per-node errors the gateway attached, if any. A
    ``DeliverResponse`` status ending a block stream early (e.g. ``FORBIDDEN``)
    has no gRPC code: ``code`` is ``None`` and the status is in the message.
    """

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError, stream: str) -> Self:
        """Build this error from the failure of the ``stream`` (e.g. ``chaincode events``) call."""
        code = rpc_status_code(error)
        code_name = code.name if code is not None else "UNKNOWN"
        return cls(
            f"{stream} failed: {code_name}: {rpc_error_message(error)}",
            code=code,
            details=error_details_from_rpc_error(error),
        )


def rpc_status_code(error: grpc.RpcError) -> grpc.StatusCode | None:
    """gRPC status code of a failed call, or ``None`` if the error carries none. Never raises."""
    code_fn = getattr(error, "code", None)
    if not callable(code_fn):
        return None
    code = code_fn()
    return code if isinstance(code, grpc.StatusCode) else None


def rpc_error_message(error: grpc.RpcError) -> str:
    """Status message of a failed call (falls back to ``str(error)``). Never raises."""
    details_fn = getattr(error, "details", None)
    if callable(details_fn):
        text = details_fn()
        if isinstance(text, str) and text:
            return text
    return str(error)


def error_details_from_rpc_error(error: grpc.RpcError) -> list[ErrorDetail]:
    """Parse the gateway ``ErrorDetail`` list from a failed call's trailing metadata.

    Returns an empty list if there are none or they do not decode. Never raises.
    """
    metadata_fn = getattr(error, "trailing_metadata", None)
    if not callable(metadata_fn):
        return []
    metadata: Iterable[tuple[str, Any]] | None = metadata_fn()
    details: list[ErrorDetail] = []
    for key, value in metadata or ():
        if key == STATUS_DETAILS_KEY:
            raw = value.encode("latin-1") if isinstance(value, str) else bytes(value)
            details.extend(parse_status_details(raw))
    return details


def parse_status_details(status_bytes: bytes) -> list[ErrorDetail]:
    """Parse a serialized ``google.rpc.Status`` and return its gateway ``ErrorDetail`` entries.

    Details of other types are skipped. Returns an empty list if the bytes do
    not decode. Never raises.
    """
    status = status_pb2.Status()
    try:
        status.ParseFromString(status_bytes)
    except Exception:  # protobuf DecodeError
        return []
    details: list[ErrorDetail] = []
    for packed in status.details:
        detail = gateway_pb2.ErrorDetail()
        if not packed.Is(detail.DESCRIPTOR):
            continue
        try:
            packed.Unpack(detail)
        except Exception:  # protobuf DecodeError
            continue
        details.append(
            ErrorDetail(
                address=str(detail.address), msp_id=str(detail.msp_id), message=str(detail.message)
            )
        )
    return details


__all__ = [
    "STATUS_DETAILS_KEY",
    "ChaincodeResponse",
    "CommitError",
    "CommitStatusSource",
    "CommitStatusError",
    "EndorseError",
    "ErrorDetail",
    "EvaluateError",
    "EventsError",
    "GatewayError",
    "SubmitError",
    "TransactionError",
    "chaincode_message",
    "error_details_from_rpc_error",
    "parse_chaincode_response",
    "parse_status_details",
    "rpc_error_message",
    "rpc_status_code",
]
