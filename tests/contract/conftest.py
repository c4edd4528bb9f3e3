"""Contract tests run against a real Fabric network that this test run starts.

The network lives in a temporary folder on its own ports (EBILL_TEST_BASE_PORT,
default 27050), so it never touches a demo network, and is removed at the end.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ebill.connection import Connection, connect
from ebill_network.layout import Layout
from ebill_network.network import Network


@pytest.fixture(scope="session")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    data = tmp_path_factory.mktemp("fabric")
    layout = Layout(
        data_dir=Path(data), base_port=int(os.environ.get("EBILL_TEST_BASE_PORT", "27050"))
    )
    net = Network(layout)
    try:
        net.up()
        yield net
    finally:
        net.clean()


@pytest.fixture(scope="session")
def description(network: Network) -> dict[str, Any]:
    return network.describe()


@pytest.fixture(scope="session")
def connect_as(description: dict[str, Any]) -> Iterator[Callable[..., Connection]]:
    """``connect_as(org, user, via=None)``: a Gateway connection closed at session end."""
    opened: list[Connection] = []

    def factory(org: str, user: str, *, via: str | None = None) -> Connection:
        conn = connect(description, org, user, via=via)
        opened.append(conn)
        return conn

    yield factory
    for conn in opened:
        conn.close()


_numbers = itertools.count(1)


@pytest.fixture
def next_number() -> Callable[[], str]:
    """A fresh 10-digit bill number for each call within the run."""
    return lambda: f"{next(_numbers):010d}"
