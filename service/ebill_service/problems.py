"""RFC 9457 problem details: every error the service answers, in one shape.

``type`` is ``urn:ebill:problem:<code>`` where ``code`` is the contract's stable
refusal code (``bill-not-locked``, ``over-claim``, ``not-authorised``...) or one of
the service's own (``unauthenticated``, ``rate-limited``, ``idempotency-conflict``,
``validation``, ``unavailable``). Extra members: ``code``, ``kind`` (the chaincode's
error kind), ``transactionId`` when there is one, ``peers`` (the peers' own messages,
when the gateway reported them). Nothing personal is ever put in a problem: the
chaincode's messages name fields and rules, not values of payers.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ebill.errors import (
    Conflict,
    EbillError,
    InternalError,
    InvalidInput,
    NetworkUnavailable,
    NotAuthorised,
    NotFound,
    TransactionFailed,
)

MEDIA_TYPE = "application/problem+json"


class Problem(BaseModel):
    """An RFC 9457 problem details object with the e-bill extension members."""

    type: str = Field(description="urn:ebill:problem:<code>")
    title: str
    status: int
    detail: str = ""
    code: str
    kind: str | None = None
    transactionId: str | None = None
    peers: list[str] = Field(default_factory=list)


class ServiceProblem(Exception):
    """A problem raised by the service itself (not the chain)."""

    def __init__(self, status: int, code: str, title: str, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or title)
        self.status, self.code, self.title, self.detail, self.extra = (
            status,
            code,
            title,
            detail,
            extra,
        )


_STATUS: list[tuple[type[EbillError], int, str]] = [
    (InvalidInput, 422, "invalid-argument"),
    (NotAuthorised, 403, "not-authorised"),
    (NotFound, 404, "not-found"),
    (Conflict, 409, "conflict"),
    (NetworkUnavailable, 503, "unavailable"),
    (TransactionFailed, 502, "transaction-failed"),
    (InternalError, 502, "internal"),
]

#: Every status the service answers with a problem, for the OpenAPI document.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "model": Problem,
        "description": text,
        "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for status, text in [
        (401, "no or unknown API key"),
        (403, "the caller's identity may not do this (refusal code not-authorised)"),
        (404, "no such unit, batch or bill"),
        (409, "refused by the life-cycle rules, or an Idempotency-Key in use"),
        (422, "a field breaks a rule (named in detail)"),
        (429, "rate limit reached; see Retry-After"),
        (502, "the chain failed the transaction"),
        (503, "the peer is unavailable"),
    ]
}


def problem_of(error: EbillError) -> Problem:
    """The problem for an error of the party clients."""
    status, default = 500, "internal"
    for cls, code_status, code in _STATUS:
        if isinstance(error, cls):
            status, default = code_status, code
            break
    code = error.code or default
    peers = [str(p) for p in getattr(error, "details", None) or []]
    return Problem(
        type=f"urn:ebill:problem:{code}",
        title=type(error).__name__,
        status=status,
        detail=" ".join(error.message.split()),
        code=code,
        kind=error.kind,
        transactionId=error.transaction_id,
        peers=peers,
    )


def response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=problem.status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


async def ebill_error_handler(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, EbillError)
    return response(problem_of(error))


async def service_problem_handler(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ServiceProblem)
    headers = {str(k): str(v) for k, v in error.extra.pop("headers", {}).items()}
    problem = Problem(
        type=f"urn:ebill:problem:{error.code}",
        title=error.title,
        status=error.status,
        detail=error.detail,
        code=error.code,
        **error.extra,
    )
    return response(problem, headers)


async def validation_handler(request: Request, error: Exception) -> JSONResponse:
    """A request that does not match its schema: names each field and its rule."""
    assert isinstance(error, RequestValidationError)
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    problem = Problem(
        type="urn:ebill:problem:validation",
        title="Invalid request",
        status=422,
        detail="; ".join(parts),
        code="validation",
    )
    return response(problem)


async def http_error_handler(request: Request, error: Exception) -> JSONResponse:
    """Starlette's own errors (no such route, method not allowed) as problems too."""
    status = int(getattr(error, "status_code", 500))
    code = {404: "no-route", 405: "method-not-allowed"}.get(status, "http-error")
    problem = Problem(
        type=f"urn:ebill:problem:{code}",
        title=str(getattr(error, "detail", "")) or "HTTP error",
        status=status,
        detail=f"{request.method} {request.url.path}: no such endpoint in this service"
        if status == 404
        else "",
        code=code,
    )
    return response(problem)
