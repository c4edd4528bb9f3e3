"""Contract: a smart contract in a chaincode, on one channel."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ._client import GatewayClient
from .commit import Commit, check_committed
from .proposal import Argument, Proposal, build_proposed_transaction
from .signing_identity import SigningIdentity


class ContractBase:
    """Names of a smart contract and the proposals made for it (sync and asyncio).

    With a ``contract_name``, transaction names are sent as
    ``"<contract_name>:<name>"``, as the official clients do.
    """

    def __init__(
        self,
        *,
        signing_identity: SigningIdentity,
        channel_id: str,
        chaincode_name: str,
        contract_name: str | None = None,
    ) -> None:
        self._signing_identity = signing_identity
        self._channel_id = channel_id
        self._chaincode_name = chaincode_name
        self._contract_name = contract_name or None

    @property
    def chaincode_name(self) -> str:
        """Name of the chaincode holding the contract."""
        return self._chaincode_name

    @property
    def contract_name(self) -> str | None:
        """Name of the contract within the chaincode; ``None`` for the default contract."""
        return self._contract_name

    @property
    def channel_id(self) -> str:
        """Channel the chaincode is deployed on."""
        return self._channel_id

    def qualified_name(self, name: str) -> str:
        """Transaction name as sent to the chaincode (``contract:name`` if a contract is set)."""
        return f"{self._contract_name}:{name}" if self._contract_name else name

    def _proposed_transaction(
        self,
        name: str,
        arguments: Iterable[Argument],
        transient: Mapping[str, Argument] | None,
        endorsing_organizations: Iterable[str] | None,
        timestamp: datetime | None = None,
    ) -> Any:
        """Unsigned ``ProposedTransaction`` for transaction ``name``. Raises ``TypeError``."""
        return build_proposed_transaction(
            creator=self._signing_identity.creator,
            channel_id=self._channel_id,
            chaincode_name=self._chaincode_name,
            transaction_name=self.qualified_name(name),
            arguments=arguments,
            transient=transient,
            endorsing_organizations=endorsing_organizations,
            timestamp=timestamp,
        )


class Contract(ContractBase):
    """Evaluates and submits transactions of one smart contract.

    With a ``contract_name``, transaction names are sent as
    ``"<contract_name>:<name>"``, as the official clients do.
    """

    def __init__(
        self,
        *,
        client: GatewayClient,
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
    ) -> Proposal:
        """Create an unsigned :class:`~fabricgw.proposal.Proposal` for transaction ``name``.

        ``transient`` is private data given to the chaincode but not recorded on
        the ledger. ``endorsing_organizations`` (MSP IDs) restricts which
        organizations endorse (or, when evaluated, which one is queried).
        ``timestamp`` replaces the current time in the proposal header.
        Raises ``TypeError`` for an argument that is neither ``str`` nor ``bytes``.
        """
        return Proposal(
            client=self._client,
            signing_identity=self._signing_identity,
            channel_id=self._channel_id,
            proposed_transaction=self._proposed_transaction(
                name, arguments, transient, endorsing_organizations, timestamp
            ),
        )

    def evaluate(
        self,
        name: str,
        *,
        arguments: Iterable[Argument] = (),
        transient: Mapping[str, Argument] | None = None,
        target_organizations: Iterable[str] | None = None,
        timeout: float | None = None,
    ) -> bytes:
        """Evaluate transaction ``name`` (a query: not ordered, not committed); return its result.

        ``target_organizations`` picks the organizations whose peers may be
        queried. ``timeout`` overrides the evaluate timeout (seconds).
        Raises :class:`~fabricgw.errors.EvaluateError` if the call fails.
        """
        proposal = self.new_proposal(
            name,
            arguments=arguments,
            transient=transient,
            endorsing_organizations=target_organizations,
        )
        return proposal.evaluate(timeout=timeout)

    def evaluate_transaction(
        self, name: str, *args: Argument, timeout: float | None = None
    ) -> bytes:
        """Evaluate transaction ``name`` with positional ``args``; return its result.

        Same as ``evaluate(name, arguments=args)``. Raises
        :class:`~fabricgw.errors.EvaluateError` if the call fails.
        """
        return self.evaluate(name, arguments=args, timeout=timeout)

    def submit_async(
        self,
        name: str,
        *args: Argument,
        transient: Mapping[str, Argument] | None = None,
        endorsing_organizations: Iterable[str] | None = None,
        endorse_timeout: float | None = None,
        submit_timeout: float | None = None,
    ) -> tuple[bytes, Commit]:
        """Endorse and submit transaction ``name``; return ``(result, commit)`` without waiting.

        Call ``commit.status()`` to wait for the commit. Raises
        :class:`~fabricgw.errors.EndorseError` or
        :class:`~fabricgw.errors.SubmitError` if those calls fail.
        """
        proposal = self.new_proposal(
            name,
            arguments=args,
            transient=transient,
            endorsing_organizations=endorsing_organizations,
        )
        transaction = proposal.endorse(timeout=endorse_timeout)
        commit = transaction.submit(timeout=submit_timeout)
        return transaction.result, commit

    def submit(
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
        """Endorse, submit and wait for the commit of transaction ``name``; return its result.

        Timeouts override the Gateway defaults for each step (seconds). Raises
        :class:`~fabricgw.errors.EndorseError`,
        :class:`~fabricgw.errors.SubmitError` or
        :class:`~fabricgw.errors.CommitStatusError` if that call fails, and
        :class:`~fabricgw.errors.CommitError` if the transaction committed as
        invalid (e.g. ``MVCC_READ_CONFLICT``).
        """
        result, commit = self.submit_async(
            name,
            *arguments,
            transient=transient,
            endorsing_organizations=endorsing_organizations,
            endorse_timeout=endorse_timeout,
            submit_timeout=submit_timeout,
        )
        check_committed(commit.status(timeout=commit_status_timeout))
        return result

    def submit_transaction(
        self,
        name: str,
        *args: Argument,
        endorse_timeout: float | None = None,
        submit_timeout: float | None = None,
        commit_status_timeout: float | None = None,
    ) -> bytes:
        """Submit transaction ``name`` with positional ``args`` and wait for its commit.

        Same as ``submit(name, arguments=args)``; raises the same errors.
        """
        return self.submit(
            name,
            arguments=args,
            endorse_timeout=endorse_timeout,
            submit_timeout=submit_timeout,
            commit_status_timeout=commit_status_timeout,
        )


__all__ = ["Contract", "ContractBase"]
