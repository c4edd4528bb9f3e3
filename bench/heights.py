"""How far one peer has got: a background stream of its filtered blocks.

IssueBill, endorsed by the finance peer, checks the bill's deposit, which the units
peer endorsed and committed a moment before; a raw submit must wait until the
finance peer has the deposit's block too (``UnitClient.issue_bill`` waits the same
way, by polling). Here one Deliver stream per run feeds every waiter, so waiting
costs the peers nothing per transaction.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import fabricgw
from ebill import consistency
from ebill.connection import Connection


class BlockHeight:
    """The highest block number ``conn``'s peer has delivered, kept by a daemon thread.

    The stream starts at the peer's current last block, which it delivers first, so a
    waiter for any block already there returns at once.
    """

    def __init__(self, conn: Connection, msp_id: str) -> None:
        self._network = conn.gateway.get_network(conn.channel_name)
        self._start = consistency.height(conn, msp_id) - 1
        self._seen = -1
        self._error: BaseException | None = None
        self._changed = threading.Condition()
        self._waiters: list[tuple[int, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._events: Any = None
        self._thread = threading.Thread(target=self._follow, name="block-height", daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        try:
            self._events = self._network.get_filtered_block_events(start_block=self._start)
            for block in self._events:
                self._advance(int(block.number))
        except (fabricgw.GatewayError, ValueError) as error:
            with self._changed:
                self._error = error
                self._changed.notify_all()

    def _advance(self, number: int) -> None:
        with self._changed:
            self._seen = max(self._seen, number)
            self._changed.notify_all()
            ready = [w for w in self._waiters if w[0] <= self._seen]
            self._waiters = [w for w in self._waiters if w[0] > self._seen]
        for _, loop, future in ready:
            loop.call_soon_threadsafe(_resolve, future)

    @property
    def seen(self) -> int:
        """The highest block number delivered so far (-1 before the first)."""
        with self._changed:
            return self._seen

    def wait(self, block_number: int, timeout: float = 30.0) -> None:
        """Return once the peer has ``block_number``; TimeoutError after ``timeout`` s."""
        with self._changed:
            if not self._changed.wait_for(
                lambda: self._seen >= block_number or self._error is not None, timeout
            ):
                raise TimeoutError(f"the peer has not reached block {block_number}")
            if self._seen < block_number:
                raise RuntimeError(f"the block stream failed: {self._error}")

    async def wait_async(self, block_number: int, timeout: float = 30.0) -> None:
        """:meth:`wait` for an event loop (no thread per waiter)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._changed:
            if self._error is not None:
                raise RuntimeError(f"the block stream failed: {self._error}")
            if self._seen >= block_number:
                return
            self._waiters.append((block_number, loop, future))
        await asyncio.wait_for(future, timeout)

    def close(self) -> None:
        """Stop the stream (the thread ends with it)."""
        if self._events is not None:
            self._events.close()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
