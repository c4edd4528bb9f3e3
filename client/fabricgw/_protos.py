"""Typed access to the generated Fabric and gRPC status protobuf modules.

The generated ``*_pb2`` modules ship without type stubs, so mypy cannot see the
message classes. They are re-exported here as ``Any`` in one place; the rest of
the package converts values to concrete Python types at its boundaries.
"""

from typing import Any

from fabric_protos.common import common_pb2 as _common_pb2
from fabric_protos.gateway import gateway_pb2 as _gateway_pb2
from fabric_protos.gateway import gateway_pb2_grpc as _gateway_pb2_grpc
from fabric_protos.ledger.rwset import rwset_pb2 as _rwset_pb2
from fabric_protos.msp import identities_pb2 as _identities_pb2
from fabric_protos.orderer import ab_pb2 as _ab_pb2
from fabric_protos.peer import chaincode_event_pb2 as _chaincode_event_pb2
from fabric_protos.peer import chaincode_pb2 as _chaincode_pb2
from fabric_protos.peer import events_pb2 as _events_pb2
from fabric_protos.peer import events_pb2_grpc as _events_pb2_grpc
from fabric_protos.peer import proposal_pb2 as _proposal_pb2
from fabric_protos.peer import proposal_response_pb2 as _proposal_response_pb2
from fabric_protos.peer import transaction_pb2 as _transaction_pb2
from google.rpc import status_pb2 as _status_pb2

ab_pb2: Any = _ab_pb2
chaincode_event_pb2: Any = _chaincode_event_pb2
common_pb2: Any = _common_pb2
events_pb2: Any = _events_pb2
events_pb2_grpc: Any = _events_pb2_grpc
gateway_pb2: Any = _gateway_pb2
gateway_pb2_grpc: Any = _gateway_pb2_grpc
identities_pb2: Any = _identities_pb2
chaincode_pb2: Any = _chaincode_pb2
proposal_pb2: Any = _proposal_pb2
proposal_response_pb2: Any = _proposal_response_pb2
transaction_pb2: Any = _transaction_pb2
status_pb2: Any = _status_pb2
rwset_pb2: Any = _rwset_pb2

__all__ = [
    "ab_pb2",
    "chaincode_event_pb2",
    "chaincode_pb2",
    "common_pb2",
    "events_pb2",
    "events_pb2_grpc",
    "gateway_pb2",
    "gateway_pb2_grpc",
    "identities_pb2",
    "proposal_pb2",
    "proposal_response_pb2",
    "rwset_pb2",
    "status_pb2",
    "transaction_pb2",
]
