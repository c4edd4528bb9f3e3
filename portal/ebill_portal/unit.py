"""Issuing unit: the unit's bills by day with paging, red-letter with a reason, the daily
reconciliation (counts and totals per day, as the chain counts them)."""

from __future__ import annotations

import datetime as dt
import re

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .i18n import china_today
from .web import PageError, Visit, VisitDep


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
