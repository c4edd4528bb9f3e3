"""Run the portal in this process over HTTPS, and drive it with Debian's chromium.

Playwright's Python package drives ``/usr/bin/chromium`` (``executable_path``; the
browser download of ``playwright install`` is never used). axe-core comes from the
lockfile in ``tests/portal/axe`` (``make portal-deps``) and is injected into each page.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from service_harness import Running

from ebill_portal.api import Endpoint
from ebill_portal.app import create_app
from ebill_portal.settings import PortalSettings
from ebill_portal.tlscert import self_signed
from ebill_portal.users import Store

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "tests" / "portal" / "axe" / "node_modules" / "axe-core" / "axe.min.js"


@dataclass
class RunningPortal:
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def start_portal(make_settings: Any, folder: Path) -> RunningPortal:
    """Start the portal with ``make_settings(url)`` on a free port, over HTTPS."""
    sock = free_socket()
    url = f"https://127.0.0.1:{sock.getsockname()[1]}"
    settings: PortalSettings = make_settings(url)
    cert, key = self_signed(folder)
    config = uvicorn.Config(
        create_app(settings),
        ssl_certfile=str(cert),
        ssl_keyfile=str(key),
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the portal did not start")
        time.sleep(0.05)
    return RunningPortal(url, server, thread)


@contextmanager
def serve_portal(
    services: Mapping[str, Running],
    folder: Path,
    add_users: Callable[[Store], object],
    **options: Any,
) -> Iterator[RunningPortal]:
    """Start the portal over ``services`` with the users ``add_users(store)`` adds to its
    state in ``folder`` and the PortalSettings ``options`` (page_size, ...); yields it
    running and stops it afterwards. Raises RuntimeError if it does not start."""
    state = folder / "portal.sqlite"
    store = Store(state)
    try:
        add_users(store)
    finally:
        store.close()

    def settings(url: str) -> PortalSettings:
        endpoints = {
            org: Endpoint(running.url, str(running.cert)) for org, running in services.items()
        }
        return PortalSettings(state=state, services=endpoints, public_url=url, **options)

    running = start_portal(settings, folder)
    try:
        yield running
    finally:
        running.stop()


def screenshots_folder() -> Path:
    """Where the tests save a screenshot of each page (EBILL_PORTAL_SCREENSHOTS, default
    build/portal-screenshots in the repository)."""
    folder = Path(os.environ.get("EBILL_PORTAL_SCREENSHOTS", ROOT / "build" / "portal-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def serious_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@contextmanager
def chromium_browser() -> Iterator[Any]:
    """Debian's chromium, headless, driven by Playwright (its own browser download does not
    work here); ``make portal-deps`` installs it and axe-core."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "make portal-deps installs Debian's chromium"
    assert AXE.exists(), "make portal-deps installs axe-core from tests/portal/axe"
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield browser
        browser.close()


@contextmanager
def portal_page(browser: Any, base_url: str) -> Iterator[Any]:
    """A page on the portal in a fresh zh-CN context; bypass_csp lets a test inject
    axe.min.js (the portal's own pages need no inline script)."""
    context = browser.new_context(
        ignore_https_errors=True, bypass_csp=True, base_url=base_url, locale="zh-CN"
    )
    yield context.new_page()
    context.close()


def check_page(page: Any, name: str, shots: list[Path]) -> None:
    """Save a screenshot of the page (listed in ``shots``) and assert axe-core finds
    nothing serious on it."""
    path = screenshots_folder() / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    shots.append(path)
    assert serious_violations(page) == [], name


def fill_sign_in(page: Any, username: str, password: str) -> None:
    """Send the portal's sign-in form as ``username``."""
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]:has-text('登录')")
