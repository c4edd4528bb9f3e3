"""The service's own read model: a projector thread following the org's peer.

:class:`ReadModel` opens the read model (:mod:`ebill_index`) at a URL (a SQLite file,
0600, or PostgreSQL) and runs a :class:`~ebill_index.Projector` in a thread started and
stopped with the app. The projector resumes from the model's checkpoint (one database
transaction per batch of rows and its checkpoint: nothing lost or applied twice); when
it fails (the peer restarted, the database went away) it logs the error's type, never
its message (which may name a bill), and tries again after ``retry`` seconds, doubled
after each failure that made no progress, up to ``retry_cap``.

:meth:`ReadModel.as_of` tells how fresh the model is: the blocks projected and how many
the peer has beyond them (the peer's height is asked at most once a ``height_ttl``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from ebill.connection import Connection
from ebill_index import Projector, Store
from ebill_index.source import PeerSource

log = logging.getLogger("ebill_service.index")


def private_sqlite(url: str) -> None:
    """For a SQLite file URL: create the file 0600 (and its folder 0700) if missing."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    path = Path(str(parsed.database))
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    os.chmod(path, 0o600)


class ReadModel:
    """The read model at ``url``, kept up to date from the peer of ``connect()``.

    ``peer_height()`` answers the peer's height now (it may raise; the last known one
    is kept then). Raises ``sqlalchemy.exc.ArgumentError`` for a malformed URL and the
    database's error when it cannot be opened.
    """

    def __init__(
        self,
        url: str,
        connect: Callable[[], Connection],
        peer_height: Callable[[], int],
        *,
        chaincode: str,
        channel: str,
        retry: float = 1.0,
        retry_cap: float = 60.0,
        height_ttl: float = 1.0,
    ) -> None:
        private_sqlite(url)
        self.store = Store.open(url)
        self._connect = connect
        self._peer_height = peer_height
        self._chaincode, self._channel = chaincode, channel
        self._retry, self._retry_cap, self._ttl = retry, retry_cap, height_ttl
        self._stop = threading.Event()
        self._source: PeerSource | None = None
        self._lock = threading.Lock()
        self._peer = 0
        self._peer_at = float("-inf")
        self.failures = 0
        self._thread = threading.Thread(target=self._run, name="ebill-index", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def height(self) -> int:
        """The blocks the model holds (the checkpoint's block + 1; 0 when empty)."""
        position = self.store.position()
        return 0 if position is None else position.block_number + 1

    def peer(self) -> int:
        """The peer's height, asked at most once a ``height_ttl`` (the last known one
        if the peer does not answer)."""
        with self._lock:
            if time.monotonic() - self._peer_at >= self._ttl:
                try:
                    self._peer = max(self._peer, self._peer_height())
                except Exception as error:
                    log.warning("peer height unavailable (%s)", type(error).__name__)
                self._peer_at = time.monotonic()
            return self._peer

    def as_of(self) -> dict[str, int]:
        """``{"height": blocks projected, "lagBlocks": peer height - height}``."""
        height = self.height()
        return {"height": height, "lagBlocks": max(0, self.peer() - height)}

    def _run(self) -> None:
        delay = self._retry
        while not self._stop.is_set():
            before = None
            try:
                before = self.store.position()
                self._follow()
            except Exception as error:  # the peer or the database failed: resume later
                if not self._stop.is_set():
                    self.failures += 1
                    log.warning(
                        "read model projector failed (%s); resuming in %.1fs",
                        type(error).__name__,
                        delay,
                    )
            if self._stop.is_set():
                break
            try:
                progressed = self.store.position() != before
            except Exception:  # the database is away: back off further
                progressed = False
            delay = self._retry if progressed else min(delay * 2, self._retry_cap)
            self._stop.wait(delay)

    def _follow(self) -> None:
        conn = self._connect()
        try:
            source = PeerSource(conn)
            self._source = source
            if self._stop.is_set():
                return
            Projector(self.store, source, chaincode=self._chaincode, channel=self._channel).run()
        finally:
            self._source = None
            conn.close()

    def stop(self) -> None:
        """Stop the projector (cancels its block stream), wait for it, close the model."""
        self._stop.set()
        deadline = time.monotonic() + 30
        # Closed again until the thread ends: it may be opening a stream right now.
        while self._thread.is_alive() and time.monotonic() < deadline:
            source = self._source
            if source is not None:
                source.close()
            self._thread.join(timeout=0.2)
        self.store.close()
