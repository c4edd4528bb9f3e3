"""Transaction: an endorsed transaction, ready to be submitted for ordering and commit."""

from __future__ import annotations

import builtins
from typing import Any, NamedTuple

from ._client import GatewayClient
from ._protos import (
    common_pb2,
    gateway_pb2,
    proposal_pb2,
    proposal_response_pb2,
    rwset_pb2,
    transaction_pb2,
)
from .commit import Commit, new_commit_status_request
from .errors import GatewayError
from .signing_identity import SigningIdentity


class EnvelopeInfo(NamedTuple):
    """What the client reads from a prepared transaction envelope."""

    channel_id: str
    result: bytes
    writes_private_data: bool = False
    """The read-write set has private writes in some collection (``pvt_rwset_hash``)."""


def writes_private_data(results: bytes) -> bool:
    """Whether a ``ChaincodeAction.results`` (``TxReadWriteSet``) writes private data.

    Unreadable results count as writing it (the cautious answer). Never raises.
    """
    try:
        rwset = rwset_pb2.TxReadWriteSet.FromString(results)
    except Exception:  # protobuf DecodeError
        return True
    return any(
        collection.pvt_rwset_hash
        for namespace in rwset.ns_rwset
        for collection in namespace.collection_hashed_rwset
    )


def parse_envelope(envelope: Any) -> EnvelopeInfo:
    """Read the channel and the chaincode result from a transaction ``common.Envelope``.

    The result is the payload of the chaincode response inside the first
    action that decodes (Payload -> Transaction -> ChaincodeActionPayload ->
    ProposalResponsePayload -> ChaincodeAction.response.payload), as the
    official clients read it. Raises :class:`GatewayError` if it cannot be read.
    """
    try:
        payload = common_pb2.Payload.FromString(envelope.payload)
        channel_header = common_pb2.ChannelHeader.FromString(payload.header.channel_header)
        transaction = transaction_pb2.Transaction.FromString(payload.data)
    except Exception as err:  # protobuf DecodeError
        raise GatewayError(f"failed to decode prepared transaction: {err}") from err

    problems: list[str] = []
    for action in transaction.actions:
        try:
            action_payload = transaction_pb2.ChaincodeActionPayload.FromString(action.payload)
            response_payload = proposal_response_pb2.ProposalResponsePayload.FromString(
                action_payload.action.proposal_response_payload
            )
            chaincode_action = proposal_pb2.ChaincodeAction.FromString(response_payload.extension)
        except Exception as err:  # protobuf DecodeError
            problems.append(str(err))
            continue
        return EnvelopeInfo(
            str(channel_header.channel_id),
            bytes(chaincode_action.response.payload),
            writes_private_data(bytes(chaincode_action.results)),
        )
    raise GatewayError(f"no proposal response found in prepared transaction: {problems}")


class TransactionBase:
    """The signable prepared transaction and the messages submitting it (sync and asyncio)."""

    def __init__(self, *, signing_identity: SigningIdentity, prepared_transaction: Any) -> None:
        """Wrap a ``gateway.PreparedTransaction``. Raises :class:`GatewayError` if unreadable."""
        info = parse_envelope(prepared_transaction.envelope)
        self._signing_identity = signing_identity
        self._prepared = prepared_transaction
        self._channel_id = info.channel_id
        self._result = info.result
        self._writes_private_data = info.writes_private_data

    @property
    def result(self) -> builtins.bytes:
        """Payload returned by the transaction function during endorsement."""
        return self._result

    @property
    def transaction_id(self) -> str:
        """ID of the transaction."""
        return str(self._prepared.transaction_id)

    @property
    def channel_id(self) -> str:
        """Channel the transaction is for."""
        return self._channel_id

    @property
    def writes_private_data(self) -> bool:
        """Whether it writes a private data collection: then a commit status wait never
        sends it again by itself (see :mod:`fabricgw.retry`)."""
        return self._writes_private_data

    def bytes(self) -> builtins.bytes:
        """Serialized ``gateway.PreparedTransaction`` (to sign off-line or store)."""
        data: builtins.bytes = self._prepared.SerializeToString()
        return data

    def digest(self) -> builtins.bytes:
        """Digest of the envelope payload, the input of the signature."""
        payload: builtins.bytes = self._prepared.envelope.payload
        return self._signing_identity.digest(payload)

    def _resend_request(self, request: Any) -> Any:
        """The ``SubmitRequest`` a commit status wait may send again; ``None`` for a
        transaction that writes private data (see :mod:`fabricgw.retry`)."""
        return None if self._writes_private_data else request

    def _submit_messages(self) -> tuple[Any, Any]:
        """Sign if needed; return the ``SubmitRequest`` and an unsigned commit status request.

        Both are built before anything is sent, so nothing can fail after the
        submit. Raises :class:`GatewayError` if no signature can be made.
        """
        envelope = self._prepared.envelope
        if not envelope.signature:
            envelope.signature = self._signing_identity.sign(self.digest())
        status_request = new_commit_status_request(
            transaction_id=self.transaction_id,
            channel_id=self._channel_id,
            creator=self._signing_identity.creator,
        )
        request = gateway_pb2.SubmitRequest(
            transaction_id=self.transaction_id,
            channel_id=self._channel_id,
            prepared_transaction=envelope,
        )
        return request, gateway_pb2.SignedCommitStatusRequest(request=status_request)

    def _set_signature(self, signature: builtins.bytes) -> None:
        self._prepared.envelope.signature = signature


class Transaction(TransactionBase):
    """An endorsed transaction.

    Signed with the Gateway's signer when first needed, unless a signature was
    supplied (off-line signing through ``Gateway.new_signed_transaction``).
    """

    def __init__(
        self,
        *,
        client: GatewayClient,
        signing_identity: SigningIdentity,
        prepared_transaction: Any,
    ) -> None:
        """Wrap a ``gateway.PreparedTransaction``. Raises :class:`GatewayError` if unreadable."""
        super().__init__(
            signing_identity=signing_identity, prepared_transaction=prepared_transaction
        )
        self._client = client

    def submit(self, *, timeout: float | None = None) -> Commit:
        """Send the transaction to the orderer; return a :class:`Commit` to wait on.

        Returns once the orderer accepted it, before it is committed. ``timeout``
        overrides the Gateway's submit timeout (seconds) of each attempt: a Submit
        that fails ``UNAVAILABLE`` or times out is sent again, the same envelope, to
        the next gateway endpoint (:mod:`fabricgw.retry`). Calling ``submit`` again
        after a failure is safe for the same reason. Raises
        :class:`~fabricgw.errors.SubmitError` if the last attempt fails
        (``outcome_unknown`` tells whether an orderer may have it) and
        :class:`~fabricgw.errors.GatewayError` if no signature can be made.
        """
        request, status_request = self._submit_messages()
        commit = Commit(
            client=self._client,
            signing_identity=self._signing_identity,
            transaction_id=self.transaction_id,
            signed_request=status_request,
            submit_request=self._resend_request(request),
        )
        self._client.submit(request, timeout=timeout)
        return commit


__all__ = [
    "EnvelopeInfo",
    "Transaction",
    "TransactionBase",
    "parse_envelope",
    "writes_private_data",
]
