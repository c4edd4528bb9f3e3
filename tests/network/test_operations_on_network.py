"""Operating the network: events per step, a chaincode server that dies, an upgrade."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

from chain import Connect, World, call, eventually, issue, query

import fabricgw
from ebill.samples import outpatient_bill
from ebill_network.network import Network


def test_each_step_emits_one_event_with_bill_status_and_org(
    world: World, connect_as: Connect, next_number: Callable[[], str]
) -> None:
    auditor = connect_as("audit", "auditor1")
    network = auditor.gateway.get_network(auditor.channel_name)
    sample = outpatient_bill(next_number())
    first = issue(connect_as("units", "hospital1"), sample)
    payer = connect_as("finance", "platform1")
    who = json.dumps({"type": sample.payer["type"], "id": sample.payer["id"]}).encode()
    salt = {"payer": who, "payerSalt": sample.salt}
    call(payer, "AuthoriseReimburser", sample.code, sample.number, "MEDINS-HN", transient=salt)
    medins = connect_as("insurance", "medins1")
    call(medins, "LockBill", sample.code, sample.number)
    call(medins, "ClaimBill", sample.code, sample.number, "26850", "MI-2026-0100")

    expected = [
        ("DepositBillPrivate", None, "UnitsMSP"),
        ("IssueBill", "issued", "UnitsMSP"),
        ("AuthoriseReimburser", None, "FinanceMSP"),
        ("LockBill", "locked", "InsuranceMSP"),
        ("ClaimBill", "reimbursed", "InsuranceMSP"),
    ]
    seen: list[tuple[str, object, object]] = []
    # replay from the block of the issuance: exactly one event per step, in order
    issued_block = None
    with network.get_chaincode_events(auditor.chaincode_name, start_block=0) as events:
        for event in events:
            payload = json.loads(event.payload)
            if payload.get("billNumber") != sample.number:
                continue
            if event.transaction_id == first["issueTxId"]:
                issued_block = event.block_number
            seen.append((event.event_name, payload.get("status"), payload["org"]))
            assert payload["billCode"] == sample.code
            if len(seen) == len(expected):
                break
    assert issued_block is not None
    assert [(n, o) for n, _, o in seen] == [(n, o) for n, _, o in expected]
    for (_, status, _), (_, want, _) in zip(seen, expected, strict=True):
        if want is not None:
            assert status == want


def test_killed_chaincode_server_is_reconnected_without_losing_data(
    network: Network, world: World, connect_as: Connect, next_number: Callable[[], str]
) -> None:
    hospital = connect_as("units", "hospital1")
    before = outpatient_bill(next_number())
    record = issue(hospital, before)

    network.restart_chaincode(kill=True)  # SIGKILL, then a new server process

    auditor = connect_as("audit", "auditor1")
    stored = eventually(lambda: query(auditor, "ReadBill", before.code, before.number))
    assert stored["checkCodeHash"] == record["checkCodeHash"]
    after = outpatient_bill(next_number())
    assert eventually(lambda: issue(hospital, after))["status"] == "issued"


def test_upgrade_keeps_bills_stock_and_authorisations(
    network: Network, world: World, connect_as: Connect, next_number: Callable[[], str]
) -> None:
    hospital, auditor = connect_as("units", "hospital1"), connect_as("audit", "auditor1")
    sample = outpatient_bill(next_number())
    record = issue(hospital, sample)
    payer = connect_as("finance", "platform1")
    who = json.dumps({"type": sample.payer["type"], "id": sample.payer["id"]}).encode()
    salt = {"payer": who, "payerSalt": sample.salt}
    call(payer, "AuthoriseReimburser", sample.code, sample.number, "PICC-HN", transient=salt)
    sequence = network.status()["sequence"]

    # the chain keeps answering during the upgrade: a reader polls all along
    failures: list[str] = []
    reads = 0
    stop = threading.Event()

    def keep_reading() -> None:
        nonlocal reads
        while not stop.is_set():
            try:
                query(auditor, "ReadBill", sample.code, sample.number)
                reads += 1
            except fabricgw.GatewayError as err:
                failures.append(str(err).splitlines()[0])
            time.sleep(0.05)

    reader = threading.Thread(target=keep_reading)
    reader.start()
    try:
        network.deploy(tag="upgrade-test")  # same code, a new package: the next sequence
        network.wait_ready()
    finally:
        stop.set()
        reader.join()
    assert network.status()["sequence"] == sequence + 1
    assert failures == [] and reads > 10, (reads, failures[:3])

    stored = eventually(lambda: query(auditor, "ReadBill", sample.code, sample.number))
    assert stored["checkCodeHash"] == record["checkCodeHash"]
    assert "PICC-HN" in stored["authorised"]
    assert query(auditor, "ReadStock", world.outpatient_batch)["status"] == "approved"
    # the authorisation still works after the upgrade, and issuing from the same stock too
    insurer = connect_as("insurance", "insurer1")
    assert call(insurer, "LockBill", sample.code, sample.number)["status"] == "locked"
    assert issue(hospital, outpatient_bill(next_number()))["batchId"] == world.outpatient_batch
