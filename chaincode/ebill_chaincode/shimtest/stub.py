"""One simulated transaction on a :class:`~.ledger.MockLedger`: the shim's Stub in memory.

:class:`MockStub` implements :class:`~ebill_chaincode.shim.Stub` (mypy checks it) and
keeps the peer's simulator rules:

* Reads see the committed state; writes go to the transaction's write set.
* ``get_state_by_range`` refuses bounds in the composite-key namespace and takes an
  empty start as U+0001, as the shim does.
* Paginated queries: a page starts at the bookmark if one is given (the peer does not
  check that it belongs to the range), the returned bookmark is the next key or "";
  they are refused after a write, and writes are refused after them (the peer's
  "read-only transaction" rule); private data queries likewise.
* Private data: reads need a member peer and (memberOnlyRead) a member client;
  writes (memberOnlyWrite) a member client and work on non-member peers; hashes are
  readable everywhere.

What the transaction did is kept for tests to inspect: ``read_set``, ``range_reads``,
``write_set``, ``private_write_set``, ``metadata_write_set``, ``writes`` (every key
written, in order) and ``event``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..shim import KV, Creator, Event, InvalidArgument, KeyModification, PeerError, QueryPage
from ..shim.stub import Stub, create_composite_key, split_composite_key

if TYPE_CHECKING:
    from .ledger import MockLedger

NAMESPACE = "\x00"
MAX_RUNE = "\U0010ffff"
#: The shim replaces an empty range start by this key (the smallest simple key).
EMPTY_KEY_SUBSTITUTE = "\x01"


@dataclass
class RangeRead:
    """An unpaged range query of a transaction, for phantom validation: the keys and
    versions it consumed, and whether it ran to the end."""

    start: str
    end: str
    results: list[tuple[str, int]] = field(default_factory=list)
    exhausted: bool = False


def in_range(key: str, start: str, end: str) -> bool:
    """Whether ``start <= key < end`` (an empty ``end`` is open)."""
    return start <= key and (end == "" or key < end)


def _check_simple_keys(*bounds: str) -> None:
    for bound in bounds:
        if bound.startswith(NAMESPACE):
            raise InvalidArgument("a range key must not start with U+0000")


def _check_page_size(page_size: int) -> None:
    if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
        raise InvalidArgument("page size must be an integer of at least 1")


def _to_bytes(value: bytes | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


class MockStub:
    """One transaction's view of a :class:`~.ledger.MockLedger`; implements the shim's
    Stub. Made by :meth:`MockLedger.stub`; commit it with :meth:`MockLedger.commit`."""

    def __init__(
        self,
        ledger: MockLedger,
        creator: Creator,
        args: Sequence[str],
        *,
        transient: Mapping[str, bytes] | None,
        tx_id: str,
        timestamp: dt.datetime,
        peer_msp: str,
    ) -> None:
        self.ledger = ledger
        self.creator = creator
        self.args = list(args)
        self.transient: Mapping[str, bytes] = dict(transient or {})
        self.tx_id = tx_id
        self.tx_timestamp = timestamp
        self.channel_id = ledger.channel
        self.peer_msp = peer_msp
        self.event: Event | None = None
        self.read_set: dict[str, int | None] = {}
        self.private_read_set: dict[tuple[str, str], int | None] = {}
        self.range_reads: list[RangeRead] = []
        self.write_set: dict[str, bytes | None] = {}
        self.private_write_set: dict[tuple[str, str], bytes | None] = {}
        self.metadata_write_set: dict[str, bytes] = {}
        self.writes: list[str] = []  # every key written, in order ("<collection>:" + key)
        self._wrote = False
        self._paginated = False
        self._pvt_queried = False

    # --- transaction facts -------------------------------------------------------------

    @property
    def function(self) -> str:
        """The function name (the first argument)."""
        return self.args[0] if self.args else ""

    @property
    def params(self) -> list[str]:
        """The arguments after the function name."""
        return self.args[1:]

    def get_binding(self) -> bytes:
        """A binding unique to the transaction (SHA-256 of its id)."""
        return hashlib.sha256(self.tx_id.encode()).digest()

    def get_signed_proposal(self) -> Any:
        """None: a simulated transaction has no signed proposal."""
        return None

    def local_time(self) -> dt.datetime:
        """The ledger's clock (the time the latest transaction was created)."""
        return self.ledger.clock

    # --- the peer's simulator rules ----------------------------------------------------

    def _before_write(self, key: str) -> None:
        if self._pvt_queried:
            raise PeerError(
                f"txid [{self.tx_id}]: unsupported transaction. Queries on pvt data are"
                " supported only in a read-only transaction"
            )
        if self._paginated:
            raise PeerError(
                f"txid [{self.tx_id}]: unsupported transaction. Transaction has already"
                " performed a paginated query. Writes are not allowed"
            )
        if not key:
            raise ValueError("key must not be empty")
        key.encode("utf-8")  # lone surrogates are not valid keys
        self._wrote = True

    def _before_paginated(self) -> None:
        if self._wrote:
            raise PeerError(
                f"txid [{self.tx_id}]: unsupported transaction. Paginated queries are"
                " supported only in a read-only transaction"
            )
        self._paginated = True

    def _collection(self, collection: str, *, read: bool = False, write: bool = False) -> None:
        if not collection:
            raise InvalidArgument("collection must not be empty")
        chaincode = self.ledger.chaincode
        members = self.ledger.collections.get(collection)
        if members is None:
            raise PeerError(f"collection {collection} is not defined for chaincode {chaincode}")
        if read and self.peer_msp not in members:
            raise PeerError(
                f"private data of collection {collection} is not available on a peer of"
                f" {self.peer_msp}, which is not a member"
            )
        if read and self.creator.msp_id not in members:
            raise PeerError(
                f"tx creator does not have read access permission on privatedata in"
                f" chaincodeName:{chaincode} collectionName: {collection}"
            )
        if write and self.creator.msp_id not in members:
            raise PeerError(
                f"tx creator does not have write access permission on privatedata in"
                f" chaincodeName:{chaincode} collectionName: {collection}"
            )

    # --- public state ------------------------------------------------------------------

    def get_state(self, key: str, collection: str = "") -> bytes | None:
        """The committed value of ``key`` (None if absent); recorded in the read set."""
        if collection:
            return self.get_private_data(collection, key)
        item = self.ledger.state.get(key)
        self.read_set.setdefault(key, item.version if item else None)
        return item.value if item else None

    def get_states(self, keys: Sequence[str], collection: str = "") -> list[bytes | None]:
        """:meth:`get_state` of each key, in order (as GET_STATE_MULTIPLE)."""
        if isinstance(keys, str):
            raise InvalidArgument("get_states takes a list of keys, not a string")
        return [self.get_state(key, collection) for key in keys]

    def put_state(self, key: str, value: bytes | str, collection: str = "") -> None:
        """Write ``key`` (an empty value is a delete, as in Fabric); PeerError after a
        paginated or private data query."""
        if collection:
            self.put_private_data(collection, key, value)
            return
        self._before_write(key)
        self.write_set[key] = _to_bytes(value) or None
        self.writes.append(key)

    def delete_state(self, key: str, collection: str = "") -> None:
        """Delete ``key`` at commit."""
        if collection:
            self.delete_private_data(collection, key)
            return
        self._before_write(key)
        self.write_set[key] = None
        self.writes.append(key)

    def set_event(self, name: str, payload: bytes | str) -> None:
        """Set the transaction's one chaincode event (a later call replaces it)."""
        if not name:
            raise ValueError("event name must not be empty")
        self.event = Event(name, _to_bytes(payload))

    def create_composite_key(self, object_type: str, attributes: Sequence[str]) -> str:
        """Fabric's composite key (see :func:`ebill_chaincode.shim.create_composite_key`)."""
        return create_composite_key(object_type, attributes)

    def split_composite_key(self, key: str) -> tuple[str, list[str]]:
        """The object type and attributes of a composite key."""
        return split_composite_key(key)

    # --- queries -----------------------------------------------------------------------

    def _sorted_keys(self, start: str, end: str) -> list[str]:
        return sorted(key for key in self.ledger.state if in_range(key, start, end))

    def _iterate(self, start: str, end: str) -> Iterator[KV]:
        read = RangeRead(start, end)
        self.range_reads.append(read)
        keys = self._sorted_keys(start, end)
        for position, key in enumerate(keys):
            if position >= self.ledger.total_query_limit:
                return  # the peer stops silently at totalQueryLimit
            item = self.ledger.state[key]
            read.results.append((key, item.version))
            yield KV(key, item.value)
        read.exhausted = True

    def _page(
        self, start: str, end: str, page_size: int, bookmark: str
    ) -> tuple[list[KV], QueryPage]:
        _check_page_size(page_size)
        self._before_paginated()
        keys = self._sorted_keys(bookmark or start, end)
        size = min(page_size, self.ledger.total_query_limit)
        page = [KV(key, self.ledger.state[key].value) for key in keys[:size]]
        next_bookmark = keys[size] if len(keys) > size else ""
        return page, QueryPage(len(page), next_bookmark)

    def get_state_by_range(self, start: str, end: str) -> Iterator[KV]:
        """The entries with ``start <= key < end`` in key order (lazily, as consumed)."""
        start = start or EMPTY_KEY_SUBSTITUTE
        _check_simple_keys(start, end)
        return self._iterate(start, end)

    def get_state_by_range_with_pagination(
        self, start: str, end: str, page_size: int, bookmark: str = ""
    ) -> tuple[list[KV], QueryPage]:
        """One page of at most ``page_size`` entries and the next page's bookmark."""
        start = start or EMPTY_KEY_SUBSTITUTE
        _check_simple_keys(start, end)
        return self._page(start, end, page_size, bookmark)

    def get_state_by_partial_composite_key(
        self, object_type: str, attributes: Sequence[str]
    ) -> Iterator[KV]:
        """The entries whose composite key starts with ``object_type`` and ``attributes``."""
        start = create_composite_key(object_type, attributes)
        return self._iterate(start, start + MAX_RUNE)

    def get_state_by_partial_composite_key_with_pagination(
        self, object_type: str, attributes: Sequence[str], page_size: int, bookmark: str = ""
    ) -> tuple[list[KV], QueryPage]:
        """One page of :meth:`get_state_by_partial_composite_key`."""
        start = create_composite_key(object_type, attributes)
        return self._page(start, start + MAX_RUNE, page_size, bookmark)

    def get_history_for_key(self, key: str) -> Iterator[KeyModification]:
        """The committed changes of ``key``, newest first (as Fabric 2 and later)."""
        changes = list(reversed(self.ledger.history.get(key, [])))
        return iter(changes[: self.ledger.total_query_limit])

    # --- private data ------------------------------------------------------------------

    def get_private_data(self, collection: str, key: str) -> bytes | None:
        """The committed private value; PeerError on a non-member peer or for a
        non-member client."""
        self._collection(collection, read=True)
        item = self.ledger.private[collection].get(key)
        self.private_read_set.setdefault((collection, key), item.version if item else None)
        return item.value if item else None

    def put_private_data(self, collection: str, key: str, value: bytes | str) -> None:
        """Write a private value; PeerError for a non-member client."""
        self._collection(collection, write=True)
        self._before_write(key)
        self.private_write_set[(collection, key)] = _to_bytes(value) or None
        self.writes.append(f"{collection}:{key}")

    def delete_private_data(self, collection: str, key: str) -> None:
        """Delete a private value at commit; PeerError for a non-member client."""
        self._collection(collection, write=True)
        self._before_write(key)
        self.private_write_set[(collection, key)] = None
        self.writes.append(f"{collection}:{key}")

    def get_private_data_hash(self, collection: str, key: str) -> bytes | None:
        """SHA-256 of the committed private value (readable by anyone), None if absent."""
        self._collection(collection)
        item = self.ledger.private[collection].get(key)
        return hashlib.sha256(item.value).digest() if item else None

    def _private_query(self, collection: str, start: str, end: str) -> Iterator[KV]:
        self._collection(collection, read=True)
        if self._wrote:
            raise PeerError(
                f"txid [{self.tx_id}]: unsupported transaction. Queries on pvt data are"
                " supported only in a read-only transaction"
            )
        self._pvt_queried = True
        entries = self.ledger.private[collection]
        keys = sorted(key for key in entries if in_range(key, start, end))
        limit = self.ledger.total_query_limit
        return iter([KV(key, entries[key].value) for key in keys[:limit]])

    def get_private_data_by_range(self, collection: str, start: str, end: str) -> Iterator[KV]:
        """The private entries with ``start <= key < end`` (read-only transactions)."""
        start = start or EMPTY_KEY_SUBSTITUTE
        _check_simple_keys(start, end)
        return self._private_query(collection, start, end)

    def get_private_data_by_partial_composite_key(
        self, collection: str, object_type: str, attributes: Sequence[str]
    ) -> Iterator[KV]:
        """The private entries under a partial composite key (read-only transactions)."""
        start = create_composite_key(object_type, attributes)
        return self._private_query(collection, start, start + MAX_RUNE)

    # --- key-level endorsement ---------------------------------------------------------

    def set_state_validation_parameter(self, key: str, policy: bytes) -> None:
        """Set ``key``'s endorsement policy at commit (kept only if the key exists)."""
        self._before_write(key)
        self.metadata_write_set[key] = bytes(policy)
        self.writes.append(f"metadata:{key}")

    def get_state_validation_parameter(self, key: str) -> bytes | None:
        """``key``'s committed endorsement policy, None if it has none."""
        item = self.ledger.state.get(key)
        self.read_set.setdefault(key, item.version if item else None)
        return self.ledger.metadata.get(key)

    def set_private_data_validation_parameter(
        self, collection: str, key: str, policy: bytes
    ) -> None:
        """Not simulated: raises PeerError."""
        raise PeerError("private data validation parameters are not simulated")

    def get_private_data_validation_parameter(self, collection: str, key: str) -> bytes | None:
        """Not simulated: raises PeerError."""
        raise PeerError("private data validation parameters are not simulated")


if TYPE_CHECKING:
    # mypy checks here that MockStub has every member of the shim's Stub interface.
    def _implements_stub(stub: MockStub) -> Stub:
        return stub
