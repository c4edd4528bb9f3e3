"""AsyncContract: a smart contract whose transactions are evaluated and submitted with ``await``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from ..commit import check_committed
from ..contract import ContractBase
from ..proposal import Argument
from ..signing_identity import SigningIdentity
from ._client import AsyncGatewayClient
from .commit import AsyncCommit
from .proposal import AsyncProposal


class AsyncContract(ContractBase):
    """Evaluates and submits transactions of one smart contract (asyncio).

    Same methods and errors as :class:`fabricgw.contract.Contract`, as coroutines.
    """

    def __init__(
        self,
        *,
        client: AsyncGatewayClient,
        signing_identity: SigningIdentity,
        channel_id: str,
        chaincode_name: str,
        contract_name: str | None = None,
    ) -> None:
        super().__init__(
            signing_identity=signing_identity,
            channel_id=channel_id,
            chaincode_name=chaincode_name,
            contract_name=contract_name,
        )
        self._client = client

    def new_proposal(
        self,
        name: str,
        *,
        arguments: Iterable[Argument] = (),
        transient: Mapping[str, Argument] | None = None,
        endorsing_organizations: Iterable[str] | None = None,
        timestamp: datetime | None = None,
    ) -> AsyncProposal:
        """Create an unsigned :class:`AsyncProposal` for transaction ``name``. Makes no call.

        Options as :meth:`fabricgw.Contract.new_proposal` (``timestamp`` replaces the
        current time in the proposal header). Raises ``TypeError`` for an argument that
        is neither ``str`` nor ``bytes``.
        """
        return AsyncProposal(
            client=self._client,
            signing_identity=self._signing_identity,
            channel_id=self._channel_id,
            proposed_transaction=self._proposed_transaction(
                name, arguments, transient, endorsing_organizations, timestamp
            ),
        )

    async def evaluate(
        self,
        name: str,
        *,
        arguments: Iterable[Argument] = (),
        transient: Mapping[str, Argument] | None = None,
        target_organizations: Iterable[str] | None = None,
        timeout: float | None = None,
    ) -> bytes:
        """Evaluate transaction ``name`` (a query); return its result.

        Raises :class:`~fabricgw.errors.EvaluateError` if the call fails.
        """
        proposal = self.new_proposal(
            name,
            arguments=arguments,
            transient=transient,
            endorsing_organizations=target_organizations,
        )
        return await proposal.evaluate(timeout=timeout)

    async def evaluate_transaction(
        self, name: str, *args: Argument, timeout: float | None = None
    ) -> bytes:
        """Evaluate transaction ``name`` with positional ``args``; return its result.

        Raises :class:`~fabricgw.errors.EvaluateError` if the call fails.
        """
        return await self.evaluate(name, arguments=args, timeout=timeout)

    async def submit_async(
        self,
        name: str,
        *args: Argument,
        transient: Mapping[str, Argument] | None = None,
        endorsing_organizations: Iterable[str] | None = None,
        endorse_timeout: float | None = None,
        submit_timeout: float | None = None,
    ) -> tuple[bytes, AsyncCommit]:
        """Endorse and submit transaction ``name``; return ``(result, commit)`` without waiting.

        Await ``commit.status()`` for the commit. Raises
        :class:`~fabricgw.errors.EndorseError` or
        :class:`~fabricgw.errors.SubmitError` if those calls fail.
        """
        proposal = self.new_proposal(
            name,
            arguments=args,
            transient=transient,
            endorsing_organizations=endorsing_organizations,
        )
        transaction = await proposal.endorse(timeout=endorse_timeout)
        commit = await transaction.submit(timeout=submit_timeout)
        return transaction.result, commit

    async def submit(
        self,
        name: str,
        *,
        arguments: Iterable[Argument] = (),
        transient: Mapping[str, Argument] | None = None,
        endorsing_organizations: Iterable[str] | None = None,
        endorse_timeout: float | None = None,
        submit_timeout: float | None = None,
        commit_status_timeout: float | None = None,
    ) -> bytes:
        """Endorse, submit and await the commit of transaction ``name``; return its result.

        Raises as :meth:`fabricgw.contract.Contract.submit`, including
        :class:`~fabricgw.errors.CommitError` for an invalid transaction.
        """
        result, commit = await self.submit_async(
            name,
            *arguments,
            transient=transient,
            endorsing_organizations=endorsing_organizations,
            endorse_timeout=endorse_timeout,
            submit_timeout=submit_timeout,
        )
        check_committed(await commit.status(timeout=commit_status_timeout))
        return result

    async def submit_transaction(
        self,
        name: str,
        *args: Argument,
        endorse_timeout: float | None = None,
        submit_timeout: float | None = None,
        commit_status_timeout: float | None = None,
    ) -> bytes:
        """Submit transaction ``name`` with positional ``args`` and await its commit.

        Same as ``submit(name, arguments=args)``; raises the same errors.
        """
        return await self.submit(
            name,
            arguments=args,
            endorse_timeout=endorse_timeout,
            submit_timeout=submit_timeout,
            commit_status_timeout=commit_status_timeout,
        )


__all__ = ["AsyncContract"]
