"""What the SDK retries under faults (fabricgw.retry), against fake in-process gateways:
a Submit sent again, the same envelope, through a fallback gateway; commit status asked
in slices and a dropped transaction resent; unknown outcomes resolvable by id; the
channel options in one place."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from gw_keys import IDENTITY, KEY
from test_gw_server import FakeGateway, abort

import fabricgw
from fabricgw import aio
from fabricgw._protos import gateway_pb2, gateway_pb2_grpc
from fabricgw.retry import Attempt, CommitWait, RetryPolicy, SubmitAttempts

FAST = RetryPolicy(submit_attempts=3, commit_status_slice=0.2, resubmit_interval=0.3, pause=0.01)
TX = "ab" * 32


def submit_error(code: grpc.StatusCode, detail: str = "") -> fabricgw.SubmitError:
    details = [fabricgw.ErrorDetail("orderer0:7050", "OrdererMSP", detail)] if detail else []
    return fabricgw.SubmitError(
        f"submit failed for transaction {TX}: {code.name}: x",
        transaction_id=TX,
        code=code,
        details=details,
    )


def status_error(code: grpc.StatusCode) -> fabricgw.CommitStatusError:
    return fabricgw.CommitStatusError(
        f"commit status failed for transaction {TX}: {code.name}: x", transaction_id=TX, code=code
    )


# --- the policy, without I/O ------------------------------------------------------------


def test_policy_checks_its_options() -> None:
    with pytest.raises(ValueError, match="submit_attempts"):
        RetryPolicy(submit_attempts=0)
    with pytest.raises(ValueError, match="commit_status_slice"):
        RetryPolicy(commit_status_slice=0)
    with pytest.raises(ValueError, match="resubmit_interval"):
        RetryPolicy(resubmit_interval=-1)
    with pytest.raises(ValueError, match="retry"):
        fabricgw.connect(grpc.insecure_channel("127.0.0.1:1"), identity=IDENTITY, retry=3)  # type: ignore[arg-type]


def test_submit_attempts_go_round_the_endpoints_with_growing_pauses() -> None:
    plan = SubmitAttempts(RetryPolicy(submit_attempts=4, pause=0.5), endpoints=2, timeout=5.0)
    seen = []
    while (attempt := plan.next()) is not None:
        seen.append(attempt)
        plan.failed(submit_error(grpc.StatusCode.UNAVAILABLE, f"orderer down {attempt.endpoint}"))
    assert [(a.endpoint, a.pause) for a in seen] == [(0, 0.0), (1, 0.5), (0, 1.0), (1, 2.0)]
    final = plan.final_error()
    assert final.code is grpc.StatusCode.UNAVAILABLE
    assert "after 4 attempts on 2 gateway endpoint(s)" in final.message
    assert [d.message for d in final.details] == [f"orderer down {i % 2}" for i in range(4)]
    assert final.outcome_unknown and final.transaction_id == TX


def test_a_submit_the_orderers_refused_is_not_retried() -> None:
    plan = SubmitAttempts(FAST, endpoints=3, timeout=5.0)
    assert plan.next() == Attempt(0, 5.0)
    refused = submit_error(grpc.StatusCode.ABORTED, "received unsuccessful response: BAD_REQUEST")
    with pytest.raises(fabricgw.SubmitError) as info:
        plan.failed(refused)
    assert info.value is refused
    assert not refused.outcome_unknown


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_commit_wait_asks_in_slices_and_resends_the_envelope() -> None:
    clock = Clock()
    policy = RetryPolicy(commit_status_slice=2.0, resubmit_interval=3.0, pause=0.5)
    wait = CommitWait(policy, TX, endpoints=2, total=14.0, can_resubmit=True, clock=clock)
    plan = []
    while (attempt := wait.next()) is not None:
        plan.append((clock.now - 100.0, attempt.endpoint, attempt.timeout, attempt.resubmit))
        clock.now += attempt.pause + attempt.timeout  # each slice waits out its deadline
        wait.failed(status_error(grpc.StatusCode.DEADLINE_EXCEEDED))
    assert plan == [
        (0.0, 0, 2.0, False),
        (2.0, 0, 2.0, False),
        (4.0, 0, 2.0, True),  # nothing for 3 s: the same envelope again
        (6.0, 0, 2.0, False),
        (8.0, 0, 2.0, False),
        (10.0, 0, 2.0, True),  # then after 6 s, 12 s...
        (12.0, 0, 2.0, False),
    ]
    final = wait.final_error()
    assert final.outcome_unknown and final.transaction_id == TX
    assert (
        "no commit status within 14s" in final.message and "sent again 2 time(s)" in final.message
    )


def test_commit_wait_moves_to_the_next_endpoint_when_one_fails() -> None:
    clock = Clock()
    wait = CommitWait(FAST, TX, endpoints=3, total=5.0, can_resubmit=False, clock=clock)
    first = wait.next()
    assert first is not None and first.endpoint == 0
    wait.failed(status_error(grpc.StatusCode.UNAVAILABLE))  # the gateway peer died
    second = wait.next()
    assert second is not None and second.endpoint == 1 and second.pause == FAST.pause
    assert not second.resubmit  # no envelope: nothing to resend
    with pytest.raises(fabricgw.CommitStatusError):
        wait.failed(status_error(grpc.StatusCode.PERMISSION_DENIED))


def test_a_failed_resend_is_tried_again_soon() -> None:
    clock = Clock()
    policy = RetryPolicy(commit_status_slice=1.0, resubmit_interval=3.0, pause=0.5)
    wait = CommitWait(policy, TX, endpoints=1, total=60.0, can_resubmit=True, clock=clock)
    clock.now += 3.0
    attempt = wait.next()
    assert attempt is not None and attempt.resubmit
    wait.resubmit_failed(submit_error(grpc.StatusCode.UNAVAILABLE, "no Raft leader"))
    wait.failed(status_error(grpc.StatusCode.DEADLINE_EXCEEDED))
    clock.now += 1.0
    again = wait.next()
    assert again is not None and again.resubmit  # 0.5 s later, not 3 s


# --- errors with an unknown outcome -----------------------------------------------------


def test_which_errors_have_an_unknown_outcome() -> None:
    assert not fabricgw.EndorseError("e", transaction_id=TX).outcome_unknown
    assert not fabricgw.EvaluateError("e", transaction_id=TX).outcome_unknown
    assert status_error(grpc.StatusCode.DEADLINE_EXCEEDED).outcome_unknown
    assert submit_error(grpc.StatusCode.DEADLINE_EXCEEDED).outcome_unknown
    assert submit_error(grpc.StatusCode.UNAVAILABLE).outcome_unknown
    assert not submit_error(grpc.StatusCode.ABORTED).outcome_unknown


def test_resolve_asks_the_network_for_the_transaction_id() -> None:
    asked: list[tuple[str, float | None]] = []
    status = fabricgw.Status(TX, 0, "VALID", True, 12)

    class Network:
        def get_commit_status(self, transaction_id: str, *, timeout: float | None = None) -> Any:
            asked.append((transaction_id, timeout))
            return status

    assert status_error(grpc.StatusCode.UNAVAILABLE).resolve(Network(), timeout=3) is status
    assert asked == [(TX, 3)]


# --- against fake gateways --------------------------------------------------------------


def with_results(envelope: Any, results: bytes) -> Any:
    """The envelope with ``results`` as the read-write set of its chaincode action."""
    from fabricgw._protos import (
        common_pb2,
        proposal_pb2,
        proposal_response_pb2,
        transaction_pb2,
    )

    payload = common_pb2.Payload.FromString(envelope.payload)
    transaction = transaction_pb2.Transaction.FromString(payload.data)
    action = transaction.actions[0]
    action_payload = transaction_pb2.ChaincodeActionPayload.FromString(action.payload)
    response_payload = proposal_response_pb2.ProposalResponsePayload.FromString(
        action_payload.action.proposal_response_payload
    )
    chaincode_action = proposal_pb2.ChaincodeAction.FromString(response_payload.extension)
    chaincode_action.results = results
    response_payload.extension = chaincode_action.SerializeToString()
    action_payload.action.proposal_response_payload = response_payload.SerializeToString()
    action.payload = action_payload.SerializeToString()
    payload.data = transaction.SerializeToString()
    return common_pb2.Envelope(payload=payload.SerializeToString())


@dataclass
class DroppingGateway(FakeGateway):
    """Drops the first Submit of each transaction (as a dying Raft leader does): its commit
    status comes only after ``submits_before_commit`` envelopes arrived."""

    submits_before_commit: int = 2
    unavailable_submits: int = 0
    results: bytes = b""
    """The read-write set the endorsed transaction carries."""
    commit_unavailable: bool = False
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def Submit(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        if self.unavailable_submits:
            self.unavailable_submits -= 1
            self._record("submit_refused", request)
            abort(context, (grpc.StatusCode.UNAVAILABLE, "no orderers could process", []))
        response = super().Submit(request, context)
        with self.arrived:
            self.arrived.notify_all()
        return response

    def Endorse(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        response = super().Endorse(request, context)
        if self.results:
            response.prepared_transaction.CopyFrom(
                with_results(response.prepared_transaction, self.results)
            )
        return response

    def CommitStatus(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        self._record("commit_status", request)
        if self.commit_unavailable:
            abort(context, (grpc.StatusCode.UNAVAILABLE, "peer going away", []))
        with self.arrived:
            if not self.arrived.wait_for(
                lambda: len(self.requests.get("submit", [])) >= self.submits_before_commit,
                timeout=max(context.time_remaining() or 0, 0),
            ):
                context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline")
        return gateway_pb2.CommitStatusResponse(
            result=self.commit_code, block_number=self.block_number
        )


@dataclass
class Servers:
    fakes: list[DroppingGateway]
    channels: list[grpc.Channel]
    addresses: list[str]

    def connect(self, **options: Any) -> fabricgw.Gateway:
        return fabricgw.connect(
            self.channels[0],
            identity=IDENTITY,
            signer=fabricgw.new_private_key_signer(KEY),
            fallback_channels=self.channels[1:],
            retry=FAST,
            **options,
        )


@pytest.fixture
def servers() -> Iterator[Servers]:
    fakes, started, channels, addresses = [], [], [], []
    for _ in range(2):
        fake = DroppingGateway()
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        gateway_pb2_grpc.add_GatewayServicer_to_server(fake, server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        fakes.append(fake)
        started.append(server)
        addresses.append(f"127.0.0.1:{port}")
        channels.append(grpc.insecure_channel(addresses[-1], options=fabricgw.channel_options()))
    try:
        yield Servers(fakes, channels, addresses)
    finally:
        for channel in channels:
            channel.close()
        for server in started:
            server.stop(grace=None)


def test_a_dropped_transaction_is_sent_again_and_its_commit_seen(servers: Servers) -> None:
    primary = servers.fakes[0]
    contract = servers.connect(commit_status_timeout=5).get_network("ch").get_contract("cc")
    result = contract.submit_transaction("CreateBill", "B1")
    assert result == primary.result
    first, second = primary.requests["submit"]
    assert first.transaction_id == second.transaction_id
    assert first.prepared_transaction.SerializeToString() == (
        second.prepared_transaction.SerializeToString()
    )  # the same signed envelope, never a new transaction
    assert len(primary.requests["commit_status"]) >= 2  # asked in slices, not once


def test_submit_goes_to_the_fallback_gateway_with_the_same_envelope(servers: Servers) -> None:
    primary, fallback = servers.fakes
    primary.unavailable_submits = 5
    fallback.submits_before_commit = 1
    transaction = servers.connect().get_network("ch").get_contract("cc").new_proposal("F").endorse()
    commit = transaction.submit()
    refused = primary.requests["submit_refused"][0]
    sent = fallback.requests["submit"][0]
    assert sent.transaction_id == transaction.transaction_id == refused.transaction_id
    assert sent.prepared_transaction == refused.prepared_transaction
    assert commit.transaction_id == transaction.transaction_id


def test_commit_status_is_asked_of_the_fallback_when_the_primary_fails(servers: Servers) -> None:
    primary, fallback = servers.fakes
    primary.commit_unavailable = True
    fallback.submits_before_commit = 0  # the fallback's peer has the commit
    network = servers.connect().get_network("ch")
    status = network.get_commit_status(TX, timeout=3)
    assert status.successful and status.block_number == fallback.block_number
    assert primary.requests["commit_status"] and fallback.requests["commit_status"]


def test_every_submit_failing_leaves_an_unknown_outcome_with_the_details(servers: Servers) -> None:
    for fake in servers.fakes:
        fake.unavailable_submits = 10
    contract = servers.connect().get_network("ch").get_contract("cc")
    with pytest.raises(fabricgw.SubmitError) as info:
        contract.submit_transaction("F")
    error = info.value
    assert error.outcome_unknown and error.code is grpc.StatusCode.UNAVAILABLE
    assert "after 3 attempts on 2 gateway endpoint(s)" in str(error)
    assert sum(len(f.requests["submit_refused"]) for f in servers.fakes) == 3


def test_the_aio_client_resends_a_dropped_transaction_too(servers: Servers) -> None:
    primary = servers.fakes[0]

    async def scenario() -> bytes:
        async with grpc.aio.insecure_channel(servers.addresses[0]) as channel:
            gateway = aio.connect(
                channel,
                identity=IDENTITY,
                signer=fabricgw.new_private_key_signer(KEY),
                retry=FAST,
                commit_status_timeout=5,
            )
            contract = gateway.get_network("ch").get_contract("cc")
            return await contract.submit_transaction("CreateBill", "B1")

    assert asyncio.run(scenario()) == primary.result
    first, second = primary.requests["submit"]
    assert first.prepared_transaction == second.prepared_transaction


# --- channel options --------------------------------------------------------------------


def test_reconnect_backoff_is_bounded_for_a_lan_in_one_place() -> None:
    options = dict(fabricgw.CHANNEL_OPTIONS)
    assert options["grpc.max_reconnect_backoff_ms"] == 2_000
    assert options["grpc.initial_reconnect_backoff_ms"] == 100
    assert options["grpc.min_reconnect_backoff_ms"] == 2_000
    merged = dict(fabricgw.channel_options(**{"grpc.max_reconnect_backoff_ms": 500}))
    assert merged["grpc.max_reconnect_backoff_ms"] == 500
    assert merged["grpc.keepalive_time_ms"] == options["grpc.keepalive_time_ms"]
    from ebill import connection

    assert connection.CHANNEL_OPTIONS is fabricgw.CHANNEL_OPTIONS


# --- private data: never resent by the wait -----------------------------------------------


def _rwset(*, private_write: bool) -> bytes:
    from fabricgw._protos import rwset_pb2

    rwset = rwset_pb2.TxReadWriteSet(data_model=rwset_pb2.TxReadWriteSet.KV)
    namespace = rwset.ns_rwset.add(namespace="ebill")
    collection = namespace.collection_hashed_rwset.add(collection_name="billPrivate")
    collection.hashed_rwset = b"\x0a\x02hr"  # hashed reads only
    if private_write:
        collection.pvt_rwset_hash = b"\x01" * 32
    data: bytes = rwset.SerializeToString()
    return data


def test_a_transaction_that_writes_private_data_is_not_resent_by_the_wait() -> None:
    from fabricgw.transaction import writes_private_data

    assert writes_private_data(_rwset(private_write=True))
    assert not writes_private_data(_rwset(private_write=False))  # a hashed read only
    assert not writes_private_data(b"")
    assert writes_private_data(b"\xff\xff not a read-write set")


def test_the_wait_only_asks_for_a_private_data_transaction(servers: Servers) -> None:
    primary = servers.fakes[0]
    primary.results = _rwset(private_write=True)
    contract = servers.connect(commit_status_timeout=1).get_network("ch").get_contract("cc")
    transaction = contract.new_proposal("DepositBillPrivate").endorse()
    assert transaction.writes_private_data
    with pytest.raises(fabricgw.CommitStatusError) as info:
        transaction.submit().status()
    assert info.value.outcome_unknown
    assert len(primary.requests["submit"]) == 1  # never a copy
    assert len(primary.requests["commit_status"]) >= 2  # asked in slices
