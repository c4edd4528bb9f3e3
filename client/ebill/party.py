"""The base of every party client: calls into the contract, refusals as domain errors.

A party client wraps one :class:`~ebill.connection.Connection`. ``_evaluate`` runs a
query on the caller's peer; ``_submit`` endorses, orders and waits for the commit.
Both decode the JSON answer and raise :mod:`ebill.errors` exceptions, chosen by the
chaincode's refusal code. A refusal is an endorsement error: nothing is submitted;
an anomaly among them is spooled by the finance chaincode and anchored by finance.

A submit whose outcome is unknown (the gateway peer died during the submit, no
commit status came) is resolved before anything else: the same signed transaction
is submitted again (safe: a transaction id commits once) and its status asked
through the other orgs' gateways, up to :data:`RESUBMIT_ROUNDS` times. Only when it
is still unknown does the call raise, with ``outcome_unknown`` and the transaction
id, which :meth:`PartyClient.resolve` answers later.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import grpc

import fabricgw
from ebill_chaincode.contract import interface as api
from fabricgw.commit import check_committed
from fabricgw.retry import COMMIT_STATUS_RETRY_CODES

from . import consistency
from .connection import Connection
from .errors import InternalError, NetworkUnavailable, domain_error
from .models import Page, Verification
from .sync import BlockSync

T = TypeVar("T")
RESUBMIT_ROUNDS = 2
"""Times a transaction whose outcome stayed unknown is submitted again (the same envelope)."""
_STILL_UNKNOWN = COMMIT_STATUS_RETRY_CODES | {grpc.StatusCode.DEADLINE_EXCEEDED}
PAGE_SIZE = 100
"""Records asked per page by the ``iter_*`` methods (the contract allows 1..200)."""


class PartyClient:
    """A party connected to the network: the calls every party may make."""

    def __init__(self, connection: Connection, *, sync: BlockSync | None = None) -> None:
        """``sync``: shared with the other parties of this process, it makes each call
        wait until every peer has the blocks their submits wrote (see :mod:`ebill.sync`)."""
        self.connection = connection
        self.sync = sync

    @property
    def attributes(self) -> dict[str, str]:
        """The Fabric CA attributes of the caller's certificate (role, unit, ...)."""
        return dict(self.connection.attributes)

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- calls -----------------------------------------------------------------------

    def _decode(self, function: str, raw: bytes, tx_id: str | None) -> Any:
        try:
            answer = json.loads(raw) if raw else None
        except ValueError:
            raise InternalError(
                f"{function} answered something that is not JSON: {raw[:80]!r}",
                function=function,
                transaction_id=tx_id,
            ) from None
        return answer

    def _evaluate(
        self, function: str, *args: str, transient: Mapping[str, bytes] | None = None
    ) -> Any:
        """Query ``function``; its JSON answer. Raises :class:`~ebill.errors.EbillError`."""
        if self.sync is not None:
            self.sync.wait()
        proposal = self.connection.contract.new_proposal(
            function, arguments=args, transient=transient
        )
        try:
            raw = proposal.evaluate()
        except fabricgw.GatewayError as error:
            raise domain_error(
                error, function=function, transaction_id=proposal.transaction_id
            ) from error
        return self._decode(function, raw, proposal.transaction_id)

    def _submit(
        self,
        function: str,
        *args: str,
        transient: Mapping[str, bytes] | None = None,
        endorsing_organizations: Sequence[str] | None = None,
        wait_peers: Sequence[str] = (),
        commit_timeout: float | None = None,
        rounds: int = RESUBMIT_ROUNDS,
    ) -> Any:
        """Submit ``function`` and wait for its commit; its JSON answer.

        ``endorsing_organizations`` (MSP ids) chooses the endorsers: needed when
        transient data goes to a private collection some endorsers are not members of.
        ``wait_peers`` (MSP ids): also wait until their peers have the block.
        ``commit_timeout`` bounds each round's commit status wait (default the
        connection's commit status timeout); ``rounds`` is how many more rounds an
        unknown outcome gets (default :data:`RESUBMIT_ROUNDS`).

        Raises :class:`~ebill.errors.EbillError` (a refusal,
        :class:`~ebill.errors.TransactionConflict` for an MVCC conflict).
        """
        if self.sync is not None:
            self.sync.wait()
        tx_ids: list[str] = []

        def new_proposal() -> fabricgw.Proposal:
            proposal = self.connection.contract.new_proposal(
                function,
                arguments=args,
                transient=transient,
                endorsing_organizations=endorsing_organizations,
            )
            tx_ids.append(proposal.transaction_id)
            return proposal

        try:
            transaction = consistency.endorse(new_proposal)
            status = self._commit(transaction, timeout=commit_timeout, rounds=rounds)
            check_committed(status)
            if wait_peers:
                try:
                    consistency.wait_for_block(
                        self.connection, status.block_number, peers=wait_peers
                    )
                except TimeoutError as error:  # committed, but not yet on those peers
                    raise NetworkUnavailable(
                        f"{function} {transaction.transaction_id} committed in block"
                        f" {status.block_number}, but {error}",
                        transaction_id=transaction.transaction_id,
                        function=function,
                    ) from error
        except fabricgw.GatewayError as error:
            raise domain_error(error, function=function, transaction_id=tx_ids[-1]) from error
        if self.sync is not None:
            self.sync.committed(status.block_number)
        return self._decode(function, transaction.result, transaction.transaction_id)

    @staticmethod
    def _commit(
        transaction: fabricgw.Transaction,
        *,
        timeout: float | None = None,
        rounds: int = RESUBMIT_ROUNDS,
    ) -> fabricgw.Status:
        """Submit and wait up to ``timeout`` (None: the commit status timeout); an
        unknown outcome is retried ``rounds`` more times with the same envelope (one
        that writes private data: its status asked again).

        Raises fabricgw's SubmitError or CommitStatusError (outcome unknown) after the
        last round, or a definite SubmitError at once.
        """
        commit: fabricgw.Commit | None = None
        for rounds_left in range(rounds, -1, -1):
            try:
                if commit is None or not transaction.writes_private_data:
                    commit = transaction.submit()
                # A copy of a private-data transaction that committed already stalls
                # its member peers (see fabricgw.retry): only ask its status again.
                return commit.status(timeout=timeout)
            except (fabricgw.SubmitError, fabricgw.CommitStatusError) as error:
                unknown = error.code is None or error.code in _STILL_UNKNOWN
                if not (error.outcome_unknown and unknown) or rounds_left == 0:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def resolve(
        self, transaction_id: str, *, timeout: float | None = None
    ) -> fabricgw.Status | None:
        """The commit status of ``transaction_id`` (an ``outcome_unknown`` error's), asked
        through every gateway of the connection; ``None`` while it is still unknown after
        ``timeout`` (default the commit status timeout).

        Raises :class:`~ebill.errors.EbillError` if the gateways refuse the question.
        """
        try:
            return self.connection.network.get_commit_status(transaction_id, timeout=timeout)
        except fabricgw.CommitStatusError as error:
            if error.outcome_unknown and error.code in _STILL_UNKNOWN:
                return None
            raise domain_error(error, transaction_id=transaction_id) from error
        except fabricgw.GatewayError as error:
            raise domain_error(error, transaction_id=transaction_id) from error

    @staticmethod
    def _pages(fetch: Callable[[str], Page[T]]) -> Iterator[T]:
        """Every record of a paged list: ``fetch(bookmark)`` until the bookmark is ""."""
        bookmark = ""
        while True:
            page = fetch(bookmark)
            yield from page.records
            if not page.bookmark or page.bookmark == bookmark:
                return
            bookmark = page.bookmark

    # -- open to everyone -------------------------------------------------------------

    def verify_bill(
        self,
        bill_code: str,
        bill_number: str,
        check_code: str,
        *,
        total_amount: int | None = None,
        issue_date: str | None = None,
    ) -> Verification:
        """VerifyBill: genuine or not, and the bill's status (nothing personal).

        ``total_amount`` (fen) and ``issue_date`` (YYYY-MM-DD) are checked when given.
        Raises InvalidInput (malformed code), NotFound (no such bill).
        """
        answer = self._evaluate(
            api.VERIFY_BILL.name,
            bill_code,
            bill_number,
            check_code,
            "" if total_amount is None else str(total_amount),
            issue_date or "",
        )
        return Verification.from_json(answer, bill_code, bill_number)

    def ping(self) -> str:
        """Ping: "pong" when the chaincode answers. Raises NetworkUnavailable."""
        try:
            raw = self.connection.contract.evaluate(api.PING.name)
        except fabricgw.GatewayError as error:
            raise domain_error(error, function=api.PING.name) from error
        return raw.decode(errors="replace")
