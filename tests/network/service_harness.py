"""Run the ebill service of an org in this process, over HTTPS, for the network tests."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from ebill_service.app import create_app
from ebill_service.context import Service
from ebill_service.settings import Settings
from ebill_service.tlscert import self_signed


@dataclass
class Running:
    """A service listening on a loopback port; :meth:`client` is an HTTPS client of it."""

    settings: Settings
    service: Service
    server: uvicorn.Server
    thread: threading.Thread
    url: str
    cert: Path

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        trust = ssl.create_default_context(cafile=self.cert)
        return httpx.Client(base_url=self.url, verify=trust, headers=headers, timeout=90)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def start(settings: Settings) -> Running:
    """Start ``settings``' service on a free port; returns when it accepts connections."""
    service = Service(settings)
    cert, key = self_signed(settings.state.parent, "127.0.0.1")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings, service=service),
        ssl_certfile=str(cert),
        ssl_keyfile=str(key),
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the {settings.org} service did not start")
        time.sleep(0.05)
    return Running(settings, service, server, thread, f"https://127.0.0.1:{port}", cert)
