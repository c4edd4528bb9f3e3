"""Group commit: bills that arrive within a few milliseconds issued as one batch.

Each caller hands one bill to :meth:`GroupCommit.issue` (or :meth:`GroupCommit.submit`
for a future) and gets its own result: its :class:`~ebill.models.IssuedBill` or its own
error. A collector thread gathers the bills that arrive within ``window`` seconds of
the first one (at most ``max_bills``) into one ``issue_prepared_batch`` (two
transactions for the whole batch); up to ``workers`` batches are in flight at once.

A batch is all or nothing on the chain; when one is refused, its bills are issued
again one at a time, so that one bad bill fails only its own caller. The check code's
hash is computed in the caller's thread (:class:`~ebill.unit.PreparedBill`), so many
callers hash in parallel.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any

from .errors import EbillError, InvalidInput
from .models import IssuedBill
from .samples import SampleBill
from .unit import IssueRequest, PreparedBill, UnitClient

DEFAULT_WINDOW = 0.005
DEFAULT_MAX_BILLS = 100
DEFAULT_WORKERS = 4

_Item = tuple[PreparedBill, "Future[IssuedBill]"]


class GroupCommit:
    """Issue bills of one unit through batches; use as a context manager or close().

    ``window`` (seconds, default 5 ms): how long after the first bill of a batch to
    wait for more; ``max_bills`` (default 100, at most the chaincode's
    CHAINCODE_MAX_BATCH): the largest batch; ``workers`` (default 4): batches in
    flight at once.
    """

    def __init__(
        self,
        unit: UnitClient,
        *,
        window: float = DEFAULT_WINDOW,
        max_bills: int = DEFAULT_MAX_BILLS,
        workers: int = DEFAULT_WORKERS,
    ) -> None:
        if window < 0 or max_bills < 1 or workers < 1:
            raise InvalidInput("GroupCommit: window >= 0, max_bills >= 1, workers >= 1")
        self.unit = unit
        self.window = window
        self.max_bills = max_bills
        self._queue: queue.Queue[_Item | None] = queue.Queue()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="ebill-batch")
        self._closed = False
        self._lock = threading.Lock()
        #: The sizes of the batches sent, in order (for the caller's statistics).
        self.batch_sizes: list[int] = []
        self._collector = threading.Thread(
            target=self._collect, name="ebill-group-commit", daemon=True
        )
        self._collector.start()

    def submit(
        self,
        bill: IssueRequest | SampleBill | Mapping[str, Any],
        payer: Mapping[str, str] | None = None,
        medical: Mapping[str, Any] | None = None,
        *,
        salt: bytes | None = None,
        check_code: str | None = None,
    ) -> Future[IssuedBill]:
        """Queue one bill (arguments as :meth:`UnitClient.issue_bill`); its future.
        Hashes the check code in the calling thread. Raises InvalidInput if closed."""
        return self.submit_prepared(
            PreparedBill.of(IssueRequest.of(bill, payer, medical, salt, check_code))
        )

    def submit_prepared(self, item: PreparedBill) -> Future[IssuedBill]:
        """Queue one bill the caller prepared (:meth:`PreparedBill.of`: salt, check code
        and its hash); its future. Raises InvalidInput if closed."""
        future: Future[IssuedBill] = Future()
        with self._lock:
            if self._closed:
                raise InvalidInput("GroupCommit: closed")
            self._queue.put((item, future))
        return future

    def issue(
        self,
        bill: IssueRequest | SampleBill | Mapping[str, Any],
        payer: Mapping[str, str] | None = None,
        medical: Mapping[str, Any] | None = None,
        *,
        salt: bytes | None = None,
        check_code: str | None = None,
    ) -> IssuedBill:
        """Issue one bill through the next batch; its result, or its own error (as
        :meth:`UnitClient.issue_bill` raises)."""
        return self.submit(bill, payer, medical, salt=salt, check_code=check_code).result()

    def close(self) -> None:
        """Send what is queued, wait for every batch, stop the threads."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(None)
        self._collector.join()
        self._pool.shutdown(wait=True)

    def __enter__(self) -> GroupCommit:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _collect(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            deadline = time.monotonic() + self.window
            stop = False
            while len(batch) < self.max_bills:
                remaining = deadline - time.monotonic()
                try:
                    if remaining > 0:
                        item = self._queue.get(timeout=remaining)
                    else:
                        item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self.batch_sizes.append(len(batch))
            self._pool.submit(self._flush, batch)
            if stop:
                return

    def _flush(self, batch: list[_Item]) -> None:
        try:
            results = self.unit.issue_prepared_batch([item for item, _ in batch])
        except EbillError as error:
            if len(batch) == 1:
                batch[0][1].set_exception(error)
                return
            for item, future in batch:  # one bad bill fails only its own caller
                self._one(item, future)
            return
        except BaseException as error:  # noqa: BLE001 - every caller must get an answer
            for _, future in batch:
                future.set_exception(error)
            return
        for (_, future), result in zip(batch, results, strict=True):
            future.set_result(result)

    def _one(self, item: PreparedBill, future: Future[IssuedBill]) -> None:
        try:
            future.set_result(self.unit.issue_prepared_batch([item])[0])
        except BaseException as error:  # noqa: BLE001 - the caller gets its own error
            future.set_exception(error)
