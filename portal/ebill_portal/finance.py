"""Finance console: register, suspend and resume a unit; approve or reject its stock
applications."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .api import Refused
from .web import PageError, VisitDep

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
