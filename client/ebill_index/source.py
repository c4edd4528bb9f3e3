"""Blocks from an org's peer: the Deliver service with private data, through fabricgw.

The blocks come with the private data the *caller* may read: the peer checks each
collection's member policy against the signed request, so a projector running as a
member org's user gets the ``billPrivate`` writes and one of a non-member org (the
finance department) gets none.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ebill import consistency
from ebill.connection import Connection


class PeerSource:
    """A :class:`~ebill_index.projector.BlockSource` on ``conn``'s peer (its own org's)."""

    def __init__(self, conn: Connection, *, timeout: float | None = None) -> None:
        self.conn = conn
        self.timeout = timeout
        self._stream: Any = None

    def blocks(self, start_block: int) -> Iterator[Any]:
        """Blocks with private data from ``start_block``; blocks forever at the head.

        Raises ``fabricgw.EventsError`` if the stream fails.
        """
        network = self.conn.gateway.get_network(self.conn.channel_name)
        with network.get_block_and_private_data_events(
            start_block=start_block, timeout=self.timeout
        ) as stream:
            self._stream = stream
            try:
                yield from stream
            finally:
                self._stream = None

    def close(self) -> None:
        """Cancel the stream being read (from another thread): its reader stops."""
        stream = self._stream
        if stream is not None:
            stream.close()

    def height(self) -> int:
        """The channel's height on the caller's org's peer (qscc GetChainInfo)."""
        return consistency.height(self.conn, self.conn.msp_id)
