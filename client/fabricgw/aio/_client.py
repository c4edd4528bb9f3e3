"""Thin wrapper over the generated Gateway and Deliver stubs on ``grpc.aio`` channels.

The asyncio twin of :mod:`fabricgw._client`: only the I/O differs; which call is
retried where comes from :mod:`fabricgw.retry` for both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import grpc

from .._client import ClientBase, Timeouts
from .._protos import events_pb2_grpc, gateway_pb2_grpc
from ..errors import (
    CommitStatusError,
    EndorseError,
    EvaluateError,
    SubmitError,
    TransactionError,
)
from ..retry import DEFAULT_RETRY, RetryPolicy


class AsyncGatewayClient(ClientBase):
    """Calls the Gateway and Deliver services on ``grpc.aio`` channels it does not own.

    Endpoints as :class:`fabricgw._client.GatewayClient`.
    """

    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        timeouts: Timeouts,
        retry: RetryPolicy = DEFAULT_RETRY,
        fallback_channels: Sequence[grpc.aio.Channel] = (),
    ) -> None:
        channels = [channel, *fallback_channels]
        super().__init__(timeouts=timeouts, retry=retry, endpoints=len(channels))
        self._stubs: list[Any] = [gateway_pb2_grpc.GatewayStub(c) for c in channels]
        self._stub: Any = self._stubs[0]
        self._deliver: Any = events_pb2_grpc.DeliverStub(channel)

    async def evaluate(self, request: Any, *, timeout: float | None) -> Any:
        """Call Evaluate. Raises :class:`EvaluateError`, or ``GatewayError`` if closed."""
        return await self._call(
            self._stub.Evaluate,
            request,
            timeout if timeout is not None else self.timeouts.evaluate,
            EvaluateError,
            str(request.transaction_id),
        )

    async def endorse(self, request: Any, *, timeout: float | None) -> Any:
        """Call Endorse. Raises :class:`EndorseError`, or ``GatewayError`` if closed."""
        return await self._call(
            self._stub.Endorse,
            request,
            timeout if timeout is not None else self.timeouts.endorse,
            EndorseError,
            str(request.transaction_id),
        )

    async def submit(self, request: Any, *, timeout: float | None) -> Any:
        """Call Submit with retries. Raises as :meth:`fabricgw._client.GatewayClient.submit`."""
        plan = self.submit_attempts(timeout)
        while (attempt := plan.next()) is not None:
            await asyncio.sleep(attempt.pause)
            try:
                return await self._submit_once(request, attempt.endpoint, attempt.timeout)
            except SubmitError as err:
                plan.failed(err)
        raise plan.final_error()

    async def commit_status(
        self,
        request: Any,
        *,
        transaction_id: str,
        timeout: float | None,
        submit_request: Any = None,
    ) -> Any:
        """Wait for the commit status in slices, resending ``submit_request`` if given.

        Raises as :meth:`fabricgw._client.GatewayClient.commit_status`.
        """
        plan = self.commit_wait(transaction_id, timeout, can_resubmit=submit_request is not None)
        while (attempt := plan.next()) is not None:
            await asyncio.sleep(attempt.pause)
            if attempt.resubmit:
                wait_submit = plan.resubmit_timeout(self.timeouts.submit)
                try:
                    await self._submit_once(submit_request, attempt.endpoint, wait_submit)
                except SubmitError as err:
                    plan.resubmit_failed(err)
            try:
                return await self._call(
                    self._stubs[attempt.endpoint].CommitStatus,
                    request,
                    attempt.timeout,
                    CommitStatusError,
                    transaction_id,
                )
            except CommitStatusError as err:
                plan.failed(err)
        raise plan.final_error()

    async def _submit_once(self, request: Any, endpoint: int, timeout: float) -> Any:
        return await self._call(
            self._stubs[endpoint].Submit,
            request,
            timeout,
            SubmitError,
            str(request.transaction_id),
        )

    def chaincode_events(self, request: Any, *, timeout: float | None) -> Any:
        """Start the ChaincodeEvents stream; return the ``grpc.aio`` call.

        Call from the event loop of the channel. ``timeout`` ``None`` means no
        deadline. Raises ``GatewayError`` if closed.
        """
        self.check_open()
        return self._stub.ChaincodeEvents(request, timeout=timeout)

    def deliver(self, method: str, envelope: Any, *, timeout: float | None) -> Any:
        """Start Deliver service ``method`` with one seek ``envelope``; return the call.

        Raises as :meth:`chaincode_events`.
        """
        self.check_open()
        return getattr(self._deliver, method)(iter((envelope,)), timeout=timeout)

    async def _call(
        self,
        method: Any,
        request: Any,
        timeout: float,
        error_type: type[TransactionError],
        transaction_id: str,
    ) -> Any:
        self.check_open()
        try:
            return await method(request, timeout=timeout)
        except grpc.RpcError as err:
            raise error_type.from_rpc_error(err, transaction_id) from err


__all__ = ["AsyncGatewayClient"]
