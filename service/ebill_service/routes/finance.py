"""The finance department: units (register, suspend, resume), stock decisions, stale locks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ebill.capabilities import SupervisionReads
from ebill.finance import FinanceClient
from ebill_chaincode.contract.vocabulary import BILL_STATUSES

from ..contract import operation
from ..deps import CallerDep, IdempotencyKey, Prefer
from ..problems import PROBLEM_RESPONSES
from ..runner import submit
from .public import BillCode, BillNumber

router = APIRouter(tags=["finance"], responses=PROBLEM_RESPONSES)

UnitCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,32}$")]


class UnitRequest(BaseModel):
    unitCode: UnitCode
    name: Annotated[str, Field(min_length=1, max_length=200)]
    sector: Annotated[str, Field(description="the contract's sectors: medical, education...")]
    region: Annotated[str, Field(pattern=r"^\d{2}$")]


class Reason(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=200)]


def _finance(caller: Any, function: str) -> FinanceClient:
    party: FinanceClient = caller.act(function, FinanceClient)
    return party


@router.post(
    "/v1/units",
    summary="Register an issuing unit",
    status_code=201,
    **operation("RegisterUnit", answers=True, status=201),
)
def register_unit(
    body: UnitRequest,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
    prefer: Prefer = None,
) -> JSONResponse:
    finance = _finance(caller, "RegisterUnit")
    return submit(
        caller,
        "RegisterUnit",
        body.model_dump(),
        lambda kept: finance.register_unit(body.unitCode, body.name, body.sector, body.region).raw,
        key=idempotency_key,
        prefer=prefer,
        status=201,
    )


@router.post(
    "/v1/units/{unitCode}/suspend",
    summary="Suspend a unit",
    **operation("SuspendUnit", answers=True),
)
def suspend_unit(
    unitCode: str,
    body: Reason,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
    prefer: Prefer = None,
) -> JSONResponse:
    finance = _finance(caller, "SuspendUnit")
    return submit(
        caller,
        "SuspendUnit",
        [unitCode, body.reason],
        lambda kept: finance.suspend_unit(unitCode, body.reason).raw,
        key=idempotency_key,
        prefer=prefer,
    )


@router.post(
    "/v1/units/{unitCode}/resume",
    summary="Resume a suspended unit",
    **operation("ResumeUnit", answers=True),
)
def resume_unit(
    unitCode: str, caller: CallerDep, idempotency_key: IdempotencyKey = None, prefer: Prefer = None
) -> JSONResponse:
    finance = _finance(caller, "ResumeUnit")
    return submit(
        caller,
        "ResumeUnit",
        [unitCode],
        lambda kept: finance.resume_unit(unitCode).raw,
        key=idempotency_key,
        prefer=prefer,
    )


@router.post(
    "/v1/stock/{batchId}/approve",
    summary="Approve a stock application",
    **operation("ApproveStock", answers=True),
)
def approve_stock(
    batchId: str, caller: CallerDep, idempotency_key: IdempotencyKey = None, prefer: Prefer = None
) -> JSONResponse:
    finance = _finance(caller, "ApproveStock")
    return submit(
        caller,
        "ApproveStock",
        [batchId],
        lambda kept: finance.approve_stock(batchId).raw,
        key=idempotency_key,
        prefer=prefer,
    )


@router.post(
    "/v1/stock/{batchId}/reject",
    summary="Reject a stock application",
    **operation("RejectStock", answers=True),
)
def reject_stock(
    batchId: str,
    body: Reason,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
    prefer: Prefer = None,
) -> JSONResponse:
    finance = _finance(caller, "RejectStock")
    return submit(
        caller,
        "RejectStock",
        [batchId, body.reason],
        lambda kept: finance.reject_stock(batchId, body.reason).raw,
        key=idempotency_key,
        prefer=prefer,
    )


@router.post(
    "/v1/stock/{batchId}/reconcile",
    summary="Reconcile a used stock batch",
    **operation("ReconcileStock", answers=True),
)
def reconcile_stock(
    batchId: str, caller: CallerDep, idempotency_key: IdempotencyKey = None, prefer: Prefer = None
) -> JSONResponse:
    finance = _finance(caller, "ReconcileStock")
    return submit(
        caller,
        "ReconcileStock",
        [batchId],
        lambda kept: finance.reconcile_stock(batchId).raw,
        key=idempotency_key,
        prefer=prefer,
    )


BillStatus = Annotated[str, Query(pattern="^(" + "|".join(BILL_STATUSES) + ")$")]


@router.get(
    "/v1/bills",
    summary="One page of the bills in a status (finance, supervisors)",
    **operation("ListBillsByStatus", answers=True),
)
def list_bills_by_status(
    caller: CallerDep,
    status: BillStatus,
    pageSize: Annotated[int, Query(ge=1, le=200)] = 50,
    bookmark: str = "",
) -> dict[str, Any]:
    """ListBillsByStatus: bill summaries (``locked``: the locks finance may release)."""
    page = caller.act("ListBillsByStatus", SupervisionReads).list_bills_by_status(
        status, page_size=pageSize, bookmark=bookmark
    )
    return {"records": [r.raw for r in page.records], "bookmark": page.bookmark}


@router.post(
    "/v1/bills/{billCode}/{billNumber}/release-lock",
    summary="Release a stale lock (finance)",
    **operation("UnlockBill", answers=True),
)
def release_lock(
    billCode: BillCode,
    billNumber: BillNumber,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
    prefer: Prefer = None,
) -> JSONResponse:
    finance = _finance(caller, "UnlockBill")
    return submit(
        caller,
        "UnlockBill",
        [billCode, billNumber],
        lambda kept: finance.unlock_bill(billCode, billNumber).raw,
        key=idempotency_key,
        prefer=prefer,
    )
