"""The one :class:`Contract` router all transaction functions register on.

Register with :func:`transaction`. An :class:`~.anomalies.Anomaly` raised by a function
is an error answer like any other; the chaincode server spools it through the shim's
error observer (see :mod:`.anomalies` and ``ebill_chaincode.__main__``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ..shim.contract import Contract
from ..shim.stub import Stub

F = TypeVar("F", bound=Callable[..., Any])

contract = Contract("ebill")


def transaction(name: str) -> Callable[[F], F]:
    """Register the decorated function under ``name``."""

    def decorate(function: F) -> F:
        contract.register(name, function)
        return function

    return decorate


@transaction("Ping")
def ping(stub: Stub) -> str:
    """Liveness: touches no state and needs no proposal (so it emits no event either)."""
    return "pong"
