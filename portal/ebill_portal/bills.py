"""The bill itself, for its parties: printable HTML and PDF, QR code for verification.

A payer sees it through the platform (the bill must hash to the payer's id and one of
the bill keys given in this session), a unit its own bills with the private part
(items, payer name), finance the public record. The check code is not on the chain
(only its hash): the page prints it, and the QR code, once the visitor gave it and the
chain verified it (the payer's receipt, the unit's system).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from . import money, pdf, qr
from .api import Refused, ServiceAPI
from .i18n import china_time
from .web import PageError, Visit, VisitDep

BILL = re.compile(r"^\d{8}$"), re.compile(r"^\d{10}$")


def _ref(code: str, number: str) -> None:
    if not (BILL[0].match(code) and BILL[1].match(number)):
        raise PageError(404, "error.notfound")


def payer_read(v: Visit, api: ServiceAPI, code: str, number: str) -> tuple[dict[str, Any], str]:
    """The payer's bill and the bill key that opened it. Raises PageError 403 when no key
    of this session opens it for this payer (another payer's bill)."""
    user = v.require("payer")
    for salt in v.session.data.get("salts", []):
        body = {"payerType": user.payer_type, "payerId": user.payer_id, "salt": salt}
        try:
            record = api.post(
                "/v1/payer/bills/read", {**body, "billCode": code, "billNumber": number}
            )
        except Refused as exc:
            if exc.status in (403, 404):
                continue
            raise
        return record, salt
    raise PageError(403, "error.forbidden")


def bill_view(v: Visit, code: str, number: str) -> dict[str, Any]:
    """What the page and the PDF show of the bill, as the visitor's party may see it."""
    _ref(code, number)
    if v.user is None:
        raise PageError(403, "error.forbidden")
    private: dict[str, Any] | None = None
    with v.api() as api:
        if v.user.party == "payer":
            record, _ = payer_read(v, api, code, number)
        else:
            record = api.get(f"/v1/bills/{code}/{number}")
            if v.user.party == "unit":
                private = api.get(f"/v1/bills/{code}/{number}/private")
    check = v.session.data.get("checks", {}).get(f"{code}-{number}")
    items = None
    if private:
        items = [
            {
                "code": item["code"],
                "name": item["name"],
                "quantity": item["quantity"],
                "unit": item["unit"],
                "price": money.yuan(item["standardPrice"]),
                "amount": money.yuan(item["amount"]),
            }
            for item in private.get("items", [])
        ]
    total = int(record["totalAmount"])
    return {
        "code": code,
        "number": number,
        "name": record.get("billName", ""),
        "check": check,
        "unitCode": record["unitCode"],
        "unitName": record["unitName"],
        "payerName": (private or {}).get("payer", {}).get("name"),
        "date": china_time(record["issueDate"]),
        "status": record["status"],
        "statusText": v.t(f"status.{record['status']}"),
        "lines": items,
        "total": money.yuan(total),
        "capital": money.capital(total),
        "reimbursed": money.yuan(int(record.get("reimbursedTotal", 0))),
        "claims": record.get("claims", []),
        "authorised": sorted(record.get("authorised", {})),
        "redLetter": record.get("redLetter"),
        "txId": record["issueTxId"],
        "link": qr.verify_link(v.portal.settings.public_url, code, number, check)
        if check
        else None,
    }


def register(app: FastAPI) -> None:
    # before the page: "{number}" would match "0000000001.pdf" too
    @app.get("/bills/{code}/{number}.pdf")
    def bill_pdf(code: str, number: str, v: VisitDep) -> Response:
        view = bill_view(v, code, number)
        body = pdf.render(view, v.t, v.portal.settings.cjk_font)
        headers = {"Content-Disposition": f'inline; filename="{code}-{number}.pdf"'}
        return Response(body, media_type="application/pdf", headers=headers)

    @app.get("/bills/{code}/{number}", response_class=HTMLResponse)
    def bill_page(code: str, number: str, v: VisitDep, message: str = "") -> HTMLResponse:
        view = bill_view(v, code, number)
        svg = qr.svg(view["link"]) if view["link"] else None
        return v.render("bill.html", bill=view, qr_svg=svg, message=message)

    @app.post("/bills/{code}/{number}/check", response_class=HTMLResponse)
    async def give_check_code(code: str, number: str, v: VisitDep) -> Response:
        """The visitor gives the check code; kept in the session once the chain verified it."""
        _ref(code, number)
        form = await v.request.form()
        v.check_csrf(form)
        bill_view(v, code, number)  # a party of the bill only
        check = str(form.get("check", "")).strip().upper()
        with v.public_api() as api:
            body = {"billCode": code, "billNumber": number, "checkCode": check or "-"}
            result = api.post("/v1/public/verify", body)
        if not result.get("genuine"):
            raise PageError(422, "bill.check.wrong")
        v.session.data.setdefault("checks", {})[f"{code}-{number}"] = check
        v.portal.store.save_session(v.session)
        return RedirectResponse(f"/bills/{code}/{number}", status_code=303)

    for action in ("authorise", "revoke"):

        async def change(code: str, number: str, v: VisitDep, action: str = action) -> Response:
            """The payer authorises (or revokes) a reimburser on the bill."""
            _ref(code, number)
            form = await v.request.form()
            v.check_csrf(form)
            user = v.require("payer")
            reimburser = str(form.get("reimburser", ""))
            if reimburser not in v.portal.settings.reimbursers:
                raise PageError(422, "refused", f"{v.t('bill.reimburser')}: unknown")
            with v.api() as api:
                _, salt = payer_read(v, api, code, number)
                body = {
                    "payerType": user.payer_type,
                    "payerId": user.payer_id,
                    "salt": salt,
                    "billCode": code,
                    "billNumber": number,
                    "reimburserId": reimburser,
                }
                api.post(f"/v1/payer/{action}", body)
            return RedirectResponse(f"/bills/{code}/{number}?message=done", status_code=303)

        app.post(f"/bills/{{code}}/{{number}}/{action}")(change)
