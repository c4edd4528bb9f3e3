"""Events: webhook subscriptions and the Server-Sent Events stream.

Both carry the contract's events the caller's identity may see (see
:mod:`..eventlog`: a unit's own, a reimburser's own, everything for finance and
supervisors; the payer platform none, answered 403).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from ..deps import CallerDep
from ..eventlog import Audience, event_json
from ..problems import PROBLEM_RESPONSES, ServiceProblem

router = APIRouter(tags=["events"], responses=PROBLEM_RESPONSES)

#: Seconds between two looks at the event log while a stream is idle, and between
#: two keep-alive comments.
POLL_SECONDS = 0.25
KEEPALIVE_SECONDS = 15.0


def _audience(caller: CallerDep) -> Audience:
    audience = caller.service.audience(caller.client.user)
    if audience is None:
        raise ServiceProblem(
            403,
            "not-authorised",
            "Forbidden",
            f"API client {caller.client.client_id}: events are for units, reimbursers,"
            " finance and supervisors",
        )
    return audience


class WebhookRequest(BaseModel):
    """A subscription: where to POST, which event types (none: all) and which unit."""

    url: Annotated[str, Field(min_length=8, max_length=2000, description="https:// URL")]
    types: Annotated[list[str], Field(max_length=20)] = []
    unit: Annotated[str | None, Field(max_length=20)] = None


class Webhook(BaseModel):
    webhookId: str
    url: str
    types: list[str]
    unit: str | None
    createdAt: float


class WebhookCreated(Webhook):
    """The subscription and its signing secret: shown this once only."""

    secret: str


class DeliveryCounts(BaseModel):
    pending: int
    delivered: int
    failed: int


class WebhookState(Webhook):
    deliveries: DeliveryCounts


@router.post(
    "/v1/webhooks",
    summary="Subscribe a URL to events",
    status_code=201,
    response_model=WebhookCreated,
)
def create_webhook(body: WebhookRequest, caller: CallerDep) -> dict[str, Any]:
    """Deliveries are signed with the returned secret (``Ebill-Signature``)."""
    audience = _audience(caller)
    return caller.service.webhooks.create(
        caller.client.client_id, audience, body.url, body.types, body.unit
    )


@router.get(
    "/v1/webhooks", summary="The client's webhook subscriptions", response_model=list[Webhook]
)
def list_webhooks(caller: CallerDep) -> list[dict[str, Any]]:
    return caller.service.webhooks.list(caller.client.client_id)


@router.get(
    "/v1/webhooks/{webhookId}",
    summary="A subscription and its delivery counts",
    response_model=WebhookState,
)
def get_webhook(webhookId: str, caller: CallerDep) -> dict[str, Any]:
    found = caller.service.webhooks.get(caller.client.client_id, webhookId)
    if found is None:
        raise ServiceProblem(404, "not-found", "Not found", f"no webhook {webhookId}")
    return found


@router.delete("/v1/webhooks/{webhookId}", summary="End a subscription", status_code=204)
def delete_webhook(webhookId: str, caller: CallerDep) -> Response:
    if not caller.service.webhooks.delete(caller.client.client_id, webhookId):
        raise ServiceProblem(404, "not-found", "Not found", f"no webhook {webhookId}")
    return Response(status_code=204)


def _frame(row: Any) -> str:
    data = json.dumps(event_json(row), separators=(",", ":"))
    return f"id: {row['event_id']}\nevent: {row['type']}\ndata: {data}\n\n"


@router.get(
    "/v1/events",
    summary="The events as a Server-Sent Events stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "the event stream"}},
)
async def events(
    caller: CallerDep,
    types: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006 (FastAPI query list)
    maxEvents: Annotated[int | None, Query(ge=1, le=100000)] = None,
    lastEventId: Annotated[str | None, Query(max_length=200)] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=200)] = None,
) -> StreamingResponse:
    """Each event's ``id:`` is its ``block:tx:index`` checkpoint; reconnecting with
    ``Last-Event-ID`` (or ``?lastEventId=``) resumes right after it: no event twice,
    none skipped. ``maxEvents`` ends the stream after that many events."""
    audience = _audience(caller)
    log = caller.service.events
    resume = last_event_id or lastEventId
    after = await asyncio.to_thread(log.seq_after, resume)
    if after < 0:
        raise ServiceProblem(
            422, "validation", "Invalid Last-Event-ID", "Last-Event-ID: an event id block:tx:index"
        )

    async def stream() -> AsyncIterator[str]:
        position, sent, idle = after, 0, 0.0
        yield "retry: 2000\n\n"
        while maxEvents is None or sent < maxEvents:
            limit = 100 if maxEvents is None else min(100, maxEvents - sent)
            rows = await asyncio.to_thread(log.read, audience, position, types, limit)
            for row in rows:
                yield _frame(row)
                position, sent = int(row["seq"]), sent + 1
            if rows:
                idle = 0.0
                continue
            await asyncio.sleep(POLL_SECONDS)
            idle += POLL_SECONDS
            if idle >= KEEPALIVE_SECONDS:
                idle = 0.0
                yield ": keep-alive\n\n"

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
