"""Event streams on the real network: chaincode events (in order, resumed from a file
checkpoint without loss or repeat) and block events (full, filtered, with private data)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from chain import ISSUING_ORGS, Connect, World, hashed
from fabric_protos.common import common_pb2
from fabric_protos.ledger.rwset import rwset_pb2
from fabric_protos.ledger.rwset.kvrwset import kv_rwset_pb2
from fabric_protos.peer import (
    chaincode_event_pb2,
    proposal_pb2,
    proposal_response_pb2,
    transaction_pb2,
)

import fabricgw
from ebill import consistency
from ebill.connection import Connection, connect
from ebill.samples import HOSPITAL, OUTPATIENT_CODE, SampleBill, outpatient_bill
from ebill_chaincode.contract import keys
from ebill_network.layout import CHAINCODE, CHANNEL

pytestmark = pytest.mark.network

EVENT_TIMEOUT = 30.0
VALID = transaction_pb2.TxValidationCode.Value("VALID")
TRANSACTIONS_FILTER = common_pb2.BlockMetadataIndex.Value("TRANSACTIONS_FILTER")


@pytest.fixture
def hospital(connect_as: Connect) -> Connection:
    return connect_as("units", "hospital1")


def deposit(conn: Connection, sample: SampleBill) -> fabricgw.Status:
    """DepositBillPrivate of ``sample`` (units peer only), committed on every peer."""
    _, commit = conn.contract.submit_async(
        "DepositBillPrivate",
        sample.code,
        sample.number,
        transient={**sample.transient(), "bill": sample.argument().encode()},
        endorsing_organizations=["UnitsMSP"],
    )
    status = commit.status()
    assert status.successful, status
    consistency.wait_for_block(conn, status.block_number)
    return status


def issue_async(conn: Connection, sample: SampleBill) -> fabricgw.Status:
    """Deposit, then issue ``sample`` and wait for its commit; the IssueBill commit status."""
    deposit(conn, sample)
    result, commit = conn.contract.submit_async(
        "IssueBill",
        json.dumps(sample.public(), ensure_ascii=False),
        transient=hashed("ABC123"),
        endorsing_organizations=list(ISSUING_ORGS),
    )
    status = commit.status()
    assert status.successful, status
    assert json.loads(result)["billNumber"] == sample.number
    return status


def next_block(conn: Connection) -> int:
    """The number the next block will have: one past the newest block of the peer."""
    network = conn.gateway.get_network(CHANNEL)
    with network.get_filtered_block_events(timeout=EVENT_TIMEOUT) as blocks:
        return int(next(iter(blocks)).number) + 1


def ours(events: Iterable[fabricgw.ChaincodeEvent], tx_ids: Collection[str]) -> list[Any]:
    """The first ``len(tx_ids)`` events of our transactions, in the order they arrive."""
    wanted = set(tx_ids)
    return list(itertools.islice((e for e in events if e.transaction_id in wanted), len(wanted)))


# --- chaincode events ----------------------------------------------------------------


def test_chaincode_events_arrive_in_commit_order_with_their_tx_ids(
    world: World, hospital: Connection, next_number: Callable[[], str]
) -> None:
    start = next_block(hospital)
    network = hospital.gateway.get_network(CHANNEL)
    samples = [outpatient_bill(next_number()) for _ in range(5)]
    # listening starts before the first submit, from the block it will land in or later
    with network.get_chaincode_events(CHAINCODE, start_block=start, timeout=EVENT_TIMEOUT) as ev:
        statuses = [issue_async(hospital, s) for s in samples]
        tx_ids = [s.transaction_id for s in statuses]
        heard = ours(ev, tx_ids)

    assert [e.transaction_id for e in heard] == tx_ids
    assert [e.block_number for e in heard] == [s.block_number for s in statuses]
    assert all(e.block_number >= start for e in heard)
    for event, sample in zip(heard, samples, strict=True):
        assert event.event_name == "IssueBill" and event.chaincode_name == CHAINCODE
        payload = json.loads(event.payload)
        assert payload["billNumber"] == sample.number
        assert payload["billCode"] == OUTPATIENT_CODE and payload["unitCode"] == HOSPITAL[0]
        assert payload["status"] == "issued" and payload["org"] == "UnitsMSP"
        assert payload["batchId"] == world.outpatient_batch


def test_file_checkpointer_resumes_without_missing_or_repeating(
    world: World,
    description: dict[str, Any],
    hospital: Connection,
    next_number: Callable[[], str],
    tmp_path: Path,
) -> None:
    start = next_block(hospital)
    sequential = [outpatient_bill(next_number()) for _ in range(3)]
    concurrent = [outpatient_bill(next_number()) for _ in range(6)]
    statuses = [issue_async(hospital, s) for s in sequential]
    with ThreadPoolExecutor(max_workers=len(concurrent)) as pool:  # several txs per block
        statuses += list(pool.map(lambda s: issue_async(hospital, s), concurrent))
    tx_ids = {s.transaction_id for s in statuses}

    network = hospital.gateway.get_network(CHANNEL)
    with network.get_chaincode_events(CHAINCODE, start_block=start, timeout=EVENT_TIMEOUT) as ev:
        reference = [(e.block_number, e.transaction_id) for e in ours(ev, tx_ids)]
    assert {tx for _, tx in reference} == tx_ids

    # stop right after an event that has another of ours after it in the same block,
    # when there is one, so the restart must skip part of a block
    stop = len(reference) // 2
    for i in range(len(reference) - 1):
        if reference[i][0] == reference[i + 1][0]:
            stop = i + 1
            break

    path = tmp_path / "checkpoint.json"
    first_run: list[tuple[int, str]] = []
    checkpointer = fabricgw.FileCheckpointer(path)
    listener = connect(description, "units", "hospital1")
    try:
        events = listener.gateway.get_network(CHANNEL).get_chaincode_events(
            CHAINCODE, start_block=start, checkpoint=checkpointer, timeout=EVENT_TIMEOUT
        )
        with events:
            for event in events:
                if event.transaction_id in tx_ids:
                    first_run.append((event.block_number, event.transaction_id))
                checkpointer.checkpoint_chaincode_event(event)
                if len(first_run) == stop:
                    break
    finally:
        listener.close()
    saved = json.loads(path.read_text())
    assert saved == {"blockNumber": first_run[-1][0], "transactionId": first_run[-1][1]}

    # a new process would do this: a new Gateway and a checkpointer reloaded from the file
    resumed = fabricgw.FileCheckpointer(path)
    assert (resumed.block_number, resumed.transaction_id) == first_run[-1]
    second_run: list[tuple[int, str]] = []
    listener = connect(description, "units", "hospital1")
    try:
        events = listener.gateway.get_network(CHANNEL).get_chaincode_events(
            CHAINCODE, start_block=start, checkpoint=resumed, timeout=EVENT_TIMEOUT
        )
        with events:
            for event in events:
                if event.transaction_id in tx_ids:
                    second_run.append((event.block_number, event.transaction_id))
                resumed.checkpoint_chaincode_event(event)
                if len(first_run) + len(second_run) == len(reference):
                    break
    finally:
        listener.close()

    assert first_run == reference[:stop]
    assert second_run == reference[stop:]
    assert json.loads(path.read_text())["transactionId"] == reference[-1][1]


# --- block events --------------------------------------------------------------------


def _block_with(network: fabricgw.Network, kind: str, block_number: int) -> Any:
    """The block ``block_number`` of ``kind``, from a stream started at that block."""
    open_stream = {
        "block": network.get_block_events,
        "filtered": network.get_filtered_block_events,
        "private": network.get_block_and_private_data_events,
    }[kind]
    with open_stream(start_block=block_number, timeout=EVENT_TIMEOUT) as blocks:
        return next(iter(blocks))


def _transactions(block: Any) -> Iterator[tuple[int, Any, Any]]:
    """(index, channel header, Transaction) of each envelope of a full block."""
    for index, data in enumerate(block.data.data):
        envelope = common_pb2.Envelope.FromString(data)
        payload = common_pb2.Payload.FromString(envelope.payload)
        header = common_pb2.ChannelHeader.FromString(payload.header.channel_header)
        yield index, header, transaction_pb2.Transaction.FromString(payload.data)


def _chaincode_events(transaction: Any) -> list[Any]:
    found = []
    for action in transaction.actions:
        action_payload = transaction_pb2.ChaincodeActionPayload.FromString(action.payload)
        response = proposal_response_pb2.ProposalResponsePayload.FromString(
            action_payload.action.proposal_response_payload
        )
        chaincode_action = proposal_pb2.ChaincodeAction.FromString(response.extension)
        found.append(chaincode_event_pb2.ChaincodeEvent.FromString(chaincode_action.events))
    return found


@pytest.fixture
def issued(
    world: World, hospital: Connection, next_number: Callable[[], str]
) -> tuple[SampleBill, fabricgw.Status]:
    sample = outpatient_bill(next_number())
    return sample, issue_async(hospital, sample)


def test_filtered_block_shows_our_transaction_valid(
    hospital: Connection, issued: tuple[SampleBill, fabricgw.Status]
) -> None:
    _, status = issued
    block = _block_with(hospital.gateway.get_network(CHANNEL), "filtered", status.block_number)
    assert block.number == status.block_number and block.channel_id == CHANNEL
    (mine,) = [t for t in block.filtered_transactions if t.txid == status.transaction_id]
    assert mine.tx_validation_code == VALID
    assert mine.type == common_pb2.HeaderType.Value("ENDORSER_TRANSACTION")
    actions = mine.transaction_actions.chaincode_actions
    assert [a.chaincode_event.event_name for a in actions] == ["IssueBill"]
    assert all(not a.chaincode_event.payload for a in actions)  # filtered: names, no payloads


def test_full_block_holds_our_transaction_and_no_personal_data(
    hospital: Connection, issued: tuple[SampleBill, fabricgw.Status]
) -> None:
    sample, status = issued
    block = _block_with(hospital.gateway.get_network(CHANNEL), "block", status.block_number)
    assert block.header.number == status.block_number
    found = [(i, t) for i, h, t in _transactions(block) if h.tx_id == status.transaction_id]
    assert len(found) == 1
    index, transaction = found[0]
    assert block.metadata.metadata[TRANSACTIONS_FILTER][index] == VALID
    (event,) = _chaincode_events(transaction)
    assert event.event_name == "IssueBill" and event.tx_id == status.transaction_id
    assert json.loads(event.payload)["billNumber"] == sample.number
    # the payer and medical part travelled as transient data: not in the block
    raw = block.SerializeToString()
    for personal in (sample.payer["id"], sample.payer["name"], "MZ20261128001"):
        assert personal.encode() not in raw
    assert sample.salt not in raw


def _private_writes(block_and_private_data: Any, tx_index: int) -> dict[str, list[Any]]:
    """Collection name -> our chaincode's private KV writes in transaction ``tx_index``."""
    if tx_index not in block_and_private_data.private_data_map:
        return {}
    tx_pvt = block_and_private_data.private_data_map[tx_index]
    assert isinstance(tx_pvt, rwset_pb2.TxPvtReadWriteSet)
    writes: dict[str, list[Any]] = {}
    for ns in tx_pvt.ns_pvt_rwset:
        if ns.namespace != CHAINCODE:
            continue
        for collection in ns.collection_pvt_rwset:
            kv = kv_rwset_pb2.KVRWSet.FromString(collection.rwset)
            writes.setdefault(collection.collection_name, []).extend(kv.writes)
    return writes


def test_block_with_private_data_carries_the_bill_private_write_set(
    world: World, connect_as: Connect, hospital: Connection, next_number: Callable[[], str]
) -> None:
    """The deposit's block, delivered with private data to a member, holds the private
    write set; the finance peer, not a member, has none to send."""
    sample = outpatient_bill(next_number())
    status = deposit(hospital, sample)
    got = _block_with(hospital.gateway.get_network(CHANNEL), "private", status.block_number)
    assert got.block.header.number == status.block_number
    (index,) = [i for i, h, _ in _transactions(got.block) if h.tx_id == status.transaction_id]

    writes = _private_writes(got, index)
    assert list(writes) == ["billPrivate"]
    (write, _seal) = sorted(writes["billPrivate"], key=lambda w: w.key)
    assert write.key == keys.bill(OUTPATIENT_CODE, sample.number)
    assert _seal.key == keys.bill_seal(OUTPATIENT_CODE, sample.number)
    assert not write.is_delete
    private = json.loads(write.value)
    assert private["payer"] == sample.payer
    assert private["salt"] == sample.salt.hex()
    assert private["medical"] == sample.medical

    # the finance peer is not a member of billPrivate: it holds no private data to send
    finance = connect_as("finance", "finance1")
    at_finance = _block_with(finance.gateway.get_network(CHANNEL), "private", status.block_number)
    assert at_finance.block.header.number == status.block_number
    assert _private_writes(at_finance, index) == {}
