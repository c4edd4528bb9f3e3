"""Offline signing over HTTP: prepare -> sign the digest -> endorse -> sign -> submit.

Bytes travel base64-encoded (standard alphabet). The signature is the one fabric
expects over the digest: for ECDSA keys a DER signature with low S of the SHA-256
digest answered, for Ed25519 keys a signature of the digest bytes (the message
itself). See :mod:`..offline`.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ..deps import CallerDep
from ..eventlog import EVENT_TYPES
from ..problems import PROBLEM_RESPONSES, ServiceProblem

router = APIRouter(tags=["offline signing"], responses=PROBLEM_RESPONSES)


B64 = Annotated[str, Field(min_length=4, max_length=4_000_000, description="base64")]

#: The functions that may be prepared: the contract's submitted ones.
FUNCTIONS = EVENT_TYPES


def _b64(text: str, field: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ServiceProblem(422, "validation", "Invalid base64", f"{field}: not base64") from None


def _enc(data: bytes) -> str:
    return base64.b64encode(data).decode()


class ProposalRequest(BaseModel):
    """A contract function to prepare for signing by the caller's own key."""

    function: Annotated[str, Field(description=f"one of {', '.join(FUNCTIONS)}")]
    args: Annotated[list[Annotated[str, Field(max_length=100_000)]], Field(max_length=20)] = []
    transient: Annotated[
        dict[str, Annotated[str, Field(max_length=100_000)]], Field(max_length=10)
    ] = {}
    endorsingOrganizations: Annotated[list[str], Field(max_length=10)] = []


class Unsigned(BaseModel):
    """Bytes to keep and send back, and the digest to sign."""

    transactionId: str
    bytes: str
    digest: str


class Endorsed(Unsigned):
    result: Annotated[str, Field(description="the function's result (base64)")]


class Signed(BaseModel):
    bytes: B64
    signature: B64


class Committed(BaseModel):
    transactionId: str
    blockNumber: int
    valid: bool
    code: Annotated[str, Field(description="the TxValidationCode, VALID when committed")]


@router.post(
    "/v1/offline/proposals",
    summary="Prepare a proposal for the caller to sign",
    status_code=201,
    response_model=Unsigned,
)
def prepare(body: ProposalRequest, caller: CallerDep) -> dict[str, Any]:
    """The proposal of ``function(args)`` as the caller's identity; sign its digest."""
    if body.function not in FUNCTIONS:
        raise ServiceProblem(
            422,
            "validation",
            "Invalid function",
            f"function: one of {', '.join(FUNCTIONS)}",
        )
    prepared = caller.service.offline.prepare(
        caller.client.client_id,
        caller.client.user,
        body.function,
        body.args,
        body.transient,
        body.endorsingOrganizations,
    )
    return {
        "transactionId": prepared["transactionId"],
        "bytes": _enc(prepared["bytes"]),
        "digest": _enc(prepared["digest"]),
    }


@router.post(
    "/v1/offline/proposals/{transactionId}/endorse",
    summary="Endorse a signed proposal",
    response_model=Endorsed,
)
def endorse(transactionId: str, body: Signed, caller: CallerDep) -> dict[str, Any]:
    """The endorsed transaction to sign; the contract's refusal as a problem."""
    endorsed = caller.service.offline.endorse(
        caller.client.client_id,
        caller.client.user,
        transactionId,
        _b64(body.bytes, "bytes"),
        _b64(body.signature, "signature"),
    )
    return {
        "transactionId": transactionId,
        "bytes": _enc(endorsed["bytes"]),
        "digest": _enc(endorsed["digest"]),
        "result": _enc(endorsed["result"]),
    }


@router.post(
    "/v1/offline/transactions/{transactionId}/submit",
    summary="Submit a signed transaction and wait for its commit",
    response_model=Committed,
)
def submit(transactionId: str, body: Signed, caller: CallerDep) -> dict[str, Any]:
    """Its commit status; a retry answers the status again (never a second submit)."""
    return caller.service.offline.submit(
        caller.client.client_id,
        caller.client.user,
        transactionId,
        _b64(body.bytes, "bytes"),
        _b64(body.signature, "signature"),
        caller.service.commit_status,
    )
