"""Network tests: everything in this folder runs against a real Fabric network that this
test run starts (each test is marked ``network`` here, so ``-m "not network"`` leaves them
out).

The network lives in a temporary folder on its own ports (EBILL_TEST_BASE_PORT,
default 27050), so it never touches a demo network, and is removed at the end.
Tests talk to it through the Gateway (fabricgw) as the chaincode's callers would.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from chain import BILL_NUMBERS, Connect, Open, P, World, call

from ebill.connection import Connection, connect
from ebill.finance import FinanceClient
from ebill.parties import open_client
from ebill.party import PartyClient
from ebill.payer import PayerClient
from ebill.reimburser import ReimburserClient
from ebill.samples import HOSPITAL_UNIT, OUTPATIENT_CODE, PAYER1, SCHOOL_UNIT, TUITION_CODE
from ebill.supervisor import SupervisorClient
from ebill.sync import BlockSync
from ebill.unit import UnitClient
from ebill_network.layout import Layout
from ebill_network.network import Network
from ebill_network.postgres import Cluster


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test collected from this folder ``network``."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.network)


@pytest.fixture(scope="session")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    data = tmp_path_factory.mktemp("fabric")
    base = int(os.environ.get("EBILL_TEST_BASE_PORT", "27050"))
    net = Network(Layout(data_dir=Path(data), base_port=base))
    try:
        net.up()
        yield net
    finally:
        net.clean()


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A throwaway PostgreSQL cluster (Debian's initdb/pg_ctl) on 127.0.0.1, port
    EBILL_TEST_BASE_PORT + 900, for the read model's tests; removed at the end."""
    base = int(os.environ.get("EBILL_TEST_BASE_PORT", "27050"))
    cluster = Cluster(base + 900)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def description(network: Network) -> dict[str, Any]:
    return network.describe()


@pytest.fixture(scope="session")
def connect_as(description: dict[str, Any]) -> Iterator[Connect]:
    """``connect_as(org, user, via=None)``: a Gateway connection closed at session end."""
    opened: list[Connection] = []

    def factory(org: str, user: str, *, via: str | None = None) -> Connection:
        conn = connect(description, org, user, via=via)
        opened.append(conn)
        return conn

    yield factory
    for conn in opened:
        conn.close()


@pytest.fixture(scope="session")
def world(connect_as: Connect) -> World:
    finance = connect_as("finance", "finance1")
    hospital = connect_as("units", "hospital1")
    school = connect_as("units", "school1")
    call(finance, "RegisterUnit", json.dumps(HOSPITAL_UNIT, ensure_ascii=False))
    call(finance, "RegisterUnit", json.dumps(SCHOOL_UNIT, ensure_ascii=False))
    batches = []
    for conn, unit, code in (
        (hospital, HOSPITAL_UNIT, OUTPATIENT_CODE),
        (school, SCHOOL_UNIT, TUITION_CODE),
    ):
        application = {
            "unitCode": unit["unitCode"],
            "billCode": code,
            "startNumber": "0000000001",
            "count": 100000,
        }
        batch = call(conn, "ApplyStock", json.dumps(application))
        approved = call(finance, "ApproveStock", batch["batchId"])
        assert approved["status"] == "approved"
        batches.append(batch["batchId"])
    return World(*batches)


@pytest.fixture
def next_number() -> Callable[[], str]:
    """A fresh 10-digit bill number (inside the approved stock) for each call within the run."""
    return lambda: f"{next(BILL_NUMBERS):010d}"


@pytest.fixture(scope="module")
def party(description: dict[str, Any]) -> Iterator[Open[Any]]:
    """``party(Class, org, user)``: a party client sharing the module's BlockSync."""
    sync = BlockSync(description, "audit", "auditor1")
    opened: list[PartyClient] = []

    def factory(cls: type[P], org: str, user: str) -> P:
        client = open_client(cls, description, org, user, sync=sync)
        opened.append(client)
        return client

    yield factory
    for client in opened:
        client.close()
    sync.close()


@pytest.fixture(scope="module")
def finance(party: Open[FinanceClient], world: World) -> FinanceClient:
    return party(FinanceClient, "finance", "finance1")


@pytest.fixture(scope="module")
def hospital(party: Open[UnitClient], world: World) -> UnitClient:
    return party(UnitClient, "units", "hospital1")


@pytest.fixture(scope="module")
def school(party: Open[UnitClient], world: World) -> UnitClient:
    return party(UnitClient, "units", "school1")


@pytest.fixture(scope="module")
def payer(party: Open[PayerClient], world: World) -> PayerClient:
    platform = party(PayerClient, "finance", "platform1")
    return platform.for_payer(PAYER1["type"], PAYER1["id"])


@pytest.fixture(scope="module")
def medins(party: Open[ReimburserClient], world: World) -> ReimburserClient:
    return party(ReimburserClient, "insurance", "medins1")


@pytest.fixture(scope="module")
def insurer(party: Open[ReimburserClient], world: World) -> ReimburserClient:
    return party(ReimburserClient, "insurance", "insurer1")


@pytest.fixture(scope="module")
def auditor(party: Open[SupervisorClient], world: World) -> SupervisorClient:
    return party(SupervisorClient, "audit", "auditor1")
