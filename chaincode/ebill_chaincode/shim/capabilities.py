"""What the peer offers beyond one message per state call (Fabric 3), from its READY.

A Fabric 3 peer sends ``ChaincodeAdditionalParams`` in the READY message's payload
(``chaincode.runtimeParams`` in its core.yaml): whether it accepts every write of a
transaction in one WRITE_BATCH_STATE message and reads several keys in one
GET_STATE_MULTIPLE, and the largest batch of each. A Fabric 2 peer sends no payload:
then every write and read is its own message, as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._protos import DecodeError
from ._protos import chaincode as chaincode_pb2

#: Go's shim never batches fewer than this many records, whatever the peer says.
MIN_BATCH = 100


@dataclass(frozen=True)
class Capabilities:
    """``write_batch``/``get_multiple``: the largest batch the peer takes; 0 if none."""

    write_batch: int = 0
    get_multiple: int = 0

    @classmethod
    def from_ready(cls, payload: bytes) -> Capabilities:
        """The peer's capabilities from a READY payload; none if it is empty or malformed."""
        if not payload:
            return cls()
        try:
            params = chaincode_pb2.ChaincodeAdditionalParams.FromString(payload)
        except DecodeError:
            return cls()
        return cls(
            max(MIN_BATCH, params.max_size_write_batch) if params.use_write_batch else 0,
            max(MIN_BATCH, params.max_size_get_multiple_keys)
            if params.use_get_multiple_keys
            else 0,
        )


#: What a stub assumes when nobody said otherwise: one message per call.
NONE = Capabilities()
