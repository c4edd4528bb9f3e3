"""A tiny router from function names to Python callables.

A transaction function is called as ``fn(stub, *params)`` with the text arguments that
follow the function name; it returns bytes, str, a JSON-able value or None. The router
turns the outcome into a :class:`~.response.Response`:

* success: status 200, payload = bytes / UTF-8 text / canonical JSON;
* :class:`~.errors.ChaincodeError`: its status, message ``"<Kind> [<code>]: <text>"``;
* unknown function or wrong argument count: 400 ``"InvalidArgument [invalid-argument]: ..."``;
* a shim failure (peer refused a request, stream closed): 500 ``"Internal [internal]: <text>"``;
* any other exception: 500 with a generic message; the traceback goes to the log.

:meth:`Contract.dispatch` takes an optional *error observer*: called with the stub, the
function name and every :class:`~.errors.ChaincodeError` before the error answer goes
back (the e-bill contract spools its anomalies this way). If the observer fails, the
answer is 500 ``Internal [error-not-recorded]``: still a refusal, and the failure is
logged.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import ChaincodeError, InvalidArgument, ShimError, format_message
from .response import Response
from .stub import Stub

TxFunction = Callable[..., Any]
ErrorObserver = Callable[[Stub, str, ChaincodeError], None]
F = TypeVar("F", bound=TxFunction)

logger = logging.getLogger(__name__)


def canonical_json(value: Any) -> bytes:
    """Compact JSON, sorted keys, non-ASCII kept, UTF-8: the same bytes on every endorser."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def _to_payload(result: Any) -> bytes:
    if result is None:
        return b""
    if isinstance(result, bytes | bytearray | memoryview):
        return bytes(result)
    if isinstance(result, str):
        return result.encode("utf-8")
    return canonical_json(result)


@dataclass(frozen=True)
class _Entry:
    function: TxFunction
    min_args: int
    max_args: int | None  # None: any number


def _arity(function: TxFunction) -> tuple[int, int | None]:
    """Argument counts accepted after the stub parameter."""
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    parameters = list(inspect.signature(function).parameters.values())
    if not parameters or parameters[0].kind not in positional:
        raise TypeError(f"{function!r} must take the stub as its first positional parameter")
    rest = parameters[1:]
    if any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in rest):
        maximum: int | None = None
    else:
        maximum = sum(1 for p in rest if p.kind in positional)
    minimum = sum(1 for p in rest if p.kind in positional and p.default is inspect.Parameter.empty)
    return minimum, maximum


def _expects(minimum: int, maximum: int | None) -> str:
    if maximum is None:
        return f"at least {minimum} argument{'s' if minimum != 1 else ''}"
    if minimum == maximum:
        return f"{minimum} argument{'s' if minimum != 1 else ''}"
    return f"{minimum} to {maximum} arguments"


class Contract:
    """Registry of transaction functions; calling it with a stub runs one transaction."""

    def __init__(self, name: str = "") -> None:
        self.name = name
        self._entries: dict[str, _Entry] = {}

    def register(self, name: str, function: F) -> F:
        """Register ``function`` under ``name``; a name is registered once."""
        if not name:
            raise ValueError("function name must not be empty")
        if name in self._entries:
            raise ValueError(f"function {name} is already registered")
        minimum, maximum = _arity(function)
        self._entries[name] = _Entry(function, minimum, maximum)
        return function

    def transaction(self, name: str) -> Callable[[F], F]:
        """Decorator form of :meth:`register`."""

        def decorate(function: F) -> F:
            return self.register(name, function)

        return decorate

    @property
    def functions(self) -> dict[str, TxFunction]:
        """The registered functions by name."""
        return {name: entry.function for name, entry in self._entries.items()}

    @property
    def function_names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._entries)

    def __call__(self, stub: Stub) -> Response:
        """Run the function the stub names; never raises."""
        return self.dispatch(stub)

    def dispatch(self, stub: Stub, observer: ErrorObserver | None = None) -> Response:
        """Run the function the stub names, showing its ChaincodeError (if any) to
        ``observer`` first; never raises."""
        name = stub.function
        try:
            return self._invoke(name, stub)
        except ChaincodeError as exc:
            logger.info("[%s] %s -> %d %s", stub.tx_id[:8], name, exc.status, exc.message)
            if observer is not None:
                try:
                    observer(stub, name, exc)
                except Exception:
                    logger.exception("[%s] %s: error observer failed", stub.tx_id[:8], name)
                    text = f"{name} refused ({exc.code}) but the refusal could not be recorded"
                    return Response(500, format_message("Internal", "error-not-recorded", text))
            return Response(exc.status, exc.message)
        except ShimError as exc:
            logger.warning("[%s] %s -> shim error: %s", stub.tx_id[:8], name, exc)
            return Response(500, format_message("Internal", "internal", str(exc)))
        except Exception:
            logger.exception("[%s] %s raised", stub.tx_id[:8], name)
            text = f"unexpected error in {name} (tx {stub.tx_id}); see chaincode log"
            return Response(500, format_message("Internal", "internal", text))

    def _invoke(self, name: str, stub: Stub) -> Response:
        if not name:
            raise InvalidArgument("no function name given")
        entry = self._entries.get(name)
        if entry is None:
            shown = name if len(name) <= 64 else name[:64] + "..."
            raise InvalidArgument(f"unknown function {shown}", "unknown-function")
        params = stub.params
        too_many = entry.max_args is not None and len(params) > entry.max_args
        if len(params) < entry.min_args or too_many:
            expected = _expects(entry.min_args, entry.max_args)
            raise InvalidArgument(
                f"{name} expects {expected}, got {len(params)}", "wrong-argument-count"
            )
        result = entry.function(stub, *params)
        return Response(200, "", _to_payload(result))
