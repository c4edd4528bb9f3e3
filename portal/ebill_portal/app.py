"""The portal's ASGI application: sign-in, language, the public verification page, and
the pages of each party (``bills``, ``payer``, ``unit``, ``finance``)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from . import bills, finance, i18n, payer, session, supervision, unit
from .api import Refused, Unavailable
from .settings import PortalSettings
from .users import Store
from .web import PageError, Portal, Visit, VisitDep, visit

LOG = logging.getLogger("ebill_portal")
ACCESS = logging.getLogger("ebill_portal.access")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _local(target: str | None) -> str:
    """A redirect target on this portal only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return urlparse(target).path or "/"


def create_app(settings: PortalSettings) -> FastAPI:
    """The portal over ``settings`` (state file created 0600 on first use)."""
    store = Store(settings.state)
    portal = Portal(settings, store, store.secret("cookie"))
    app = FastAPI(title="ebill portal", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.portal = portal
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), "static")

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        # the route's template, never the path's values or the query (a QR link holds
        # the check code, a bill path its number)
        route = getattr(request.scope.get("route"), "path", "-")
        ACCESS.info("%s %s %s", request.method, route, response.status_code)
        return response

    @app.exception_handler(PageError)
    async def page_error(request: Request, exc: PageError) -> HTMLResponse:
        return visit(request).render(
            "error.html", status=exc.status, message=exc.message_key, detail=exc.detail
        )

    @app.exception_handler(Unavailable)
    async def unavailable(request: Request, exc: Unavailable) -> HTMLResponse:
        return visit(request).render("error.html", status=503, message="error.unavailable")

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> HTMLResponse:
        status = exc.status if exc.status in (403, 404, 409, 422, 429) else 400
        key = {403: "error.forbidden", 404: "error.notfound"}.get(status, "refused")
        return visit(request).render(
            "error.html", status=status, message=key, detail=problem_text(exc)
        )

    @app.exception_handler(Exception)
    async def failure(request: Request, exc: Exception) -> HTMLResponse:
        """Anything unexpected: a message, never a trace (the log has the trace)."""
        LOG.exception("page %s failed", request.url.path)
        return visit(request).render("error.html", status=500, message="error.internal")

    @app.get("/", response_class=HTMLResponse)
    def home(v: VisitDep) -> HTMLResponse:
        return v.render("home.html")

    @app.get("/lang/{code}")
    def choose_language(code: str, v: VisitDep, next: str = "/") -> Response:
        response = RedirectResponse(_local(next), status_code=303)
        response.set_cookie(
            session.LANG_COOKIE,
            i18n.language(code),
            secure=settings.secure_cookies,
            samesite="strict",
            httponly=True,
        )
        v.set_cookie(response)
        return response

    @app.get("/login", response_class=HTMLResponse)
    def login_page(v: VisitDep) -> HTMLResponse:
        return v.render("login.html")

    @app.post("/login")
    async def login(v: VisitDep) -> Response:
        form = await v.request.form()
        v.check_csrf(form)
        user = store.authenticate(str(form.get("username", "")), str(form.get("password", "")))
        if user is None:
            return v.render("login.html", status=401, error="login.failed")
        store.end_session(v.session.id)
        fresh = store.new_session(user.username)
        target = {
            "payer": "/payer",
            "unit": "/unit",
            "finance": "/finance",
            "supervisor": "/supervision",
        }[user.party]
        response = RedirectResponse(target, status_code=303)
        v.session, v.fresh = fresh, True
        v.set_cookie(response)
        return response

    @app.post("/logout")
    async def logout(v: VisitDep) -> Response:
        v.check_csrf(await v.request.form())
        store.end_session(v.session.id)
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(session.COOKIE, path="/")
        return response

    @app.get("/verify", response_class=HTMLResponse)
    def verify_link(
        v: VisitDep, c: str = "", n: str = "", k: str = "", a: str = "", d: str = ""
    ) -> HTMLResponse:
        """The QR code's link: verify at once when code, number and check code are given."""
        if not (c and n and k):
            return v.render("verify.html", form={"c": c, "n": n})
        return _verify(v, {"c": c, "n": n, "k": k, "a": a, "d": d})

    @app.post("/verify", response_class=HTMLResponse)
    async def verify_form(v: VisitDep) -> HTMLResponse:
        form = await v.request.form()
        v.check_csrf(form)
        return _verify(v, {key: str(form.get(key, "")).strip() for key in "cnkad"})

    bills.register(app)
    payer.register(app)
    unit.register(app)
    finance.register(app)
    supervision.register(app)
    return app


def problem_text(exc: Refused) -> str:
    """A refusal as shown to a person: the title and detail, and the code."""
    text = exc.title if not exc.detail else f"{exc.title}: {exc.detail}"
    return f"{text} [{exc.code}]"


def fen_of(text: str) -> int:
    """Yuan with up to two decimals -> integer fen. Raises ValueError naming the field."""
    if not re.fullmatch(r"\d{1,13}(\.\d{1,2})?", text):
        raise ValueError("amount: yuan with at most two decimals, e.g. 161.10")
    whole, _, cents = text.partition(".")
    return int(whole) * 100 + int((cents + "00")[:2])


def _verify(v: Visit, form: dict[str, str]) -> HTMLResponse:
    body: dict[str, Any] = {"billCode": form["c"], "billNumber": form["n"], "checkCode": form["k"]}
    errors = []
    if not re.fullmatch(r"\d{8}", form["c"]):
        errors.append(f"{v.t('verify.code')}: 8 digits")
    if not re.fullmatch(r"\d{10}", form["n"]):
        errors.append(f"{v.t('verify.number')}: 10 digits")
    if not form["k"]:
        errors.append(f"{v.t('verify.check')}: required")
    if form.get("a"):
        try:
            body["totalAmount"] = fen_of(form["a"])
        except ValueError as exc:
            errors.append(str(exc))
    if form.get("d"):
        try:
            body["issueDate"] = dt.date.fromisoformat(form["d"]).isoformat()
        except ValueError:
            errors.append(f"{v.t('verify.date')}: YYYY-MM-DD")
    if errors:
        return v.render("verify.html", status=422, form=form, errors=errors)
    with v.public_api() as api:
        try:
            result = api.post("/v1/public/verify", body)
        except Refused as exc:
            if exc.status != 404:
                return v.render(
                    "verify.html", status=exc.status, form=form, refusal=problem_text(exc)
                )
            result = {"genuine": False, "reason": "not-found"}
    return v.render("verify.html", form=form, result=result)
