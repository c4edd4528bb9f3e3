"""Public verification: code + number + check code, no login, rate-limited per address."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from ebill.party import PartyClient
from ebill_chaincode.contract import interface

from ..bodies import argument, body_model
from ..contract import operation
from ..deps import CallerDep, ServiceDep
from ..problems import PROBLEM_RESPONSES, ServiceProblem

router = APIRouter(tags=["verification"], responses=PROBLEM_RESPONSES)

#: A bill code or number in a path, as the interface declares it.
BillCode = Annotated[
    str,
    Field(
        pattern=interface.BILL_CODE.schema["pattern"], description=interface.BILL_CODE.description
    ),
]
BillNumber = Annotated[
    str,
    Field(
        pattern=interface.BILL_NUMBER.schema["pattern"],
        description=interface.BILL_NUMBER.description,
    ),
]

UnitCode = Annotated[
    str,
    Field(
        pattern=interface.UNIT_CODE.schema["pattern"], description=interface.UNIT_CODE.description
    ),
]

#: What is printed on a bill; amount (integer fen) and date are checked when given.
if TYPE_CHECKING:  # made at import time: to mypy, any value
    VerifyRequest = Any
else:
    VerifyRequest = body_model(
        "VerifyRequest",
        *(argument("VerifyBill", p) for p in interface.VERIFY_BILL.param_names),
    )


class Verification(BaseModel):
    """Genuine or not, with the status; nothing personal."""

    genuine: bool
    billCode: str
    billNumber: str
    reason: str | None = None
    status: str | None = None
    kind: str | None = None
    unitCode: str | None = None
    unitName: str | None = None
    issueDate: str | None = None
    totalAmount: int | None = None
    previousStatus: str | None = None
    redOf: dict[str, Any] | None = None


def verify_one(party: PartyClient, item: Any) -> Verification:
    """VerifyBill of one VerifyRequest ``item``."""
    result = party.verify_bill(
        item.billCode,
        item.billNumber,
        item.checkCode,
        total_amount=item.totalAmount,
        issue_date=item.issueDate or None,
    )
    fields = {k: v for k, v in result.raw.items() if k in Verification.model_fields}
    fields.setdefault("billCode", item.billCode)
    fields.setdefault("billNumber", item.billNumber)
    fields["genuine"] = result.genuine
    return Verification(**fields)


@router.post("/v1/public/verify", summary="Verify a bill (no login)", **operation("VerifyBill"))
def verify_public(
    body: VerifyRequest,
    request: Request,
    service: ServiceDep,
) -> Verification:
    """Anyone may verify a bill with what is printed on it. Limited per caller address
    (the check code is short): 429 with Retry-After beyond the limit."""
    address = request.client.host if request.client else "unknown"
    wait = service.public_limit.take(address)
    if wait:
        raise ServiceProblem(
            429,
            "rate-limited",
            "Too many requests",
            f"at most {service.settings.public_rate} verifications a minute per address",
            headers={"Retry-After": str(int(wait))},
        )
    return verify_one(service.party(service.public_user()), body)


class VerifyBatch(BaseModel):
    bills: Annotated[list[VerifyRequest], Field(min_length=1, max_length=100)]


class VerifyBatchResult(BaseModel):
    results: list[Verification]


@router.post(
    "/v1/verify", summary="Verify up to 100 bills (a claim's bills)", **operation("VerifyBill")
)
def verify_batch(body: VerifyBatch, caller: CallerDep) -> VerifyBatchResult:
    """Each bill verified in turn; an unknown bill is reported not genuine, not an error."""
    from ebill.errors import NotFound

    party = caller.act("VerifyBill", PartyClient)
    results = []
    for item in body.bills:
        try:
            results.append(verify_one(party, item))
        except NotFound:
            results.append(
                Verification(
                    genuine=False,
                    billCode=item.billCode,
                    billNumber=item.billNumber,
                    reason="not-found",
                )
            )
    return VerifyBatchResult(results=results)
