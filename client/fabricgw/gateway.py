"""Gateway: a client identity connected to a Fabric Gateway over a gRPC channel."""

from __future__ import annotations

import math
from types import TracebackType
from typing import Any

import grpc

from ._client import GatewayClient, Timeouts
from ._protos import common_pb2, gateway_pb2, proposal_pb2
from .commit import Commit
from .errors import GatewayError
from .hash import SHA256, Hash
from .identity import Identity
from .network import Network
from .proposal import Proposal
from .signers import Signer
from .signing_identity import SigningIdentity
from .transaction import Transaction


class Gateway:
    """Entry point: obtain networks (channels) and rebuild off-line signed messages.

    Closing the Gateway makes further calls through it raise
    :class:`~fabricgw.errors.GatewayError`; it never closes the gRPC channel it
    was given, which the caller owns and may share between Gateways.
    """

    def __init__(self, *, client: GatewayClient, signing_identity: SigningIdentity) -> None:
        self._client = client
        self._signing_identity = signing_identity

    @property
    def identity(self) -> Identity:
        """Identity this Gateway acts as."""
        return self._signing_identity.identity

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._client.closed

    def get_network(self, name: str) -> Network:
        """Return the :class:`~fabricgw.network.Network` for channel ``name``. Makes no call."""
        return Network(client=self._client, signing_identity=self._signing_identity, name=name)

    def close(self) -> None:
        """Stop using this Gateway. Does not close the gRPC channel. Idempotent."""
        self._client.closed = True

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
        proposed = _decode(gateway_pb2.ProposedTransaction, data, "proposed transaction")
        proposal = _decode(proposal_pb2.Proposal, proposed.proposal.proposal_bytes, "proposal")
        header = _decode(common_pb2.Header, proposal.header, "header")
        channel_header = _decode(common_pb2.ChannelHeader, header.channel_header, "channel header")
        return Proposal(
            client=self._client,
            signing_identity=self._signing_identity,
            channel_id=str(channel_header.channel_id),
            proposed_transaction=proposed,
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
        prepared = _decode(gateway_pb2.PreparedTransaction, data, "prepared transaction")
        return Transaction(
            client=self._client,
            signing_identity=self._signing_identity,
            prepared_transaction=prepared,
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
        signed = _decode(
            gateway_pb2.SignedCommitStatusRequest, data, "signed commit status request"
        )
        request = _decode(gateway_pb2.CommitStatusRequest, signed.request, "commit status request")
        return Commit(
            client=self._client,
            signing_identity=self._signing_identity,
            transaction_id=str(request.transaction_id),
            signed_request=signed,
        )

    def new_signed_commit(self, data: bytes, signature: bytes) -> Commit:
        """Rebuild a :class:`Commit` and attach a ``signature`` made over its ``digest()``.

        Raises :class:`GatewayError` if the bytes do not decode.
        """
        commit = self.new_commit(data)
        commit._set_signature(signature)
        return commit


def connect(
    channel: grpc.Channel,
    *,
    identity: Identity,
    signer: Signer | None = None,
    hash: Hash = SHA256,
    evaluate_timeout: float = 5.0,
    endorse_timeout: float = 15.0,
    submit_timeout: float = 5.0,
    commit_status_timeout: float = 60.0,
) -> Gateway:
    """Create a :class:`Gateway` for ``identity`` over an existing gRPC ``channel``.

    ``signer`` signs the digests made by ``hash``; without one, every message
    must be signed off-line. Timeouts are the default deadlines in seconds of
    each Gateway call. Makes no network call. Raises ``ValueError`` for a
    timeout that is not a positive finite number.
    """
    timeouts = Timeouts(
        evaluate=_positive("evaluate_timeout", evaluate_timeout),
        endorse=_positive("endorse_timeout", endorse_timeout),
        submit=_positive("submit_timeout", submit_timeout),
        commit_status=_positive("commit_status_timeout", commit_status_timeout),
    )
    return Gateway(
        client=GatewayClient(channel, timeouts=timeouts),
        signing_identity=SigningIdentity(identity, signer=signer, hash=hash),
    )


def _positive(name: str, value: float) -> float:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)


def _decode(message_type: Any, data: bytes, what: str) -> Any:
    try:
        return message_type.FromString(data)
    except Exception as err:  # protobuf DecodeError
        raise GatewayError(f"failed to decode {what}: {err}") from err


__all__ = ["Gateway", "connect"]
