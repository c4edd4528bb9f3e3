"""Read-your-writes across peers: wait until every peer has the blocks this process wrote.

A submit returns when the *caller's* peer has committed the transaction; the other
peers commit the same block a moment later. The next call of another party (through
another peer, endorsed by the finance peer and one more) may run on a peer that has
not got that block yet and see the state before it: a batch just applied "not
found", an authorisation just given "not authorised". Parties acting in quick
succession in one process (the demo, tests, a workflow engine) share one
:class:`BlockSync`: each submit raises its watermark, and each call first waits
until every peer of the channel has a block at or past it
(:func:`ebill.consistency.wait_for_block`). Parties acting seconds
apart do not need it.
"""

from __future__ import annotations

import threading
from typing import Any

import fabricgw

from . import consistency
from .connection import Connection, connect
from .errors import NetworkUnavailable

DEFAULT_TIMEOUT = 30.0


class BlockSync:
    """The highest block this process committed in, and how far each peer is known to be.

    Watches every peer org of ``description`` as ``org/user`` (any channel member may
    read blocks). Thread-safe. Close it when done.
    """

    def __init__(
        self,
        description: dict[str, Any],
        org: str,
        user: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._description = description
        self._org = org
        self._user = user
        self._timeout = timeout
        self._lock = threading.Lock()
        self._watermark = -1
        self._heights: dict[str, int] = {}
        self._connections: dict[str, Connection] = {}

    @property
    def watermark(self) -> int:
        """The highest block number a submit committed in (-1: none yet)."""
        return self._watermark

    def committed(self, block_number: int) -> None:
        """Record that a transaction committed in ``block_number``."""
        with self._lock:
            self._watermark = max(self._watermark, block_number)

    def wait(self) -> None:
        """Return when every peer has the watermark block. Raises NetworkUnavailable."""
        with self._lock:
            target = self._watermark
            behind = [
                org for org in self._description["orgs"] if self._heights.get(org, -1) < target
            ]
        for org in behind:
            self._wait_peer(org, target)
            with self._lock:
                self._heights[org] = max(self._heights.get(org, -1), target)

    def _connection(self, org: str) -> Connection:
        with self._lock:
            if org not in self._connections:
                self._connections[org] = connect(self._description, self._org, self._user, via=org)
            return self._connections[org]

    def _wait_peer(self, org: str, block_number: int) -> None:
        conn = self._connection(org)
        msp_id = self._description["orgs"][org]["msp_id"]
        try:
            consistency.wait_for_block(conn, block_number, peers=[msp_id], timeout=self._timeout)
        except (fabricgw.GatewayError, TimeoutError) as error:
            raise NetworkUnavailable(
                f"the {org} peer did not reach block {block_number} in {self._timeout:.0f}s"
                f" ({str(error).splitlines()[0] if str(error) else type(error).__name__})"
            ) from None

    def close(self) -> None:
        """Close the connections to the peers."""
        with self._lock:
            connections, self._connections = list(self._connections.values()), {}
        for conn in connections:
            conn.close()

    def __enter__(self) -> BlockSync:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
