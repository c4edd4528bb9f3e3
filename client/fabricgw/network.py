"""Network: a Fabric channel reached through the Gateway."""

from __future__ import annotations

from typing import Any

from ._client import GatewayClient
from ._protos import gateway_pb2
from .block_events import (
    BlockEventsIterator,
    BlockEventsKind,
    BlockEventsRequest,
    build_seek_envelope,
)
from .chaincode_events import (
    ChaincodeEventsIterator,
    ChaincodeEventsRequest,
    build_chaincode_events_request,
)
from .checkpointer import Checkpoint
from .commit import Commit, Status, new_commit_status_request
from .contract import Contract
from .signing_identity import SigningIdentity


class NetworkBase:
    """Channel name and the event requests built for it (sync and asyncio)."""

    def __init__(self, *, signing_identity: SigningIdentity, name: str) -> None:
        self._signing_identity = signing_identity
        self._name = name

    @property
    def name(self) -> str:
        """Channel name."""
        return self._name

    def _chaincode_events_message(
        self, chaincode_name: str, start_block: int | None, checkpoint: Checkpoint | None
    ) -> Any:
        """Unsigned ``SignedChaincodeEventsRequest``. Raises ``ValueError`` for a bad block."""
        return build_chaincode_events_request(
            creator=self._signing_identity.creator,
            channel_id=self._name,
            chaincode_name=chaincode_name,
            start_block=start_block,
            checkpoint=checkpoint,
        )

    def _commit_status_message(self, transaction_id: str) -> Any:
        """Unsigned ``SignedCommitStatusRequest`` for ``transaction_id`` on this channel.

        Raises ``ValueError`` for an empty transaction id.
        """
        if not transaction_id:
            raise ValueError("transaction_id: must be a non-empty transaction id")
        request = new_commit_status_request(
            transaction_id=transaction_id,
            channel_id=self._name,
            creator=self._signing_identity.creator,
        )
        return gateway_pb2.SignedCommitStatusRequest(request=request)

    def _seek_envelope(self, start_block: int | None, checkpoint: Checkpoint | None) -> Any:
        """Unsigned Deliver seek ``Envelope``. Raises ``ValueError`` for a bad block."""
        return build_seek_envelope(
            creator=self._signing_identity.creator,
            channel_id=self._name,
            start_block=start_block,
            checkpoint=checkpoint,
        )


class Network(NetworkBase):
    """A channel: hands out :class:`~fabricgw.contract.Contract` objects and event streams.

    Event options: ``checkpoint`` resumes where a
    :class:`~fabricgw.checkpointer.Checkpointer` left off and wins over
    ``start_block`` when it holds a block number; ``start_block`` starts at that
    block; with neither, chaincode events start at the next committed block and
    block events at the newest block. ``timeout`` (seconds) bounds a whole
    stream; ``None`` waits forever.
    """

    def __init__(
        self, *, client: GatewayClient, signing_identity: SigningIdentity, name: str
    ) -> None:
        super().__init__(signing_identity=signing_identity, name=name)
        self._client = client

    def get_contract(self, chaincode_name: str, contract_name: str | None = None) -> Contract:
        """Return contract ``contract_name`` (or the default one) of chaincode ``chaincode_name``.

        Makes no network call and raises nothing.
        """
        return Contract(
            client=self._client,
            signing_identity=self._signing_identity,
            channel_id=self._name,
            chaincode_name=chaincode_name,
            contract_name=contract_name,
        )

    def get_commit_status(self, transaction_id: str, *, timeout: float | None = None) -> Status:
        """Resolve the outcome of transaction ``transaction_id`` (submitted earlier, by anyone).

        Use it after a :class:`~fabricgw.errors.SubmitError` or
        :class:`~fabricgw.errors.CommitStatusError` whose outcome is unknown: the
        error's ``transaction_id`` tells whether the transaction committed, so a
        retry never submits it twice. Signs a commit status request for that id
        and waits (up to ``timeout``, default the Gateway's commit status
        timeout) until the gateway's peer has committed it; returns its
        :class:`~fabricgw.commit.Status` (check ``successful``).

        Raises ``ValueError`` for an empty id and
        :class:`~fabricgw.errors.CommitStatusError` when the outcome is still not
        known when the deadline passes (not committed yet, or never ordered: ask
        again later) or the call fails.
        """
        commit = Commit(
            client=self._client,
            signing_identity=self._signing_identity,
            transaction_id=transaction_id,
            signed_request=self._commit_status_message(transaction_id),
        )
        return commit.status(timeout=timeout)

    def new_chaincode_events_request(
        self,
        chaincode_name: str,
        *,
        start_block: int | None = None,
        checkpoint: Checkpoint | None = None,
    ) -> ChaincodeEventsRequest:
        """Build an unsigned request for the events of ``chaincode_name`` (for off-line signing).

        Makes no network call. Raises ``ValueError`` for a negative block number.
        """
        return ChaincodeEventsRequest(
            client=self._client,
            signing_identity=self._signing_identity,
            signed_request=self._chaincode_events_message(chaincode_name, start_block, checkpoint),
        )

    def get_chaincode_events(
        self,
        chaincode_name: str,
        *,
        start_block: int | None = None,
        checkpoint: Checkpoint | None = None,
        timeout: float | None = None,
    ) -> ChaincodeEventsIterator:
        """Listen for the events of ``chaincode_name``; return an iterator (and context manager).

        Raises ``ValueError`` for a negative block number and
        :class:`~fabricgw.errors.GatewayError` if the Gateway is closed or no
        signature can be made; iterating raises
        :class:`~fabricgw.errors.EventsError` if the stream fails.
        """
        request = self.new_chaincode_events_request(
            chaincode_name, start_block=start_block, checkpoint=checkpoint
        )
        return request.events(timeout=timeout)

    def new_block_events_request(
        self,
        *,
        kind: BlockEventsKind = BlockEventsKind.BLOCK,
        start_block: int | None = None,
        checkpoint: Checkpoint | None = None,
    ) -> BlockEventsRequest:
        """Build an unsigned request for blocks of ``kind`` (for off-line signing).

        Makes no network call. Raises ``ValueError`` for a negative block number.
        """
        return BlockEventsRequest(
            client=self._client,
            signing_identity=self._signing_identity,
            kind=kind,
            envelope=self._seek_envelope(start_block, checkpoint),
        )

    def get_block_events(
        self,
        *,
        start_block: int | None = None,
        checkpoint: Checkpoint | None = None,
        timeout: float | None = None,
    ) -> BlockEventsIterator:
        """Listen for full blocks (``common.Block``) from the peer's Deliver service.

        Raises as :meth:`get_chaincode_events`.
        """
        return self._block_events(BlockEventsKind.BLOCK, start_block, checkpoint, timeout)

    def get_filtered_block_events(
        self,
        *,
        start_block: int | None = None,
        checkpoint: Checkpoint | None = None,
        timeout: float | None = None,
    ) -> BlockEventsIterator:
        """Listen for filtered blocks (``peer.FilteredBlock``). Raises as ``get_block_events``."""
        return self._block_events(BlockEventsKind.FILTERED, start_block, checkpoint, timeout)

    def get_block_and_private_data_events(
        self,
        *,
        start_block: int | None = None,
        checkpoint: Checkpoint | None = None,
        timeout: float | None = None,
    ) -> BlockEventsIterator:
        """Listen for blocks with private data (``peer.BlockAndPrivateData``).

        Raises as :meth:`get_block_events`.
        """
        return self._block_events(BlockEventsKind.PRIVATE_DATA, start_block, checkpoint, timeout)

    def _block_events(
        self,
        kind: BlockEventsKind,
        start_block: int | None,
        checkpoint: Checkpoint | None,
        timeout: float | None,
    ) -> BlockEventsIterator:
        request = self.new_block_events_request(
            kind=kind, start_block=start_block, checkpoint=checkpoint
        )
        return request.events(timeout=timeout)


__all__ = ["Network", "NetworkBase"]
