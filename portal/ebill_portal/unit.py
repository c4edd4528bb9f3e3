"""Issuing unit: the unit's bills by day with paging, red-letter with a reason, the daily
reconciliation (counts and totals per day, as the chain counts them), a bill issued by
form, and the unit's stock (applications, ranges used and left)."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from . import stockuse
from .api import Refused, ServiceAPI, Unavailable
from .billform import BillForm
from .i18n import china_today
from .users import User
from .web import PageError, Visit, VisitDep

DEFAULT_BILL_NAME = "非税收入统一票据（电子）"


def refusal_text(exc: Refused) -> str:
    """A refusal as shown to a person: title, detail (naming the field) and the code."""
    text = exc.title if not exc.detail else f"{exc.title}: {exc.detail}"
    return f"{text} [{exc.code}]"


def _issue_page(
    v: Visit, api: ServiceAPI, user: User, form: BillForm, status: int = 200, **extra: Any
) -> HTMLResponse:
    """The issuance form with the codes of the unit's approved stock; a fresh
    idempotency key whenever the form is shown again after a refusal."""
    try:
        records = stockuse.batches(api, str(user.unit_code))
    except Unavailable:
        records = []  # the form is still shown, with what was typed in it
    ranges = [b for b in records if b["status"] == "approved"]
    return v.render(
        "unit_issue.html",
        status=status,
        form=form,
        ranges=ranges,
        request_key=extra.pop("request_key", None) or secrets.token_urlsafe(18),
        **extra,
    )


def _day(v: Visit, value: str, field: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise PageError(422, "refused", f"{v.t(field)}: YYYY-MM-DD") from None


def register(app: FastAPI) -> None:
    @app.get("/unit", response_class=HTMLResponse)
    def unit_bills(
        v: VisitDep,
        day: str = "",
        bookmark: str = "",
        code: str = "",
        number: str = "",
        message: str = "",
    ) -> HTMLResponse:
        """One page of the day's bills; with ``code`` and ``number``, that one bill."""
        user = v.require("unit")
        day = _day(v, day, "unit.day") if day else china_today()
        size = v.portal.settings.page_size
        with v.api() as api:
            if code or number:
                if not (re.fullmatch(r"\d{8}", code) and re.fullmatch(r"\d{10}", number)):
                    raise PageError(422, "refused", f"{v.t('bill.code')}/{v.t('bill.number')}")
                records, next_bookmark = [api.get(f"/v1/bills/{code}/{number}")], ""
            else:
                page = api.get(
                    f"/v1/units/{user.unit_code}/bills",
                    fromDate=day,
                    toDate=day,
                    pageSize=size,
                    bookmark=bookmark,
                )
                records = page["records"]
                next_bookmark = page["bookmark"] if len(records) >= size else ""
        return v.render(
            "unit.html",
            day=day,
            bills=records,
            code=code,
            number=number,
            next_bookmark=next_bookmark,
            paged=bool(bookmark),
            message=message,
        )

    @app.post("/unit/bills/{code}/{number}/red-letter")
    async def red_letter(code: str, number: str, v: VisitDep) -> Response:
        v.require("unit")
        form = await v.request.form()
        v.check_csrf(form)
        red = str(form.get("red", "")).strip()
        reason = str(form.get("reason", "")).strip()
        if not re.fullmatch(r"\d{10}", red):
            raise PageError(422, "refused", f"{v.t('bill.red.number')}: 10 digits")
        if not reason:
            raise PageError(422, "refused", f"{v.t('bill.red.reason')}: required")
        with v.api() as api:
            answer = api.post(
                f"/v1/bills/{code}/{number}/red-letter", {"redBillNumber": red, "reason": reason}
            )
        day = str(answer["original"]["issueDate"])[:10]
        target = f"/unit?day={day}&code={code}&number={number}&message=red:{red}"
        return RedirectResponse(target, status_code=303)

    @app.get("/unit/reconciliation", response_class=HTMLResponse)
    def reconciliation(v: VisitDep, fromDate: str = "", toDate: str = "") -> HTMLResponse:
        user = v.require("unit")
        today = china_today()
        first = _day(v, fromDate, "unit.from") if fromDate else today
        last = _day(v, toDate, "unit.to") if toDate else today
        with v.api() as api:
            days = api.get(
                f"/v1/units/{user.unit_code}/reconciliation", fromDate=first, toDate=last
            )
        return v.render("reconciliation.html", days=days, first=first, last=last)

    @app.get("/unit/issue", response_class=HTMLResponse)
    def issue_form(v: VisitDep) -> HTMLResponse:
        """The bill form, for units without a system of their own."""
        user = v.require("unit")
        with v.api() as api:
            return _issue_page(v, api, user, BillForm.blank(DEFAULT_BILL_NAME))

    @app.post("/unit/issue", response_class=HTMLResponse)
    async def issue(v: VisitDep) -> HTMLResponse:
        """Issue the form's bill (POST /v1/bills under the form's idempotency key: a form
        sent twice issues one bill); errors and refusals re-show the form, naming the field."""
        user = v.require("unit")
        form_data = await v.request.form()
        v.check_csrf(form_data)
        form = BillForm.read(form_data)
        key = str(form_data.get("request", ""))
        with v.api() as api:
            if form_data.get("add"):
                return _issue_page(v, api, user, form.with_row(), request_key=key)
            unit = api.get(f"/v1/units/{user.unit_code}")
            body, errors = form.body(str(user.unit_code), str(unit["name"]), user.username)
            if errors:
                return _issue_page(v, api, user, form, status=422, errors=errors)
            if not re.fullmatch(r"[A-Za-z0-9_-]{16,64}", key):
                raise PageError(400, "error.csrf")
            try:
                issued = api.call("POST", "/v1/bills", json=body, idempotency_key=key)
            except Unavailable:
                # the outcome is unknown: the form keeps its key, so sending it again
                # finishes this very issuance and never issues a second bill
                return _issue_page(
                    v, api, user, form, status=503, refusal=v.t("issue.unknown"), request_key=key
                )
            except Refused as exc:
                if exc.status >= 500:
                    refusal = f"{refusal_text(exc)}. {v.t('issue.unknown')}"
                    return _issue_page(
                        v, api, user, form, status=503, refusal=refusal, request_key=key
                    )
                status = exc.status if exc.status in (403, 404, 409, 422) else 400
                return _issue_page(v, api, user, form, status=status, refusal=refusal_text(exc))
        return v.render("unit_issued.html", issued=issued)

    @app.get("/unit/stock", response_class=HTMLResponse)
    def stock(v: VisitDep, message: str = "") -> HTMLResponse:
        """The unit's stock batches with the numbers used and left, and the application form."""
        user = v.require("unit")
        with v.api() as api:
            uses = stockuse.usage(
                api, str(user.unit_code), stockuse.batches(api, str(user.unit_code))
            )
        return v.render("unit_stock.html", uses=uses, message=message, form={})

    @app.post("/unit/stock", response_class=HTMLResponse)
    async def apply_stock(v: VisitDep) -> Response:
        """Apply for a range: bill code, first number, count (finance approves it)."""
        user = v.require("unit")
        form_data = await v.request.form()
        v.check_csrf(form_data)
        form = {k: str(form_data.get(k, "")).strip() for k in ("billCode", "startNumber", "count")}
        errors = []
        if not re.fullmatch(r"[0-9]{8}", form["billCode"]):
            errors.append(f"{v.t('bill.code')} (billCode): 8 digits")
        if not re.fullmatch(r"[0-9]{10}", form["startNumber"]):
            errors.append(f"{v.t('stock.start')} (startNumber): 10 digits")
        if not re.fullmatch(r"[1-9][0-9]{0,6}", form["count"]) or int(form["count"]) > 1_000_000:
            errors.append(f"{v.t('stock.count')} (count): 1 to 1000000")
        with v.api() as api:
            if not errors:
                body = {"unitCode": user.unit_code, **form, "count": int(form["count"])}
                try:
                    applied = api.post("/v1/stock", body)
                except Refused as exc:
                    errors.append(refusal_text(exc))
                else:
                    target = f"/unit/stock?message=applied:{applied['batchId']}"
                    return RedirectResponse(target, status_code=303)
            uses = stockuse.usage(
                api, str(user.unit_code), stockuse.batches(api, str(user.unit_code))
            )
        return v.render("unit_stock.html", status=422, uses=uses, errors=errors, form=form)
