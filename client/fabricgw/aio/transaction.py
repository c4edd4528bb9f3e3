"""AsyncTransaction: an endorsed transaction, submitted with ``await``."""

from __future__ import annotations

from typing import Any

from ..signing_identity import SigningIdentity
from ..transaction import TransactionBase
from ._client import AsyncGatewayClient
from .commit import AsyncCommit


class AsyncTransaction(TransactionBase):
    """An endorsed transaction.

    Signed with the Gateway's signer when first needed, unless a signature was
    supplied (off-line signing through ``AsyncGateway.new_signed_transaction``).
    """

    def __init__(
        self,
        *,
        client: AsyncGatewayClient,
        signing_identity: SigningIdentity,
        prepared_transaction: Any,
    ) -> None:
        """Wrap a ``gateway.PreparedTransaction``. Raises ``GatewayError`` if unreadable."""
        super().__init__(
            signing_identity=signing_identity, prepared_transaction=prepared_transaction
        )
        self._client = client

    async def submit(self, *, timeout: float | None = None) -> AsyncCommit:
        """Send the transaction to the orderer; return an :class:`AsyncCommit` to await.

        Raises as :meth:`fabricgw.transaction.Transaction.submit`.
        """
        request, status_request = self._submit_messages()
        commit = AsyncCommit(
            client=self._client,
            signing_identity=self._signing_identity,
            transaction_id=self.transaction_id,
            signed_request=status_request,
            submit_request=self._resend_request(request),
        )
        await self._client.submit(request, timeout=timeout)
        return commit


__all__ = ["AsyncTransaction"]
