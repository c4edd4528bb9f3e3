"""The thread that follows the org's peer's chaincode events into the event log.

It listens through the Gateway of the org's peer (``Network.get_chaincode_events``)
from the checkpoint in the store (from block 0 the first time), records each event
(:meth:`EventLog.append`, one store transaction with its checkpoint) and, when the
stream fails (the peer restarted...), reconnects after ``retry`` seconds and resumes
from the stored checkpoint: no event lost, none recorded twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from ebill.connection import Connection

from .eventlog import EventLog

log = logging.getLogger("ebill_service.events")


class EventFollower:
    """Follow the contract's events of ``connect()``'s peer into ``events``."""

    def __init__(
        self,
        events: EventLog,
        connect: Callable[[], Connection],
        *,
        retry: float = 2.0,
        on_event: Callable[[int], Any] | None = None,
    ) -> None:
        self.events = events
        self._connect = connect
        self._retry = retry
        self._on_event = on_event
        self._stop = threading.Event()
        self._stream: Any = None
        self._thread = threading.Thread(target=self._run, name="ebill-events", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._follow()
            except Exception as error:  # the peer went away: reconnect, resume
                if not self._stop.is_set():
                    log.warning("event stream failed (%s); resuming", type(error).__name__)
            self._stop.wait(self._retry)

    def _follow(self) -> None:
        conn = self._connect()
        try:
            network = conn.gateway.get_network(conn.channel_name)
            checkpoint = self.events.checkpoint()
            with network.get_chaincode_events(
                conn.chaincode_name, checkpoint=checkpoint, start_block=0
            ) as stream:
                self._stream = stream
                if self._stop.is_set():
                    return
                for event in stream:
                    self.events.append(event)
                    if self._on_event is not None:
                        self._on_event(event.block_number)
        finally:
            self._stream = None
            conn.close()

    def stop(self) -> None:
        """Stop following (cancels the stream) and wait for the thread."""
        self._stop.set()
        stream = self._stream
        if stream is not None:
            stream.close()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
