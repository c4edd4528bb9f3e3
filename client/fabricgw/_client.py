"""Thin wrapper over the generated Gateway and Deliver stubs: default timeouts, error
mapping, and the retries of :mod:`fabricgw.retry` (sync I/O; the asyncio twin is
:mod:`fabricgw.aio._client`)."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
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
from .retry import DEFAULT_RETRY, CommitWait, RetryPolicy, SubmitAttempts


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
    """What the sync and asyncio clients share: default timeouts, the retry policy, the
    number of gateway endpoints (the primary first) and the closed flag."""

    def __init__(
        self, *, timeouts: Timeouts, retry: RetryPolicy = DEFAULT_RETRY, endpoints: int = 1
    ) -> None:
        if not isinstance(retry, RetryPolicy):
            raise ValueError(f"retry must be a fabricgw.RetryPolicy, got {retry!r}")
        self.timeouts = timeouts
        self.retry = retry
        self.endpoints = endpoints
        self.closed = False

    def check_open(self) -> None:
        """Raise :class:`GatewayError` if the Gateway was closed."""
        if self.closed:
            raise GatewayError("gateway is closed")

    def submit_attempts(self, timeout: float | None) -> SubmitAttempts:
        """The plan of one Submit (see :class:`~fabricgw.retry.SubmitAttempts`)."""
        return SubmitAttempts(
            self.retry, self.endpoints, timeout if timeout is not None else self.timeouts.submit
        )

    def commit_wait(
        self, transaction_id: str, timeout: float | None, *, can_resubmit: bool
    ) -> CommitWait:
        """The plan of one commit status wait (see :class:`~fabricgw.retry.CommitWait`)."""
        total = timeout if timeout is not None else self.timeouts.commit_status
        return CommitWait(
            self.retry, transaction_id, self.endpoints, total, can_resubmit=can_resubmit
        )


class GatewayClient(ClientBase):
    """Calls the Gateway and Deliver services on gRPC channels it does not own.

    ``channel`` is the primary gateway; ``fallback_channels`` (other orgs' gateway
    peers) receive only what :mod:`fabricgw.retry` sends again: a signed envelope
    whose Submit failed, and commit status requests. Evaluate, Endorse (which may
    carry transient data) and event streams use the primary alone.
    """

    def __init__(
        self,
        channel: grpc.Channel,
        *,
        timeouts: Timeouts,
        retry: RetryPolicy = DEFAULT_RETRY,
        fallback_channels: Sequence[grpc.Channel] = (),
    ) -> None:
        channels = [channel, *fallback_channels]
        super().__init__(timeouts=timeouts, retry=retry, endpoints=len(channels))
        self._stubs: list[Any] = [gateway_pb2_grpc.GatewayStub(c) for c in channels]
        self._stub: Any = self._stubs[0]
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
        """Call Submit, the same request again on the next endpoint after ``UNAVAILABLE``
        or a timeout (:class:`~fabricgw.retry.SubmitAttempts`).

        Raises :class:`SubmitError` (the last failure), or ``GatewayError`` if closed.
        """
        plan = self.submit_attempts(timeout)
        while (attempt := plan.next()) is not None:
            time.sleep(attempt.pause)
            try:
                return self._submit_once(request, attempt.endpoint, attempt.timeout)
            except SubmitError as err:
                plan.failed(err)
        raise plan.final_error()

    def commit_status(
        self,
        request: Any,
        *,
        transaction_id: str,
        timeout: float | None,
        submit_request: Any = None,
    ) -> Any:
        """Wait for the commit status in slices (:class:`~fabricgw.retry.CommitWait`),
        sending ``submit_request`` (the signed envelope, if given) again when no status
        comes. Raises :class:`CommitStatusError`, or ``GatewayError`` if closed.
        """
        plan = self.commit_wait(transaction_id, timeout, can_resubmit=submit_request is not None)
        while (attempt := plan.next()) is not None:
            time.sleep(attempt.pause)
            if attempt.resubmit:
                wait_submit = plan.resubmit_timeout(self.timeouts.submit)
                try:
                    self._submit_once(submit_request, attempt.endpoint, wait_submit)
                except SubmitError as err:
                    plan.resubmit_failed(err)
            try:
                return self._call(
                    self._stubs[attempt.endpoint].CommitStatus,
                    request,
                    attempt.timeout,
                    CommitStatusError,
                    transaction_id,
                )
            except CommitStatusError as err:
                plan.failed(err)
        raise plan.final_error()

    def _submit_once(self, request: Any, endpoint: int, timeout: float) -> Any:
        return self._call(
            self._stubs[endpoint].Submit,
            request,
            timeout,
            SubmitError,
            str(request.transaction_id),
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
