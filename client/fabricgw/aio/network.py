"""AsyncNetwork: a Fabric channel reached through an :class:`AsyncGateway`."""

from __future__ import annotations

from ..block_events import BlockEventsKind
from ..checkpointer import Checkpoint
from ..commit import Status
from ..network import NetworkBase
from ..signing_identity import SigningIdentity
from ._client import AsyncGatewayClient
from .block_events import AsyncBlockEventsIterator, AsyncBlockEventsRequest
from .chaincode_events import AsyncChaincodeEventsIterator, AsyncChaincodeEventsRequest
from .commit import AsyncCommit
from .contract import AsyncContract


class AsyncNetwork(NetworkBase):
    """A channel: hands out :class:`AsyncContract` objects and async event streams.

    Event options as :class:`fabricgw.network.Network`. Streams start when the
    method is called, so call it from the channel's event loop.
    """

    def __init__(
        self, *, client: AsyncGatewayClient, signing_identity: SigningIdentity, name: str
    ) -> None:
        super().__init__(signing_identity=signing_identity, name=name)
        self._client = client

    def get_contract(self, chaincode_name: str, contract_name: str | None = None) -> AsyncContract:
        """Return contract ``contract_name`` (or the default one) of chaincode ``chaincode_name``.

        Makes no network call and raises nothing.
        """
        return AsyncContract(
            client=self._client,
            signing_identity=self._signing_identity,
            channel_id=self._name,
            chaincode_name=chaincode_name,
            contract_name=contract_name,
        )

    async def get_commit_status(
        self, transaction_id: str, *, timeout: float | None = None
    ) -> Status:
        """Resolve the outcome of transaction ``transaction_id``; its
        :class:`~fabricgw.commit.Status`.

        Raises as :meth:`fabricgw.network.Network.get_commit_status`.
        """
        commit = AsyncCommit(
            client=self._client,
            signing_identity=self._signing_identity,
            transaction_id=transaction_id,
            signed_request=self._commit_status_message(transaction_id),
        )
        return await commit.status(timeout=timeout)

    def new_chaincode_events_request(
        self,
        chaincode_name: str,
        *,
        start_block: int | None = None,
        checkpoint: Checkpoint | None = None,
    ) -> AsyncChaincodeEventsRequest:
        """Build an unsigned request for the events of ``chaincode_name`` (for off-line signing).

        Makes no network call. Raises ``ValueError`` for a negative block number.
        """
        return AsyncChaincodeEventsRequest(
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
    ) -> AsyncChaincodeEventsIterator:
        """Listen for the events of ``chaincode_name``; use with ``async for``.

        Raises as :meth:`fabricgw.network.Network.get_chaincode_events`.
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
    ) -> AsyncBlockEventsRequest:
        """Build an unsigned request for blocks of ``kind`` (for off-line signing).

        Makes no network call. Raises ``ValueError`` for a negative block number.
        """
        return AsyncBlockEventsRequest(
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
    ) -> AsyncBlockEventsIterator:
        """Listen for full blocks (``common.Block``). Raises as ``Network.get_block_events``."""
        return self._block_events(BlockEventsKind.BLOCK, start_block, checkpoint, timeout)

    def get_filtered_block_events(
        self,
        *,
        start_block: int | None = None,
        checkpoint: Checkpoint | None = None,
        timeout: float | None = None,
    ) -> AsyncBlockEventsIterator:
        """Listen for filtered blocks (``peer.FilteredBlock``). Raises as ``get_block_events``."""
        return self._block_events(BlockEventsKind.FILTERED, start_block, checkpoint, timeout)

    def get_block_and_private_data_events(
        self,
        *,
        start_block: int | None = None,
        checkpoint: Checkpoint | None = None,
        timeout: float | None = None,
    ) -> AsyncBlockEventsIterator:
        """Listen for blocks with private data. Raises as ``get_block_events``."""
        return self._block_events(BlockEventsKind.PRIVATE_DATA, start_block, checkpoint, timeout)

    def _block_events(
        self,
        kind: BlockEventsKind,
        start_block: int | None,
        checkpoint: Checkpoint | None,
        timeout: float | None,
    ) -> AsyncBlockEventsIterator:
        request = self.new_block_events_request(
            kind=kind, start_block=start_block, checkpoint=checkpoint
        )
        return request.events(timeout=timeout)


__all__ = ["AsyncNetwork"]
