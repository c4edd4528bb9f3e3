"""The asyncio API is the sync API's twin: same classes, methods and signatures.

Every public class of :mod:`fabricgw.aio` is named ``Async<SyncName>`` and offers every
public method and property of its sync twin with the same parameters (names, kinds and
defaults); only coroutines and async iterators differ. A method added to one side only
fails here.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import fabricgw
from fabricgw import aio, event_stream

# Methods whose name differs between the two worlds by Python's protocols, not by choice.
PROTOCOL_TWINS = {
    "__enter__": "__aenter__",
    "__exit__": "__aexit__",
    "__iter__": "__aiter__",
    "__next__": "__anext__",
}


def _pairs() -> list[tuple[type[Any], type[Any]]]:
    pairs = []
    for name in aio.__all__:
        obj = getattr(aio, name)
        if inspect.isclass(obj):
            assert name.startswith("Async"), f"{name}: an aio class is named Async<SyncName>"
            sync_name = name.removeprefix("Async")
            sync = getattr(fabricgw, sync_name, None) or getattr(event_stream, sync_name)
            pairs.append((sync, obj))
    return pairs


def _public(cls: type[Any]) -> dict[str, Any]:
    members = {}
    for name, member in inspect.getmembers(cls):
        if name.startswith("_") and name not in {*PROTOCOL_TWINS, *PROTOCOL_TWINS.values()}:
            continue
        members[name] = member
    return members


def _parameters(member: Any) -> list[tuple[str, Any, Any]]:
    if isinstance(member, property):
        return []
    target = member.__func__ if isinstance(member, classmethod | staticmethod) else member
    signature = inspect.signature(target)
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


def test_every_aio_class_has_a_sync_twin() -> None:
    pairs = _pairs()
    assert {sync.__name__ for sync, _ in pairs} >= {
        "Gateway",
        "Network",
        "Contract",
        "Proposal",
        "Transaction",
        "Commit",
        "ChaincodeEventsRequest",
        "ChaincodeEventsIterator",
        "BlockEventsRequest",
        "BlockEventsIterator",
        "EventStream",
    }


@pytest.mark.parametrize(("sync", "asynchronous"), _pairs(), ids=lambda c: c.__name__)
def test_async_twin_has_the_sync_methods_and_signatures(
    sync: type[Any], asynchronous: type[Any]
) -> None:
    sync_members = _public(sync)
    async_members = _public(asynchronous)
    for name, member in sync_members.items():
        twin = PROTOCOL_TWINS.get(name, name)
        assert twin in async_members, f"{asynchronous.__name__} lacks {twin} of {sync.__name__}"
        assert isinstance(async_members[twin], property) == isinstance(member, property), (
            f"{asynchronous.__name__}.{twin}: property on one side only"
        )
        assert _parameters(async_members[twin]) == _parameters(member), (
            f"{asynchronous.__name__}.{twin} has other parameters than {sync.__name__}.{name}"
        )
    extra = {
        name
        for name in async_members
        if name not in {PROTOCOL_TWINS.get(n, n) for n in sync_members}
        and name not in PROTOCOL_TWINS
    }
    assert not extra, f"{asynchronous.__name__} has methods its sync twin lacks: {sorted(extra)}"


def test_connect_functions_take_the_same_options_and_defaults() -> None:
    sync = inspect.signature(fabricgw.connect).parameters
    asynchronous = inspect.signature(aio.connect).parameters
    assert [(p.name, p.kind, p.default) for p in sync.values()][1:] == [
        (p.name, p.kind, p.default) for p in asynchronous.values()
    ][1:]
    assert sync["commit_status_timeout"].default == fabricgw.DEFAULT_TIMEOUTS.commit_status
    assert sync["endorse_timeout"].default == fabricgw.DEFAULT_TIMEOUTS.endorse
