"""Synchronous client for the Hyperledger Fabric Gateway service (Fabric v2.4+).

Typical use::

    import grpc
    import fabricgw

    channel = grpc.secure_channel("peer0.org1.example.com:7051", credentials)
    identity = fabricgw.Identity.from_pem_file("Org1MSP", "signcerts/cert.pem")
    signer = fabricgw.signer_from_pem_file("keystore/key.pem")
    with fabricgw.connect(channel, identity=identity, signer=signer) as gateway:
        contract = gateway.get_network("mychannel").get_contract("ebill")
        result = contract.submit_transaction("CreateBill", "B1", "{...}")
        bill = contract.evaluate_transaction("ReadBill", "B1")
    channel.close()  # the caller owns the channel

Listening for chaincode events, resuming where the last run stopped::

    checkpointer = fabricgw.FileCheckpointer("checkpoint.json")
    with network.get_chaincode_events("ebill", checkpoint=checkpointer) as events:
        for event in events:
            handle(event)
            checkpointer.checkpoint_chaincode_event(event)

Block events come from ``network.get_block_events()`` (and the filtered and
private data variants). :mod:`fabricgw.aio` is the asyncio API,
:mod:`fabricgw.profile` reads connection profiles. See :mod:`fabricgw.errors`
for what is raised where, :mod:`fabricgw.retry` for what is retried (submits
through ``fallback_channels``, commit statuses in slices, a dropped transaction
sent again) and :mod:`fabricgw.channel_options` for the gRPC channel options
(bounded reconnect backoff) to open channels with.
"""

from . import aio, hash, profile, retry
from ._client import DEFAULT_TIMEOUTS, Timeouts
from .aio import (
    AsyncBlockEventsIterator,
    AsyncBlockEventsRequest,
    AsyncChaincodeEventsIterator,
    AsyncChaincodeEventsRequest,
    AsyncCommit,
    AsyncContract,
    AsyncGateway,
    AsyncNetwork,
    AsyncProposal,
    AsyncTransaction,
)
from .block_events import BlockEventsIterator, BlockEventsKind, BlockEventsRequest
from .chaincode_event import ChaincodeEvent
from .chaincode_events import ChaincodeEventsIterator, ChaincodeEventsRequest
from .channel_options import CHANNEL_OPTIONS, channel_options
from .checkpointer import Checkpoint, Checkpointer, FileCheckpointer, InMemoryCheckpointer
from .commit import Commit, Status, validation_code_name
from .contract import Contract
from .errors import (
    ChaincodeResponse,
    CommitError,
    CommitStatusError,
    EndorseError,
    ErrorDetail,
    EvaluateError,
    EventsError,
    GatewayError,
    SubmitError,
    TransactionError,
    chaincode_message,
    parse_chaincode_response,
)
from .gateway import Gateway, connect
from .hash import NONE, SHA3_256, SHA3_384, SHA256, SHA384, Hash
from .identity import Identity
from .network import Network
from .profile import (
    CertificateAuthorityConfig,
    ConnectionProfile,
    OrganizationConfig,
    PeerConfig,
    ProfileError,
    load_connection_profile,
)
from .proposal import Argument, Proposal, compute_transaction_id
from .retry import DEFAULT_RETRY, RetryPolicy
from .signers import (
    Signer,
    load_private_key,
    load_private_key_file,
    new_private_key_signer,
    signer_from_msp_dir,
    signer_from_pem_file,
)
from .transaction import Transaction

__all__ = [
    "CHANNEL_OPTIONS",
    "DEFAULT_RETRY",
    "DEFAULT_TIMEOUTS",
    "RetryPolicy",
    "Timeouts",
    "NONE",
    "SHA3_256",
    "SHA3_384",
    "SHA256",
    "SHA384",
    "Argument",
    "AsyncBlockEventsIterator",
    "AsyncBlockEventsRequest",
    "AsyncChaincodeEventsIterator",
    "AsyncChaincodeEventsRequest",
    "AsyncCommit",
    "AsyncContract",
    "AsyncGateway",
    "AsyncNetwork",
    "AsyncProposal",
    "AsyncTransaction",
    "BlockEventsIterator",
    "BlockEventsKind",
    "BlockEventsRequest",
    "CertificateAuthorityConfig",
    "ChaincodeEvent",
    "ChaincodeEventsIterator",
    "ChaincodeEventsRequest",
    "ChaincodeResponse",
    "Checkpoint",
    "Checkpointer",
    "Commit",
    "CommitError",
    "CommitStatusError",
    "ConnectionProfile",
    "Contract",
    "EndorseError",
    "ErrorDetail",
    "EvaluateError",
    "EventsError",
    "FileCheckpointer",
    "Gateway",
    "GatewayError",
    "Hash",
    "Identity",
    "InMemoryCheckpointer",
    "Network",
    "OrganizationConfig",
    "PeerConfig",
    "ProfileError",
    "Proposal",
    "Signer",
    "Status",
    "SubmitError",
    "Transaction",
    "TransactionError",
    "aio",
    "chaincode_message",
    "channel_options",
    "compute_transaction_id",
    "connect",
    "hash",
    "load_connection_profile",
    "load_private_key",
    "load_private_key_file",
    "new_private_key_signer",
    "parse_chaincode_response",
    "profile",
    "retry",
    "signer_from_msp_dir",
    "signer_from_pem_file",
    "validation_code_name",
]
