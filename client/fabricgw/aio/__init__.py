"""Asyncio client for the Hyperledger Fabric Gateway service.

The same Gateway / Network / Contract surface as :mod:`fabricgw`, over a
``grpc.aio`` channel, with coroutines for every call and ``async for`` over
event streams. Messages are built and signed by the same code as the sync API,
and the same errors are raised (see :mod:`fabricgw.errors`). Typical use::

    import grpc.aio
    import fabricgw
    from fabricgw import aio

    async def main() -> None:
        async with grpc.aio.secure_channel("peer0.org1.example.com:7051", credentials) as channel:
            async with aio.connect(channel, identity=identity, signer=signer) as gateway:
                network = gateway.get_network("mychannel")
                contract = network.get_contract("ebill")
                await contract.submit_transaction("CreateBill", "B1", "{...}")
                bill = await contract.evaluate_transaction("ReadBill", "B1")
                async with network.get_chaincode_events("ebill", start_block=0) as events:
                    async for event in events:
                        print(event.event_name, event.payload)
"""

from .block_events import AsyncBlockEventsIterator, AsyncBlockEventsRequest
from .chaincode_events import AsyncChaincodeEventsIterator, AsyncChaincodeEventsRequest
from .commit import AsyncCommit
from .contract import AsyncContract
from .event_stream import AsyncEventStream
from .gateway import AsyncGateway, connect
from .network import AsyncNetwork
from .proposal import AsyncProposal
from .transaction import AsyncTransaction

__all__ = [
    "AsyncBlockEventsIterator",
    "AsyncBlockEventsRequest",
    "AsyncChaincodeEventsIterator",
    "AsyncChaincodeEventsRequest",
    "AsyncCommit",
    "AsyncContract",
    "AsyncEventStream",
    "AsyncGateway",
    "AsyncNetwork",
    "AsyncProposal",
    "AsyncTransaction",
    "connect",
]
