"""Health, readiness, metrics, and the status of asynchronous operations."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from ebill.errors import EbillError

from ..deps import CallerDep, ServiceDep
from ..problems import PROBLEM_RESPONSES, ServiceProblem

router = APIRouter(tags=["system"])


@router.get("/healthz", summary="The service process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The org's peer answers (the chaincode's Ping)",
    responses={503: {"description": "the peer does not answer"}},
)
def readyz(service: ServiceDep) -> JSONResponse:
    """Ready when the peer answers; ``index`` (where the org keeps the read model): its
    ``height`` (blocks projected) and ``lagBlocks`` (blocks the peer has beyond it)."""
    index = {} if service.index is None else {"index": service.index.as_of()}
    try:
        service.party(service.public_user()).ping()
    except (EbillError, OSError, KeyError) as error:
        return JSONResponse(
            {"status": "unavailable", "reason": type(error).__name__, **index}, status_code=503
        )
    return JSONResponse({"status": "ready", **index})


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(service: ServiceDep) -> Response:
    return Response(service.metrics.render(), media_type="text/plain; version=0.0.4")


@router.get(
    "/v1/operations/{operation_id}",
    summary="An asynchronous submit's state and result",
    responses=PROBLEM_RESPONSES,
)
def operation(operation_id: str, caller: CallerDep) -> dict[str, Any]:
    """``running``, ``done`` or ``failed``, with the status and body a synchronous call
    would have answered. 404 for an unknown id or another client's operation."""
    found = caller.service.operations.get(caller.client.client_id, operation_id)
    if found is None:
        raise ServiceProblem(404, "not-found", "Not found", f"no operation {operation_id}")
    return found
