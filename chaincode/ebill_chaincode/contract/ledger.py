"""Small helpers every transaction uses: JSON records, pages, time, events.

Fabric rules these helpers keep:

* A transaction does not read its own writes (reads see the committed state), so no
  function reads a key after writing it.
* Paginated queries only in read-only functions (the peer refuses writes after a
  paginated query and paginated queries after a write); update functions read at
  most a few entries of a bounded range with :func:`first_in` / :func:`scan`.
* A page's bookmark is opaque but the peer starts the page at it without checking it
  belongs to the query, so :func:`page` refuses results outside the query's bounds
  (a forged bookmark must not list another unit's or payer's bills).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from ..shim import KV
from ..shim.contract import canonical_json
from ..shim.errors import ChaincodeError, InvalidArgument, NotFound
from ..shim.stub import Stub
from . import keys
from .access import Actor
from .model import CHINA

Record = dict[str, Any]


def now(stub: Stub) -> str:
    """The transaction time, ISO 8601 in UTC with ``Z``."""
    return stub.tx_timestamp.isoformat().replace("+00:00", "Z")


def local_day(stub: Stub) -> str:
    """The transaction's calendar date in China Standard Time, YYYYMMDD."""
    return stub.tx_timestamp.astimezone(CHINA).strftime("%Y%m%d")


def last_action(stub: Stub, function: str, actor: Actor) -> Record:
    """The ``lastAction`` every record carries: who did what, when, in which transaction."""
    return {
        "function": function,
        "txId": stub.tx_id,
        "org": actor.msp_id,
        "actorId": actor.actor_id,
        "at": now(stub),
    }


def decode(raw: bytes, where: str) -> Record:
    """A stored JSON record; a damaged one is an internal error, not the caller's."""
    return _decode(raw, lambda: where)


def _decode(raw: bytes, where: Callable[[], str]) -> Record:
    """:func:`decode`, naming the place (``where()``) only when the record is damaged."""
    try:
        value = json.loads(raw)
    except ValueError:
        raise ChaincodeError(f"stored record at {where()} is not JSON") from None
    if not isinstance(value, dict):
        raise ChaincodeError(f"stored record at {where()} is not a JSON object")
    return value


def _at(key: str) -> Callable[[], str]:
    return lambda: repr(keys.split(key))


def get(stub: Stub, key: str) -> Record | None:
    """The record at ``key``, or None."""
    raw = stub.get_state(key)
    return None if raw is None else _decode(raw, _at(key))


def load(stub: Stub, key: str, what: str) -> Record:
    """The record at ``key``; NotFound naming ``what`` if absent."""
    record = get(stub, key)
    if record is None:
        raise NotFound(f"{what} not found")
    return record


def load_many(stub: Stub, names: list[str], what: str) -> list[Record]:
    """The records at ``names`` in one multi-key read; NotFound naming the first absent."""
    records = []
    for key, raw in zip(names, stub.get_states(names), strict=True):
        if raw is None:
            raise NotFound(f"{what} {'/'.join(keys.split(key)[-2:])} not found")
        records.append(_decode(raw, _at(key)))
    return records


def put(stub: Stub, key: str, record: Record) -> None:
    stub.put_state(key, canonical_json(record))


def mark(stub: Stub, key: str) -> None:
    """Write an index entry."""
    stub.put_state(key, keys.MARKER)


def first_in(stub: Stub, bounds: keys.Bounds) -> KV | None:
    """The first entry of a range, reading nothing after it (for update functions)."""
    iterator = stub.get_state_by_range(*bounds)
    try:
        return next(iterator, None)
    finally:
        close = getattr(iterator, "close", None)
        if callable(close):
            close()


def scan(stub: Stub, bounds: keys.Bounds) -> Iterator[KV]:
    """Every entry of a range, unpaged: only over ranges the caller knows are small."""
    yield from stub.get_state_by_range(*bounds)


def page(stub: Stub, bounds: keys.Bounds, page_size: int, bookmark: str) -> tuple[list[KV], str]:
    """One page of a range (read-only functions only) and the bookmark of the next."""
    start, end = bounds
    results, meta = stub.get_state_by_range_with_pagination(start, end, page_size, bookmark)
    if any(not start <= kv.key < end for kv in results):
        raise InvalidArgument("bookmark: does not belong to this query")
    return results, meta.bookmark


def emit(stub: Stub, function: str, **fields: Any) -> None:
    """The function's one event: its name, payload {..., org: creator MSP id}."""
    payload = {name: value for name, value in fields.items() if value is not None}
    payload["org"] = stub.creator.msp_id
    stub.set_event(function, canonical_json(payload))
