"""Supervision reads from the read model: totals, lists with filters and pages, anomalies,
and the transactions behind every figure.

Totals come from the daily aggregates: a period costs one indexed range of at most one
row per day of the period, whatever the number of bills. Lists page by key (a cursor
holding the last row's sort key), never by offset. Scopes: ``unit`` (a unit code),
``sector``, ``region`` (the finance department of a region) and ``all`` (key ``*``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, func, select, tuple_

from .schema import FIGURES, aggregates, anomalies, bills, figure_txs, transactions, units
from .store import ALL, Store

SCOPES = ("unit", "sector", "region", "all")
FIRST_DAY, LAST_DAY = "00000101", "99991231"
MAX_PAGE = 500


class QueryError(ValueError):
    """A bad query argument; the message names the argument and the rule."""


@dataclass(frozen=True)
class Figures:
    """Counts and sums of fen over a period (see :func:`ebill_index.records.figures`)."""

    bills: int = 0
    amount: int = 0
    issued: int = 0
    issued_amount: int = 0
    red_bills: int = 0
    red_amount: int = 0
    red_lettered: int = 0
    reimbursed: int = 0

    def to_json(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in FIGURES}


@dataclass(frozen=True)
class Page:
    """One page of rows (dicts) and the cursor of the next page ("" at the end)."""

    rows: list[dict[str, Any]]
    cursor: str


def _day(text: str, name: str) -> str:
    day = text.replace("-", "")
    if len(day) != 8 or not day.isdigit():
        raise QueryError(f"{name}: must be a date YYYY-MM-DD or YYYYMMDD")
    return day


def _span(from_day: str, to_day: str) -> tuple[str, str]:
    first, last = _day(from_day, "from_day"), _day(to_day, "to_day")
    if first > last:
        raise QueryError("from_day: must not be after to_day")
    return first, last


def _scope(scope: str, key: str) -> str:
    if scope not in SCOPES:
        raise QueryError(f"scope: must be one of {', '.join(SCOPES)}")
    return ALL if scope == "all" else key


def _size(page_size: int) -> int:
    if not 1 <= page_size <= MAX_PAGE:
        raise QueryError(f"page_size: must be from 1 to {MAX_PAGE}")
    return page_size


def totals(
    store: Store, scope: str, key: str = ALL, from_day: str = FIRST_DAY, to_day: str = LAST_DAY
) -> Figures:
    """The figures of one unit, sector, region or of all over [from_day, to_day]."""
    first, last = _span(from_day, to_day)
    scope_key = _scope(scope, key)
    query = select(*(func.coalesce(func.sum(aggregates.c[n]), 0) for n in FIGURES)).where(
        aggregates.c.scope == scope,
        aggregates.c.scope_key == scope_key,
        aggregates.c.day >= first,
        aggregates.c.day <= last,
    )
    with store.engine.connect() as conn:
        row = conn.execute(query).one()
    return Figures(*(int(value) for value in row))


def daily(
    store: Store, scope: str, key: str = ALL, from_day: str = FIRST_DAY, to_day: str = LAST_DAY
) -> dict[str, Figures]:
    """The figures of each day with bills in the span (the nightly reconciliation)."""
    first, last = _span(from_day, to_day)
    query = (
        select(aggregates.c.day, *(aggregates.c[n] for n in FIGURES))
        .where(
            aggregates.c.scope == scope,
            aggregates.c.scope_key == _scope(scope, key),
            aggregates.c.day >= first,
            aggregates.c.day <= last,
        )
        .order_by(aggregates.c.day)
    )
    with store.engine.connect() as conn:
        return {str(row[0]): Figures(*(int(v) for v in row[1:])) for row in conn.execute(query)}


def _cursor(values: Sequence[Any]) -> str:
    return json.dumps(list(values), separators=(",", ":"))


def _after(columns: Sequence[Any], cursor: str) -> ColumnElement[bool] | None:
    if not cursor:
        return None
    try:
        values = json.loads(cursor)
    except ValueError:
        raise QueryError("cursor: not a cursor of this list") from None
    if (
        not isinstance(values, list)
        or len(values) != len(columns)
        or not all(
            isinstance(v, c.type.python_type) and not isinstance(v, bool)
            for v, c in zip(values, columns, strict=True)
        )
    ):
        raise QueryError("cursor: not a cursor of this list")
    return tuple_(*columns) > tuple_(*values)


def _page(
    conn: Connection, query: Select[Any], order: Sequence[Any], cursor: str, page_size: int
) -> Page:
    condition = _after(order, cursor)
    if condition is not None:
        query = query.where(condition)
    rows = [dict(r._mapping) for r in conn.execute(query.order_by(*order).limit(page_size + 1))]
    more = len(rows) > page_size
    rows = rows[:page_size]
    names = [column.name for column in order]
    return Page(rows, _cursor([rows[-1][n] for n in names]) if more else "")


def list_bills(
    store: Store,
    *,
    unit_code: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    payer_hash: str | None = None,
    from_day: str = FIRST_DAY,
    to_day: str = LAST_DAY,
    page_size: int = 100,
    cursor: str = "",
) -> Page:
    """Bills (summaries, no record JSON) by issue day, code and number, filtered."""
    first, last = _span(from_day, to_day)
    columns = [c for c in bills.c if c.name != "record"]
    query = select(*columns).where(bills.c.issue_day >= first, bills.c.issue_day <= last)
    for column, value in (
        (bills.c.unit_code, unit_code),
        (bills.c.status, status),
        (bills.c.kind, kind),
        (bills.c.payer_hash, payer_hash),
    ):
        if value is not None:
            query = query.where(column == value)
    order = [bills.c.issue_day, bills.c.bill_code, bills.c.bill_number]
    with store.engine.connect() as conn:
        return _page(conn, query, order, cursor, _size(page_size))


def list_anomalies(
    store: Store,
    *,
    anomaly_type: str | None = None,
    from_day: str = FIRST_DAY,
    to_day: str = LAST_DAY,
    page_size: int = 100,
    cursor: str = "",
) -> Page:
    """The anomaly log by day and id, optionally of one type."""
    first, last = _span(from_day, to_day)
    query = select(anomalies).where(anomalies.c.day >= first, anomalies.c.day <= last)
    if anomaly_type is not None:
        query = query.where(anomalies.c.type == anomaly_type)
    order = [anomalies.c.day, anomalies.c.anomaly_id]
    with store.engine.connect() as conn:
        return _page(conn, query, order, cursor, _size(page_size))


def anomalies_by_type(
    store: Store, from_day: str = FIRST_DAY, to_day: str = LAST_DAY
) -> dict[str, int]:
    """How many anomalies of each type in the span."""
    first, last = _span(from_day, to_day)
    query = (
        select(anomalies.c.type, func.count())
        .where(anomalies.c.day >= first, anomalies.c.day <= last)
        .group_by(anomalies.c.type)
        .order_by(anomalies.c.type)
    )
    with store.engine.connect() as conn:
        return {str(t): int(n) for t, n in conn.execute(query)}


def figure_transactions(
    store: Store,
    scope: str,
    key: str = ALL,
    from_day: str = FIRST_DAY,
    to_day: str = LAST_DAY,
    *,
    page_size: int = 100,
    cursor: str = "",
) -> Page:
    """The transactions behind a figure of :func:`totals` (same arguments): each with
    the bill it changed, in ledger order."""
    first, last = _span(from_day, to_day)
    scope_key = _scope(scope, key)
    query = (
        select(
            figure_txs.c.block_number,
            figure_txs.c.tx_index,
            figure_txs.c.bill_code,
            figure_txs.c.bill_number,
            figure_txs.c.unit_code,
            figure_txs.c.day,
            transactions.c.tx_id,
            transactions.c.function,
            transactions.c.timestamp,
        )
        .join(
            transactions,
            and_(
                transactions.c.block_number == figure_txs.c.block_number,
                transactions.c.tx_index == figure_txs.c.tx_index,
            ),
        )
        .where(figure_txs.c.day >= first, figure_txs.c.day <= last)
    )
    if scope == "unit":
        query = query.where(figure_txs.c.unit_code == scope_key)
    elif scope in ("sector", "region"):
        query = query.join(units, units.c.unit_code == figure_txs.c.unit_code).where(
            units.c[scope] == scope_key
        )
    order = [
        figure_txs.c.block_number,
        figure_txs.c.tx_index,
        figure_txs.c.bill_code,
        figure_txs.c.bill_number,
    ]
    with store.engine.connect() as conn:
        return _page(conn, query, order, cursor, _size(page_size))


PERIODS = {"day": 8, "month": 6}
BREAKDOWNS = ("unit", "sector", "region")


def _period(period: str) -> int:
    if period not in PERIODS:
        raise QueryError(f"period: must be one of {', '.join(PERIODS)}")
    return PERIODS[period]


def series(
    store: Store,
    scope: str,
    key: str = ALL,
    from_day: str = FIRST_DAY,
    to_day: str = LAST_DAY,
    period: str = "day",
) -> dict[str, Figures]:
    """The figures of each day (``YYYYMMDD``) or month (``YYYYMM``) with bills in the
    span, from the daily aggregates (one indexed range, whatever the number of bills).
    Raises :class:`QueryError` naming a bad argument."""
    first, last = _span(from_day, to_day)
    scope_key = _scope(scope, key)
    label = func.substr(aggregates.c.day, 1, _period(period))
    query = (
        select(label, *(func.sum(aggregates.c[n]) for n in FIGURES))
        .where(
            aggregates.c.scope == scope,
            aggregates.c.scope_key == scope_key,
            aggregates.c.day >= first,
            aggregates.c.day <= last,
        )
        .group_by(label)
        .order_by(label)
    )
    with store.engine.connect() as conn:
        return {str(row[0]): Figures(*(int(v) for v in row[1:])) for row in conn.execute(query)}


def breakdown(
    store: Store, by: str, from_day: str = FIRST_DAY, to_day: str = LAST_DAY
) -> list[tuple[str, Figures]]:
    """The figures of each unit, sector or region with bills in the span, the largest
    amount first (then by key). Raises :class:`QueryError` naming a bad argument."""
    if by not in BREAKDOWNS:
        raise QueryError(f"by: must be one of {', '.join(BREAKDOWNS)}")
    first, last = _span(from_day, to_day)
    sums = [func.sum(aggregates.c[n]).label(n) for n in FIGURES]
    query = (
        select(aggregates.c.scope_key, *sums)
        .where(aggregates.c.scope == by, aggregates.c.day >= first, aggregates.c.day <= last)
        .group_by(aggregates.c.scope_key)
        .order_by(func.sum(aggregates.c.amount).desc(), aggregates.c.scope_key)
    )
    with store.engine.connect() as conn:
        return [(str(row[0]), Figures(*(int(v) for v in row[1:]))) for row in conn.execute(query)]


def anomaly_series(
    store: Store, from_day: str = FIRST_DAY, to_day: str = LAST_DAY, period: str = "day"
) -> list[tuple[str, str, int]]:
    """(day or month, type, count) of the anomalies in the span, by period then type.
    Raises :class:`QueryError` naming a bad argument."""
    first, last = _span(from_day, to_day)
    label = func.substr(anomalies.c.day, 1, _period(period))
    query = (
        select(label, anomalies.c.type, func.count())
        .where(anomalies.c.day >= first, anomalies.c.day <= last)
        .group_by(label, anomalies.c.type)
        .order_by(label, anomalies.c.type)
    )
    with store.engine.connect() as conn:
        return [(str(p), str(t), int(n)) for p, t, n in conn.execute(query)]
