"""Faults under load on a SmartBFT network of its own (four orderers, tolerates one):
the primary killed with SIGKILL while bills are issued, then restarted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import Faults, base_port, setup_world

from ebill_network.layout import Layout
from ebill_network.network import Network


@pytest.fixture(scope="module")
def faults(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Faults]:
    data = tmp_path_factory.mktemp("fabric-faults-bft")
    net = Network(Layout(data_dir=Path(data), base_port=base_port(1200), consensus="bft"))
    try:
        net.up()
        setup_world(net.describe())
        yield Faults(net)
    finally:
        net.clean()


def test_bft_primary_of_four_killed_under_load(faults: Faults) -> None:
    assert len(faults.network.layout.orderers()) == 4
    victim: list[str] = []

    def kill_primary() -> None:
        victim.append(faults.leader())
        faults.kill(victim[0])

    faults.scenario(
        "BFT: primary of 4 orderers kill -9",
        kill_primary,
        lambda: faults.network.restart(victim[0]),
        tolerated=True,
    )
