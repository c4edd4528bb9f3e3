"""An in-memory ledger of one chaincode namespace, committing as a Fabric peer does.

:class:`MockLedger` holds the committed state; :meth:`MockLedger.stub` opens one
simulated transaction on it (a :class:`~.stub.MockStub`) and :meth:`MockLedger.commit`
validates and applies it as a new block. What it keeps faithful to the peer:

* Reads see the committed state only (a transaction does not read its own writes).
* An empty value written is a delete. Keys are ordered by code point (= UTF-8 bytes,
  LevelDB's order).
* Every query returns at most ``total_query_limit`` results, silently (core.yaml
  ``totalQueryLimit``).
* Commit validation: MVCC on every key read (public and private) and phantom checks on
  unpaged range queries (re-run up to the last key the transaction consumed); an
  invalid transaction writes nothing. History per key with the committing
  transaction's id and timestamp.
* Private data collections are separate from public state (see :class:`~.stub.MockStub`
  for who may read and write them); their hashes are readable everywhere.
* Validation parameters (key-level endorsement policies) are key metadata: stored on
  commit for keys that exist, dropped with the key.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Self

from ..shim import Contract, Creator, KeyModification, Response
from ..shim.contract import ErrorObserver
from ..shim.errors import parse_message
from .stub import MockStub, in_range

#: The clock of a new ledger unless one is given (fixed, so runs are repeatable).
DEFAULT_CLOCK = dt.datetime(2026, 1, 5, 2, 0, 0, tzinfo=dt.UTC)

#: Commit codes, as Fabric's ``TxValidationCode`` names them.
VALID = "VALID"
MVCC_READ_CONFLICT = "MVCC_READ_CONFLICT"
PHANTOM_READ_CONFLICT = "PHANTOM_READ_CONFLICT"
#: The code of an :class:`Outcome` that was evaluated, or refused, and not committed.
NOT_SUBMITTED = "NOT_SUBMITTED"


@dataclass
class Versioned:
    """A committed value and the block height that wrote it (its MVCC version)."""

    value: bytes
    version: int


class MockLedger:
    """The committed state of one chaincode on a channel, plus its history.

    ``collections`` maps each private data collection to its member MSP ids;
    ``chaincode`` and ``channel`` name the namespace (in error texts and
    ``stub.channel_id``); the clock moves one second per transaction from ``clock``.
    """

    def __init__(
        self,
        *,
        collections: Mapping[str, Iterable[str]] | None = None,
        chaincode: str = "chaincode",
        channel: str = "mychannel",
        total_query_limit: int = 100_000,
        clock: dt.datetime = DEFAULT_CLOCK,
    ) -> None:
        self.collections: dict[str, frozenset[str]] = {
            name: frozenset(members) for name, members in (collections or {}).items()
        }
        self.chaincode = chaincode
        self.channel = channel
        self.total_query_limit = total_query_limit
        self.state: dict[str, Versioned] = {}
        self.private: dict[str, dict[str, Versioned]] = {name: {} for name in self.collections}
        self.metadata: dict[str, bytes] = {}
        self.history: dict[str, list[KeyModification]] = {}
        self.height = 0
        self.clock = clock
        self._tx_counter = 0

    # --- what tests compare ------------------------------------------------------------

    def public(self) -> dict[str, bytes]:
        """The committed public state, key -> value."""
        return {key: item.value for key, item in self.state.items()}

    def snapshot(self) -> dict[str, Any]:
        """Everything a transaction could change (public, private, metadata)."""
        return {
            "public": self.public(),
            "private": {
                name: {key: item.value for key, item in entries.items()}
                for name, entries in self.private.items()
            },
            "metadata": dict(self.metadata),
        }

    def copy(self) -> Self:
        """An independent deep copy (same class), to branch a test from a shared state."""
        return copy.deepcopy(self)

    # --- transactions ------------------------------------------------------------------

    def stub(
        self,
        creator: Creator,
        function: str,
        *args: str,
        transient: Mapping[str, bytes] | None = None,
        tx_id: str | None = None,
        timestamp: dt.datetime | None = None,
        peer_msp: str | None = None,
    ) -> MockStub:
        """A new transaction of ``creator`` calling ``function`` with ``args``, endorsed
        on a peer of ``peer_msp`` (default: the creator's org). Without ``timestamp``
        the clock moves one second and the transaction takes it; tx ids count up."""
        self._tx_counter += 1
        if timestamp is None:
            self.clock += dt.timedelta(seconds=1)
            timestamp = self.clock
        return MockStub(
            self,
            creator,
            [function, *args],
            transient=transient,
            tx_id=tx_id or f"tx{self._tx_counter:06d}",
            timestamp=timestamp,
            peer_msp=peer_msp or creator.msp_id,
        )

    def validate(self, stub: MockStub) -> str:
        """Fabric's commit-time checks of a simulated transaction: its commit code."""
        for key, version in stub.read_set.items():
            current = self.state.get(key)
            if (current.version if current else None) != version:
                return MVCC_READ_CONFLICT
        for (collection, key), version in stub.private_read_set.items():
            current = self.private[collection].get(key)
            if (current.version if current else None) != version:
                return MVCC_READ_CONFLICT
        for read in stub.range_reads:
            now = [
                (key, self.state[key].version)
                for key in sorted(self.state)
                if in_range(key, read.start, read.end)
            ]
            if not read.exhausted:
                if not read.results:
                    continue
                last = read.results[-1][0]
                now = [entry for entry in now if entry[0] <= last]
            if now != read.results:
                return PHANTOM_READ_CONFLICT
        return VALID

    def commit(self, stub: MockStub) -> str:
        """Validate and, if valid, apply the transaction's writes as a new block; the
        commit code (an invalid transaction writes nothing)."""
        code = self.validate(stub)
        if code != VALID:
            return code
        self.height += 1
        for key, value in stub.write_set.items():
            change = KeyModification(stub.tx_id, value or b"", stub.tx_timestamp, value is None)
            self.history.setdefault(key, []).append(change)
            if value is None:
                self.state.pop(key, None)
                self.metadata.pop(key, None)
            else:
                self.state[key] = Versioned(value, self.height)
        for (collection, key), value in stub.private_write_set.items():
            if value is None:
                self.private[collection].pop(key, None)
            else:
                self.private[collection][key] = Versioned(value, self.height)
        for key, policy in stub.metadata_write_set.items():
            if key in self.state:
                self.metadata[key] = policy
        return code

    def invoke(
        self,
        contract: Contract,
        creator: Creator,
        function: str,
        *args: str,
        submit: bool = True,
        observer: ErrorObserver | None = None,
        **options: Any,
    ) -> Outcome:
        """Run ``function`` of ``contract`` on a new transaction (``options`` as for
        :meth:`stub`); commit it if ``submit`` and the response is OK. ``observer``
        sees every ChaincodeError before the answer (:meth:`Contract.dispatch`)."""
        stub = self.stub(creator, function, *args, **options)
        response = contract.dispatch(stub, observer=observer)
        code = self.commit(stub) if submit and response.ok else NOT_SUBMITTED
        return Outcome(response, stub, code)


@dataclass
class Outcome:
    """A simulated transaction: the chaincode response, its stub, the commit code."""

    response: Response
    stub: MockStub
    code: str

    @property
    def status(self) -> int:
        """The response status (200, or the error's 400/403/404/409/500)."""
        return self.response.status

    @property
    def message(self) -> str:
        """The message as ``"<Kind>: <text>"`` (the wire form without its code)."""
        parsed = parse_message(self.response.message)
        return self.response.message if parsed is None else f"{parsed.kind}: {parsed.text}"

    @property
    def error_code(self) -> str | None:
        """The refusal code of an error answer, None for success."""
        parsed = parse_message(self.response.message)
        return None if parsed is None else parsed.code

    def json(self) -> Any:
        """The payload decoded as JSON (raises ValueError if it is not JSON)."""
        return json.loads(self.response.payload)
