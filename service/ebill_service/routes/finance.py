"""The finance department: units (register, suspend, resume), stock decisions, stale locks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from ebill.capabilities import SupervisionReads
from ebill.finance import FinanceClient
from ebill_chaincode.contract.vocabulary import BILL_STATUSES

from ..bodies import argument, body_model, document_fields
from ..contract import operation
from ..deps import CallerDep
from ..problems import PROBLEM_RESPONSES
from ..submits import Submit, acting, add_submits

router = APIRouter(tags=["finance"], responses=PROBLEM_RESPONSES)

UnitRequest = body_model("UnitRequest", document_fields("RegisterUnit", "unitJSON"))
SuspendRequest = body_model("SuspendRequest", argument("SuspendUnit", "reason"))
RejectRequest = body_model("RejectRequest", argument("RejectStock", "reason"))

_finance = acting(FinanceClient)
_BATCH = {"batchId": "applicationId"}

add_submits(
    router,
    [
        Submit(
            "register_unit",
            "/v1/units",
            "RegisterUnit",
            "Register an issuing unit",
            _finance,
            lambda f, a: f.register_unit(a["unitCode"], a["name"], a["sector"], a["region"]).raw,
            UnitRequest,
            status=201,
        ),
        Submit(
            "suspend_unit",
            "/v1/units/{unitCode}/suspend",
            "SuspendUnit",
            "Suspend a unit",
            _finance,
            lambda f, a: f.suspend_unit(a["unitCode"], a["reason"]).raw,
            SuspendRequest,
        ),
        Submit(
            "resume_unit",
            "/v1/units/{unitCode}/resume",
            "ResumeUnit",
            "Resume a suspended unit",
            _finance,
            lambda f, a: f.resume_unit(a["unitCode"]).raw,
        ),
        Submit(
            "approve_stock",
            "/v1/stock/{batchId}/approve",
            "ApproveStock",
            "Approve a stock application",
            _finance,
            lambda f, a: f.approve_stock(a["batchId"]).raw,
            path_args=_BATCH,
        ),
        Submit(
            "reject_stock",
            "/v1/stock/{batchId}/reject",
            "RejectStock",
            "Reject a stock application",
            _finance,
            lambda f, a: f.reject_stock(a["batchId"], a["reason"]).raw,
            RejectRequest,
            path_args=_BATCH,
        ),
        Submit(
            "reconcile_stock",
            "/v1/stock/{batchId}/reconcile",
            "ReconcileStock",
            "Reconcile a used stock batch",
            _finance,
            lambda f, a: f.reconcile_stock(a["batchId"]).raw,
        ),
        Submit(
            "release_lock",
            "/v1/bills/{billCode}/{billNumber}/release-lock",
            "UnlockBill",
            "Release a stale lock (finance)",
            _finance,
            lambda f, a: f.unlock_bill(a["billCode"], a["billNumber"]).raw,
        ),
    ],
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
