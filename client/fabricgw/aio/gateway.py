"""AsyncGateway: a client identity connected to a Fabric Gateway over a ``grpc.aio`` channel."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

import grpc

from .._client import DEFAULT_TIMEOUTS, Timeouts
from ..block_events import BlockEventsKind
from ..gateway import (
    GatewayBase,
    decode_block_events_request,
    decode_chaincode_events_request,
    decode_commit,
    decode_prepared_transaction,
    decode_proposal,
)
from ..hash import SHA256, Hash
from ..identity import Identity
from ..retry import DEFAULT_RETRY, RetryPolicy
from ..signers import Signer
from ..signing_identity import SigningIdentity
from ._client import AsyncGatewayClient
from .block_events import AsyncBlockEventsRequest
from .chaincode_events import AsyncChaincodeEventsRequest
from .commit import AsyncCommit
from .network import AsyncNetwork
from .proposal import AsyncProposal
from .transaction import AsyncTransaction


class AsyncGateway(GatewayBase):
    """Entry point of the asyncio API: networks (channels) and off-line signed messages.

    Behaves as :class:`fabricgw.gateway.Gateway`; closing it never closes the
    ``grpc.aio`` channel, which the caller owns. Usable with ``async with`` or ``with``.
    """

    def __init__(self, *, client: AsyncGatewayClient, signing_identity: SigningIdentity) -> None:
        super().__init__(client=client, signing_identity=signing_identity)
        self._client = client

    def get_network(self, name: str) -> AsyncNetwork:
        """Return the :class:`AsyncNetwork` for channel ``name``. Makes no call."""
        return AsyncNetwork(client=self._client, signing_identity=self._signing_identity, name=name)

    async def __aenter__(self) -> AsyncGateway:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __enter__(self) -> AsyncGateway:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # Off-line signing -------------------------------------------------------------

    def new_proposal(self, data: bytes) -> AsyncProposal:
        """Rebuild an :class:`AsyncProposal` from ``bytes()`` output. Raises ``GatewayError``."""
        decoded = decode_proposal(data)
        return AsyncProposal(
            client=self._client,
            signing_identity=self._signing_identity,
            channel_id=decoded.channel_id,
            proposed_transaction=decoded.proposed_transaction,
        )

    def new_signed_proposal(self, data: bytes, signature: bytes) -> AsyncProposal:
        """Rebuild an :class:`AsyncProposal` with a ``signature``. Raises ``GatewayError``."""
        proposal = self.new_proposal(data)
        proposal._set_signature(signature)
        return proposal

    def new_transaction(self, data: bytes) -> AsyncTransaction:
        """Rebuild an :class:`AsyncTransaction` from ``bytes()`` output. Raises ``GatewayError``."""
        return AsyncTransaction(
            client=self._client,
            signing_identity=self._signing_identity,
            prepared_transaction=decode_prepared_transaction(data),
        )

    def new_signed_transaction(self, data: bytes, signature: bytes) -> AsyncTransaction:
        """Rebuild an :class:`AsyncTransaction` with a ``signature``. Raises ``GatewayError``."""
        transaction = self.new_transaction(data)
        transaction._set_signature(signature)
        return transaction

    def new_commit(self, data: bytes) -> AsyncCommit:
        """Rebuild an :class:`AsyncCommit` from ``bytes()`` output. Raises ``GatewayError``."""
        decoded = decode_commit(data)
        return AsyncCommit(
            client=self._client,
            signing_identity=self._signing_identity,
            transaction_id=decoded.transaction_id,
            signed_request=decoded.signed_request,
        )

    def new_signed_commit(self, data: bytes, signature: bytes) -> AsyncCommit:
        """Rebuild an :class:`AsyncCommit` with a ``signature``. Raises ``GatewayError``."""
        commit = self.new_commit(data)
        commit._set_signature(signature)
        return commit

    def new_chaincode_events_request(self, data: bytes) -> AsyncChaincodeEventsRequest:
        """Rebuild an :class:`AsyncChaincodeEventsRequest` from ``bytes()`` output.

        Raises ``GatewayError`` if the bytes do not decode.
        """
        return AsyncChaincodeEventsRequest(
            client=self._client,
            signing_identity=self._signing_identity,
            signed_request=decode_chaincode_events_request(data),
        )

    def new_signed_chaincode_events_request(
        self, data: bytes, signature: bytes
    ) -> AsyncChaincodeEventsRequest:
        """Rebuild an :class:`AsyncChaincodeEventsRequest` with a ``signature``.

        Raises ``GatewayError`` if the bytes do not decode.
        """
        request = self.new_chaincode_events_request(data)
        request._set_signature(signature)
        return request

    def new_signed_block_events_request(
        self, data: bytes, signature: bytes, *, kind: BlockEventsKind = BlockEventsKind.BLOCK
    ) -> AsyncBlockEventsRequest:
        """Rebuild an :class:`AsyncBlockEventsRequest` of ``kind`` with a ``signature``.

        Raises ``GatewayError`` if the bytes do not decode.
        """
        request = AsyncBlockEventsRequest(
            client=self._client,
            signing_identity=self._signing_identity,
            kind=kind,
            envelope=decode_block_events_request(data),
        )
        request._set_signature(signature)
        return request


def connect(
    channel: grpc.aio.Channel,
    *,
    identity: Identity,
    signer: Signer | None = None,
    hash: Hash = SHA256,
    evaluate_timeout: float = DEFAULT_TIMEOUTS.evaluate,
    endorse_timeout: float = DEFAULT_TIMEOUTS.endorse,
    submit_timeout: float = DEFAULT_TIMEOUTS.submit,
    commit_status_timeout: float = DEFAULT_TIMEOUTS.commit_status,
    fallback_channels: Sequence[grpc.aio.Channel] = (),
    retry: RetryPolicy = DEFAULT_RETRY,
) -> AsyncGateway:
    """Create an :class:`AsyncGateway` for ``identity`` over an existing ``grpc.aio`` channel.

    Options as :func:`fabricgw.connect`. Makes no network call. Raises
    ``ValueError`` for a timeout that is not a positive finite number.
    """
    timeouts = Timeouts.checked(
        evaluate=evaluate_timeout,
        endorse=endorse_timeout,
        submit=submit_timeout,
        commit_status=commit_status_timeout,
    )
    return AsyncGateway(
        client=AsyncGatewayClient(
            channel, timeouts=timeouts, retry=retry, fallback_channels=fallback_channels
        ),
        signing_identity=SigningIdentity(identity, signer=signer, hash=hash),
    )


__all__ = ["AsyncGateway", "connect"]
