"""Finance console: register, suspend and resume a unit; approve or reject its stock
applications; reconcile its used stock; release the stale locks of reimbursers."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from . import stockuse
from .api import Refused, ServiceAPI
from .web import PageError, VisitDep

UNIT_CODE = re.compile(r"[A-Za-z0-9]{1,32}")
BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
MAX_LOCK_PAGES = 10


def locked_bills(api: ServiceAPI, max_pages: int = MAX_LOCK_PAGES) -> list[dict[str, Any]]:
    """Every locked bill (ListBillsByStatus, up to ``max_pages`` of 200), each read in
    full (ReadBill) for its lock: who holds it and since when."""
    bills, bookmark = [], ""
    for _ in range(max_pages):
        page = api.get("/v1/bills", status="locked", pageSize=200, bookmark=bookmark)
        bills.extend(page["records"])
        bookmark = page["bookmark"]
        if not bookmark or len(page["records"]) < 200:
            break
    full = [api.get(f"/v1/bills/{b['billCode']}/{b['billNumber']}") for b in bills]
    return [b for b in full if b.get("status") == "locked" and b.get("lock")]


def _since(at: str) -> dt.datetime:
    return dt.datetime.fromisoformat(at.replace("Z", "+00:00"))


SECTORS = ("medical", "education", "court", "police", "administrative", "other")


def register(app: FastAPI) -> None:
    @app.get("/finance", response_class=HTMLResponse)
    def console(v: VisitDep, unit: str = "", message: str = "") -> HTMLResponse:
        v.require("finance")
        record, batches, refusal = None, [], ""
        if unit:
            with v.api() as api:
                try:
                    record = api.get(f"/v1/units/{unit}")
                    batches = api.get(f"/v1/units/{unit}/stock", pageSize=200)["records"]
                except Refused as exc:
                    if exc.status != 404:
                        raise
                    refusal = "error.notfound"
        return v.render(
            "finance.html",
            unit=unit,
            record=record,
            batches=batches,
            refusal=refusal,
            sectors=SECTORS,
            message=message,
        )

    @app.post("/finance/units")
    async def register_unit(v: VisitDep) -> Response:
        v.require("finance")
        form = await v.request.form()
        v.check_csrf(form)
        body = {k: str(form.get(k, "")).strip() for k in ("unitCode", "name", "sector", "region")}
        with v.api() as api:
            api.post("/v1/units", body)
        return RedirectResponse(f"/finance?unit={body['unitCode']}&message=done", status_code=303)

    @app.post("/finance/units/{unit}/{action}")
    async def change_unit(unit: str, action: str, v: VisitDep) -> Response:
        v.require("finance")
        form = await v.request.form()
        v.check_csrf(form)
        if action not in ("suspend", "resume"):
            raise PageError(404, "error.notfound")
        reason = str(form.get("reason", "")).strip()
        body = {"reason": reason} if action == "suspend" else None
        with v.api() as api:
            api.post(f"/v1/units/{unit}/{action}", body)
        return RedirectResponse(f"/finance?unit={unit}&message=done", status_code=303)

    @app.post("/finance/stock/{batch}/{action}")
    async def decide_stock(batch: str, action: str, v: VisitDep) -> Response:
        v.require("finance")
        form = await v.request.form()
        v.check_csrf(form)
        if action not in ("approve", "reject"):
            raise PageError(404, "error.notfound")
        body = {"reason": str(form.get("reason", "")).strip()} if action == "reject" else None
        with v.api() as api:
            api.post(f"/v1/stock/{batch}/{action}", body)
        unit = str(form.get("unit", ""))
        return RedirectResponse(f"/finance?unit={unit}&message=done", status_code=303)

    @app.get("/finance/locks", response_class=HTMLResponse)
    def locks(v: VisitDep, minutes: str = "", message: str = "") -> HTMLResponse:
        """The bills locked for longer than ``minutes`` (default: the portal's setting)."""
        v.require("finance")
        limit = v.portal.settings.stale_lock_minutes
        if minutes:
            if not re.fullmatch(r"[0-9]{1,6}", minutes):
                raise PageError(422, "refused", f"{v.t('locks.minutes')} (minutes): 0 to 999999")
            limit = int(minutes)
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=limit)
        with v.api() as api:
            held = locked_bills(api)
        stale = [b for b in held if _since(b["lock"]["at"]) <= cutoff]
        return v.render(
            "finance_locks.html",
            stale=stale,
            fresh=len(held) - len(stale),
            minutes=limit,
            message=message,
        )

    @app.post("/finance/locks/{code}/{number}/release")
    async def release(code: str, number: str, v: VisitDep) -> Response:
        """UnlockBill as finance: the bill goes back to its status before the lock."""
        v.require("finance")
        form = await v.request.form()
        v.check_csrf(form)
        if not (re.fullmatch(r"[0-9]{8}", code) and re.fullmatch(r"[0-9]{10}", number)):
            raise PageError(404, "error.notfound")
        with v.api() as api:
            api.post(f"/v1/bills/{code}/{number}/release-lock")
        minutes = str(form.get("minutes", ""))
        minutes = minutes if re.fullmatch(r"[0-9]{1,6}", minutes) else ""
        target = f"/finance/locks?minutes={minutes}&message=released:{code}-{number}"
        return RedirectResponse(target, status_code=303)

    @app.get("/finance/reconciliation", response_class=HTMLResponse)
    def stock_reconciliation(v: VisitDep, unit: str = "", message: str = "") -> HTMLResponse:
        """A unit's batches: numbers granted, issued in each range and left; the unit's
        bills in all; reconcile (close) an approved batch."""
        v.require("finance")
        uses: list[stockuse.Use] = []
        totals: dict[str, Any] | None = None
        refusal = ""
        if unit:
            if not UNIT_CODE.fullmatch(unit):
                raise PageError(
                    422, "refused", f"{v.t('finance.unit.code')}: 1 to 32 letters or digits"
                )
            with v.api() as api:
                try:
                    uses = stockuse.usage(api, unit, stockuse.batches(api, unit))
                    totals = api.get(f"/v1/units/{unit}/totals")
                except Refused as exc:
                    if exc.status != 404:
                        raise
                    refusal = "error.notfound"
        granted = sum(
            int(u.batch["count"]) for u in uses if u.batch["status"] in ("approved", "reconciled")
        )
        in_ranges = sum(u.used or 0 for u in uses)
        return v.render(
            "finance_reconciliation.html",
            unit=unit,
            uses=uses,
            totals=totals,
            granted=granted,
            in_ranges=in_ranges,
            complete=all(u.complete for u in uses),
            refusal=refusal,
            reconcile=True,
            message=message,
        )

    @app.post("/finance/reconciliation/{batch}")
    async def reconcile(batch: str, v: VisitDep) -> Response:
        """ReconcileStock: close an approved batch with its counts; its unused numbers void."""
        v.require("finance")
        form = await v.request.form()
        v.check_csrf(form)
        if not BATCH_ID.fullmatch(batch):
            raise PageError(404, "error.notfound")
        with v.api() as api:
            api.post(f"/v1/stock/{batch}/reconcile")
        unit = str(form.get("unit", ""))
        unit = unit if UNIT_CODE.fullmatch(unit) else ""
        return RedirectResponse(
            f"/finance/reconciliation?unit={unit}&message=done", status_code=303
        )
