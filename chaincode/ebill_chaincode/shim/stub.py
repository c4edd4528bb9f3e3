"""The stub a transaction function uses to talk to the ledger through the peer.

:class:`Stub` is the interface contract code programs against; :class:`ChaincodeStub`
implements it over the peer stream (each state call is one request/reply exchange
with the peer, tagged with the transaction's channel id and tx id).

Queries (range, partial composite key, history) return a
:class:`~.query.QueryIterator`; see :mod:`.query` for when a query is closed.

On a peer that offers it (:mod:`.capabilities`), every write of a transaction (state,
private data, metadata) is kept in the stub and sent in one WRITE_BATCH_STATE message
when the function succeeded (:meth:`ChaincodeStub.flush_writes`), and
:meth:`ChaincodeStub.get_states` reads several keys in one GET_STATE_MULTIPLE. A
function sees no difference: Fabric never shows a transaction its own writes, so a
read after a write answers the committed value either way.
"""

from __future__ import annotations

import hashlib
import logging
import struct
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Protocol, TypeVar

from ._protos import ChaincodeMessage, DecodeError
from ._protos import chaincode as chaincode_pb2
from ._protos import chaincode_shim as chaincode_shim_pb2
from ._protos import common as common_pb2
from ._protos import identities as identities_pb2
from ._protos import proposal as proposal_pb2
from ._protos import transaction as transaction_pb2
from .capabilities import NONE, Capabilities
from .errors import InvalidArgument, PeerError, ShimError
from .query import (
    KV,
    KeyModification,
    QueryIterator,
    QueryPage,
    decode_key_modification,
    decode_kv,
    decode_query_response,
    decode_response_metadata,
    to_datetime,
)

#: Sends one request to the peer and blocks until the peer's reply for the same tx.
PeerCall = Callable[[Any], Any]

T = TypeVar("T")

_NAMESPACE = "\x00"
_MAX_RUNE = "\U0010ffff"
#: Go's shim replaces an empty range start by this key (the smallest simple key).
_EMPTY_KEY_SUBSTITUTE = "\x01"
_MAX_PAGE_SIZE = 2**31 - 1  # QueryMetadata.pageSize is an int32

#: The state metadata key under which Fabric keeps a key-level endorsement policy.
VALIDATION_PARAMETER = transaction_pb2.MetaDataKeys.Name(transaction_pb2.VALIDATION_PARAMETER)

logger = logging.getLogger(__name__)


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

    def get_states(self, keys: Sequence[str], collection: str = "") -> list[bytes | None]: ...

    def put_state(self, key: str, value: bytes | str, collection: str = "") -> None: ...

    def delete_state(self, key: str, collection: str = "") -> None: ...

    def set_event(self, name: str, payload: bytes | str) -> None: ...

    def create_composite_key(self, object_type: str, attributes: Sequence[str]) -> str: ...

    def split_composite_key(self, key: str) -> tuple[str, list[str]]: ...

    # --- queries ---

    def get_state_by_range(self, start: str, end: str) -> Iterator[KV]: ...

    def get_state_by_range_with_pagination(
        self, start: str, end: str, page_size: int, bookmark: str = ""
    ) -> tuple[list[KV], QueryPage]: ...

    def get_state_by_partial_composite_key(
        self, object_type: str, attributes: Sequence[str]
    ) -> Iterator[KV]: ...

    def get_state_by_partial_composite_key_with_pagination(
        self, object_type: str, attributes: Sequence[str], page_size: int, bookmark: str = ""
    ) -> tuple[list[KV], QueryPage]: ...

    def get_history_for_key(self, key: str) -> Iterator[KeyModification]: ...

    # --- private data ---

    def get_private_data(self, collection: str, key: str) -> bytes | None: ...

    def put_private_data(self, collection: str, key: str, value: bytes | str) -> None: ...

    def delete_private_data(self, collection: str, key: str) -> None: ...

    def get_private_data_hash(self, collection: str, key: str) -> bytes | None: ...

    def get_private_data_by_range(self, collection: str, start: str, end: str) -> Iterator[KV]: ...

    def get_private_data_by_partial_composite_key(
        self, collection: str, object_type: str, attributes: Sequence[str]
    ) -> Iterator[KV]: ...

    # --- key-level endorsement ---

    def set_state_validation_parameter(self, key: str, policy: bytes) -> None: ...

    def get_state_validation_parameter(self, key: str) -> bytes | None: ...

    def set_private_data_validation_parameter(
        self, collection: str, key: str, policy: bytes
    ) -> None: ...

    def get_private_data_validation_parameter(self, collection: str, key: str) -> bytes | None: ...

    # --- proposal ---

    def get_binding(self) -> bytes: ...

    def get_signed_proposal(self) -> Any: ...

    def local_time(self) -> datetime:
        """The endorsing chaincode's own clock (UTC), to check the client's timestamp."""
        ...


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


def _check_simple_keys(*keys: str) -> None:
    """Range bounds must not reach into the composite key namespace (as Go's shim)."""
    for key in keys:
        if key.startswith(_NAMESPACE):
            raise InvalidArgument("a range key must not start with U+0000")


def _check_collection(collection: str) -> None:
    if not collection:
        raise InvalidArgument("collection must not be empty")


def _check_key(key: str) -> None:
    if not key:
        raise InvalidArgument("key must not be empty")


def _query_metadata(page_size: int, bookmark: str) -> bytes:
    if isinstance(page_size, bool) or not isinstance(page_size, int):
        raise InvalidArgument("page size must be an integer")
    if not 1 <= page_size <= _MAX_PAGE_SIZE:
        raise InvalidArgument(f"page size must be between 1 and {_MAX_PAGE_SIZE}")
    metadata = chaincode_shim_pb2.QueryMetadata(pageSize=page_size, bookmark=bookmark)
    return bytes(metadata.SerializeToString())


@dataclass(frozen=True)
class _ProposalContext:
    """What the stub extracts from the signed proposal."""

    timestamp: datetime | None
    creator: Creator | None
    transient: Mapping[str, bytes]
    binding: bytes | None = None


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
    timestamp = (
        to_datetime(channel_header.timestamp) if channel_header.HasField("timestamp") else None
    )
    creator = None
    if signature_header.creator:
        creator = Creator(identity.mspid, bytes(identity.id_bytes))
    transient = MappingProxyType({k: bytes(v) for k, v in payload.TransientMap.items()})
    # As Go's shim: sha256(nonce || creator || epoch as 8 bytes little-endian).
    binding = hashlib.sha256(
        bytes(signature_header.nonce)
        + bytes(signature_header.creator)
        + struct.pack("<Q", channel_header.epoch)
    ).digest()
    return _ProposalContext(timestamp, creator, transient, binding)


class ChaincodeStub:
    """One transaction's view of the ledger, bound to its channel id and tx id."""

    def __init__(
        self,
        channel_id: str,
        tx_id: str,
        args: Sequence[bytes],
        call_peer: PeerCall,
        signed_proposal: Any | None = None,
        capabilities: Capabilities = NONE,
    ) -> None:
        self._channel_id = channel_id
        self._capabilities = capabilities
        #: The writes not yet sent, by (collection, key, is-metadata); None: send each now.
        self._writes: dict[tuple[str, str, bool], Any] | None = (
            {} if capabilities.write_batch else None
        )
        self._tx_id = tx_id
        self._args = [bytes(a) for a in args]
        self._call_peer = call_peer
        self._signed_proposal = signed_proposal
        self._open_queries: list[QueryIterator[Any]] = []
        self._context = (
            _parse_proposal(signed_proposal)
            if signed_proposal is not None
            else _ProposalContext(None, None, MappingProxyType({}))
        )
        self.event: Event | None = None

    @classmethod
    def from_message(
        cls, message: Any, call_peer: PeerCall, capabilities: Capabilities = NONE
    ) -> ChaincodeStub:
        """Build the stub for an INIT/TRANSACTION message; ``ShimError`` if malformed."""
        try:
            chaincode_input = chaincode_pb2.ChaincodeInput.FromString(message.payload)
        except DecodeError as exc:
            raise ShimError(f"cannot decode ChaincodeInput: {exc}") from exc
        proposal = message.proposal if message.HasField("proposal") else None
        return cls(
            message.channel_id,
            message.txid,
            chaincode_input.args,
            call_peer,
            proposal,
            capabilities,
        )

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

    def get_binding(self) -> bytes:
        """The proposal binding: sha256 over the nonce, the creator and the epoch (as Go)."""
        if self._context.binding is None:
            raise ShimError("the transaction carries no signed proposal")
        return self._context.binding

    def local_time(self) -> datetime:
        """This chaincode process's clock, timezone UTC."""
        return datetime.now(UTC)

    def get_signed_proposal(self) -> Any:
        """A copy of the ``SignedProposal`` the transaction was invoked with."""
        if self._signed_proposal is None:
            raise ShimError("the transaction carries no signed proposal")
        copy = proposal_pb2.SignedProposal()
        copy.CopyFrom(self._signed_proposal)
        return copy

    # --- state -------------------------------------------------------------------------

    def _request(self, kind: int, payload: bytes) -> bytes:
        message = ChaincodeMessage(
            type=kind, payload=payload, txid=self._tx_id, channel_id=self._channel_id
        )
        reply = self._call_peer(message)
        if reply.type == ChaincodeMessage.RESPONSE:
            return bytes(reply.payload)
        name = ChaincodeMessage.Type.Name(kind)
        if reply.type == ChaincodeMessage.ERROR:
            text = bytes(reply.payload).decode("utf-8", errors="replace")
            raise PeerError(f"{name} refused by peer: {text}")
        raise PeerError(f"unexpected {ChaincodeMessage.Type.Name(reply.type)} reply to {name}")

    def get_state(self, key: str, collection: str = "") -> bytes | None:
        """The value at ``key`` (in ``collection`` if given), or None if absent."""
        request = chaincode_shim_pb2.GetState(key=key, collection=collection)
        value = self._request(ChaincodeMessage.GET_STATE, request.SerializeToString())
        return value or None

    def get_states(self, keys: Sequence[str], collection: str = "") -> list[bytes | None]:
        """The values at ``keys`` in their order (None where absent): one message per
        batch where the peer offers GET_STATE_MULTIPLE, else one per key."""
        if isinstance(keys, str):
            raise InvalidArgument("get_states takes a list of keys, not a string")
        size = self._capabilities.get_multiple
        if not size:
            return [self.get_state(key, collection) for key in keys]
        values: list[bytes | None] = []
        for start in range(0, len(keys), size):
            chunk = list(keys[start : start + size])
            request = chaincode_shim_pb2.GetStateMultiple(keys=chunk, collection=collection)
            payload = self._request(
                ChaincodeMessage.GET_STATE_MULTIPLE, request.SerializeToString()
            )
            try:
                result = chaincode_shim_pb2.GetStateMultipleResult.FromString(payload)
            except DecodeError as exc:
                raise ShimError(f"cannot decode the reply to GET_STATE_MULTIPLE: {exc}") from exc
            if len(result.values) != len(chunk):
                raise PeerError(
                    f"GET_STATE_MULTIPLE answered {len(result.values)} values for {len(chunk)} keys"
                )
            values += [bytes(v) or None for v in result.values]
        return values

    def put_state(self, key: str, value: bytes | str, collection: str = "") -> None:
        """Write ``value`` at ``key``; an empty key is refused."""
        if not key:
            raise ValueError("key must not be empty")
        if self._writes is not None:
            self._batch(collection, key, "PUT_STATE", value=_to_bytes(value))
            return
        request = chaincode_shim_pb2.PutState(
            key=key, value=_to_bytes(value), collection=collection
        )
        self._request(ChaincodeMessage.PUT_STATE, request.SerializeToString())

    def delete_state(self, key: str, collection: str = "") -> None:
        """Delete ``key``."""
        if self._writes is not None:
            self._batch(collection, key, "DEL_STATE")
            return
        request = chaincode_shim_pb2.DelState(key=key, collection=collection)
        self._request(ChaincodeMessage.DEL_STATE, request.SerializeToString())

    def _batch(self, collection: str, key: str, kind: str, **fields: Any) -> None:
        """Keep a write for :meth:`flush_writes`; a later write of the same key (or of
        its metadata) replaces it, as the peer would."""
        assert self._writes is not None
        metadata = kind == "PUT_STATE_METADATA"
        self._writes.pop((collection, key, metadata), None)  # re-inserted last: peer order
        self._writes[(collection, key, metadata)] = chaincode_shim_pb2.WriteRecord(
            key=key,
            collection=collection,
            type=chaincode_shim_pb2.WriteRecord.Type.Value(kind),
            **fields,
        )

    def flush_writes(self) -> int:
        """Send the kept writes in WRITE_BATCH_STATE messages (at most the peer's batch
        size each); how many were sent. Raises PeerError if the peer refuses one
        (a key it does not accept, a collection the function may not write)."""
        if not self._writes:
            return 0
        records = list(self._writes.values())
        self._writes = {}
        size = self._capabilities.write_batch
        for start in range(0, len(records), size):
            batch = chaincode_shim_pb2.WriteBatchState(rec=records[start : start + size])
            self._request(ChaincodeMessage.WRITE_BATCH_STATE, batch.SerializeToString())
        return len(records)

    def set_event(self, name: str, payload: bytes | str) -> None:
        """Set the transaction's event (the last call wins)."""
        if not name:
            raise ValueError("event name must not be empty")
        self.event = Event(name, _to_bytes(payload))

    # --- queries -----------------------------------------------------------------------

    def _open_query(
        self, kind: int, payload: bytes, decode: Callable[[bytes], T]
    ) -> QueryIterator[T]:
        name = ChaincodeMessage.Type.Name(kind)
        first = decode_query_response(self._request(kind, payload), name)
        iterator = QueryIterator(self._request, first, decode, self._query_finished)
        self._open_queries.append(iterator)
        return iterator

    def _query_finished(self, iterator: QueryIterator[Any]) -> None:
        self._open_queries = [q for q in self._open_queries if q is not iterator]

    def _range(
        self, collection: str, start: str, end: str, metadata: bytes = b""
    ) -> QueryIterator[KV]:
        request = chaincode_shim_pb2.GetStateByRange(
            startKey=start, endKey=end, collection=collection, metadata=metadata
        )
        return self._open_query(
            ChaincodeMessage.GET_STATE_BY_RANGE, request.SerializeToString(), decode_kv
        )

    def _simple_range(
        self, collection: str, start: str, end: str, metadata: bytes = b""
    ) -> QueryIterator[KV]:
        start = start or _EMPTY_KEY_SUBSTITUTE
        _check_simple_keys(start, end)
        return self._range(collection, start, end, metadata)

    def _page(self, iterator: QueryIterator[KV]) -> tuple[list[KV], QueryPage]:
        with iterator:
            results = list(iterator)
        if iterator.metadata:
            return results, decode_response_metadata(iterator.metadata)
        return results, QueryPage(len(results), "")

    @staticmethod
    def _partial_range(object_type: str, attributes: Sequence[str]) -> tuple[str, str]:
        if isinstance(attributes, str):  # a str is a Sequence[str] of its characters
            raise InvalidArgument("composite key attributes must be a list, not a string")
        start = create_composite_key(object_type, attributes)
        return start, start + _MAX_RUNE

    def get_state_by_range(self, start: str, end: str) -> QueryIterator[KV]:
        """The entries with ``start <= key < end``; an empty bound is open-ended."""
        return self._simple_range("", start, end)

    def get_state_by_range_with_pagination(
        self, start: str, end: str, page_size: int, bookmark: str = ""
    ) -> tuple[list[KV], QueryPage]:
        """One page of at most ``page_size`` entries; pass the bookmark back for the next."""
        metadata = _query_metadata(page_size, bookmark)
        return self._page(self._simple_range("", start, end, metadata))

    def get_state_by_partial_composite_key(
        self, object_type: str, attributes: Sequence[str]
    ) -> QueryIterator[KV]:
        """The entries whose composite key starts with ``object_type`` and ``attributes``."""
        return self._range("", *self._partial_range(object_type, attributes))

    def get_state_by_partial_composite_key_with_pagination(
        self, object_type: str, attributes: Sequence[str], page_size: int, bookmark: str = ""
    ) -> tuple[list[KV], QueryPage]:
        """One page of :meth:`get_state_by_partial_composite_key`."""
        metadata = _query_metadata(page_size, bookmark)
        start, end = self._partial_range(object_type, attributes)
        return self._page(self._range("", start, end, metadata))

    def get_history_for_key(self, key: str) -> QueryIterator[KeyModification]:
        """The committed changes of ``key`` (needs the peer's history database)."""
        request = chaincode_shim_pb2.GetHistoryForKey(key=key)
        return self._open_query(
            ChaincodeMessage.GET_HISTORY_FOR_KEY,
            request.SerializeToString(),
            decode_key_modification,
        )

    def close_open_queries(self) -> None:
        """Close every query the transaction left open; failures are logged, not raised.

        The handler calls this when the transaction function returns, before it sends
        COMPLETED, so a transaction that stopped iterating early releases its queries.
        """
        while self._open_queries:
            iterator = self._open_queries[0]
            try:
                iterator.close()
            except Exception as exc:
                logger.warning(
                    "[%s] could not close query %s: %s", self._tx_id[:8], iterator.query_id, exc
                )
            finally:
                self._query_finished(iterator)

    # --- private data --------------------------------------------------------------------

    def get_private_data(self, collection: str, key: str) -> bytes | None:
        """The value at ``key`` in the private data ``collection``, or None if absent."""
        _check_collection(collection)
        return self.get_state(key, collection)

    def put_private_data(self, collection: str, key: str, value: bytes | str) -> None:
        """Write ``value`` at ``key`` in the private data ``collection``."""
        _check_collection(collection)
        _check_key(key)
        self.put_state(key, value, collection)

    def delete_private_data(self, collection: str, key: str) -> None:
        """Delete ``key`` from the private data ``collection``."""
        _check_collection(collection)
        self.delete_state(key, collection)

    def get_private_data_hash(self, collection: str, key: str) -> bytes | None:
        """The hash of the private value at ``key``; readable on peers without the data."""
        _check_collection(collection)
        request = chaincode_shim_pb2.GetState(key=key, collection=collection)
        value = self._request(ChaincodeMessage.GET_PRIVATE_DATA_HASH, request.SerializeToString())
        return value or None

    def get_private_data_by_range(self, collection: str, start: str, end: str) -> QueryIterator[KV]:
        """:meth:`get_state_by_range` in the private data ``collection``."""
        _check_collection(collection)
        return self._simple_range(collection, start, end)

    def get_private_data_by_partial_composite_key(
        self, collection: str, object_type: str, attributes: Sequence[str]
    ) -> QueryIterator[KV]:
        """:meth:`get_state_by_partial_composite_key` in the private data ``collection``."""
        _check_collection(collection)
        return self._range(collection, *self._partial_range(object_type, attributes))

    # --- key-level endorsement -----------------------------------------------------------

    def _put_metadata(self, collection: str, key: str, metakey: str, value: bytes) -> None:
        _check_key(key)
        metadata = chaincode_shim_pb2.StateMetadata(metakey=metakey, value=bytes(value))
        if self._writes is not None:
            self._batch(collection, key, "PUT_STATE_METADATA", metadata=metadata)
            return
        request = chaincode_shim_pb2.PutStateMetadata(
            key=key, collection=collection, metadata=metadata
        )
        self._request(ChaincodeMessage.PUT_STATE_METADATA, request.SerializeToString())

    def _get_metadata(self, collection: str, key: str) -> dict[str, bytes]:
        request = chaincode_shim_pb2.GetStateMetadata(key=key, collection=collection)
        payload = self._request(ChaincodeMessage.GET_STATE_METADATA, request.SerializeToString())
        try:
            result = chaincode_shim_pb2.StateMetadataResult.FromString(payload)
        except DecodeError as exc:
            raise ShimError(f"cannot decode the peer's reply to GET_STATE_METADATA: {exc}") from exc
        return {entry.metakey: bytes(entry.value) for entry in result.entries}

    def set_state_validation_parameter(self, key: str, policy: bytes) -> None:
        """Set the key-level endorsement policy of ``key`` (see :mod:`.endorsement`)."""
        self._put_metadata("", key, VALIDATION_PARAMETER, policy)

    def get_state_validation_parameter(self, key: str) -> bytes | None:
        """The key-level endorsement policy of ``key``, or None if it has none."""
        return self._get_metadata("", key).get(VALIDATION_PARAMETER)

    def set_private_data_validation_parameter(
        self, collection: str, key: str, policy: bytes
    ) -> None:
        """Set the key-level endorsement policy of a private data key."""
        _check_collection(collection)
        self._put_metadata(collection, key, VALIDATION_PARAMETER, policy)

    def get_private_data_validation_parameter(self, collection: str, key: str) -> bytes | None:
        """The key-level endorsement policy of a private data key, or None."""
        _check_collection(collection)
        return self._get_metadata(collection, key).get(VALIDATION_PARAMETER)

    # --- composite keys ----------------------------------------------------------------

    def create_composite_key(self, object_type: str, attributes: Sequence[str]) -> str:
        """See :func:`create_composite_key`."""
        return create_composite_key(object_type, attributes)

    def split_composite_key(self, key: str) -> tuple[str, list[str]]:
        """See :func:`split_composite_key`."""
        return split_composite_key(key)
