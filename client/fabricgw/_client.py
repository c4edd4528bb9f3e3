"""Thin wrapper over the generated Gateway and Deliver stubs: default timeouts and error mapping."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import grpc

from ._protos import events_pb2_grpc, gateway_pb2_grpc
from .errors import (
    CommitStatusError,
    EndorseError,
    EvaluateError,
    GatewayError,
    SubmitError,
    TransactionError,
)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Default deadlines, in seconds, of each Gateway call."""

    evaluate: float = 5.0
    endorse: float = 15.0
    submit: float = 5.0
    commit_status: float = 60.0

    @classmethod
    def checked(
        cls, *, evaluate: float, endorse: float, submit: float, commit_status: float
    ) -> Timeouts:
        """Build from ``connect()`` options.

        Raises ``ValueError`` naming the option (e.g. ``endorse_timeout``) for a
        value that is not a positive finite number.
        """
        return cls(
            evaluate=_positive("evaluate_timeout", evaluate),
            endorse=_positive("endorse_timeout", endorse),
            submit=_positive("submit_timeout", submit),
            commit_status=_positive("commit_status_timeout", commit_status),
        )


#: The one place the default deadlines are written; every ``connect()`` takes them from here.
DEFAULT_TIMEOUTS = Timeouts()


def _positive(name: str, value: float) -> float:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)


class ClientBase:
    """What the sync and asyncio clients share: default timeouts and the closed flag."""

    def __init__(self, *, timeouts: Timeouts) -> None:
        self.timeouts = timeouts
        self.closed = False

    def check_open(self) -> None:
        """Raise :class:`GatewayError` if the Gateway was closed."""
        if self.closed:
            raise GatewayError("gateway is closed")


class GatewayClient(ClientBase):
    """Calls the Gateway and Deliver services on a gRPC channel it does not own."""

    def __init__(self, channel: grpc.Channel, *, timeouts: Timeouts) -> None:
        super().__init__(timeouts=timeouts)
        self._stub: Any = gateway_pb2_grpc.GatewayStub(channel)
        self._deliver: Any = events_pb2_grpc.DeliverStub(channel)

    def evaluate(self, request: Any, *, timeout: float | None) -> Any:
        """Call Evaluate. Raises :class:`EvaluateError`, or ``GatewayError`` if closed."""
        return self._call(
            self._stub.Evaluate,
            request,
            timeout if timeout is not None else self.timeouts.evaluate,
            EvaluateError,
            str(request.transaction_id),
        )

    def endorse(self, request: Any, *, timeout: float | None) -> Any:
        """Call Endorse. Raises :class:`EndorseError`, or ``GatewayError`` if closed."""
        return self._call(
            self._stub.Endorse,
            request,
            timeout if timeout is not None else self.timeouts.endorse,
            EndorseError,
            str(request.transaction_id),
        )

    def submit(self, request: Any, *, timeout: float | None) -> Any:
        """Call Submit. Raises :class:`SubmitError`, or ``GatewayError`` if closed."""
        return self._call(
            self._stub.Submit,
            request,
            timeout if timeout is not None else self.timeouts.submit,
            SubmitError,
            str(request.transaction_id),
        )

    def commit_status(self, request: Any, *, transaction_id: str, timeout: float | None) -> Any:
        """Call CommitStatus. Raises :class:`CommitStatusError`, or ``GatewayError`` if closed."""
        return self._call(
            self._stub.CommitStatus,
            request,
            timeout if timeout is not None else self.timeouts.commit_status,
            CommitStatusError,
            transaction_id,
        )

    def chaincode_events(self, request: Any, *, timeout: float | None) -> Any:
        """Start the ChaincodeEvents stream; return the call (an iterator of responses).

        ``timeout`` ``None`` means no deadline. Raises ``GatewayError`` if closed;
        failures of the stream surface as ``grpc.RpcError`` while iterating.
        """
        self.check_open()
        return self._stub.ChaincodeEvents(request, timeout=timeout)

    def deliver(self, method: str, envelope: Any, *, timeout: float | None) -> Any:
        """Start Deliver service ``method`` with one seek ``envelope``; return the call.

        ``method`` is ``Deliver``, ``DeliverFiltered`` or ``DeliverWithPrivateData``.
        Raises as :meth:`chaincode_events`.
        """
        self.check_open()
        return getattr(self._deliver, method)(iter((envelope,)), timeout=timeout)

    def _call(
        self,
        method: Any,
        request: Any,
        timeout: float,
        error_type: type[TransactionError],
        transaction_id: str,
    ) -> Any:
        self.check_open()
        try:
            return method(request, timeout=timeout)
        except grpc.RpcError as err:
            raise error_type.from_rpc_error(err, transaction_id) from err
