"""Reimbursers: lock a bill, claim an amount against it, unlock.

A claim is retry-safe under its ``Idempotency-Key``: a retry whose first attempt's
answer was lost finds the claim (same reimburser, same voucher) on the bill and answers
the bill instead of claiming twice (the contract also refuses a repeated voucher).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ebill.errors import RepeatedClaim
from ebill.reimburser import ReimburserClient

from ..contract import operation
from ..deps import CallerDep, IdempotencyKey, Prefer
from ..problems import PROBLEM_RESPONSES
from ..runner import submit
from .public import BillCode, BillNumber

router = APIRouter(tags=["reimbursement"], responses=PROBLEM_RESPONSES)


class ClaimRequest(BaseModel):
    amount: Annotated[int, Field(gt=0, description="integer fen")]
    voucherNo: Annotated[str, Field(min_length=1, max_length=64)]


@router.post(
    "/v1/bills/{billCode}/{billNumber}/lock",
    summary="Lock a bill to reimburse it",
    **operation("LockBill", answers=True),
)
def lock_bill(
    billCode: BillCode,
    billNumber: BillNumber,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
    prefer: Prefer = None,
) -> JSONResponse:
    party = caller.act("LockBill", ReimburserClient)
    return submit(
        caller,
        "LockBill",
        [billCode, billNumber],
        lambda kept: party.lock_bill(billCode, billNumber).raw,
        key=idempotency_key,
        prefer=prefer,
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


@router.post(
    "/v1/bills/{billCode}/{billNumber}/unlock",
    summary="Unlock the caller's lock",
    **operation("UnlockBill", answers=True),
)
def unlock_bill(
    billCode: BillCode,
    billNumber: BillNumber,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
    prefer: Prefer = None,
) -> JSONResponse:
    party = caller.act("UnlockBill", ReimburserClient)
    return submit(
        caller,
        "UnlockBill",
        [billCode, billNumber],
        lambda kept: party.unlock_bill(billCode, billNumber).raw,
        key=idempotency_key,
        prefer=prefer,
    )
