"""The stub a transaction function uses to talk to the ledger through the peer.

:class:`Stub` is the interface contract code programs against; :class:`ChaincodeStub`
implements it over the peer stream (each state call is one request/reply exchange
with the peer, tagged with the transaction's channel id and tx id).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Protocol

from ._protos import ChaincodeMessage, DecodeError
from ._protos import chaincode as chaincode_pb2
from ._protos import chaincode_shim as chaincode_shim_pb2
from ._protos import common as common_pb2
from ._protos import identities as identities_pb2
from ._protos import proposal as proposal_pb2
from .errors import InvalidArgument, PeerError, ShimError

#: Sends one request to the peer and blocks until the peer's reply for the same tx.
PeerCall = Callable[[Any], Any]

_NAMESPACE = "\x00"
_MAX_RUNE = "\U0010ffff"


@dataclass(frozen=True)
class Creator:
    """The submitting client: MSP id and identity bytes (PEM certificate for X.509)."""

    msp_id: str
    id_bytes: bytes


@dataclass(frozen=True)
class Event:
    """A chaincode event: name and payload."""

    name: str
    payload: bytes


class Stub(Protocol):
    """What a transaction function may use. Implemented by :class:`ChaincodeStub`."""

    @property
    def tx_id(self) -> str: ...

    @property
    def channel_id(self) -> str: ...

    @property
    def function(self) -> str: ...

    @property
    def params(self) -> list[str]: ...

    @property
    def tx_timestamp(self) -> datetime: ...

    @property
    def creator(self) -> Creator: ...

    @property
    def transient(self) -> Mapping[str, bytes]: ...

    def get_state(self, key: str, collection: str = "") -> bytes | None: ...

    def put_state(self, key: str, value: bytes | str, collection: str = "") -> None: ...

    def delete_state(self, key: str, collection: str = "") -> None: ...

    def set_event(self, name: str, payload: bytes | str) -> None: ...

    def create_composite_key(self, object_type: str, attributes: Sequence[str]) -> str: ...

    def split_composite_key(self, key: str) -> tuple[str, list[str]]: ...


def _check_key_part(part: str, what: str) -> None:
    if _NAMESPACE in part or _MAX_RUNE in part:
        raise InvalidArgument(f"{what} must not contain U+0000 or U+10FFFF")


def create_composite_key(object_type: str, attributes: Sequence[str]) -> str:
    """Fabric's composite key: ``"\\x00" + object_type + "\\x00" + (attr + "\\x00")*``."""
    _check_key_part(object_type, "composite key object type")
    for attribute in attributes:
        _check_key_part(attribute, "composite key attribute")
    return _NAMESPACE + object_type + _NAMESPACE + "".join(a + _NAMESPACE for a in attributes)


def split_composite_key(key: str) -> tuple[str, list[str]]:
    """Inverse of :func:`create_composite_key`; raises ``ValueError`` for a simple key."""
    if len(key) < 2 or not key.startswith(_NAMESPACE) or not key.endswith(_NAMESPACE):
        raise ValueError("not a composite key")
    object_type, *attributes = key[1:-1].split(_NAMESPACE)
    return object_type, attributes


def _to_bytes(value: bytes | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


@dataclass(frozen=True)
class _ProposalContext:
    """What the stub extracts from the signed proposal."""

    timestamp: datetime | None
    creator: Creator | None
    transient: Mapping[str, bytes]


def _parse_proposal(signed: Any) -> _ProposalContext:
    """Decode SignedProposal -> Proposal -> Header/ChannelHeader/SignatureHeader/payload."""
    try:
        proposal = proposal_pb2.Proposal.FromString(signed.proposal_bytes)
        header = common_pb2.Header.FromString(proposal.header)
        channel_header = common_pb2.ChannelHeader.FromString(header.channel_header)
        signature_header = common_pb2.SignatureHeader.FromString(header.signature_header)
        identity = identities_pb2.SerializedIdentity.FromString(signature_header.creator)
        payload = proposal_pb2.ChaincodeProposalPayload.FromString(proposal.payload)
    except DecodeError as exc:
        raise ShimError(f"cannot decode the signed proposal: {exc}") from exc
    timestamp: datetime | None = None
    if channel_header.HasField("timestamp"):
        ts = channel_header.timestamp
        timestamp = datetime.fromtimestamp(ts.seconds, UTC)
        timestamp += timedelta(microseconds=ts.nanos // 1000)
    creator = None
    if signature_header.creator:
        creator = Creator(identity.mspid, bytes(identity.id_bytes))
    transient = MappingProxyType({k: bytes(v) for k, v in payload.TransientMap.items()})
    return _ProposalContext(timestamp, creator, transient)


class ChaincodeStub:
    """One transaction's view of the ledger, bound to its channel id and tx id."""

    def __init__(
        self,
        channel_id: str,
        tx_id: str,
        args: Sequence[bytes],
        call_peer: PeerCall,
        signed_proposal: Any | None = None,
    ) -> None:
        self._channel_id = channel_id
        self._tx_id = tx_id
        self._args = [bytes(a) for a in args]
        self._call_peer = call_peer
        self._context = (
            _parse_proposal(signed_proposal)
            if signed_proposal is not None
            else _ProposalContext(None, None, MappingProxyType({}))
        )
        self.event: Event | None = None

    @classmethod
    def from_message(cls, message: Any, call_peer: PeerCall) -> ChaincodeStub:
        """Build the stub for an INIT/TRANSACTION message; ``ShimError`` if malformed."""
        try:
            chaincode_input = chaincode_pb2.ChaincodeInput.FromString(message.payload)
        except DecodeError as exc:
            raise ShimError(f"cannot decode ChaincodeInput: {exc}") from exc
        proposal = message.proposal if message.HasField("proposal") else None
        return cls(message.channel_id, message.txid, chaincode_input.args, call_peer, proposal)

    # --- transaction facts -------------------------------------------------------------

    @property
    def tx_id(self) -> str:
        """The transaction id."""
        return self._tx_id

    @property
    def channel_id(self) -> str:
        """The channel the transaction runs on."""
        return self._channel_id

    @property
    def raw_args(self) -> list[bytes]:
        """All arguments as bytes, the function name first."""
        return list(self._args)

    @property
    def function(self) -> str:
        """The function name (first argument); undecodable bytes are replaced."""
        return self._args[0].decode("utf-8", errors="replace") if self._args else ""

    @property
    def params(self) -> list[str]:
        """The arguments after the function name, as text; InvalidArgument if not UTF-8."""
        result = []
        for position, arg in enumerate(self._args[1:], start=1):
            try:
                result.append(arg.decode("utf-8"))
            except UnicodeDecodeError:
                raise InvalidArgument(f"argument {position} is not valid UTF-8") from None
        return result

    @property
    def tx_timestamp(self) -> datetime:
        """The client's timestamp from the proposal's channel header, timezone UTC."""
        if self._context.timestamp is None:
            raise ShimError("the proposal carries no timestamp")
        return self._context.timestamp

    @property
    def creator(self) -> Creator:
        """The submitter's identity from the proposal's signature header."""
        if self._context.creator is None:
            raise ShimError("the proposal carries no creator")
        return self._context.creator

    @property
    def transient(self) -> Mapping[str, bytes]:
        """The proposal's transient map (data that is not written to the ledger)."""
        return self._context.transient

    # --- state -------------------------------------------------------------------------

    def _request(self, kind: int, payload: bytes) -> bytes:
        message = ChaincodeMessage(
            type=kind, payload=payload, txid=self._tx_id, channel_id=self._channel_id
        )
        reply = self._call_peer(message)
        name = ChaincodeMessage.Type.Name(kind)
        if reply.type == ChaincodeMessage.RESPONSE:
            return bytes(reply.payload)
        if reply.type == ChaincodeMessage.ERROR:
            text = bytes(reply.payload).decode("utf-8", errors="replace")
            raise PeerError(f"{name} refused by peer: {text}")
        raise PeerError(f"unexpected {ChaincodeMessage.Type.Name(reply.type)} reply to {name}")

    def get_state(self, key: str, collection: str = "") -> bytes | None:
        """The value at ``key`` (in ``collection`` if given), or None if absent."""
        request = chaincode_shim_pb2.GetState(key=key, collection=collection)
        value = self._request(ChaincodeMessage.GET_STATE, request.SerializeToString())
        return value or None

    def put_state(self, key: str, value: bytes | str, collection: str = "") -> None:
        """Write ``value`` at ``key``; an empty key is refused."""
        if not key:
            raise ValueError("key must not be empty")
        request = chaincode_shim_pb2.PutState(
            key=key, value=_to_bytes(value), collection=collection
        )
        self._request(ChaincodeMessage.PUT_STATE, request.SerializeToString())

    def delete_state(self, key: str, collection: str = "") -> None:
        """Delete ``key``."""
        request = chaincode_shim_pb2.DelState(key=key, collection=collection)
        self._request(ChaincodeMessage.DEL_STATE, request.SerializeToString())

    def set_event(self, name: str, payload: bytes | str) -> None:
        """Set the transaction's event (the last call wins)."""
        if not name:
            raise ValueError("event name must not be empty")
        self.event = Event(name, _to_bytes(payload))

    # --- composite keys ----------------------------------------------------------------

    def create_composite_key(self, object_type: str, attributes: Sequence[str]) -> str:
        """See :func:`create_composite_key`."""
        return create_composite_key(object_type, attributes)

    def split_composite_key(self, key: str) -> tuple[str, list[str]]:
        """See :func:`split_composite_key`."""
        return split_composite_key(key)
