"""Checkpoints: where an event listener resumes after it stopped.

A :class:`Checkpoint` holds the block in which the next event is expected and,
within that block, the last transaction already processed. Pass one as
``checkpoint=`` to ``Network.get_chaincode_events`` (or the block events
calls) to resume there:

* after ``checkpoint_chaincode_event(e)`` listening restarts at block
  ``e.block_number`` and skips the events of that block up to and including
  transaction ``e.transaction_id``;
* after ``checkpoint_block(n)`` it restarts at block ``n + 1``.

A checkpoint with no block number (nothing recorded yet) leaves the start to
the ``start_block`` option, or to the next committed block.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .chaincode_event import ChaincodeEvent


@runtime_checkable
class Checkpoint(Protocol):
    """A position in the ledger's event history."""

    @property
    def block_number(self) -> int | None:
        """Block in which the next event is expected; ``None`` if nothing was recorded."""
        ...

    @property
    def transaction_id(self) -> str | None:
        """Last transaction processed within :attr:`block_number`; ``None`` if none."""
        ...


@runtime_checkable
class Checkpointer(Checkpoint, Protocol):
    """A :class:`Checkpoint` that records progress as events are processed."""

    def checkpoint_block(self, block_number: int) -> None:
        """Record that block ``block_number`` was fully processed (resume at the next one)."""
        ...

    def checkpoint_transaction(self, block_number: int, transaction_id: str) -> None:
        """Record that ``transaction_id`` in block ``block_number`` was processed."""
        ...

    def checkpoint_chaincode_event(self, event: ChaincodeEvent) -> None:
        """Record that the transaction of chaincode ``event`` was processed."""
        ...


class _CheckpointerBase:
    """Checkpoint state and the recording methods; subclasses decide where it is kept."""

    def __init__(self) -> None:
        self._block_number: int | None = None
        self._transaction_id: str | None = None

    @property
    def block_number(self) -> int | None:
        """Block in which the next event is expected; ``None`` until something is recorded."""
        return self._block_number

    @property
    def transaction_id(self) -> str | None:
        """Last transaction processed within :attr:`block_number`, if any."""
        return self._transaction_id

    def checkpoint_block(self, block_number: int) -> None:
        """Resume at block ``block_number + 1``. Raises ``ValueError`` for a negative number."""
        self._set(_block(block_number) + 1, None)

    def checkpoint_transaction(self, block_number: int, transaction_id: str) -> None:
        """Resume in block ``block_number`` after ``transaction_id``.

        Raises ``ValueError`` for a negative block number.
        """
        self._set(_block(block_number), transaction_id or None)

    def checkpoint_chaincode_event(self, event: ChaincodeEvent) -> None:
        """Resume after the transaction that emitted ``event``."""
        self.checkpoint_transaction(event.block_number, event.transaction_id)

    def _set(self, block_number: int, transaction_id: str | None) -> None:
        self._block_number = block_number
        self._transaction_id = transaction_id


class InMemoryCheckpointer(_CheckpointerBase):
    """A :class:`Checkpointer` kept in memory: resumes within one process only."""


class FileCheckpointer(_CheckpointerBase):
    """A :class:`Checkpointer` persisted as JSON in ``path``, surviving restarts.

    The state is reloaded on construction, and every checkpoint replaces the
    file atomically (a temporary file in the same directory, flushed to disk,
    then renamed over it), so a crash leaves either the old or the new state.
    The file holds ``{"blockNumber": <int or null>, "transactionId": <str or null>}``.
    Safe to share between threads.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        """Load the state in ``path`` (a missing or empty file means none) and save it back.

        Saving at once checks that the file can be written. Raises ``ValueError``
        if the file holds no valid checkpoint and ``OSError`` if it cannot be
        read or written.
        """
        super().__init__()
        self._path = Path(path)
        self._lock = threading.Lock()
        try:
            text = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
        if text.strip():
            self._block_number, self._transaction_id = _parse_state(text, self._path)
        with self._lock:
            self._save(self._block_number, self._transaction_id)

    @property
    def path(self) -> Path:
        """File holding the checkpoint."""
        return self._path

    def _set(self, block_number: int, transaction_id: str | None) -> None:
        """Save, then update the state: if saving fails, file and state stay as they were."""
        with self._lock:
            self._save(block_number, transaction_id)
            super()._set(block_number, transaction_id)

    def _save(self, block_number: int | None, transaction_id: str | None) -> None:
        data = json.dumps({"blockNumber": block_number, "transactionId": transaction_id})
        directory = self._path.parent
        fd, temp_name = tempfile.mkstemp(prefix=f".{self._path.name}.", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as temp:
                temp.write(data)
                temp.flush()
                os.fsync(temp.fileno())
            os.replace(temp_name, self._path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        _fsync_directory(directory)


def _block(block_number: int) -> int:
    if isinstance(block_number, bool) or not isinstance(block_number, int) or block_number < 0:
        raise ValueError(f"block number must be a non-negative int, got {block_number!r}")
    return block_number


def _parse_state(text: str, path: Path) -> tuple[int | None, str | None]:
    try:
        state: Any = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"checkpoint file {path} is not JSON: {err}") from err
    if not isinstance(state, dict):
        raise ValueError(f"checkpoint file {path} does not hold a JSON object")
    block_number = state.get("blockNumber")
    transaction_id = state.get("transactionId")
    if isinstance(block_number, str) and block_number.isdigit():
        block_number = int(block_number)  # as written by the Node client
    if block_number is not None and (
        isinstance(block_number, bool) or not isinstance(block_number, int) or block_number < 0
    ):
        raise ValueError(f"checkpoint file {path}: bad blockNumber {block_number!r}")
    if transaction_id is not None and not isinstance(transaction_id, str):
        raise ValueError(f"checkpoint file {path}: bad transactionId {transaction_id!r}")
    return block_number, transaction_id or None


def _fsync_directory(directory: Path) -> None:
    """Persist the rename itself where the platform allows it (POSIX)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


__all__ = ["Checkpoint", "Checkpointer", "FileCheckpointer", "InMemoryCheckpointer"]
