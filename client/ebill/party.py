"""The base of every party client: calls into the contract, refusals as domain errors.

A party client wraps one :class:`~ebill.connection.Connection`. ``_evaluate`` runs a
query on the caller's peer; ``_submit`` endorses, orders and waits for the commit.
Both decode the JSON answer and raise :mod:`ebill.errors` exceptions, chosen by the
chaincode's refusal code. A refusal is an endorsement error: nothing is submitted;
an anomaly among them is spooled by the finance chaincode and anchored by finance.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import fabricgw
from ebill_chaincode.contract import interface as api
from fabricgw.commit import check_committed

from . import consistency
from .connection import Connection
from .errors import InternalError, domain_error
from .models import Page, Verification
from .sync import BlockSync

T = TypeVar("T")
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
    ) -> Any:
        """Submit ``function`` and wait for its commit; its JSON answer.

        ``endorsing_organizations`` (MSP ids) chooses the endorsers: needed when
        transient data goes to a private collection some endorsers are not members of.
        ``wait_peers`` (MSP ids): also wait until their peers have the block.

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
            status = transaction.submit().status()
            check_committed(status)
            if wait_peers:
                consistency.wait_for_block(self.connection, status.block_number, peers=wait_peers)
        except fabricgw.GatewayError as error:
            raise domain_error(error, function=function, transaction_id=tx_ids[-1]) from error
        if self.sync is not None:
            self.sync.committed(status.block_number)
        return self._decode(function, transaction.result, transaction.transaction_id)

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
