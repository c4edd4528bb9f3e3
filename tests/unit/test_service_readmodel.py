"""The service's read model (ebill_service.readmodel) without a network: its file is
private, a failing peer is retried and logged by the error's type only, stop ends it."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from ebill.connection import Connection
from ebill_service.readmodel import ReadModel


def test_a_failing_peer_is_retried_and_logged_without_its_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    attempts = threading.Semaphore(0)

    def connect() -> Connection:
        attempts.release()
        raise OSError("peer down while reading the bill of PAYER-SECRET")

    def height() -> int:
        raise OSError("PAYER-SECRET")

    url = f"sqlite:///{tmp_path / 'state' / 'index.sqlite'}"
    model = ReadModel(url, connect, height, chaincode="ebill", channel="c", retry=0.01)
    caplog.set_level(logging.WARNING, logger="ebill_service.index")
    model.start()
    for _ in range(3):  # it tries again after each failure
        assert attempts.acquire(timeout=60)
    assert model.as_of() == {"height": 0, "lagBlocks": 0}  # peer unknown: nothing known
    model.stop()
    assert not model._thread.is_alive()
    assert model.failures >= 2
    assert (tmp_path / "state" / "index.sqlite").stat().st_mode & 0o777 == 0o600
    messages = [record.getMessage() for record in caplog.records]
    assert any("projector failed (OSError)" in m for m in messages), messages
    assert any("peer height unavailable (OSError)" in m for m in messages), messages
    assert not [m for m in messages if "PAYER-SECRET" in m]
