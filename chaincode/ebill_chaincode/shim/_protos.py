"""The generated Fabric protobuf modules, typed as ``Any``.

The generated ``*_pb2`` modules carry no type information; importing them here once
keeps the rest of the shim free of per-line type ignores.
"""

from __future__ import annotations

import importlib
from typing import Any

chaincode: Any = importlib.import_module("fabric_protos.peer.chaincode_pb2")
chaincode_event: Any = importlib.import_module("fabric_protos.peer.chaincode_event_pb2")
chaincode_shim: Any = importlib.import_module("fabric_protos.peer.chaincode_shim_pb2")
chaincode_shim_grpc: Any = importlib.import_module("fabric_protos.peer.chaincode_shim_pb2_grpc")
proposal: Any = importlib.import_module("fabric_protos.peer.proposal_pb2")
proposal_response: Any = importlib.import_module("fabric_protos.peer.proposal_response_pb2")
common: Any = importlib.import_module("fabric_protos.common.common_pb2")
identities: Any = importlib.import_module("fabric_protos.msp.identities_pb2")
msp_principal: Any = importlib.import_module("fabric_protos.msp.msp_principal_pb2")
policies: Any = importlib.import_module("fabric_protos.common.policies_pb2")
transaction: Any = importlib.import_module("fabric_protos.peer.transaction_pb2")
queryresult: Any = importlib.import_module("fabric_protos.ledger.queryresult.kv_query_result_pb2")

#: Raised by ``FromString`` on bytes that are not the expected message.
DecodeError: type[Exception] = importlib.import_module("google.protobuf.message").DecodeError

#: The envelope of every message on the chaincode stream.
ChaincodeMessage: Any = chaincode_shim.ChaincodeMessage
