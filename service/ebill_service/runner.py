"""How an endpoint runs a call on the chain: errors as problems, idempotency, async.

:func:`evaluate` runs a read and maps a refusal to its problem. :func:`submit` runs a
write under the request's ``Idempotency-Key`` (see :mod:`.idempotency`), synchronously
(the default: it answers when the transaction committed) or, with ``Prefer:
respond-async``, as an operation answered 202 with its ``Location``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi.responses import JSONResponse

from ebill.errors import EbillError

from .deps import Caller
from .idempotency import request_hash
from .problems import MEDIA_TYPE, problem_of

log = logging.getLogger("ebill_service")

Result = tuple[int, Any]


def _run(caller: Caller, name: str, call: Callable[[], Any], status: int) -> Result:
    try:
        body = call()
    except EbillError as error:
        problem = problem_of(error)
        outcome = "refused" if problem.status < 500 else "failed"
        caller.service.metrics.submits.labels(name, outcome).inc()
        # The code and kind only: a message may name a bill, never log a payer.
        log.info("%s by %s: %s %s", name, caller.client.client_id, outcome, problem.code)
        return problem.status, problem.model_dump(exclude_none=True)
    caller.service.metrics.submits.labels(name, "committed").inc()
    return status, body


def _answer(result: Result) -> JSONResponse:
    status, body = result
    media = MEDIA_TYPE if status >= 400 else "application/json"
    return JSONResponse(body, status_code=status, media_type=media)


def evaluate(call: Callable[[], Any]) -> Any:
    """Run a read; a refusal propagates as an EbillError (answered as a problem)."""
    return call()


def submit(
    caller: Caller,
    name: str,
    request: Any,
    call: Callable[[dict[str, str]], Any],
    *,
    key: str | None,
    prefer: str | None,
    new_secrets: Callable[[], dict[str, str]] = dict,
    status: int = 200,
) -> JSONResponse:
    """Run ``call(secrets)`` once per Idempotency-Key; sync or (``respond-async``) 202.

    ``request`` is what identifies the request for the key (the body and path
    parameters); ``new_secrets`` makes the values a first attempt generates and a retry
    must reuse (a bill's salt and check code).
    """
    service, client_id = caller.service, caller.client.client_id
    attempt = service.idempotency.begin(client_id, key, request_hash(name, request), new_secrets())
    if attempt.replay is not None:
        return _answer(attempt.replay)

    def run() -> Result:
        result: Result | None = None
        try:
            result = _run(caller, name, lambda: call(attempt.secrets), status)
            return result
        finally:
            final = result is not None and result[0] < 500
            service.idempotency.finish(
                client_id,
                attempt,
                result[0] if final and result else None,
                result[1] if result else None,
            )

    if prefer and "respond-async" in prefer.lower():
        operation_id = service.operations.start(client_id, name, run)
        return JSONResponse(
            {"operationId": operation_id, "state": "running"},
            status_code=202,
            headers={"Location": f"/v1/operations/{operation_id}"},
        )
    return _answer(run())
