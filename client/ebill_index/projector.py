"""The projector: applies one org's peer's blocks to the read model, exactly once.

It reads blocks from a :class:`BlockSource` starting at the block of the stored
checkpoint, skips the transactions already applied (the checkpoint names the last one,
possibly in the middle of a block) and writes each transaction's rows with the
checkpoint in the same database transaction. A database transaction holds at most
``batch`` blockchain transactions and, once the projector is at the ledger's head,
ends with every block; a crash (or an exception) rolls back the unfinished one, so a
restart neither loses nor repeats a transaction.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection

from . import blocks
from .store import Store, Writer

DEFAULT_BATCH = 500


class BlockSource(Protocol):
    """Where blocks come from (the org's peer, or a list in tests)."""

    def blocks(self, start_block: int) -> Iterator[Any]:
        """``common.Block`` or ``peer.BlockAndPrivateData`` messages from ``start_block`` on."""
        ...

    def height(self) -> int:
        """The number of blocks the ledger has now."""
        ...


@dataclass
class Progress:
    """What one run did: blocks seen, transactions applied, seconds taken."""

    blocks: int = 0
    transactions: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Transactions applied per second."""
        return self.transactions / self.seconds if self.seconds > 0 else 0.0


class Projector:
    """Keeps ``store`` up to date with the blocks of ``source`` (see the module doc)."""

    def __init__(
        self,
        store: Store,
        source: BlockSource,
        *,
        chaincode: str,
        channel: str,
        batch: int = DEFAULT_BATCH,
    ) -> None:
        if batch < 1:
            raise ValueError(f"batch: must be at least 1, got {batch}")
        self.store = store
        self.source = source
        self.chaincode = chaincode
        self.channel = channel
        self.batch = batch

    def catch_up(self, until_height: int | None = None) -> Progress:
        """Apply every block below ``until_height`` (default: the ledger's height now)."""
        target = self.source.height() if until_height is None else until_height
        return self.run(until_height=target, head=target)

    def run(self, *, until_height: int | None = None, head: int | None = None) -> Progress:
        """Apply blocks until ``until_height`` (None: forever). Blocks at or past ``head``
        (default: the height when called) commit one by one; earlier ones in batches."""
        started = time.perf_counter()
        progress = Progress()
        position = self.store.position()
        start = 0 if position is None else position.block_number
        if until_height is not None and start >= until_height:
            return progress
        head = self.source.height() if head is None else head
        conn: Connection | None = None
        writer: Writer | None = None
        try:
            for message in self.source.blocks(start):
                block = blocks.decode(message)
                for tx in block.transactions:
                    if position is not None and not position.after(block.number, tx.index):
                        continue
                    if writer is None:
                        conn = self.store.engine.connect()
                        conn.begin()
                        writer = self.store.writer(
                            conn, chaincode=self.chaincode, channel=self.channel
                        )
                    writer.apply(tx)
                    progress.transactions += 1
                    if writer.pending >= self.batch:
                        writer.commit()
                progress.blocks += 1
                last = until_height is not None and block.number + 1 >= until_height
                if writer is not None and writer.pending and (block.number + 1 >= head or last):
                    writer.commit()
                if last:
                    break
            if writer is not None and writer.pending:
                writer.commit()
        finally:
            if conn is not None:
                conn.close()  # rolls back what was not committed
            progress.seconds = time.perf_counter() - started
        return progress
