"""The plain submit endpoints, from one table: path, contract function, body, call.

Most writes have one shape: path parameters and a body (derived from the interface,
:mod:`.bodies`) become the arguments, the caller's party client of the function's
role performs the function, and :func:`~.runner.submit` runs it under the request's
``Idempotency-Key``, synchronously or (``Prefer: respond-async``) as an operation. A
:class:`Submit` row says what differs; :func:`add_submits` makes the endpoints.
Endpoints that differ more (issuance with payer data, batches, a claim's retry,
offline signing) are written out in their modules.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ebill.party import PartyClient

from . import bodies
from .contract import operation
from .deps import Caller, CallerDep, IdempotencyKey, Prefer
from .runner import submit

Args = dict[str, Any]
_PATH_PARAM = re.compile(r"{([A-Za-z]+)}")


def acting(*classes: type[PartyClient]) -> Callable[[Caller, str, Args], Any]:
    """The default party of a row: the caller's party client, if one of ``classes``
    and its role may call the function (403 otherwise)."""

    def act(caller: Caller, function: str, args: Args) -> Any:
        return caller.act(function, *classes)

    return act


@dataclass(frozen=True)
class Submit:
    """One submit endpoint.

    ``path`` names its path parameters, each an argument of ``function`` (of the name in
    ``path_args`` when the path's differs); ``body`` the request body model; ``act``
    gives the party client for the caller, the function and the arguments (path and
    body fields by their JSON names); ``call(party, args)`` performs the function and
    answers the response body."""

    name: str
    path: str
    function: str
    summary: str
    act: Callable[[Caller, str, Args], Any]
    call: Callable[[Any, Args], Any]
    body: type[BaseModel] | None = None
    status: int = 200
    answers: bool = True
    path_args: dict[str, str] = field(default_factory=dict)

    def path_params(self) -> list[str]:
        return _PATH_PARAM.findall(self.path)


def _endpoint(row: Submit) -> Callable[..., JSONResponse]:
    def endpoint(**values: Any) -> JSONResponse:
        caller: Caller = values.pop("caller")
        key, prefer = values.pop("idempotency_key"), values.pop("prefer")
        body: BaseModel | None = values.pop("body", None)
        args: Args = {**values, **(body.model_dump() if body is not None else {})}
        party = row.act(caller, row.function, args)
        return submit(
            caller,
            row.function,
            args,
            lambda kept: row.call(party, args),
            key=key,
            prefer=prefer,
            status=row.status,
        )

    keyword = inspect.Parameter.KEYWORD_ONLY
    params = [
        inspect.Parameter(
            name,
            keyword,
            annotation=bodies.path_type(row.function, row.path_args.get(name, name)),
        )
        for name in row.path_params()
    ]
    if row.body is not None:
        params.append(inspect.Parameter("body", keyword, annotation=row.body))
    params += [
        inspect.Parameter("caller", keyword, annotation=CallerDep),
        inspect.Parameter("idempotency_key", keyword, annotation=IdempotencyKey, default=None),
        inspect.Parameter("prefer", keyword, annotation=Prefer, default=None),
    ]
    endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    endpoint.__name__ = row.name
    return endpoint


def add_submits(router: APIRouter, rows: Sequence[Submit]) -> None:
    """Add an endpoint ``POST row.path`` for each row to ``router``."""
    for row in rows:
        router.add_api_route(
            row.path,
            _endpoint(row),
            methods=["POST"],
            summary=row.summary,
            status_code=row.status,
            **operation(row.function, answers=row.answers, status=row.status),
        )
