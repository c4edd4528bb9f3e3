"""What a deployment of the portal chooses."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .api import Endpoint

#: The reimbursers a payer may authorise: reimburser id -> (zh-CN, English) label.
REIMBURSERS: dict[str, tuple[str, str]] = {
    "MEDINS-HN": ("海南省医疗保障局", "Hainan medical insurance"),
    "PICC-HN": ("中国人保海南分公司", "PICC Hainan (commercial insurer)"),
}


@dataclass(frozen=True)
class PortalSettings:
    """The portal of one deployment.

    ``state``: its SQLite state file (users, sessions, the cookie secret), created 0600.
    ``services``: org -> the org's ebill service (URL and CA); a user calls its own
    org's service with its own key. ``public_org``: whose service answers public
    verification. ``secure_cookies``: the session cookie's Secure flag (served over
    HTTPS always; off only for a plain-HTTP test behind a TLS proxy).
    ``public_url``: the portal's address as printed in the bill's QR code.
    ``stale_lock_minutes``: how long a reimburser's lock is held before the finance
    console lists it as stale, to release.
    """

    state: Path
    services: dict[str, Endpoint]
    public_org: str = "finance"
    secure_cookies: bool = True
    public_url: str = "https://127.0.0.1:9443"
    page_size: int = 20
    reimbursers: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(REIMBURSERS))
    cjk_font: Path | None = None
    stale_lock_minutes: int = 60
