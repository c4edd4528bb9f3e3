"""Payer: my bills. The payer signs in to the portal (a payer user carrying the payer's
type and id, calling the service as the finance department's platform) and gives the
bill key (the payer salt printed on the receipt); the portal keeps the keys given in
the session only (server side, gone at sign-out) and lists every bill issued with them."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .web import PageError, VisitDep

SALT = re.compile(r"^[0-9a-f]{32}$")


def register(app: FastAPI) -> None:
    @app.get("/payer", response_class=HTMLResponse)
    def my_bills(v: VisitDep) -> HTMLResponse:
        user = v.require("payer")
        rows: list[dict[str, Any]] = []
        with v.api() as api:
            for salt in v.session.data.get("salts", []):
                body = {"payerType": user.payer_type, "payerId": user.payer_id, "salt": salt}
                page = api.post("/v1/payer/bills/list", {**body, "pageSize": 200})
                rows.extend(page["records"])
        rows.sort(key=lambda r: r["issueDate"], reverse=True)
        return v.render("payer.html", bills=rows)

    @app.post("/payer/keys")
    async def add_key(v: VisitDep) -> Response:
        v.require("payer")
        form = await v.request.form()
        v.check_csrf(form)
        salt = str(form.get("salt", "")).strip().lower()
        if not SALT.match(salt):
            raise PageError(422, "refused", f"{v.t('payer.salt')}: 32 hex characters")
        salts = v.session.data.setdefault("salts", [])
        if salt not in salts:
            salts.append(salt)
        v.portal.store.save_session(v.session)
        return RedirectResponse("/payer", status_code=303)
