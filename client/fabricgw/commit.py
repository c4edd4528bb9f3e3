"""Commit: waiting for a submitted transaction to be committed, and its validation status."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any

from ._client import GatewayClient
from ._protos import gateway_pb2, transaction_pb2
from .errors import CommitError
from .signing_identity import SigningIdentity

VALID = 0
"""``TxValidationCode`` of a successfully committed transaction."""


def validation_code_name(code: int) -> str:
    """Name of a ``TxValidationCode`` number, e.g. 11 -> ``MVCC_READ_CONFLICT``.

    Unknown numbers give ``UNKNOWN_<n>``. Never raises.
    """
    try:
        return str(transaction_pb2.TxValidationCode.Name(code))
    except ValueError:
        return f"UNKNOWN_{code}"


@dataclass(frozen=True, slots=True)
class Status:
    """Commit outcome of a transaction.

    ``code`` is the ``TxValidationCode`` number, ``code_name`` its name;
    ``successful`` is true only for ``VALID``.
    """

    transaction_id: str
    code: int
    code_name: str
    successful: bool
    block_number: int


def new_commit_status_request(*, transaction_id: str, channel_id: str, creator: bytes) -> bytes:
    """Serialized ``gateway.CommitStatusRequest`` for a transaction, asked as ``creator``."""
    request = gateway_pb2.CommitStatusRequest(
        transaction_id=transaction_id, channel_id=channel_id, identity=creator
    )
    data: bytes = request.SerializeToString()
    return data


def status_from_response(transaction_id: str, response: Any) -> Status:
    """Read a ``gateway.CommitStatusResponse`` into a :class:`Status`. Never raises."""
    code = int(response.result)
    return Status(
        transaction_id=transaction_id,
        code=code,
        code_name=validation_code_name(code),
        successful=code == VALID,
        block_number=int(response.block_number),
    )


def check_committed(status: Status) -> None:
    """Raise :class:`~fabricgw.errors.CommitError` unless ``status`` is ``VALID``."""
    if not status.successful:
        raise CommitError(
            transaction_id=status.transaction_id,
            code=status.code,
            code_name=status.code_name,
            block_number=status.block_number,
        )


class CommitBase:
    """The signable commit status request of a submitted transaction (sync and asyncio)."""

    def __init__(
        self,
        *,
        signing_identity: SigningIdentity,
        transaction_id: str,
        signed_request: Any,
        submit_request: Any = None,
    ) -> None:
        """``submit_request``: the signed ``SubmitRequest`` when this commit follows a
        submit, so that the wait may send it again (see :mod:`fabricgw.retry`)."""
        self._signing_identity = signing_identity
        self._transaction_id = transaction_id
        self._signed_request = signed_request
        self._submit_request = submit_request

    @property
    def transaction_id(self) -> str:
        """ID of the transaction."""
        return self._transaction_id

    def bytes(self) -> builtins.bytes:
        """Serialized ``gateway.SignedCommitStatusRequest`` (to sign off-line or store)."""
        data: builtins.bytes = self._signed_request.SerializeToString()
        return data

    def digest(self) -> builtins.bytes:
        """Digest of the commit status request, the input of the signature."""
        request: builtins.bytes = self._signed_request.request
        return self._signing_identity.digest(request)

    def _signed(self) -> Any:
        """The ``SignedCommitStatusRequest``, signed now if it was not. Raises ``GatewayError``."""
        request = self._signed_request
        if not request.signature:
            request.signature = self._signing_identity.sign(self.digest())
        return request

    def _set_signature(self, signature: builtins.bytes) -> None:
        self._signed_request.signature = signature


class Commit(CommitBase):
    """A submitted transaction whose commit status can be requested.

    Signed with the Gateway's signer when first needed, unless a signature was
    supplied (off-line signing through ``Gateway.new_signed_commit``).
    """

    def __init__(
        self,
        *,
        client: GatewayClient,
        signing_identity: SigningIdentity,
        transaction_id: str,
        signed_request: Any,
        submit_request: Any = None,
    ) -> None:
        super().__init__(
            signing_identity=signing_identity,
            transaction_id=transaction_id,
            signed_request=signed_request,
            submit_request=submit_request,
        )
        self._client = client

    def status(self, *, timeout: float | None = None) -> Status:
        """Block until the transaction is committed and return its :class:`Status`.

        Asks in slices, through the fallback gateways when the primary fails, and
        sends the same signed envelope again when no status comes (a dropped
        transaction; see :mod:`fabricgw.retry`). ``timeout`` overrides the Gateway's
        commit status timeout (seconds), the bound of the whole wait. Raises
        :class:`~fabricgw.errors.CommitStatusError` (outcome unknown, with the
        transaction id) when no status came within it or a call is refused, and
        :class:`~fabricgw.errors.GatewayError` if no signature can be made.
        An invalid transaction is not an error here: check ``Status.successful``.
        """
        response = self._client.commit_status(
            self._signed(),
            transaction_id=self._transaction_id,
            timeout=timeout,
            submit_request=self._submit_request,
        )
        return status_from_response(self._transaction_id, response)


__all__ = [
    "VALID",
    "Commit",
    "CommitBase",
    "Status",
    "check_committed",
    "new_commit_status_request",
    "status_from_response",
    "validation_code_name",
]
