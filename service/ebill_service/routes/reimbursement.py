"""Reimbursers: lock a bill, claim an amount against it, unlock.

A claim is retry-safe under its ``Idempotency-Key``: a retry whose first attempt's
answer was lost finds the claim (same reimburser, same voucher) on the bill and answers
the bill instead of claiming twice (the contract also refuses a repeated voucher).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ebill.errors import RepeatedClaim
from ebill.reimburser import ReimburserClient

from ..bodies import argument, body_model
from ..contract import operation
from ..deps import CallerDep, IdempotencyKey, Prefer
from ..problems import PROBLEM_RESPONSES
from ..runner import submit
from ..submits import Submit, acting, add_submits
from .public import BillCode, BillNumber

router = APIRouter(tags=["reimbursement"], responses=PROBLEM_RESPONSES)


if TYPE_CHECKING:  # made at import time: to mypy, any value
    ClaimRequest = Any
else:
    ClaimRequest = body_model(
        "ClaimRequest",
        argument("ClaimBill", "amountFen", wire="amount"),
        argument("ClaimBill", "voucherNo"),
    )
_reimburser = acting(ReimburserClient)

add_submits(
    router,
    [
        Submit(
            "lock_bill",
            "/v1/bills/{billCode}/{billNumber}/lock",
            "LockBill",
            "Lock a bill to reimburse it",
            _reimburser,
            lambda r, a: r.lock_bill(a["billCode"], a["billNumber"]).raw,
        ),
        Submit(
            "unlock_bill",
            "/v1/bills/{billCode}/{billNumber}/unlock",
            "UnlockBill",
            "Unlock the caller's lock",
            _reimburser,
            lambda r, a: r.unlock_bill(a["billCode"], a["billNumber"]).raw,
        ),
    ],
)


@router.post(
    "/v1/bills/{billCode}/{billNumber}/claim",
    summary="Claim an amount (locked bill)",
    **operation("ClaimBill", answers=True),
)
def claim_bill(
    billCode: BillCode,
    billNumber: BillNumber,
    body: ClaimRequest,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
    prefer: Prefer = None,
) -> JSONResponse:
    party = caller.act("ClaimBill", ReimburserClient)

    def run(kept: dict[str, str]) -> dict[str, Any]:
        try:
            return party.claim_bill(billCode, billNumber, body.amount, body.voucherNo).raw
        except RepeatedClaim:
            if idempotency_key is None:
                raise
            bill = party.read_bill(billCode, billNumber)
            mine = [
                c
                for c in bill.claims
                if c.reimburser_id == party.reimburser_id and c.voucher_no == body.voucherNo
            ]
            if not mine or mine[0].amount != body.amount:
                raise
            return bill.raw

    return submit(
        caller,
        "ClaimBill",
        [billCode, billNumber, body.model_dump()],
        run,
        key=idempotency_key,
        prefer=prefer,
    )
