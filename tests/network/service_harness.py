"""Run the ebill service of an org in this process, over HTTPS, for the network tests."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
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


@contextmanager
def start_services(
    network_file: Path,
    folder: Path,
    orgs: Mapping[str, object],
    index_db: Mapping[str, str] | None = None,
) -> Iterator[dict[str, Running]]:
    """Start the service of each org in ``orgs`` (state in ``folder``, read model at
    ``index_db[org]`` if given); yields org -> :class:`Running` and stops every service
    started, also when one fails to start (RuntimeError)."""
    running: dict[str, Running] = {}
    try:
        for org in orgs:
            settings = Settings(
                org=org,
                network=network_file,
                state=folder / f"{org}.sqlite",
                index_db=(index_db or {}).get(org),
            )
            running[org] = start(settings)
        yield running
    finally:
        for service in running.values():
            service.stop()


def register_clients(
    services: Mapping[str, Running], clients: Mapping[str, Mapping[str, str]]
) -> dict[str, str]:
    """Register ``clients`` (org -> client id -> identity) in their org's service;
    returns client id -> API key."""
    return {
        client_id: services[org].service.clients.register(client_id, client_id, org, user)
        for org, org_clients in clients.items()
        for client_id, user in org_clients.items()
    }
