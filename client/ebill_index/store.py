"""The read model's database: engine, schema, checkpoint and the row writer.

One code path for SQLite (the default, a file) and PostgreSQL (a URL): SQLAlchemy 2
Core, the schema from the Alembic migrations. A :class:`Writer` writes transactions'
rows *and* the checkpoint in one database transaction, so they commit or roll back
together: a transaction is applied exactly once across restarts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, create_engine, delete, event, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.schema import Table

from . import migrate, records
from .blocks import Tx
from .records import PRIVATE_COLLECTION, Key
from .schema import (
    FIGURES,
    TABLES,
    aggregates,
    anomalies,
    bill_private,
    bills,
    checkpoint,
    claims,
    figure_txs,
    metadata,
    stock_batches,
    transactions,
    units,
)

URL_ENV = "EBILL_INDEX_URL"
ALL = "*"


@dataclass(frozen=True)
class Position:
    """The last transaction applied: block number and index within the block."""

    block_number: int
    tx_index: int
    tx_id: str

    def after(self, block_number: int, tx_index: int) -> bool:
        """Is (block_number, tx_index) past this position (not yet applied)?"""
        return (block_number, tx_index) > (self.block_number, self.tx_index)


def default_url(data_dir: Path, org: str) -> str:
    """``$EBILL_INDEX_URL``, else a SQLite file ``index-<org>.sqlite`` in ``data_dir``."""
    return os.environ.get(URL_ENV) or f"sqlite:///{data_dir / f'index-{org}.sqlite'}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create(url: str) -> Engine:
    """An engine for ``url`` (``sqlite:///file`` or ``postgresql+psycopg://...``).

    A SQLite file runs in WAL mode; its folder is created (0700) if missing.
    Raises ``sqlalchemy.exc.ArgumentError`` for a malformed URL.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


RowHook = Callable[[Tx], None]
"""Called with the transaction being applied after each row it writes (tests inject
faults with it)."""


class Store:
    """The read model in one database; ``on_row``: see :data:`RowHook`."""

    def __init__(self, engine: Engine, *, on_row: RowHook | None = None) -> None:
        self.engine = engine
        self.on_row = on_row
        self._units: dict[str, tuple[str, str]] = {}
        backend = engine.dialect.name
        if backend not in ("sqlite", "postgresql"):
            raise ValueError(f"database {backend!r}: only sqlite and postgresql are supported")
        self._insert = sqlite.insert if backend == "sqlite" else postgresql.insert
        # Statements built once and executed with parameters: building one per row
        # costs more than running it.
        self._upserts = {table.name: self._upsert_statement(table) for table in TABLES}
        add = self._insert(aggregates)
        self._add_figures = add.on_conflict_do_update(
            index_elements=["scope", "scope_key", "day"],
            set_={name: aggregates.c[name] + add.excluded[name] for name in FIGURES},
        )
        self._figure_tx = self._insert(figure_txs).on_conflict_do_nothing()
        self._old_bill = select(bills.c.record).where(
            bills.c.bill_code == bindparam("code"), bills.c.bill_number == bindparam("number")
        )

    def _upsert_statement(self, table: Table) -> Any:
        keys = [c.name for c in table.primary_key.columns]
        stmt = self._insert(table)
        changes = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
        if not changes:
            return stmt.on_conflict_do_nothing(index_elements=keys)
        return stmt.on_conflict_do_update(index_elements=keys, set_=changes)

    @classmethod
    def open(cls, url: str, *, on_row: RowHook | None = None) -> Store:
        """The store at ``url``, migrated to the newest schema."""
        store = cls(create(url), on_row=on_row)
        store.migrate()
        return store

    def migrate(self) -> None:
        """Apply the Alembic migrations up to the newest revision."""
        migrate.upgrade(self.engine)

    def reset(self) -> None:
        """Drop every table and migrate again: a fresh, empty model (for a rebuild)."""
        with self.engine.begin() as conn:
            metadata.drop_all(conn)
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        self._units.clear()
        self.migrate()

    def close(self) -> None:
        self.engine.dispose()

    # -- the checkpoint -------------------------------------------------------------------

    def position(self, conn: Connection | None = None) -> Position | None:
        """The last transaction applied, or None for an empty model."""
        if conn is None:
            with self.engine.connect() as own:
                return self.position(own)
        row = conn.execute(select(checkpoint).where(checkpoint.c.id == 1)).first()
        if row is None:
            return None
        return Position(int(row.block_number), int(row.tx_index), str(row.tx_id))

    def writer(self, conn: Connection, *, chaincode: str, channel: str) -> Writer:
        """A :class:`Writer` of ``chaincode``'s rows on ``conn`` (in a transaction)."""
        return Writer(self, conn, chaincode=chaincode, channel=channel)

    # -- reading everything (tests, verify) --------------------------------------------------

    def dump(self, tables: Iterable[Table] = TABLES) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table, sorted: two models are equal iff their dumps are."""
        result: dict[str, list[tuple[Any, ...]]] = {}
        with self.engine.connect() as conn:
            for table in tables:
                rows = conn.execute(select(table)).all()
                result[table.name] = sorted((tuple(row) for row in rows), key=repr)
        return result

    def tamper(self, table: Table, where: Mapping[str, Any], values: Mapping[str, Any]) -> int:
        """Change rows directly (tests inject differences with it); the rows changed."""
        with self.engine.begin() as conn:
            condition = [table.c[name] == value for name, value in where.items()]
            return int(conn.execute(update(table).where(*condition).values(**values)).rowcount)


class Writer:
    """The rows of the transactions applied in one database transaction.

    :meth:`apply` writes each transaction's rows at once; the daily figures are summed
    in memory and written, with the checkpoint, by :meth:`commit` just before the
    database commit: the same database transaction, fewer statements.
    """

    def __init__(self, store: Store, conn: Connection, *, chaincode: str, channel: str) -> None:
        self.store = store
        self.conn = conn
        self.chaincode = chaincode
        self.channel = channel
        self._figures: dict[tuple[str, str, str], dict[str, int]] = {}
        self._last: Tx | None = None
        self.pending = 0

    def apply(self, tx: Tx) -> None:
        """Write ``tx``'s rows (not committed). Every transaction gets its
        ``transactions`` row; only a valid one changes the others. Raises
        :class:`~ebill_index.records.RecordError` for a record that is not what its
        key promises."""
        conn, chaincode = self.conn, self.chaincode
        conn.execute(
            transactions.insert(),
            {
                "block_number": tx.block_number,
                "tx_index": tx.index,
                "tx_id": tx.tx_id,
                "header_type": tx.header_type,
                "chaincode": tx.chaincode,
                "function": tx.function,
                "event_name": tx.event_name,
                "creator_msp": tx.creator_msp,
                "validation_code": tx.validation_code,
                "validation": tx.validation,
                "timestamp": tx.timestamp,
            },
        )
        self._row(tx)
        if tx.valid:
            for write in tx.writes.get(chaincode, ()):
                key = records.parse_key(write.key)
                if key is not None and key.type in records.MAPPED:
                    self._public(tx, key, write.value)
            for write in tx.private_writes.get((chaincode, PRIVATE_COLLECTION), ()):
                key = records.parse_key(write.key)
                if key is not None and key.type == records.BILL:
                    self._private(tx, key, write.value)
        self._last = tx
        self.pending += 1

    def commit(self) -> None:
        """Write the summed figures and the checkpoint (the last transaction applied),
        then commit the database transaction."""
        self.flush()
        self.conn.commit()

    def flush(self) -> None:
        """Write the summed figures and the checkpoint, without committing."""
        s = self.store
        if self._figures:
            self.conn.execute(
                s._add_figures,
                [
                    {"scope": scope, "scope_key": key, "day": day, **change}
                    for (scope, key, day), change in sorted(self._figures.items())
                ],
            )
            self._figures.clear()
        if self._last is not None:
            tx = self._last
            values = {
                "id": 1,
                "block_number": tx.block_number,
                "tx_index": tx.index,
                "tx_id": tx.tx_id,
                "channel": self.channel,
            }
            self.conn.execute(s._upserts["checkpoint"], values)
            self._last = None
        self.pending = 0

    def _row(self, tx: Tx) -> None:
        if self.store.on_row is not None:
            self.store.on_row(tx)

    def _upsert(self, tx: Tx, table: Table, row: Mapping[str, Any]) -> None:
        self.conn.execute(self.store._upserts[table.name], dict(row))
        self._row(tx)

    def _delete(self, tx: Tx, table: Table, key: Key) -> None:
        columns = list(table.primary_key.columns)
        condition = [column == part for column, part in zip(columns, key.parts, strict=False)]
        self.conn.execute(delete(table).where(*condition))
        self._row(tx)

    def _public(self, tx: Tx, key: Key, value: bytes | None) -> None:
        stamp = {"tx_id": tx.tx_id, "block_number": tx.block_number}
        if key.type == records.BILL:
            self._bill(tx, key, value)
            return
        table = {records.UNIT: units, records.STOCK: stock_batches, records.ANOMALY: anomalies}[
            key.type
        ]
        if value is None:
            self._delete(tx, table, key)
            return
        data = records.record(key, value)
        if key.type == records.UNIT:
            row = records.unit_row(data)
            self.store._units[row["unit_code"]] = (row["sector"], row["region"])
        elif key.type == records.STOCK:
            row = records.stock_row(data)
        else:
            row = records.anomaly_row(data)
        self._upsert(tx, table, {**row, **stamp})

    def _bill(self, tx: Tx, key: Key, value: bytes | None) -> None:
        code, number = key.parts[0], key.parts[1]
        found = self.conn.execute(self.store._old_bill, {"code": code, "number": number}).first()
        old = records.record(key, found.record.encode()) if found is not None else None
        new = records.record(key, value) if value is not None else None
        if new is None:
            self._delete(tx, bills, key)
        else:
            row = records.bill_row(new)
            self._upsert(tx, bills, {**row, "tx_id": tx.tx_id, "block_number": tx.block_number})
            for claim in records.claim_rows(old, new):
                self.conn.execute(
                    claims.insert(), {**claim, "tx_id": tx.tx_id, "block_number": tx.block_number}
                )
                self._row(tx)
        counted = new or old
        assert counted is not None
        change = records.delta(old, new)
        if any(change.values()):
            self._add(tx, counted, change)

    def _add(self, tx: Tx, bill: Mapping[str, Any], change: Mapping[str, int]) -> None:
        unit_code, day = str(bill["unitCode"]), records.issue_day(bill)
        sector, region = self._unit_scope(unit_code)
        for scope, scope_key in (
            ("unit", unit_code),
            ("sector", sector),
            ("region", region),
            ("all", ALL),
        ):
            sums = self._figures.setdefault((scope, scope_key, day), dict.fromkeys(FIGURES, 0))
            for name, value in change.items():
                sums[name] += value
        self.conn.execute(
            self.store._figure_tx,
            {
                "unit_code": unit_code,
                "day": day,
                "block_number": tx.block_number,
                "tx_index": tx.index,
                "bill_code": bill["billCode"],
                "bill_number": bill["billNumber"],
            },
        )
        self._row(tx)

    def _unit_scope(self, unit_code: str) -> tuple[str, str]:
        """The unit's sector and region ("?" for a unit the model has not seen)."""
        known = self.store._units
        if unit_code not in known:
            row = self.conn.execute(
                select(units.c.sector, units.c.region).where(units.c.unit_code == unit_code)
            ).first()
            if row is None:
                return "?", "?"
            known[unit_code] = (str(row.sector), str(row.region))
        return known[unit_code]

    def _private(self, tx: Tx, key: Key, value: bytes | None) -> None:
        if value is None:
            self._delete(tx, bill_private, key)
            return
        row = {
            "bill_code": key.parts[0],
            "bill_number": key.parts[1],
            "record": records.canonical(records.record(key, value)),
            "tx_id": tx.tx_id,
            "block_number": tx.block_number,
        }
        self._upsert(tx, bill_private, row)
