"""The one :class:`Contract` router all transaction functions register on.

Register with :func:`transaction` (not ``contract.transaction``): it also turns an
:class:`~.anomalies.Anomaly` raised by the function into the logged, status-200
"refused" answer described in :mod:`.anomalies`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from ..shim.contract import Contract
from ..shim.stub import Stub
from . import anomalies

F = TypeVar("F", bound=Callable[..., Any])

contract = Contract("ebill")


def transaction(name: str) -> Callable[[F], F]:
    """Register the decorated function under ``name``, logging its anomalies."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def run(stub: Stub, *args: str) -> Any:
            try:
                return function(stub, *args)
            except anomalies.Anomaly as anomaly:
                return anomalies.record(stub, name, anomaly)

        contract.register(name, run)
        return function

    return decorate


@transaction("Ping")
def ping(stub: Stub) -> str:
    """Liveness: touches no state and needs no proposal (so it emits no event either)."""
    return "pong"
