"""Decode the blocks the peer delivers into the transactions the projector applies.

A ``common.Block`` (or ``peer.BlockAndPrivateData``) becomes a :class:`Block` of
:class:`Tx`: per transaction its id, header type, validation code, creator MSP, the
chaincode function (first argument) and event name, and the chaincode's public writes
and private writes (only those the peer delivered: the collections the caller's org
is a member of). Nothing here knows the contract's records (see :mod:`.records`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fabric_protos.common import common_pb2 as _common_pb2
from fabric_protos.ledger.rwset import rwset_pb2 as _rwset_pb2
from fabric_protos.ledger.rwset.kvrwset import kv_rwset_pb2 as _kv_rwset_pb2
from fabric_protos.msp import identities_pb2 as _identities_pb2
from fabric_protos.peer import chaincode_event_pb2 as _chaincode_event_pb2
from fabric_protos.peer import chaincode_pb2 as _chaincode_pb2
from fabric_protos.peer import proposal_pb2 as _proposal_pb2
from fabric_protos.peer import proposal_response_pb2 as _proposal_response_pb2
from fabric_protos.peer import transaction_pb2 as _transaction_pb2

common_pb2: Any = _common_pb2
rwset_pb2: Any = _rwset_pb2
kv_rwset_pb2: Any = _kv_rwset_pb2
identities_pb2: Any = _identities_pb2
chaincode_event_pb2: Any = _chaincode_event_pb2
chaincode_pb2: Any = _chaincode_pb2
proposal_pb2: Any = _proposal_pb2
proposal_response_pb2: Any = _proposal_response_pb2
transaction_pb2: Any = _transaction_pb2

VALID = 0  # peer.TxValidationCode.VALID
_ENDORSER_TRANSACTION = 3
_TRANSACTIONS_FILTER = 2  # common.BlockMetadataIndex.TRANSACTIONS_FILTER


class BlockFormatError(ValueError):
    """A block the decoder cannot read (names the block and transaction)."""


@dataclass(frozen=True)
class Write:
    """One key written by a transaction: ``value`` None for a delete."""

    key: str
    value: bytes | None


@dataclass(frozen=True)
class Tx:
    """One transaction of a block, as far as the read model needs it."""

    block_number: int
    index: int
    tx_id: str
    header_type: str
    validation_code: int
    timestamp: str
    creator_msp: str | None = None
    chaincode: str | None = None
    function: str | None = None
    event_name: str | None = None
    writes: dict[str, tuple[Write, ...]] = field(default_factory=dict)
    """Public writes by namespace (chaincode name)."""
    private_writes: dict[tuple[str, str], tuple[Write, ...]] = field(default_factory=dict)
    """Private writes by (namespace, collection), where the peer delivered them."""

    @property
    def valid(self) -> bool:
        return self.validation_code == VALID

    @property
    def validation(self) -> str:
        """The validation code's name, e.g. ``VALID`` or ``MVCC_READ_CONFLICT``."""
        try:
            return str(transaction_pb2.TxValidationCode.Name(self.validation_code))
        except ValueError:
            return f"UNKNOWN_{self.validation_code}"


@dataclass(frozen=True)
class Block:
    number: int
    transactions: tuple[Tx, ...]


def decode(message: Any) -> Block:
    """A :class:`Block` from a ``common.Block`` or a ``peer.BlockAndPrivateData``.

    Raises :class:`BlockFormatError` if a transaction cannot be decoded.
    """
    private_map: Any = {}
    block = message
    if hasattr(message, "private_data_map"):
        block, private_map = message.block, message.private_data_map
    number = int(block.header.number)
    metadata = block.metadata.metadata
    flags = bytes(metadata[_TRANSACTIONS_FILTER]) if len(metadata) > _TRANSACTIONS_FILTER else b""
    txs = []
    for index, raw in enumerate(block.data.data):
        code = flags[index] if index < len(flags) else VALID
        try:
            txs.append(_transaction(number, index, raw, code, private_map.get(index)))
        except Exception as error:  # a damaged message names where it is
            raise BlockFormatError(
                f"block {number} transaction {index}: cannot decode ({error})"
            ) from error
    return Block(number, tuple(txs))


def _parse(cls: Any, raw: bytes) -> Any:
    message = cls()
    message.ParseFromString(raw)
    return message


def _transaction(number: int, index: int, raw: bytes, code: int, private: Any) -> Tx:
    envelope = _parse(common_pb2.Envelope, raw)
    payload = _parse(common_pb2.Payload, envelope.payload)
    header = _parse(common_pb2.ChannelHeader, payload.header.channel_header)
    signature_header = _parse(common_pb2.SignatureHeader, payload.header.signature_header)
    creator = _parse(identities_pb2.SerializedIdentity, signature_header.creator)
    stamp = header.timestamp
    timestamp = datetime.fromtimestamp(stamp.seconds + stamp.nanos / 1e9, UTC)
    base: dict[str, Any] = {
        "block_number": number,
        "index": index,
        "tx_id": header.tx_id or f"block-{number}-{index}",
        "header_type": _header_type(int(header.type)),
        "validation_code": code,
        "timestamp": timestamp.isoformat().replace("+00:00", "Z"),
        "creator_msp": creator.mspid or None,
    }
    if header.type != _ENDORSER_TRANSACTION:
        return Tx(**base)
    transaction = _parse(transaction_pb2.Transaction, payload.data)
    if not transaction.actions:
        return Tx(**base)
    action_payload = _parse(transaction_pb2.ChaincodeActionPayload, transaction.actions[0].payload)
    proposal = _parse(
        proposal_pb2.ChaincodeProposalPayload, action_payload.chaincode_proposal_payload
    )
    invocation = _parse(chaincode_pb2.ChaincodeInvocationSpec, proposal.input)
    args = invocation.chaincode_spec.input.args
    response = _parse(
        proposal_response_pb2.ProposalResponsePayload,
        action_payload.action.proposal_response_payload,
    )
    action = _parse(proposal_pb2.ChaincodeAction, response.extension)
    event = _parse(chaincode_event_pb2.ChaincodeEvent, action.events) if action.events else None
    results = _parse(rwset_pb2.TxReadWriteSet, action.results)
    writes = {ns.namespace: _writes(ns.rwset) for ns in results.ns_rwset if ns.rwset}
    private_writes: dict[tuple[str, str], tuple[Write, ...]] = {}
    if private is not None:
        for ns in private.ns_pvt_rwset:
            for collection in ns.collection_pvt_rwset:
                private_writes[(ns.namespace, collection.collection_name)] = _writes(
                    collection.rwset
                )
    return Tx(
        **base,
        chaincode=invocation.chaincode_spec.chaincode_id.name or None,
        function=args[0].decode("utf-8", "replace") if args else None,
        event_name=(event.event_name or None) if event is not None else None,
        writes=writes,
        private_writes=private_writes,
    )


def _writes(raw: bytes) -> tuple[Write, ...]:
    kv = _parse(kv_rwset_pb2.KVRWSet, raw)
    return tuple(
        Write(write.key, None if write.is_delete else bytes(write.value)) for write in kv.writes
    )


def _header_type(value: int) -> str:
    try:
        return str(common_pb2.HeaderType.Name(value))
    except ValueError:
        return f"UNKNOWN_{value}"
