"""Payers, through the finance department's platform (role platform).

The platform authenticates the person off-chain and sends, per call, the payer's
{type, id} and the bill's salt in the request BODY (never in a URL, so that no access
log holds them); the contract recomputes the bill's payerHash from them. Only the
platform's API client may call these endpoints.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ebill.payer import PayerClient
from ebill_chaincode.contract.vocabulary import PLATFORM

from ..contract import operation
from ..deps import CallerDep, IdempotencyKey, Prefer
from ..problems import PROBLEM_RESPONSES
from ..runner import submit
from .public import BillCode, BillNumber

router = APIRouter(prefix="/v1/payer", tags=["payer"], responses=PROBLEM_RESPONSES)

PLATFORM_ONLY = frozenset({PLATFORM})

Salt = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$", description="the bill's payer salt, hex")]


class PayerProof(BaseModel):
    payerType: Annotated[str, Field(min_length=1, max_length=20)]
    payerId: Annotated[str, Field(min_length=1, max_length=64)]
    salt: Salt


class BillRequest(PayerProof):
    billCode: BillCode
    billNumber: BillNumber


class AuthorisationRequest(BillRequest):
    reimburserId: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,32}$")]


class ListRequest(PayerProof):
    pageSize: Annotated[int, Field(ge=1, le=200)] = 50
    bookmark: str = ""


def _payer(caller: Any, proof: PayerProof, function: str) -> PayerClient:
    platform: PayerClient = caller.act(function, PayerClient)
    return platform.for_payer(proof.payerType, proof.payerId)


@router.post(
    "/bills/read",
    summary="Read the payer's own bill",
    **operation("ReadBill", answers=True, roles=PLATFORM_ONLY),
)
def read_bill(body: BillRequest, caller: CallerDep) -> dict[str, Any]:
    return _payer(caller, body, "ReadBill").read_bill(body.billCode, body.billNumber, body.salt).raw


@router.post(
    "/bills/list",
    summary="One page of the payer's bills issued with this salt",
    **operation("ListBillsByPayer", answers=True, roles=PLATFORM_ONLY),
)
def list_bills(body: ListRequest, caller: CallerDep) -> dict[str, Any]:
    page = _payer(caller, body, "ListBillsByPayer").list_bills(
        body.salt, page_size=body.pageSize, bookmark=body.bookmark
    )
    return {"records": [r.raw for r in page.records], "bookmark": page.bookmark}


@router.post(
    "/authorise",
    summary="Authorise a reimburser to use the bill",
    **operation("AuthoriseReimburser", answers=True),
)
def authorise(
    body: AuthorisationRequest,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
    prefer: Prefer = None,
) -> JSONResponse:
    payer = _payer(caller, body, "AuthoriseReimburser")
    return submit(
        caller,
        "AuthoriseReimburser",
        body.model_dump(),
        lambda kept: (
            payer.authorise_reimburser(
                body.billCode, body.billNumber, body.reimburserId, body.salt
            ).raw
        ),
        key=idempotency_key,
        prefer=prefer,
    )


@router.post(
    "/revoke",
    summary="Revoke an unused authorisation",
    **operation("RevokeAuthorisation", answers=True),
)
def revoke(
    body: AuthorisationRequest,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
    prefer: Prefer = None,
) -> JSONResponse:
    payer = _payer(caller, body, "RevokeAuthorisation")
    return submit(
        caller,
        "RevokeAuthorisation",
        body.model_dump(),
        lambda kept: (
            payer.revoke_authorisation(
                body.billCode, body.billNumber, body.reimburserId, body.salt
            ).raw
        ),
        key=idempotency_key,
        prefer=prefer,
    )
