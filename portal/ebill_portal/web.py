"""What every page shares: the visitor's session and user, language, CSRF check, rendering,
and the refusal of a page to a party that may not see it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from . import i18n, money, session
from .api import Endpoint, ServiceAPI
from .settings import PortalSettings
from .users import Session, Store, User

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.filters["yuan"] = money.yuan
TEMPLATES.env.filters["capital"] = money.capital
TEMPLATES.env.filters["china_time"] = i18n.china_time


class PageError(Exception):
    """A page that answers an error message (403, 404, 400...) instead of its content."""

    def __init__(self, status: int, message_key: str, detail: str = "") -> None:
        super().__init__(message_key)
        self.status, self.message_key, self.detail = status, message_key, detail


@dataclass
class Portal:
    """The running portal: settings, state and the cookie secret."""

    settings: PortalSettings
    store: Store
    secret: bytes

    def endpoint(self, org: str) -> Endpoint:
        try:
            return self.settings.services[org]
        except KeyError:
            raise PageError(503, "error.unavailable", f"no service for {org}") from None


@dataclass
class Visit:
    """One request's visitor: session (made on first visit), user, language."""

    portal: Portal
    request: Request
    session: Session
    user: User | None
    lang: str
    fresh: bool

    def t(self, key: str) -> str:
        return i18n.translate(self.lang, key)

    def api(self) -> ServiceAPI:
        """The service of the signed-in user's org, called with the user's key."""
        if self.user is None:
            raise PageError(403, "error.forbidden")
        return ServiceAPI(self.portal.endpoint(self.user.org), self.user.api_key)

    def public_api(self) -> ServiceAPI:
        return ServiceAPI(self.portal.endpoint(self.portal.settings.public_org))

    def require(self, party: str) -> User:
        """The user when it is a ``party`` user. Raises PageError 403 otherwise."""
        if self.user is None or self.user.party != party:
            raise PageError(403, "error.forbidden")
        return self.user

    def check_csrf(self, form: Any) -> None:
        """Raises PageError 400 when the form lacks the session's CSRF token."""
        if not session.csrf_ok(self.session.csrf, form.get("csrf")):
            raise PageError(400, "error.csrf")

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        response = TEMPLATES.TemplateResponse(
            self.request,
            template,
            {"v": self, "t": self.t, "user": self.user, "csrf": self.session.csrf, **context},
            status_code=status,
        )
        self.set_cookie(response)
        return response

    def set_cookie(self, response: Any) -> None:
        if self.fresh:
            response.set_cookie(
                session.COOKIE,
                session.sign(self.portal.secret, self.session.id),
                httponly=True,
                secure=self.portal.settings.secure_cookies,
                samesite="strict",
                path="/",
            )


def visit(request: Request) -> Visit:
    """The request's visitor (a FastAPI dependency)."""
    portal: Portal = request.app.state.portal
    sid = session.unsign(portal.secret, request.cookies.get(session.COOKIE))
    found = portal.store.session(sid) if sid else None
    fresh = found is None
    current = found or portal.store.new_session()
    user = portal.store.user(current.username) if current.username else None
    lang = i18n.language(request.cookies.get(session.LANG_COOKIE))
    return Visit(portal, request, current, user, lang, fresh)


#: A page's visitor, as a FastAPI dependency.
VisitDep = Annotated[Visit, Depends(visit)]
