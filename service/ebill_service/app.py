"""The ASGI application of one organisation's service.

FastAPI (on Starlette, served by uvicorn): typed request and response models give the
OpenAPI 3.1 document (``/openapi.json``, browsable at ``/docs``) and validation with
named fields for free, dependencies carry the caller's identity. Errors are RFC 9457
problems (:mod:`.problems`). The access log written here names the route TEMPLATE
(``/v1/bills/{billCode}/{billNumber}``), the status and the API client, never a path
with values, a query or a body.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException as StarletteHTTPException

from ebill.errors import EbillError

from . import contract
from .context import Service
from .problems import (
    ServiceProblem,
    ebill_error_handler,
    http_error_handler,
    service_problem_handler,
    validation_handler,
)
from .routes import ROUTERS
from .settings import Settings

log = logging.getLogger("ebill_service.access")


def _route_template(request: Request) -> str:
    """The template of the route that served the request (set by the router)."""
    route = request.scope.get("route")
    return str(getattr(route, "path", "unmatched"))


def _served(router: APIRouter, roles: set[str]) -> APIRouter:
    """The routes of ``router`` whose contract functions the org's roles may call."""
    kept = APIRouter()
    for route in router.routes:
        if contract.served(getattr(route, "openapi_extra", None) or {}, roles):
            kept.routes.append(route)
    return kept


def openapi_builder(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """The OpenAPI document with the contract's record schemas and refusal codes."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            )
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in contract.components().items():
                schemas.setdefault(name, schema)
            document["x-ebill-errors"] = contract.refusal_codes()
            app.openapi_schema = document
        return app.openapi_schema

    return build


def create_app(settings: Settings, *, service: Service | None = None) -> FastAPI:
    """The app of ``settings.org``: the routers of its users' roles, and the system ones."""
    service = service or Service(settings)
    roles = service.org_roles()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service.start_events()
        service.start_index()
        yield
        service.close()

    app = FastAPI(
        title=f"{settings.title}: {settings.org}",
        version="1",
        summary="Fiscal e-bills on the chain, for the business systems of one organisation",
        lifespan=lifespan,
    )
    app.state.service = service
    for router in ROUTERS:
        app.include_router(_served(router, roles))
    app.openapi = openapi_builder(app)  # type: ignore[method-assign]
    app.add_exception_handler(EbillError, ebill_error_handler)
    app.add_exception_handler(ServiceProblem, service_problem_handler)
    app.add_exception_handler(RequestValidationError, validation_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)

    @app.middleware("http")
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = _route_template(request)
        elapsed = time.perf_counter() - started
        service.metrics.requests.labels(route, request.method, str(response.status_code)).inc()
        service.metrics.latency.labels(route, request.method).observe(elapsed)
        log.info("%s %s %d %.1fms", request.method, route, response.status_code, elapsed * 1000)
        return response

    return app


def describe_routes(app: FastAPI) -> list[dict[str, Any]]:
    """(method, path, summary) of every endpoint, for the CLI and tests."""
    out = []
    for route in app.routes:
        methods = getattr(route, "methods", None)
        if methods:
            for method in sorted(methods - {"HEAD"}):
                out.append(
                    {
                        "method": method,
                        "path": getattr(route, "path", ""),
                        "summary": getattr(route, "summary", ""),
                    }
                )
    return out
