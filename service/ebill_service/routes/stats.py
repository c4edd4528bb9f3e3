"""Supervision statistics from the service's read model (``/v1/stats/...``).

Totals, series and breakdowns come from the model's daily aggregates (a period costs
one indexed range of at most a row per day and scope, whatever the number of bills);
lists page by an opaque ``cursor`` ("" on the last page). Every answer carries
``asOf``: the blocks projected and how many the peer has beyond them. Only the org's
supervising identities (finance, supervisor) may read them (403 ``not-authorised``
otherwise). Nothing personal is answered: no payer, no payer hash, no private part.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from ebill_index import queries
from ebill_index.queries import Figures
from ebill_index.store import ALL

from ..context import SUPERVISING
from ..deps import Caller, CallerDep
from ..problems import PROBLEM_RESPONSES, ServiceProblem
from ..readmodel import ReadModel

router = APIRouter(tags=["statistics"], responses=PROBLEM_RESPONSES)

#: The route options of every endpoint here: served by orgs with supervising roles.
READ_MODEL: dict[str, Any] = {
    "openapi_extra": {"x-ebill-roles": sorted(SUPERVISING), "x-ebill-source": "read-model"}
}

Day = Annotated[str, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD, China time")]
Scope = Literal["all", "unit", "sector", "region"]
By = Literal["unit", "sector", "region"]
Period = Literal["day", "month"]
Key = Annotated[str, Query(max_length=32, description="unit code, sector or region; * for all")]
PageSize = Annotated[int, Query(ge=1, le=queries.MAX_PAGE)]
Cursor = Annotated[str, Query(max_length=2000, description="from the previous page")]
FIRST, LAST = "2000-01-01", "2099-12-31"


class StatsAsOf(BaseModel):
    """How fresh an answer is."""

    height: int = Field(description="blocks the read model holds")
    lagBlocks: int = Field(description="blocks the org's peer has beyond them")


class StatsFigureFields(BaseModel):
    bills: int = Field(description="bills issued (red bills included)")
    amount: int = Field(description="fen, red bills negative")
    reimbursed: int = Field(description="fen claimed")
    redLettered: int = Field(description="bills voided by a red bill")


class StatsTotals(StatsFigureFields):
    scope: Scope
    key: str
    fromDate: str
    toDate: str
    asOf: StatsAsOf


class StatsSeriesRow(StatsFigureFields):
    period: str = Field(description="YYYY-MM-DD or YYYY-MM")


class StatsSeries(BaseModel):
    scope: Scope
    key: str
    period: Period
    rows: list[StatsSeriesRow]
    asOf: StatsAsOf


class StatsBreakdownRow(StatsFigureFields):
    key: str


class StatsBreakdown(BaseModel):
    by: By
    rows: list[StatsBreakdownRow]
    asOf: StatsAsOf


class StatsAnomalyRow(BaseModel):
    period: str
    type: str
    count: int


class StatsAnomalyCounts(BaseModel):
    byType: dict[str, int]
    rows: list[StatsAnomalyRow]
    asOf: StatsAsOf


class StatsAnomalyItem(BaseModel):
    anomalyId: str
    type: str
    function: str
    billCode: str | None
    billNumber: str | None
    unitCode: str | None
    day: str
    txId: str
    blockNumber: int


class StatsAnomalyPage(BaseModel):
    items: list[StatsAnomalyItem]
    cursor: str
    asOf: StatsAsOf


class StatsTransactionItem(BaseModel):
    txId: str
    blockNumber: int
    txIndex: int
    function: str | None
    billCode: str
    billNumber: str
    unitCode: str
    day: str
    timestamp: str


class StatsTransactionPage(BaseModel):
    items: list[StatsTransactionItem]
    cursor: str
    asOf: StatsAsOf


class StatsBillItem(BaseModel):
    billCode: str
    billNumber: str
    unitCode: str
    status: str
    previousStatus: str | None
    kind: str
    totalAmount: int
    reimbursedTotal: int
    issueDate: str
    issueDay: str
    batchId: str | None
    redOfNumber: str | None
    issueTxId: str
    txId: str
    blockNumber: int


class StatsBillPage(BaseModel):
    items: list[StatsBillItem]
    cursor: str
    asOf: StatsAsOf


def _invalid(detail: str) -> ServiceProblem:
    return ServiceProblem(422, "invalid-argument", "Invalid argument", detail)


def _model(caller: Caller) -> ReadModel:
    """The read model, for a supervising caller: 403 for another, 503 if not kept."""
    role = caller.service.user_roles().get(caller.client.user, "")
    if role not in SUPERVISING:
        raise ServiceProblem(
            403,
            "not-authorised",
            "Forbidden",
            f"the role {role or '(none)'} of API client {caller.client.client_id} may not"
            f" read the supervision statistics ({', '.join(sorted(SUPERVISING))} only)",
        )
    index = caller.service.index
    if index is None:
        raise ServiceProblem(503, "unavailable", "Unavailable", "this service keeps no read model")
    return index


def _span(from_date: str, to_date: str) -> tuple[str, str]:
    """The span as the read model's days; 422 naming the field of a bad date."""
    for name, text in (("fromDate", from_date), ("toDate", to_date)):
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            raise _invalid(f"{name}: not a calendar date YYYY-MM-DD") from None
    if from_date > to_date:
        raise _invalid("fromDate: must not be after toDate")
    return from_date.replace("-", ""), to_date.replace("-", "")


def _key(scope: str, key: str | None) -> str:
    if scope == "all":
        return ALL
    if not key:
        raise _invalid(f"key: required for scope {scope} (a {scope} code)")
    return key


def _dashed(day: str) -> str:
    """YYYYMMDD or YYYYMM as YYYY-MM-DD or YYYY-MM."""
    return "-".join(p for p in (day[:4], day[4:6], day[6:8]) if p)


def _figures(figures: Figures) -> dict[str, int]:
    return {
        "bills": figures.bills,
        "amount": figures.amount,
        "reimbursed": figures.reimbursed,
        "redLettered": figures.red_lettered,
    }


def _encode(cursor: str) -> str:
    return base64.urlsafe_b64encode(cursor.encode()).decode().rstrip("=") if cursor else ""


def _decode(cursor: str) -> str:
    if not cursor:
        return ""
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _invalid("cursor: not a cursor of this list") from None


def _query(call: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a read-model query; its QueryError (a bad cursor) as a 422 naming the field."""
    try:
        return call(*args, **kwargs)
    except queries.QueryError as error:
        names = {"from_day": "fromDate", "to_day": "toDate", "page_size": "pageSize"}
        detail = str(error)
        for ours, theirs in names.items():
            detail = detail.replace(ours, theirs)
        raise _invalid(detail) from None


@router.get("/v1/stats/totals", summary="Totals of a scope over a period", **READ_MODEL)
def totals(
    caller: CallerDep,
    scope: Scope = "all",
    key: Key | None = None,
    fromDate: Day = FIRST,
    toDate: Day = LAST,
) -> StatsTotals:
    """Bills, amount, reimbursed fen and red-lettered bills of all, a unit, a sector or a
    region over [fromDate, toDate], from the daily aggregates (constant time)."""
    model = _model(caller)
    first, last = _span(fromDate, toDate)
    scope_key = _key(scope, key)
    as_of = StatsAsOf(**model.as_of())
    figures = _query(queries.totals, model.store, scope, scope_key, first, last)
    return StatsTotals(
        scope=scope,
        key=scope_key,
        fromDate=fromDate,
        toDate=toDate,
        asOf=as_of,
        **_figures(figures),
    )


@router.get("/v1/stats/series", summary="Figures by day or month", **READ_MODEL)
def series(
    caller: CallerDep,
    scope: Scope = "all",
    key: Key | None = None,
    fromDate: Day = FIRST,
    toDate: Day = LAST,
    period: Period = "day",
) -> StatsSeries:
    """The figures of each day or month of the span that has bills (they sum to the
    totals of the same span)."""
    model = _model(caller)
    first, last = _span(fromDate, toDate)
    scope_key = _key(scope, key)
    as_of = StatsAsOf(**model.as_of())
    found = _query(queries.series, model.store, scope, scope_key, first, last, period)
    rows = [StatsSeriesRow(period=_dashed(p), **_figures(f)) for p, f in found.items()]
    return StatsSeries(scope=scope, key=scope_key, period=period, rows=rows, asOf=as_of)


@router.get("/v1/stats/breakdown", summary="Figures by unit, sector or region", **READ_MODEL)
def breakdown(
    caller: CallerDep, by: By = "unit", fromDate: Day = FIRST, toDate: Day = LAST
) -> StatsBreakdown:
    """The figures of each unit, sector or region with bills in the span, the largest
    amount first."""
    model = _model(caller)
    first, last = _span(fromDate, toDate)
    as_of = StatsAsOf(**model.as_of())
    found = _query(queries.breakdown, model.store, by, first, last)
    rows = [StatsBreakdownRow(key=k, **_figures(f)) for k, f in found]
    return StatsBreakdown(by=by, rows=rows, asOf=as_of)


@router.get("/v1/stats/anomalies", summary="Anomaly counts by type and period", **READ_MODEL)
def anomalies(
    caller: CallerDep, fromDate: Day = FIRST, toDate: Day = LAST, period: Period = "day"
) -> StatsAnomalyCounts:
    """How many anomalies of each type in the span, and per day or month."""
    model = _model(caller)
    first, last = _span(fromDate, toDate)
    as_of = StatsAsOf(**model.as_of())
    by_type = _query(queries.anomalies_by_type, model.store, first, last)
    rows = [
        StatsAnomalyRow(period=_dashed(p), type=t, count=n)
        for p, t, n in _query(queries.anomaly_series, model.store, first, last, period)
    ]
    return StatsAnomalyCounts(byType=by_type, rows=rows, asOf=as_of)


@router.get("/v1/stats/anomalies/list", summary="One page of the anomaly log", **READ_MODEL)
def anomaly_list(
    caller: CallerDep,
    type: Annotated[str | None, Query(max_length=64, description="one anomaly type")] = None,
    fromDate: Day = FIRST,
    toDate: Day = LAST,
    cursor: Cursor = "",
    pageSize: PageSize = 100,
) -> StatsAnomalyPage:
    """The anomalies of the span (optionally of one type) by day and id."""
    model = _model(caller)
    first, last = _span(fromDate, toDate)
    as_of = StatsAsOf(**model.as_of())
    page = _query(
        queries.list_anomalies,
        model.store,
        anomaly_type=type or None,
        from_day=first,
        to_day=last,
        page_size=pageSize,
        cursor=_decode(cursor),
    )
    items = [
        StatsAnomalyItem(
            anomalyId=r["anomaly_id"],
            type=r["type"],
            function=r["function"],
            billCode=r["bill_code"],
            billNumber=r["bill_number"],
            unitCode=r["unit_code"],
            day=_dashed(r["day"]),
            txId=r["tx_id"],
            blockNumber=r["block_number"],
        )
        for r in page.rows
    ]
    return StatsAnomalyPage(items=items, cursor=_encode(page.cursor), asOf=as_of)


@router.get("/v1/stats/transactions", summary="The transactions behind a total", **READ_MODEL)
def transactions(
    caller: CallerDep,
    scope: Scope = "all",
    key: Key | None = None,
    fromDate: Day = FIRST,
    toDate: Day = LAST,
    cursor: Cursor = "",
    pageSize: PageSize = 100,
) -> StatsTransactionPage:
    """The transactions that made the figures of ``/v1/stats/totals`` with the same
    arguments, each with the bill it changed, in ledger order."""
    model = _model(caller)
    first, last = _span(fromDate, toDate)
    scope_key = _key(scope, key)
    as_of = StatsAsOf(**model.as_of())
    page = _query(
        queries.figure_transactions,
        model.store,
        scope,
        scope_key,
        first,
        last,
        page_size=pageSize,
        cursor=_decode(cursor),
    )
    items = [
        StatsTransactionItem(
            txId=r["tx_id"],
            blockNumber=r["block_number"],
            txIndex=r["tx_index"],
            function=r["function"],
            billCode=r["bill_code"],
            billNumber=r["bill_number"],
            unitCode=r["unit_code"],
            day=_dashed(r["day"]),
            timestamp=r["timestamp"],
        )
        for r in page.rows
    ]
    return StatsTransactionPage(items=items, cursor=_encode(page.cursor), asOf=as_of)


@router.get("/v1/stats/bills", summary="One page of bills, filtered", **READ_MODEL)
def bills(
    caller: CallerDep,
    unitCode: Annotated[str | None, Query(max_length=32)] = None,
    status: Annotated[str | None, Query(max_length=32)] = None,
    kind: Annotated[str | None, Query(max_length=8)] = None,
    fromDate: Day = FIRST,
    toDate: Day = LAST,
    cursor: Cursor = "",
    pageSize: PageSize = 100,
) -> StatsBillPage:
    """Bills by issue day, code and number: their public figures, no payer."""
    model = _model(caller)
    first, last = _span(fromDate, toDate)
    as_of = StatsAsOf(**model.as_of())
    page = _query(
        queries.list_bills,
        model.store,
        unit_code=unitCode or None,
        status=status or None,
        kind=kind or None,
        from_day=first,
        to_day=last,
        page_size=pageSize,
        cursor=_decode(cursor),
    )
    items = [
        StatsBillItem(
            billCode=r["bill_code"],
            billNumber=r["bill_number"],
            unitCode=r["unit_code"],
            status=r["status"],
            previousStatus=r["previous_status"],
            kind=r["kind"],
            totalAmount=r["total_amount"],
            reimbursedTotal=r["reimbursed_total"],
            issueDate=r["issue_date"],
            issueDay=_dashed(r["issue_day"]),
            batchId=r["batch_id"],
            redOfNumber=r["red_of_number"],
            issueTxId=r["issue_tx_id"],
            txId=r["tx_id"],
            blockNumber=r["block_number"],
        )
        for r in page.rows
    ]
    return StatsBillPage(items=items, cursor=_encode(page.cursor), asOf=as_of)
