"""Payers, through the finance department's platform (role platform).

The platform authenticates the person off-chain and sends, per call, the payer's
{type, id} and the bill's salt in the request BODY (never in a URL, so that no access
log holds them); the contract recomputes the bill's payerHash from them. Only the
platform's API client may call these endpoints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from pydantic import Field

from ebill.payer import PayerClient
from ebill_chaincode.contract import records
from ebill_chaincode.contract.vocabulary import PLATFORM, TRANSIENT_PAYER, TRANSIENT_SALT

from ..bodies import TRANSIENT_KEY, BodyField, argument, body_model, record_fields
from ..contract import operation
from ..deps import Caller, CallerDep
from ..problems import PROBLEM_RESPONSES
from ..submits import Submit, add_submits

router = APIRouter(prefix="/v1/payer", tags=["payer"], responses=PROBLEM_RESPONSES)

PLATFORM_ONLY = frozenset({PLATFORM})


#: The payer's proof, sent to the chain as the transient payer {type, id} and salt.
PayerProof = body_model(
    "PayerProof",
    record_fields(
        records.Payer,
        omit=("name",),
        source=f"transient:{TRANSIENT_PAYER}",
        wire={"type": "payerType", "id": "payerId"},
    ),
    BodyField(
        "salt",
        str,
        Field(
            pattern=r"^[0-9a-f]{32}$",
            description="the bill's payer salt, hex",
            json_schema_extra={TRANSIENT_KEY: TRANSIENT_SALT},
        ),
    ),
)


def _bill_fields(function: str) -> list[BodyField]:
    return [argument(function, "billCode"), argument(function, "billNumber")]


if TYPE_CHECKING:  # made at import time: to mypy, any value
    BillRequest = Any
else:
    BillRequest = body_model("BillRequest", _bill_fields("ReadBill"), base=PayerProof)
AuthoriseRequest = body_model(
    "AuthoriseRequest",
    _bill_fields("AuthoriseReimburser"),
    argument("AuthoriseReimburser", "reimburserId"),
    base=PayerProof,
)
RevokeRequest = body_model(
    "RevokeRequest",
    _bill_fields("RevokeAuthorisation"),
    argument("RevokeAuthorisation", "reimburserId"),
    base=PayerProof,
)
if TYPE_CHECKING:  # made at import time: to mypy, any value
    ListRequest = Any
else:
    ListRequest = body_model(
        "ListRequest",
        argument("ListBillsByPayer", "pageSize", default=50),
        argument("ListBillsByPayer", "bookmark"),
        base=PayerProof,
    )


def _payer(caller: Caller, proof: Any, function: str) -> PayerClient:
    return _acting_payer(caller, function, proof.model_dump())


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
        body.salt, page_size=body.pageSize, bookmark=body.bookmark or ""
    )
    return {"records": [r.raw for r in page.records], "bookmark": page.bookmark}


def _acting_payer(caller: Caller, function: str, args: dict[str, Any]) -> PayerClient:
    platform: PayerClient = caller.act(function, PayerClient)
    return platform.for_payer(args["payerType"], args["payerId"])


add_submits(
    router,
    [
        Submit(
            "authorise",
            "/authorise",
            "AuthoriseReimburser",
            "Authorise a reimburser to use the bill",
            _acting_payer,
            lambda p, a: (
                p.authorise_reimburser(
                    a["billCode"], a["billNumber"], a["reimburserId"], a["salt"]
                ).raw
            ),
            AuthoriseRequest,
        ),
        Submit(
            "revoke",
            "/revoke",
            "RevokeAuthorisation",
            "Revoke an unused authorisation",
            _acting_payer,
            lambda p, a: (
                p.revoke_authorisation(
                    a["billCode"], a["billNumber"], a["reimburserId"], a["salt"]
                ).raw
            ),
            RevokeRequest,
        ),
    ],
)
