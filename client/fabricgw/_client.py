"""Thin wrapper over the generated Gateway stub: default timeouts and error mapping."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc

from ._protos import gateway_pb2_grpc
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


class GatewayClient:
    """Calls the Gateway service on a gRPC channel it does not own."""

    def __init__(self, channel: grpc.Channel, *, timeouts: Timeouts) -> None:
        self._stub: Any = gateway_pb2_grpc.GatewayStub(channel)
        self.timeouts = timeouts
        self.closed = False

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

    def _call(
        self,
        method: Any,
        request: Any,
        timeout: float,
        error_type: type[TransactionError],
        transaction_id: str,
    ) -> Any:
        if self.closed:
            raise GatewayError("gateway is closed")
        try:
            return method(request, timeout=timeout)
        except grpc.RpcError as err:
            raise error_type.from_rpc_error(err, transaction_id) from err
