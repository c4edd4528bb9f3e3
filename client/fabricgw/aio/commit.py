"""AsyncCommit: awaiting the commit status of a submitted transaction."""

from __future__ import annotations

from typing import Any

from ..commit import CommitBase, Status, status_from_response
from ..signing_identity import SigningIdentity
from ._client import AsyncGatewayClient


class AsyncCommit(CommitBase):
    """A submitted transaction whose commit status can be awaited.

    Signed with the Gateway's signer when first needed, unless a signature was
    supplied (off-line signing through ``AsyncGateway.new_signed_commit``).
    """

    def __init__(
        self,
        *,
        client: AsyncGatewayClient,
        signing_identity: SigningIdentity,
        transaction_id: str,
        signed_request: Any,
        submit_request: Any = None,
    ) -> None:
        super().__init__(
            signing_identity=signing_identity,
            transaction_id=transaction_id,
            signed_request=signed_request,
            submit_request=submit_request,
        )
        self._client = client

    async def status(self, *, timeout: float | None = None) -> Status:
        """Wait until the transaction is committed and return its :class:`~fabricgw.commit.Status`.

        Raises as :meth:`fabricgw.commit.Commit.status`.
        """
        response = await self._client.commit_status(
            self._signed(),
            transaction_id=self._transaction_id,
            timeout=timeout,
            submit_request=self._submit_request,
        )
        return status_from_response(self._transaction_id, response)


__all__ = ["AsyncCommit"]
