"""Lists, totals, histories and the daily reconciliation ("check total data").

Read from the chaincode's paged queries (the source of truth); the off-chain read
model serves province-wide statistics.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from ebill.capabilities import SupervisionReads, UnitReads

from ..contract import operation
from ..deps import CallerDep
from ..problems import PROBLEM_RESPONSES, ServiceProblem
from .public import BillCode, BillNumber, UnitCode

router = APIRouter(tags=["supervision"], responses=PROBLEM_RESPONSES)

Day = Annotated[str, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD, China time")]
MAX_RECONCILIATION_DAYS = 31


def _totals(totals: Any) -> dict[str, int]:
    return {
        "count": totals.count,
        "totalAmount": totals.total_amount,
        "reimbursed": totals.reimbursed,
        "redLettered": totals.red_lettered,
    }


@router.get(
    "/v1/units/{unitCode}", summary="A unit's record", **operation("ReadUnit", answers=True)
)
def read_unit(unitCode: UnitCode, caller: CallerDep) -> dict[str, Any]:
    return caller.act("ReadUnit", UnitReads).read_unit(unitCode).raw


@router.get(
    "/v1/units/{unitCode}/bills",
    summary="One page of a unit's bills in a span",
    **operation("ListBillsByUnit", answers=True),
)
def list_unit_bills(
    unitCode: UnitCode,
    caller: CallerDep,
    fromDate: Day = "2000-01-01",
    toDate: Day = "2099-12-31",
    pageSize: Annotated[int, Query(ge=1, le=200)] = 50,
    bookmark: str = "",
) -> dict[str, Any]:
    page = caller.act("ListBillsByUnit", UnitReads).list_bills_by_unit(
        unitCode, fromDate, toDate, page_size=pageSize, bookmark=bookmark
    )
    return {"records": [r.raw for r in page.records], "bookmark": page.bookmark}


@router.get(
    "/v1/units/{unitCode}/totals",
    summary="A unit's totals in a span (all pages)",
    **operation("TotalsByUnit"),
)
def unit_totals(
    unitCode: UnitCode, caller: CallerDep, fromDate: Day = "2000-01-01", toDate: Day = "2099-12-31"
) -> dict[str, int]:
    return _totals(caller.act("TotalsByUnit", UnitReads).unit_totals(unitCode, fromDate, toDate))


class DayTotals(BaseModel):
    day: str
    count: int
    totalAmount: int
    reimbursed: int
    redLettered: int


def _date(text: str, field: str) -> dt.date:
    """A calendar date; 422 naming ``field`` for one like 2026-02-30."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ServiceProblem(
            422, "invalid-argument", "Invalid date", f"{field}: not a calendar date YYYY-MM-DD"
        ) from None


@router.get(
    "/v1/units/{unitCode}/reconciliation",
    summary="Daily counts and totals (check total data)",
    **operation("TotalsByUnit"),
)
def reconciliation(
    unitCode: UnitCode, caller: CallerDep, fromDate: Day, toDate: Day
) -> list[DayTotals]:
    """Per day of [fromDate, toDate] (at most 31 days): bills issued, their amount, the
    amount reimbursed and the bills red-lettered, as the chain counts them."""
    first, last = _date(fromDate, "fromDate"), _date(toDate, "toDate")
    days = (last - first).days + 1
    if days < 1 or days > MAX_RECONCILIATION_DAYS:
        raise ServiceProblem(
            422,
            "invalid-argument",
            "Invalid span",
            f"toDate: must be on or after fromDate and at most {MAX_RECONCILIATION_DAYS} days on",
        )
    party = caller.act("TotalsByUnit", UnitReads)
    result = []
    for offset in range(days):
        day = (first + dt.timedelta(days=offset)).isoformat()
        result.append(DayTotals(day=day, **_totals(party.unit_totals(unitCode, day, day))))
    return result


@router.get(
    "/v1/bills/{billCode}/{billNumber}/history",
    summary="A bill's full history",
    **operation("BillHistory"),
)
def history(billCode: BillCode, billNumber: BillNumber, caller: CallerDep) -> list[dict[str, Any]]:
    entries = caller.act("BillHistory", SupervisionReads).bill_history(billCode, billNumber)
    return [e.raw for e in entries]


@router.get(
    "/v1/anomalies",
    summary="One page of the anomaly log",
    **operation("ListAnomalies", answers=True),
)
def anomalies(
    caller: CallerDep,
    fromDate: Day = "2000-01-01",
    toDate: Day = "2099-12-31",
    anomalyType: str = "",
    pageSize: Annotated[int, Query(ge=1, le=200)] = 50,
    bookmark: str = "",
) -> dict[str, Any]:
    page = caller.act("ListAnomalies", SupervisionReads).list_anomalies(
        fromDate, toDate, anomaly_type=anomalyType, page_size=pageSize, bookmark=bookmark
    )
    return {"records": [r.raw for r in page.records], "bookmark": page.bookmark}
