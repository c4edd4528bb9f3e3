"""Thin wrapper over the generated Gateway and Deliver stubs on a ``grpc.aio`` channel."""

from __future__ import annotations

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


class AsyncGatewayClient(ClientBase):
    """Calls the Gateway and Deliver services on a ``grpc.aio.Channel`` it does not own."""

    def __init__(self, channel: grpc.aio.Channel, *, timeouts: Timeouts) -> None:
        super().__init__(timeouts=timeouts)
        self._stub: Any = gateway_pb2_grpc.GatewayStub(channel)
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
        """Call Submit. Raises :class:`SubmitError`, or ``GatewayError`` if closed."""
        return await self._call(
            self._stub.Submit,
            request,
            timeout if timeout is not None else self.timeouts.submit,
            SubmitError,
            str(request.transaction_id),
        )

    async def commit_status(
        self, request: Any, *, transaction_id: str, timeout: float | None
    ) -> Any:
        """Call CommitStatus. Raises :class:`CommitStatusError`, or ``GatewayError`` if closed."""
        return await self._call(
            self._stub.CommitStatus,
            request,
            timeout if timeout is not None else self.timeouts.commit_status,
            CommitStatusError,
            transaction_id,
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
