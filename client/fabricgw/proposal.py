"""Proposal: a transaction proposal that can be evaluated (query) or endorsed (for submit)."""

from __future__ import annotations

import builtins
import hashlib
import os
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ._client import GatewayClient
from ._protos import chaincode_pb2, common_pb2, gateway_pb2, proposal_pb2
from .signing_identity import SigningIdentity
from .transaction import Transaction

NONCE_LENGTH = 24
"""Length in bytes of the random nonce in each proposal's signature header."""

CHAINCODE_TYPE = "NODE"
"""``ChaincodeSpec.type`` written in proposals. Peers ignore it for invocations; the
official fabric-gateway clients (Go and Node) send ``NODE``, and so does this one."""

Argument = str | bytes
"""A transaction argument: ``str`` is sent UTF-8 encoded, ``bytes`` as is."""


def new_nonce() -> bytes:
    """Return :data:`NONCE_LENGTH` cryptographically random bytes."""
    return os.urandom(NONCE_LENGTH)


def compute_transaction_id(nonce: bytes, creator: bytes) -> str:
    """Transaction ID as Fabric peers check it: ``hex(sha256(nonce + creator))``.

    Always SHA-256, whatever hash the Gateway signs with.
    """
    return hashlib.sha256(nonce + creator).hexdigest()


def as_bytes(value: Argument) -> bytes:
    """Encode a ``str`` as UTF-8; return ``bytes`` unchanged. Raises ``TypeError`` otherwise."""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise TypeError(f"argument must be str or bytes, not {type(value).__name__}")


def build_proposed_transaction(
    *,
    creator: bytes,
    channel_id: str,
    chaincode_name: str,
    transaction_name: str,
    arguments: Iterable[Argument] = (),
    transient: Mapping[str, Argument] | None = None,
    endorsing_organizations: Iterable[str] | None = None,
    nonce: bytes | None = None,
    timestamp: datetime | None = None,
) -> Any:
    """Build an unsigned ``gateway.ProposedTransaction``.

    ``timestamp`` (default now) goes into the channel header; the e-bill chaincode
    refuses one too far from its own clock.

    Contains a ``peer.SignedProposal`` (no signature yet) whose proposal is an
    ``ENDORSER_TRANSACTION`` for ``chaincode_name`` with arguments
    ``[transaction_name, *arguments]``. Raises ``TypeError`` for an argument
    or transient value that is neither ``str`` nor ``bytes``.
    """
    if nonce is None:
        nonce = new_nonce()
    transaction_id = compute_transaction_id(nonce, creator)
    chaincode_id = chaincode_pb2.ChaincodeID(name=chaincode_name)

    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.HeaderType.Value("ENDORSER_TRANSACTION"),
        channel_id=channel_id,
        tx_id=transaction_id,
        epoch=0,
        extension=proposal_pb2.ChaincodeHeaderExtension(
            chaincode_id=chaincode_id
        ).SerializeToString(),
    )
    if timestamp is None:
        channel_header.timestamp.GetCurrentTime()
    else:
        channel_header.timestamp.FromDatetime(timestamp)
    signature_header = common_pb2.SignatureHeader(creator=creator, nonce=nonce)
    header = common_pb2.Header(
        channel_header=channel_header.SerializeToString(),
        signature_header=signature_header.SerializeToString(),
    )

    args = [transaction_name.encode("utf-8"), *(as_bytes(a) for a in arguments)]
    invocation_spec = chaincode_pb2.ChaincodeInvocationSpec(
        chaincode_spec=chaincode_pb2.ChaincodeSpec(
            type=chaincode_pb2.ChaincodeSpec.Type.Value(CHAINCODE_TYPE),
            chaincode_id=chaincode_id,
            input=chaincode_pb2.ChaincodeInput(args=args),
        )
    )
    payload = proposal_pb2.ChaincodeProposalPayload(
        input=invocation_spec.SerializeToString(),
        TransientMap={key: as_bytes(value) for key, value in (transient or {}).items()},
    )
    proposal = proposal_pb2.Proposal(
        header=header.SerializeToString(), payload=payload.SerializeToString()
    )
    return gateway_pb2.ProposedTransaction(
        transaction_id=transaction_id,
        proposal=proposal_pb2.SignedProposal(proposal_bytes=proposal.SerializeToString()),
        endorsing_organizations=list(endorsing_organizations or ()),
    )


class ProposalBase:
    """The signable proposal and the requests sending it (sync and asyncio)."""

    def __init__(
        self, *, signing_identity: SigningIdentity, channel_id: str, proposed_transaction: Any
    ) -> None:
        self._signing_identity = signing_identity
        self._channel_id = channel_id
        self._proposed = proposed_transaction

    @property
    def transaction_id(self) -> str:
        """ID of the transaction this proposal creates."""
        return str(self._proposed.transaction_id)

    @property
    def channel_id(self) -> str:
        """Channel the proposal is for."""
        return self._channel_id

    @property
    def endorsing_organizations(self) -> list[str]:
        """MSP IDs asked to endorse (or, for evaluate, targeted); empty lets the gateway choose."""
        return [str(org) for org in self._proposed.endorsing_organizations]

    @property
    def proposal_bytes(self) -> builtins.bytes:
        """Serialized ``peer.Proposal``: the bytes that are signed (after hashing)."""
        data: builtins.bytes = self._proposed.proposal.proposal_bytes
        return data

    @property
    def signature(self) -> builtins.bytes:
        """Signature over :meth:`digest`; empty until signed."""
        data: builtins.bytes = self._proposed.proposal.signature
        return data

    def bytes(self) -> builtins.bytes:
        """Serialized ``gateway.ProposedTransaction`` (to sign off-line or store).

        Turn it back into a proposal with ``Gateway.new_proposal`` or
        ``Gateway.new_signed_proposal``.
        """
        data: builtins.bytes = self._proposed.SerializeToString()
        return data

    def digest(self) -> builtins.bytes:
        """Digest of :attr:`proposal_bytes`, the input of the signature."""
        return self._signing_identity.digest(self.proposal_bytes)

    def _evaluate_request(self) -> Any:
        """Sign if needed; return the ``EvaluateRequest``. Raises ``GatewayError`` if unsignable."""
        self._sign()
        return gateway_pb2.EvaluateRequest(
            transaction_id=self.transaction_id,
            channel_id=self._channel_id,
            proposed_transaction=self._proposed.proposal,
            target_organizations=self._proposed.endorsing_organizations,
        )

    def _endorse_request(self) -> Any:
        """Sign if needed; return the ``EndorseRequest``. Raises ``GatewayError`` if unsignable."""
        self._sign()
        return gateway_pb2.EndorseRequest(
            transaction_id=self.transaction_id,
            channel_id=self._channel_id,
            proposed_transaction=self._proposed.proposal,
            endorsing_organizations=self._proposed.endorsing_organizations,
        )

    def _prepared_transaction(self, endorse_response: Any) -> Any:
        """The ``gateway.PreparedTransaction`` made of an ``EndorseResponse``."""
        return gateway_pb2.PreparedTransaction(
            transaction_id=self.transaction_id, envelope=endorse_response.prepared_transaction
        )

    def _sign(self) -> None:
        if not self._proposed.proposal.signature:
            self._set_signature(self._signing_identity.sign(self.digest()))

    def _set_signature(self, signature: builtins.bytes) -> None:
        self._proposed.proposal.signature = signature


def evaluate_result(response: Any) -> bytes:
    """Result payload of a ``gateway.EvaluateResponse``."""
    return bytes(response.result.payload)


class Proposal(ProposalBase):
    """A transaction proposal, evaluated as a query or endorsed for submission.

    Signed with the Gateway's signer when first needed, unless a signature was
    supplied (off-line signing through ``Gateway.new_signed_proposal``).
    """

    def __init__(
        self,
        *,
        client: GatewayClient,
        signing_identity: SigningIdentity,
        channel_id: str,
        proposed_transaction: Any,
    ) -> None:
        super().__init__(
            signing_identity=signing_identity,
            channel_id=channel_id,
            proposed_transaction=proposed_transaction,
        )
        self._client = client

    def evaluate(self, *, timeout: float | None = None) -> builtins.bytes:
        """Run the transaction function on a peer without ordering; return its result.

        ``timeout`` overrides the Gateway's evaluate timeout (seconds). Raises
        :class:`~fabricgw.errors.EvaluateError` if the call fails (e.g. the
        chaincode returned an error) and :class:`~fabricgw.errors.GatewayError`
        if no signature can be made.
        """
        response = self._client.evaluate(self._evaluate_request(), timeout=timeout)
        return evaluate_result(response)

    def endorse(self, *, timeout: float | None = None) -> Transaction:
        """Collect endorsements; return the endorsed :class:`~fabricgw.transaction.Transaction`.

        ``timeout`` overrides the Gateway's endorse timeout (seconds). Raises
        :class:`~fabricgw.errors.EndorseError` if the call fails (e.g. the
        chaincode returned an error, or not enough peers endorsed) and
        :class:`~fabricgw.errors.GatewayError` if no signature can be made or
        the returned transaction cannot be read.
        """
        response = self._client.endorse(self._endorse_request(), timeout=timeout)
        return Transaction(
            client=self._client,
            signing_identity=self._signing_identity,
            prepared_transaction=self._prepared_transaction(response),
        )


__all__ = [
    "CHAINCODE_TYPE",
    "NONCE_LENGTH",
    "Argument",
    "Proposal",
    "ProposalBase",
    "as_bytes",
    "build_proposed_transaction",
    "compute_transaction_id",
    "evaluate_result",
    "new_nonce",
]
