"""Generic Fabric chaincode-as-a-service shim: wire protocol, stub, identity, router."""

from .contract import Contract, canonical_json
from .endorsement import KeyEndorsementPolicy
from .errors import (
    ChaincodeError,
    Conflict,
    Forbidden,
    InvalidArgument,
    NotFound,
    PeerError,
    ShimError,
    StreamClosed,
)
from .handler import Handler, run_blocking
from .identity import ClientIdentity, IdentityError
from .query import KV, KeyModification, QueryIterator, QueryPage
from .response import Response
from .server import ChaincodeServer, TlsFiles
from .stub import ChaincodeStub, Creator, Event, Stub, create_composite_key, split_composite_key

__all__ = [
    "ChaincodeError",
    "ChaincodeServer",
    "ChaincodeStub",
    "ClientIdentity",
    "Conflict",
    "Contract",
    "Creator",
    "Event",
    "Forbidden",
    "Handler",
    "IdentityError",
    "InvalidArgument",
    "KV",
    "KeyEndorsementPolicy",
    "KeyModification",
    "NotFound",
    "PeerError",
    "QueryIterator",
    "QueryPage",
    "Response",
    "ShimError",
    "StreamClosed",
    "Stub",
    "TlsFiles",
    "canonical_json",
    "create_composite_key",
    "run_blocking",
    "split_composite_key",
]
