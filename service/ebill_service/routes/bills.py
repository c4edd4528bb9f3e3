"""Issuing units' bills: issue (one or a batch), read, red-letter, stock applications.

Issuance is retry-safe end to end: the first attempt under an ``Idempotency-Key``
generates the bill's payer salt and check code and stores them before the chain is
called; a retry (after a timeout, a lost answer or a service restart) issues the very
same bill, which the party client finds already issued and returns: never a second
bill. Without a key a retried request is a new request.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ebill.capabilities import BillReader, PrivateReader, UnitReads
from ebill.unit import UnitClient, new_check_code
from ebill_chaincode.contract import model, records
from ebill_chaincode.contract.vocabulary import (
    CLERK,
    FINANCE,
    ISSUER,
    REIMBURSER,
    SUPERVISOR,
    TRANSIENT_BILL,
    TRANSIENT_MEDICAL,
    TRANSIENT_PAYER,
)
from ebill_chaincode.shim.errors import InvalidArgument

from ..bodies import (
    TRANSIENT_KEY,
    BodyField,
    argument,
    body_model,
    document_fields,
    record_fields,
    transient_document,
)
from ..contract import operation
from ..deps import CallerDep, IdempotencyKey, Prefer
from ..problems import PROBLEM_RESPONSES, ServiceProblem
from ..runner import submit
from ..submits import Submit, acting, add_submits
from .public import BillCode, BillNumber, UnitCode

router = APIRouter(tags=["bills"], responses=PROBLEM_RESPONSES)

Record = dict[str, Any]


_DEPOSIT = "DepositBillPrivate"
#: The payer, sent to the unit's peer as transient data only (never in a block).
Payer = body_model("Payer", record_fields(records.Payer, source=f"transient:{TRANSIENT_PAYER}"))
#: A bill to issue: DepositBillPrivate's transient bill (the whole bill but payer and
#: medical part: public fields, items in integer fen, clerk...), payer and medical part;
#: the service makes the payer salt and the check code.
if TYPE_CHECKING:  # made at import time: to mypy, any value
    IssueRequest = Any
else:
    IssueRequest = body_model(
        "IssueRequest",
        transient_document(_DEPOSIT, TRANSIENT_BILL),
        BodyField(
            "payer",
            Payer,
            Field(
                description="the payer (transient, never in a block)",
                json_schema_extra={TRANSIENT_KEY: TRANSIENT_PAYER},
            ),
        ),
        transient_document(_DEPOSIT, TRANSIENT_MEDICAL),
    )


class IssuedBill(BaseModel):
    """The issued bill's public record, its check code and the payer's salt (hex):
    the issuer prints the check code and gives the salt to the payer's platform."""

    bill: Record
    checkCode: str
    payerSalt: str


def _validate(item: Any, index: int | None = None) -> None:
    """The contract's own field rules, applied before anything reaches the chain."""
    where = "" if index is None else f"bills[{index}]."
    try:
        model.Bill.parse(item.bill)
        model.Payer.parse(item.payer.model_dump(), "payer")
        if item.medical is not None:
            model.MedicalInfo.parse(item.medical, "medical")
    except InvalidArgument as error:
        raise ServiceProblem(
            422, "invalid-argument", "Invalid bill", f"{where}{error.message}"
        ) from None


def _new_secrets() -> dict[str, str]:
    return {"salt": secrets.token_bytes(16).hex(), "checkCode": new_check_code()}


def _issue(unit: UnitClient, item: Any, kept: dict[str, str]) -> dict[str, Any]:
    issued = unit.issue_bill(
        item.bill,
        item.payer.model_dump(),
        item.medical,
        salt=bytes.fromhex(kept["salt"]),
        check_code=kept["checkCode"],
    )
    return {"bill": issued.bill.raw, "checkCode": issued.check_code, "payerSalt": issued.salt_hex}


@router.post(
    "/v1/bills",
    summary="Issue a bill",
    status_code=201,
    **operation("DepositBillPrivate", "IssueBill"),
    response_model=IssuedBill,
    responses={202: {"description": "accepted (Prefer: respond-async); poll Location"}},
)
def issue_bill(
    body: IssueRequest,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
    prefer: Prefer = None,
) -> JSONResponse:
    """DepositBillPrivate then IssueBill, as the caller's unit (role issuer)."""
    unit = caller.act("IssueBill", UnitClient)
    _validate(body)
    return submit(
        caller,
        "IssueBill",
        body.model_dump(),
        lambda kept: _issue(unit, body, kept),
        key=idempotency_key,
        prefer=prefer,
        new_secrets=_new_secrets,
        status=201,
    )


class IssueBatch(BaseModel):
    bills: Annotated[list[IssueRequest], Field(min_length=1, max_length=100)]


class BatchItem(BaseModel):
    index: int
    status: int
    result: Record


@router.post(
    "/v1/bills:batch",
    summary="Issue a batch of bills (results per bill)",
    **operation("DepositBillPrivate", "IssueBill"),
)
def issue_batch(
    body: IssueBatch,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
    prefer: Prefer = None,
) -> JSONResponse:
    """Every bill validated first (422 naming ``bills[i].field`` if any is invalid, and
    nothing issued); then each issued in turn, with its own status (201 or the problem's)
    in ``results``. Per-bill, not all-or-nothing: a refused bill does not undo the others.
    Retried under the same Idempotency-Key, every bill is the same bill."""
    unit = caller.act("IssueBill", UnitClient)
    for index, item in enumerate(body.bills):
        _validate(item, index)

    def new_secrets() -> dict[str, str]:
        kept: dict[str, str] = {}
        for index in range(len(body.bills)):
            for name, value in _new_secrets().items():
                kept[f"{index}.{name}"] = value
        return kept

    def run(kept: dict[str, str]) -> dict[str, Any]:
        from ebill.errors import EbillError

        from ..problems import problem_of

        results = []
        for index, item in enumerate(body.bills):
            mine = {"salt": kept[f"{index}.salt"], "checkCode": kept[f"{index}.checkCode"]}
            try:
                results.append({"index": index, "status": 201, "result": _issue(unit, item, mine)})
            except EbillError as error:
                problem = problem_of(error)
                results.append(
                    {"index": index, "status": problem.status, "result": problem.model_dump()}
                )
        return {"results": results}

    return submit(
        caller,
        "IssueBills",
        body.model_dump(),
        run,
        key=idempotency_key,
        prefer=prefer,
        new_secrets=new_secrets,
    )


@router.get(
    "/v1/bills/{billCode}/{billNumber}",
    summary="Read a bill's public record",
    **operation(
        "ReadBill", answers=True, roles=frozenset({ISSUER, CLERK, FINANCE, SUPERVISOR, REIMBURSER})
    ),
)
def read_bill(billCode: BillCode, billNumber: BillNumber, caller: CallerDep) -> Record:
    """For the bill's parties: its unit's staff, finance, supervisors, authorised
    reimbursers (the contract decides per bill)."""
    return caller.act("ReadBill", BillReader).read_bill(billCode, billNumber).raw


@router.get(
    "/v1/bills/{billCode}/{billNumber}/private",
    summary="Read a bill's private part (items, payer, medical part)",
    **operation("ReadBillPrivate"),
)
def read_bill_private(billCode: BillCode, billNumber: BillNumber, caller: CallerDep) -> Record:
    """For the issuing unit, supervisors and reimbursers the payer authorised now (the
    contract decides); the answer is sealed to this call's key and opened here."""
    return caller.act("ReadBillPrivate", PrivateReader).read_bill_private(billCode, billNumber).raw


RedLetterRequest = body_model(
    "RedLetterRequest",
    argument("RedLetterBill", "redBillNumber"),
    argument("RedLetterBill", "reason"),
)
StockRequest = body_model(
    "StockRequest", document_fields("ApplyStock", "applicationJSON", omit=("unitCode",))
)
_unit = acting(UnitClient)


def _red_letter(unit: UnitClient, a: dict[str, Any]) -> dict[str, Any]:
    result = unit.red_letter_bill(a["billCode"], a["billNumber"], a["redBillNumber"], a["reason"])
    return {
        "original": result.original.raw,
        "red": result.red.raw,
        "redCheckCode": result.red.check_code,
    }


add_submits(
    router,
    [
        Submit(
            "red_letter",
            "/v1/bills/{billCode}/{billNumber}/red-letter",
            "RedLetterBill",
            "Red-letter a bill",
            _unit,
            _red_letter,
            RedLetterRequest,
            answers=False,
        ),
        Submit(
            "apply_stock",
            "/v1/stock",
            "ApplyStock",
            "Apply for bill stock (issuer)",
            _unit,
            lambda u, a: u.apply_stock(a["billCode"], a["startNumber"], a["count"]).raw,
            StockRequest,
            status=201,
        ),
    ],
)


@router.get(
    "/v1/units/{unitCode}/stock",
    summary="A unit's stock batches (one page)",
    **operation("ListStock", answers=True),
)
def list_stock(
    unitCode: UnitCode, caller: CallerDep, pageSize: int = 50, bookmark: str = ""
) -> Record:
    page = caller.act("ListStock", UnitReads).list_stock(
        unitCode, page_size=pageSize, bookmark=bookmark
    )
    return {"records": [r.raw for r in page.records], "bookmark": page.bookmark}
