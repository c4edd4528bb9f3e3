"""AsyncProposal: a transaction proposal evaluated or endorsed with ``await``."""

from __future__ import annotations

from typing import Any

from ..proposal import ProposalBase, evaluate_result
from ..signing_identity import SigningIdentity
from ._client import AsyncGatewayClient
from .transaction import AsyncTransaction


class AsyncProposal(ProposalBase):
    """A transaction proposal, evaluated as a query or endorsed for submission.

    Signed with the Gateway's signer when first needed, unless a signature was
    supplied (off-line signing through ``AsyncGateway.new_signed_proposal``).
    """

    def __init__(
        self,
        *,
        client: AsyncGatewayClient,
        signing_identity: SigningIdentity,
        channel_id: str,
        proposed_transaction: Any,
    ) -> None:
        super().__init__(
            signing_identity=signing_identity,
            channel_id=channel_id,
            proposed_transaction=proposed_transaction,
        )
        self._client = client

    async def evaluate(self, *, timeout: float | None = None) -> bytes:
        """Run the transaction function on a peer without ordering; return its result.

        Raises as :meth:`fabricgw.proposal.Proposal.evaluate`.
        """
        response = await self._client.evaluate(self._evaluate_request(), timeout=timeout)
        return evaluate_result(response)

    async def endorse(self, *, timeout: float | None = None) -> AsyncTransaction:
        """Collect endorsements; return the endorsed :class:`AsyncTransaction`.

        Raises as :meth:`fabricgw.proposal.Proposal.endorse`.
        """
        response = await self._client.endorse(self._endorse_request(), timeout=timeout)
        return AsyncTransaction(
            client=self._client,
            signing_identity=self._signing_identity,
            prepared_transaction=self._prepared_transaction(response),
        )


__all__ = ["AsyncProposal"]
