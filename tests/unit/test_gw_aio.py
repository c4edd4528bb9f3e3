"""The asyncio API (fabricgw.aio) against a fake grpc.aio Gateway and Deliver server."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from gw_keys import IDENTITY, KEY, verify_p256

import fabricgw
from fabricgw import aio
from fabricgw._protos import (
    ab_pb2,
    chaincode_event_pb2,
    common_pb2,
    events_pb2,
    events_pb2_grpc,
    gateway_pb2,
    gateway_pb2_grpc,
    proposal_pb2,
    proposal_response_pb2,
    status_pb2,
    transaction_pb2,
)


def prepared_envelope(signed_proposal: Any, result: bytes) -> Any:
    """Transaction envelope as the gateway assembles it from a proposal and its responses."""
    proposal = proposal_pb2.Proposal.FromString(signed_proposal.proposal_bytes)
    chaincode_action = proposal_pb2.ChaincodeAction(
        response=proposal_response_pb2.Response(status=200, payload=result)
    )
    response_payload = proposal_response_pb2.ProposalResponsePayload(
        proposal_hash=hashlib.sha256(proposal.SerializeToString()).digest(),
        extension=chaincode_action.SerializeToString(),
    )
    action_payload = transaction_pb2.ChaincodeActionPayload(
        chaincode_proposal_payload=proposal.payload,
        action=transaction_pb2.ChaincodeEndorsedAction(
            proposal_response_payload=response_payload.SerializeToString()
        ),
    )
    header = common_pb2.Header.FromString(proposal.header)
    transaction = transaction_pb2.Transaction(
        actions=[
            transaction_pb2.TransactionAction(
                header=header.signature_header, payload=action_payload.SerializeToString()
            )
        ]
    )
    payload = common_pb2.Payload(header=header, data=transaction.SerializeToString())
    return common_pb2.Envelope(payload=payload.SerializeToString())


async def abort(context: Any, code: grpc.StatusCode, message: str, detail: str) -> None:
    status = status_pb2.Status(code=code.value[0], message=message)
    status.details.add().Pack(
        gateway_pb2.ErrorDetail(address="peer0:7051", msp_id="Org1MSP", message=detail)
    )
    context.set_trailing_metadata((("grpc-status-details-bin", status.SerializeToString()),))
    await context.abort(code, message)


@dataclass
class FakeAsyncGateway(gateway_pb2_grpc.GatewayServicer):  # type: ignore[misc]
    result: bytes = b'{"id":"B1"}'
    commit_code: int = 0
    endorse_failure: bool = False
    hold_open: bool = False
    requests: dict[str, list[Any]] = field(default_factory=dict)
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)

    def _record(self, name: str, request: Any) -> None:
        self.requests.setdefault(name, []).append(request)

    async def Evaluate(self, request: Any, context: Any) -> Any:  # noqa: N802
        self._record("evaluate", request)
        return gateway_pb2.EvaluateResponse(
            result=proposal_response_pb2.Response(status=200, payload=self.result)
        )

    async def Endorse(self, request: Any, context: Any) -> Any:  # noqa: N802
        self._record("endorse", request)
        if self.endorse_failure:
            await abort(
                context,
                grpc.StatusCode.ABORTED,
                "failed to endorse transaction, see attached details for more info",
                "chaincode response 409, Conflict: bill B1 already exists",
            )
        envelope = prepared_envelope(request.proposed_transaction, self.result)
        return gateway_pb2.EndorseResponse(prepared_transaction=envelope)

    async def Submit(self, request: Any, context: Any) -> Any:  # noqa: N802
        self._record("submit", request)
        return gateway_pb2.SubmitResponse()

    async def CommitStatus(self, request: Any, context: Any) -> Any:  # noqa: N802
        self._record("commit_status", request)
        return gateway_pb2.CommitStatusResponse(result=self.commit_code, block_number=9)

    async def ChaincodeEvents(self, signed: Any, context: Any) -> AsyncIterator[Any]:  # noqa: N802
        self._record("chaincode_events", signed)
        request = gateway_pb2.ChaincodeEventsRequest.FromString(signed.request)
        start = request.start_position.specified.number
        skipping = bool(request.after_transaction_id)
        for block in range(start, 4):
            events = []
            for tx in ("a", "b"):
                tx_id = f"tx{block}{tx}"
                if skipping and block == start:
                    skipping = tx_id != request.after_transaction_id
                    continue
                events.append(
                    chaincode_event_pb2.ChaincodeEvent(
                        chaincode_id=request.chaincode_id,
                        tx_id=tx_id,
                        event_name="Evt",
                        payload=tx_id.encode(),
                    )
                )
            yield gateway_pb2.ChaincodeEventsResponse(block_number=block, events=events)
        if self.hold_open:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                self.cancelled.set()
                raise


@dataclass
class FakeAsyncDeliver(events_pb2_grpc.DeliverServicer):  # type: ignore[misc]
    envelopes: list[Any] = field(default_factory=list)

    async def Deliver(self, requests: Any, context: Any) -> AsyncIterator[Any]:  # noqa: N802
        envelope = await requests.__anext__()
        self.envelopes.append(envelope)
        seek = ab_pb2.SeekInfo.FromString(common_pb2.Payload.FromString(envelope.payload).data)
        for number in range(seek.start.specified.number, 3):
            yield events_pb2.DeliverResponse(
                block=common_pb2.Block(header=common_pb2.BlockHeader(number=number))
            )


@dataclass
class Harness:
    fake: FakeAsyncGateway
    deliver: FakeAsyncDeliver
    channel: grpc.aio.Channel

    def connect(self, **options: Any) -> aio.AsyncGateway:
        options.setdefault("identity", IDENTITY)
        options.setdefault("signer", fabricgw.new_private_key_signer(KEY))
        return aio.connect(self.channel, **options)


def run(test: Callable[[Harness], Awaitable[None]]) -> None:
    """Run ``test`` in a fresh event loop against a fresh fake server."""

    async def main() -> None:
        fake = FakeAsyncGateway()
        deliver = FakeAsyncDeliver()
        server = grpc.aio.server()
        gateway_pb2_grpc.add_GatewayServicer_to_server(fake, server)
        events_pb2_grpc.add_DeliverServicer_to_server(deliver, server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                await test(Harness(fake, deliver, channel))
        finally:
            await server.stop(grace=None)

    asyncio.run(main())


# --- evaluate / submit --------------------------------------------------------------


def test_async_evaluate() -> None:
    async def test(h: Harness) -> None:
        async with h.connect() as gateway:
            contract = gateway.get_network("billchannel").get_contract("ebill")
            assert isinstance(contract, aio.AsyncContract)
            assert await contract.evaluate_transaction("ReadBill", "B1") == b'{"id":"B1"}'
        (request,) = h.fake.requests["evaluate"]
        assert request.channel_id == "billchannel"
        signed = request.proposed_transaction
        verify_p256(signed.signature, signed.proposal_bytes)
        proposal = proposal_pb2.Proposal.FromString(signed.proposal_bytes)
        header = common_pb2.Header.FromString(proposal.header)
        assert common_pb2.ChannelHeader.FromString(header.channel_header).tx_id == (
            request.transaction_id
        )

    run(test)


def test_async_submit_transaction_flow() -> None:
    async def test(h: Harness) -> None:
        h.fake.result = b"created"
        contract = h.connect().get_network("billchannel").get_contract("ebill", "Bills")
        assert await contract.submit_transaction("CreateBill", "B1", b"{}") == b"created"
        (endorse,) = h.fake.requests["endorse"]
        (submit,) = h.fake.requests["submit"]
        (commit,) = h.fake.requests["commit_status"]
        assert submit.transaction_id == endorse.transaction_id
        verify_p256(
            endorse.proposed_transaction.signature, endorse.proposed_transaction.proposal_bytes
        )
        verify_p256(submit.prepared_transaction.signature, submit.prepared_transaction.payload)
        verify_p256(commit.signature, commit.request)
        status_request = gateway_pb2.CommitStatusRequest.FromString(commit.request)
        assert status_request.transaction_id == endorse.transaction_id
        assert status_request.identity == IDENTITY.serialize()

    run(test)


def test_async_fine_grained_flow_and_submit_async() -> None:
    async def test(h: Harness) -> None:
        h.fake.result = b"r1"
        contract = h.connect().get_network("ch").get_contract("ebill")
        proposal = contract.new_proposal("CreateBill", arguments=["B1"])
        assert isinstance(proposal, aio.AsyncProposal)
        transaction = await proposal.endorse()
        assert transaction.result == b"r1"
        assert transaction.transaction_id == proposal.transaction_id
        commit = await transaction.submit()
        assert await commit.status() == fabricgw.Status(
            transaction_id=proposal.transaction_id,
            code=0,
            code_name="VALID",
            successful=True,
            block_number=9,
        )
        result, later = await contract.submit_async("CreateBill", "B2")
        assert result == b"r1"
        assert len(h.fake.requests["commit_status"]) == 1  # not waited yet
        assert (await later.status()).successful

    run(test)


def test_async_errors_are_the_sync_errors() -> None:
    async def test(h: Harness) -> None:
        contract = h.connect().get_network("ch").get_contract("ebill")
        h.fake.endorse_failure = True
        with pytest.raises(fabricgw.EndorseError) as info:
            await contract.submit_transaction("CreateBill", "B1")
        assert info.value.code is grpc.StatusCode.ABORTED
        assert info.value.chaincode_message == "Conflict: bill B1 already exists"
        assert info.value.details[0].msp_id == "Org1MSP"

        h.fake.endorse_failure = False
        h.fake.commit_code = 11
        with pytest.raises(fabricgw.CommitError) as commit_info:
            await contract.submit_transaction("CreateBill", "B1")
        assert commit_info.value.code_name == "MVCC_READ_CONFLICT"
        assert commit_info.value.block_number == 9

    run(test)


def test_async_offline_signing_and_close() -> None:
    async def test(h: Harness) -> None:
        sign = fabricgw.new_private_key_signer(KEY)
        gateway = h.connect(signer=None)
        contract = gateway.get_network("ch").get_contract("ebill")
        unsigned = contract.new_proposal("CreateBill", arguments=["B1"])
        with pytest.raises(fabricgw.GatewayError, match="no signer"):
            await unsigned.endorse()
        proposal = gateway.new_signed_proposal(unsigned.bytes(), sign(unsigned.digest()))
        unsigned_tx = await proposal.endorse()
        transaction = gateway.new_signed_transaction(
            unsigned_tx.bytes(), sign(unsigned_tx.digest())
        )
        unsigned_commit = await transaction.submit()
        commit = gateway.new_signed_commit(unsigned_commit.bytes(), sign(unsigned_commit.digest()))
        assert (await commit.status()).successful
        submit = h.fake.requests["submit"][0]
        verify_p256(submit.prepared_transaction.signature, submit.prepared_transaction.payload)

        with h.connect() as signing_gateway:
            contract = signing_gateway.get_network("ch").get_contract("ebill")
            assert await contract.evaluate_transaction("ReadBill", "B1") == b'{"id":"B1"}'
        assert signing_gateway.closed
        with pytest.raises(fabricgw.GatewayError, match="closed"):
            await contract.evaluate_transaction("ReadBill", "B1")
        with pytest.raises(fabricgw.GatewayError, match="closed"):
            signing_gateway.get_network("ch").get_chaincode_events("ebill")

    run(test)


def test_async_connect_validates_timeouts() -> None:
    async def test(h: Harness) -> None:
        with pytest.raises(ValueError, match="submit_timeout"):
            aio.connect(h.channel, identity=IDENTITY, submit_timeout=-1)

    run(test)


# --- events -------------------------------------------------------------------------


def test_async_for_over_chaincode_events_with_checkpoint() -> None:
    async def test(h: Harness) -> None:
        network = h.connect().get_network("billchannel")
        received: list[fabricgw.ChaincodeEvent] = []
        async for event in network.get_chaincode_events("ebill", start_block=1):
            received.append(event)
        assert [e.transaction_id for e in received] == [
            "tx1a",
            "tx1b",
            "tx2a",
            "tx2b",
            "tx3a",
            "tx3b",
        ]
        assert received[0] == fabricgw.ChaincodeEvent(1, "tx1a", "ebill", "Evt", b"tx1a")
        signed = h.fake.requests["chaincode_events"][0]
        verify_p256(signed.signature, signed.request)

        checkpointer = fabricgw.InMemoryCheckpointer()
        checkpointer.checkpoint_chaincode_event(received[2])  # tx2a in block 2
        async with network.get_chaincode_events("ebill", checkpoint=checkpointer) as events:
            rest = [e.transaction_id async for e in events]
        assert rest == ["tx2b", "tx3a", "tx3b"]
        request = gateway_pb2.ChaincodeEventsRequest.FromString(
            h.fake.requests["chaincode_events"][1].request
        )
        assert request.start_position.specified.number == 2
        assert request.after_transaction_id == "tx2a"

    run(test)


def test_async_close_cancels_the_stream() -> None:
    async def test(h: Harness) -> None:
        h.fake.hold_open = True
        network = h.connect().get_network("ch")
        events = network.get_chaincode_events("ebill", start_block=3)
        assert (await events.__anext__()).transaction_id == "tx3a"
        assert (await events.__anext__()).transaction_id == "tx3b"
        asyncio.get_running_loop().call_later(0.2, events.close)
        remaining = [e async for e in events]  # waits until close(), then ends
        assert remaining == []
        await asyncio.wait_for(h.fake.cancelled.wait(), 5)

        stream = network.get_chaincode_events("ebill", start_block=3, timeout=0.3)
        with pytest.raises(fabricgw.EventsError) as info:
            async for _ in stream:
                pass
        assert info.value.code is grpc.StatusCode.DEADLINE_EXCEEDED

    run(test)


def test_async_block_events() -> None:
    async def test(h: Harness) -> None:
        network = h.connect().get_network("ch")
        async with network.get_block_events(start_block=1) as blocks:
            numbers = [block.header.number async for block in blocks]
        assert numbers == [1, 2]
        (envelope,) = h.deliver.envelopes
        verify_p256(envelope.signature, envelope.payload)
        payload = common_pb2.Payload.FromString(envelope.payload)
        header = common_pb2.ChannelHeader.FromString(payload.header.channel_header)
        assert header.type == common_pb2.HeaderType.Value("DELIVER_SEEK_INFO")
        assert ab_pb2.SeekInfo.FromString(payload.data).stop.specified.number == 2**64 - 1

    run(test)
