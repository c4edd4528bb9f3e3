"""Gateway: a client identity connected to a Fabric Gateway over a gRPC channel."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any, NamedTuple

import grpc

from ._client import DEFAULT_TIMEOUTS, ClientBase, GatewayClient, Timeouts
from ._protos import common_pb2, gateway_pb2, proposal_pb2
from .block_events import BlockEventsKind, BlockEventsRequest
from .chaincode_events import ChaincodeEventsRequest
from .commit import Commit
from .errors import GatewayError
from .hash import SHA256, Hash
from .identity import Identity
from .network import Network
from .proposal import Proposal
from .retry import DEFAULT_RETRY, RetryPolicy
from .signers import Signer
from .signing_identity import SigningIdentity
from .transaction import Transaction


class DecodedProposal(NamedTuple):
    """A ``gateway.ProposedTransaction`` read back from bytes, with its channel."""

    channel_id: str
    proposed_transaction: Any


class DecodedCommit(NamedTuple):
    """A ``gateway.SignedCommitStatusRequest`` read back from bytes, with its transaction."""

    transaction_id: str
    signed_request: Any


def decode_proposal(data: bytes) -> DecodedProposal:
    """Read :meth:`Proposal.bytes` output. Raises :class:`GatewayError` if it does not decode."""
    proposed = _decode(gateway_pb2.ProposedTransaction, data, "proposed transaction")
    proposal = _decode(proposal_pb2.Proposal, proposed.proposal.proposal_bytes, "proposal")
    header = _decode(common_pb2.Header, proposal.header, "header")
    channel_header = _decode(common_pb2.ChannelHeader, header.channel_header, "channel header")
    return DecodedProposal(str(channel_header.channel_id), proposed)


def decode_prepared_transaction(data: bytes) -> Any:
    """Read :meth:`Transaction.bytes` output. Raises :class:`GatewayError` if it does not decode."""
    return _decode(gateway_pb2.PreparedTransaction, data, "prepared transaction")


def decode_commit(data: bytes) -> DecodedCommit:
    """Read :meth:`Commit.bytes` output. Raises :class:`GatewayError` if it does not decode."""
    signed = _decode(gateway_pb2.SignedCommitStatusRequest, data, "signed commit status request")
    request = _decode(gateway_pb2.CommitStatusRequest, signed.request, "commit status request")
    return DecodedCommit(str(request.transaction_id), signed)


def decode_chaincode_events_request(data: bytes) -> Any:
    """Read ``ChaincodeEventsRequest.bytes()`` output.

    Raises :class:`GatewayError` if it does not decode.
    """
    signed = _decode(
        gateway_pb2.SignedChaincodeEventsRequest, data, "signed chaincode events request"
    )
    _decode(gateway_pb2.ChaincodeEventsRequest, signed.request, "chaincode events request")
    return signed


def decode_block_events_request(data: bytes) -> Any:
    """Read ``BlockEventsRequest.bytes()`` output (an ``Envelope``).

    Raises :class:`GatewayError` if it does not decode.
    """
    envelope = _decode(common_pb2.Envelope, data, "block events envelope")
    _decode(common_pb2.Payload, envelope.payload, "block events payload")
    return envelope


class GatewayBase:
    """Identity and closed state of a Gateway (sync and asyncio)."""

    def __init__(self, *, client: ClientBase, signing_identity: SigningIdentity) -> None:
        self._client_base = client
        self._signing_identity = signing_identity

    @property
    def identity(self) -> Identity:
        """Identity this Gateway acts as."""
        return self._signing_identity.identity

    @property
    def timeouts(self) -> Timeouts:
        """The default deadlines of this Gateway's calls (``connect()``'s ``*_timeout``)."""
        return self._client_base.timeouts

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy of this Gateway (``connect()``'s ``retry``)."""
        return self._client_base.retry

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._client_base.closed

    def close(self) -> None:
        """Stop using this Gateway. Does not close the gRPC channel. Idempotent."""
        self._client_base.closed = True


class Gateway(GatewayBase):
    """Entry point: obtain networks (channels) and rebuild off-line signed messages.

    Closing the Gateway makes further calls through it raise
    :class:`~fabricgw.errors.GatewayError`; it never closes the gRPC channel it
    was given, which the caller owns and may share between Gateways. Event
    streams already open keep running until closed.
    """

    def __init__(self, *, client: GatewayClient, signing_identity: SigningIdentity) -> None:
        super().__init__(client=client, signing_identity=signing_identity)
        self._client = client

    def get_network(self, name: str) -> Network:
        """Return the :class:`~fabricgw.network.Network` for channel ``name``. Makes no call."""
        return Network(client=self._client, signing_identity=self._signing_identity, name=name)

    def __enter__(self) -> Gateway:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # Off-line signing -------------------------------------------------------------

    def new_proposal(self, data: bytes) -> Proposal:
        """Rebuild a :class:`Proposal` from :meth:`Proposal.bytes` output.

        Raises :class:`GatewayError` if the bytes do not decode.
        """
        decoded = decode_proposal(data)
        return Proposal(
            client=self._client,
            signing_identity=self._signing_identity,
            channel_id=decoded.channel_id,
            proposed_transaction=decoded.proposed_transaction,
        )

    def new_signed_proposal(self, data: bytes, signature: bytes) -> Proposal:
        """Rebuild a :class:`Proposal` and attach a ``signature`` made over its ``digest()``.

        Raises :class:`GatewayError` if the bytes do not decode.
        """
        proposal = self.new_proposal(data)
        proposal._set_signature(signature)
        return proposal

    def new_transaction(self, data: bytes) -> Transaction:
        """Rebuild a :class:`Transaction` from :meth:`Transaction.bytes` output.

        Raises :class:`GatewayError` if the bytes do not decode.
        """
        return Transaction(
            client=self._client,
            signing_identity=self._signing_identity,
            prepared_transaction=decode_prepared_transaction(data),
        )

    def new_signed_transaction(self, data: bytes, signature: bytes) -> Transaction:
        """Rebuild a :class:`Transaction` and attach a ``signature`` made over its ``digest()``.

        Raises :class:`GatewayError` if the bytes do not decode.
        """
        transaction = self.new_transaction(data)
        transaction._set_signature(signature)
        return transaction

    def new_commit(self, data: bytes) -> Commit:
        """Rebuild a :class:`Commit` from :meth:`Commit.bytes` output.

        Raises :class:`GatewayError` if the bytes do not decode.
        """
        decoded = decode_commit(data)
        return Commit(
            client=self._client,
            signing_identity=self._signing_identity,
            transaction_id=decoded.transaction_id,
            signed_request=decoded.signed_request,
        )

    def new_signed_commit(self, data: bytes, signature: bytes) -> Commit:
        """Rebuild a :class:`Commit` and attach a ``signature`` made over its ``digest()``.

        Raises :class:`GatewayError` if the bytes do not decode.
        """
        commit = self.new_commit(data)
        commit._set_signature(signature)
        return commit

    def new_chaincode_events_request(self, data: bytes) -> ChaincodeEventsRequest:
        """Rebuild a :class:`ChaincodeEventsRequest` from its ``bytes()`` output.

        Raises :class:`GatewayError` if the bytes do not decode.
        """
        return ChaincodeEventsRequest(
            client=self._client,
            signing_identity=self._signing_identity,
            signed_request=decode_chaincode_events_request(data),
        )

    def new_signed_chaincode_events_request(
        self, data: bytes, signature: bytes
    ) -> ChaincodeEventsRequest:
        """Rebuild a :class:`ChaincodeEventsRequest` with a ``signature`` over its ``digest()``.

        Raises :class:`GatewayError` if the bytes do not decode.
        """
        request = self.new_chaincode_events_request(data)
        request._set_signature(signature)
        return request

    def new_signed_block_events_request(
        self, data: bytes, signature: bytes, *, kind: BlockEventsKind = BlockEventsKind.BLOCK
    ) -> BlockEventsRequest:
        """Rebuild a :class:`BlockEventsRequest` of ``kind``, signed with ``signature``.

        ``kind`` must be the one the request was built for (it is not in the bytes).
        Raises :class:`GatewayError` if the bytes do not decode.
        """
        request = BlockEventsRequest(
            client=self._client,
            signing_identity=self._signing_identity,
            kind=kind,
            envelope=decode_block_events_request(data),
        )
        request._set_signature(signature)
        return request


def connect(
    channel: grpc.Channel,
    *,
    identity: Identity,
    signer: Signer | None = None,
    hash: Hash = SHA256,
    evaluate_timeout: float = DEFAULT_TIMEOUTS.evaluate,
    endorse_timeout: float = DEFAULT_TIMEOUTS.endorse,
    submit_timeout: float = DEFAULT_TIMEOUTS.submit,
    commit_status_timeout: float = DEFAULT_TIMEOUTS.commit_status,
    fallback_channels: Sequence[grpc.Channel] = (),
    retry: RetryPolicy = DEFAULT_RETRY,
) -> Gateway:
    """Create a :class:`Gateway` for ``identity`` over an existing gRPC ``channel``.

    ``signer`` signs the digests made by ``hash``; without one, every message
    must be signed off-line. Timeouts are the default deadlines in seconds of
    each Gateway call (``commit_status_timeout`` bounds the whole wait for a
    commit). ``fallback_channels``: channels to other gateway peers (other orgs'
    peers) that receive a signed envelope again when its Submit failed
    ``UNAVAILABLE`` or timed out, and commit status requests when the primary
    fails; never a proposal. ``retry``: see :class:`~fabricgw.retry.RetryPolicy`.
    Makes no network call. Raises ``ValueError`` for a timeout that is not a
    positive finite number or a ``retry`` that is not a ``RetryPolicy``.
    """
    timeouts = Timeouts.checked(
        evaluate=evaluate_timeout,
        endorse=endorse_timeout,
        submit=submit_timeout,
        commit_status=commit_status_timeout,
    )
    return Gateway(
        client=GatewayClient(
            channel, timeouts=timeouts, retry=retry, fallback_channels=fallback_channels
        ),
        signing_identity=SigningIdentity(identity, signer=signer, hash=hash),
    )


def _decode(message_type: Any, data: bytes, what: str) -> Any:
    try:
        return message_type.FromString(data)
    except Exception as err:  # protobuf DecodeError
        raise GatewayError(f"failed to decode {what}: {err}") from err


__all__ = [
    "DecodedCommit",
    "DecodedProposal",
    "Gateway",
    "GatewayBase",
    "connect",
    "decode_block_events_request",
    "decode_chaincode_events_request",
    "decode_commit",
    "decode_prepared_transaction",
    "decode_proposal",
]
