"""``ebill-portal demo up|down``: the services and the portal on the demo's data, left running.

After ``python -m ebill.demo`` (``make demo``) told a bill's life on the network in
``EBILL_DATA_DIR``, ``up``:

1. registers the API clients the pages need with each org's service (``ebill-service
   clients add``, or ``rotate`` for one registered before whose key is not on file):
   the payer platform and the finance console (finance), the hospital's system
   (units), an insurer's claim system (insurance), an auditor's console (audit);
2. adds the portal users (payer 张三, the hospital's clerk, the finance officer, the
   auditor of the supervision dashboard) with
   random passwords; passwords and API keys go to ``demo-users.json`` (0600), printed
   once, when they are made;
3. starts each org's service (``ebill-service serve``, HTTPS with the service's TLS
   certificate) and the portal (``ebill-portal serve``) in the background: pid files in
   ``run/`` and logs in ``logs/`` of the data folder, ports from ``EBILL_BASE_PORT``
   + 300 (services) and + 310 (portal); a process that runs and answers is reused, one
   that does not is restarted;
4. returns when every service's ``/readyz`` is 200 and the portal's sign-in page
   answers, and prints the portal's address, the users and how to stop them.

``down`` stops the portal and the services (``ebill-network down`` stops them too:
they are recorded as the network's processes are). The portal's own package imports
no other first-party package: the services are driven through their command.
"""

from __future__ import annotations

import json
import os
import secrets
import ssl
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .background import Background
from .qr import verify_link
from .users import PARTIES, Store

#: The data the demo leaves (written by ``python -m ebill.demo``).
BILLS_FILE = "demo-bills.json"
#: The users' passwords and the API clients' keys (0600).
USERS_FILE = "demo-users.json"
#: Service ports are base + SERVICE_OFFSET + index of the org; the portal's is base + PORTAL_OFFSET.
SERVICE_OFFSET = 300
PORTAL_OFFSET = 310
DEFAULT_BASE_PORT = 17050
READY_SECONDS = 180.0


@dataclass(frozen=True)
class ApiClient:
    """A business system registered with ``org``'s service, acting as ``user``."""

    client_id: str
    org: str
    user: str
    name: str


#: The services the demo runs, in this order (finance first: it makes the shared TLS
#: certificate before the others start).
ORGS = ("finance", "units", "insurance", "audit")
CLIENTS = (
    ApiClient("demo-platform", "finance", "platform1", "payer platform"),
    ApiClient("demo-finance", "finance", "finance1", "finance console"),
    ApiClient("demo-hospital", "units", "hospital1", "hospital information system"),
    ApiClient("demo-insurer", "insurance", "insurer1", "insurer claim system"),
    ApiClient("demo-auditor", "audit", "auditor1", "auditor console"),
)


@dataclass(frozen=True)
class DemoUser:
    """A portal user of the demo and the API client it calls its service with."""

    username: str
    party: str
    client_id: str


USERS = (
    DemoUser("zhangsan", "payer", "demo-platform"),
    DemoUser("hospital", "unit", "demo-hospital"),
    DemoUser("officer", "finance", "demo-finance"),
    DemoUser("auditor", "supervisor", "demo-auditor"),
)


class DemoError(RuntimeError):
    """The demo cannot be brought up; the message names the step and what to do."""


@dataclass(frozen=True)
class Layout:
    """Where the demo's files and processes are: the data folder, host and ports."""

    data: Path
    base_port: int
    host: str = "127.0.0.1"

    @staticmethod
    def from_env() -> Layout:
        """``EBILL_DATA_DIR`` (default ``.data``) and ``EBILL_BASE_PORT`` (default 17050)."""
        return Layout(
            data=Path(os.environ.get("EBILL_DATA_DIR", ".data")).resolve(),
            base_port=int(os.environ.get("EBILL_BASE_PORT", DEFAULT_BASE_PORT)),
        )

    def service_url(self, org: str) -> str:
        return f"https://{self.host}:{self.base_port + SERVICE_OFFSET + ORGS.index(org)}"

    @property
    def portal_url(self) -> str:
        return f"https://{self.host}:{self.base_port + PORTAL_OFFSET}"

    @property
    def service_cert(self) -> Path:
        return self.data / "service-tls.crt"

    @property
    def portal_cert(self) -> Path:
        return self.data / "portal-tls.crt"

    @property
    def users_file(self) -> Path:
        return self.data / USERS_FILE


def service_name(org: str) -> str:
    return f"service-{org}"


PORTAL = "portal"


def _write_private(path: Path, data: dict[str, Any]) -> None:
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, ensure_ascii=False, indent=2)


def _service_cli(layout: Layout, *args: str) -> str:
    """Run ``ebill-service ARGS`` on the demo's data; its stdout. Raises DemoError."""
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-m", "ebill_service.cli", *args],
        env={**os.environ, "EBILL_DATA_DIR": str(layout.data)},
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise DemoError(f"ebill-service {' '.join(args[:3])}: {proc.stderr.strip()}")
    return proc.stdout


def _api_keys(layout: Layout, known: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """A working key per demo API client: the one on file if the client is registered
    and active, else a new one; and the ids whose key is new."""
    keys: dict[str, str] = {}
    fresh: list[str] = []
    active: dict[str, set[str]] = {}
    for org in ORGS:
        listing = _service_cli(layout, "clients", "list", "--org", org)
        active[org] = {line.split("\t")[0] for line in listing.splitlines() if "\tactive\t" in line}
    for client in CLIENTS:
        registered = client.client_id in active[client.org]
        if registered and client.client_id in known:
            keys[client.client_id] = known[client.client_id]
            continue
        action = ["rotate", client.client_id] if registered else ["add", client.client_id]
        extra = [] if registered else ["--user", client.user, "--name", client.name]
        keys[client.client_id] = _service_cli(
            layout, "clients", *action, "--org", client.org, *extra
        ).strip()
        fresh.append(client.client_id)
    return keys, fresh


def _users(
    layout: Layout, shown: dict[str, Any], keys: dict[str, str], known: dict[str, str]
) -> tuple[dict[str, str], list[str]]:
    """The portal users with their passwords (kept from the file where the user is in
    the portal's store with its current key); and the names added anew."""
    store = Store(layout.data / "portal.sqlite")
    passwords: dict[str, str] = {}
    added: list[str] = []
    unit_code = shown["payerBills"][0]["unitCode"]
    try:
        for user in USERS:
            if user.party not in PARTIES:
                continue
            client = next(c for c in CLIENTS if c.client_id == user.client_id)
            key = keys[user.client_id]
            present = store.user(user.username)
            if present is not None and present.api_key == key and user.username in known:
                passwords[user.username] = known[user.username]
                continue
            store.remove_user(user.username)
            password = secrets.token_urlsafe(12)
            store.add_user(
                user.username,
                password,
                user.party,
                client.org,
                key,
                payer_type=shown["payer"]["type"] if user.party == "payer" else None,
                payer_id=shown["payer"]["id"] if user.party == "payer" else None,
                unit_code=unit_code if user.party == "unit" else None,
            )
            passwords[user.username] = password
            added.append(user.username)
    finally:
        store.close()
    return passwords, added


def _answers(url: str, cafile: Path) -> bool:
    """Whether ``url`` answers 200 over HTTPS with a certificate that chains to ``cafile``."""
    if not cafile.exists():
        return False
    try:
        trust = ssl.create_default_context(cafile=str(cafile))
        return httpx.get(url, verify=trust, timeout=10).status_code == 200
    except (httpx.HTTPError, ssl.SSLError, OSError):
        return False


def _wait(procs: Background, name: str, url: str, cafile: Path, deadline: float) -> None:
    """Return once ``url`` answers 200; raises DemoError with the log's tail if the
    process exits or the deadline passes."""
    while not _answers(url, cafile):
        if procs.pid(name) is None:
            raise DemoError(
                f"{name} exited; last lines of {procs.log_file(name)}:\n{procs.log_tail(name)}"
            )
        if time.monotonic() > deadline:
            raise DemoError(
                f"{name} did not answer {url} in {READY_SECONDS:.0f}s;"
                f" last lines of {procs.log_file(name)}:\n{procs.log_tail(name)}"
            )
        time.sleep(0.5)


def _ensure(
    procs: Background, name: str, argv: list[str], layout: Layout, probe: str, cafile: Path
) -> str:
    """Reuse ``name`` if it runs and ``probe`` answers; else (re)start it. What was done."""
    if procs.pid(name) is not None:
        if _answers(probe, cafile):
            return f"running (pid {procs.pid(name)})"
        procs.stop(name)
        verb = "restarted"
    else:
        verb = "started"
    pid = procs.start(name, argv, {"EBILL_DATA_DIR": str(layout.data)})
    return f"{verb} (pid {pid})"


def up(layout: Layout) -> dict[str, Any]:
    """Bring the demo's services and portal up (see the module); what it did.

    Raises DemoError when the demo has not run, a command fails or a process does not
    become ready."""
    bills = layout.data / BILLS_FILE
    if not bills.exists():
        raise DemoError(f"no {bills}: run the demo first (make demo, or python -m ebill.demo)")
    shown = json.loads(bills.read_text())
    on_file = json.loads(layout.users_file.read_text()) if layout.users_file.exists() else {}
    keys, fresh_keys = _api_keys(layout, on_file.get("apiKeys", {}))
    passwords, added = _users(layout, shown, keys, on_file.get("passwords", {}))
    _write_private(layout.users_file, {"passwords": passwords, "apiKeys": keys})

    procs = Background(layout.data)
    done: dict[str, str] = {}
    deadline = time.monotonic() + READY_SECONDS
    for org in ORGS:
        url = layout.service_url(org)
        port = url.rsplit(":", 1)[1]
        argv = [sys.executable, "-m", "ebill_service.cli", "serve", "--org", org,
                "--host", layout.host, "--port", port]  # fmt: skip
        done[service_name(org)] = _ensure(
            procs, service_name(org), argv, layout, f"{url}/readyz", layout.service_cert
        )
        if org == ORGS[0]:  # its certificate is the others' too: made before they start
            _wait(procs, service_name(org), f"{url}/readyz", layout.service_cert, deadline)
    for org in ORGS:
        url = layout.service_url(org)
        _wait(procs, service_name(org), f"{url}/readyz", layout.service_cert, deadline)
    services = [f"--service={org}={layout.service_url(org)}" for org in ORGS]
    argv = [sys.executable, "-m", "ebill_portal.cli", "--state", str(layout.data / "portal.sqlite"),
            "serve", "--host", layout.host, "--port", layout.portal_url.rsplit(":", 1)[1],
            *services, "--service-ca", str(layout.service_cert)]  # fmt: skip
    login = f"{layout.portal_url}/login"
    done[PORTAL] = _ensure(procs, PORTAL, argv, layout, login, layout.portal_cert)
    _wait(procs, PORTAL, login, layout.portal_cert, deadline)
    return {
        "processes": done,
        "pids": {name: procs.pid(name) for name in done},
        "passwords": passwords,
        "new_users": added,
        "new_keys": fresh_keys,
        "bills": shown,
    }


def down(layout: Layout) -> dict[str, int | None]:
    """Stop the portal, then the services; the pid each had (None: it was not running)."""
    procs = Background(layout.data)
    stopped = {PORTAL: procs.stop(PORTAL)}
    for org in ORGS:
        stopped[service_name(org)] = procs.stop(service_name(org))
    return stopped


def report(layout: Layout, result: dict[str, Any]) -> str:
    """What ``up`` prints: the processes, the address to open, the users, how to stop."""
    lines = ["", "== The services and the portal, on the demo's data"]
    for name, what in result["processes"].items():
        url = layout.portal_url if name == PORTAL else layout.service_url(name.split("-", 1)[1])
        lines.append(f"   {name:<18} {url}  {what}, log {Background(layout.data).log_file(name)}")
    lines += ["", f"Open the portal: {layout.portal_url}/"]
    lines.append(f"   (its certificate is self-signed: {layout.portal_cert})")
    users = {u.username: u for u in USERS}
    if result["new_users"]:
        lines.append(f"Users (passwords shown once; kept in {layout.users_file}, 0600):")
        for name in result["new_users"]:
            lines.append(f"   {name:<10} {users[name].party:<8} {result['passwords'][name]}")
    else:
        lines.append(f"Users {', '.join(result['passwords'])}: passwords in {layout.users_file}")
    if result["new_keys"]:
        lines.append(f"API keys of {', '.join(result['new_keys'])}: new, in {layout.users_file}")
    bills = result["bills"]
    payer_bill = bills["payerBills"][0]
    lines += [
        f"zhangsan (payer): enter the bill key {bills['payer']['billKey']} on 我的票据 (my bills)",
        f"   to see {payer_bill['billCode']}-{payer_bill['billNumber']} and the run's other bill",
        f"hospital (unit {payer_bill['unitCode']}): the day {payer_bill['day']}"
        f" at {layout.portal_url}/unit?day={payer_bill['day']}",
        "Verify (the bill's QR link): "
        + verify_link(
            layout.portal_url,
            payer_bill["billCode"],
            payer_bill["billNumber"],
            payer_bill["checkCode"],
        ),
        "",
        "Stop them: make demo-down (the network keeps running),"
        " or make network-down / ebill-network down (the network and them)",
    ]
    return "\n".join(lines)


def main(action: str) -> int:
    """``ebill-portal demo up|down`` on ``EBILL_DATA_DIR`` / ``EBILL_BASE_PORT``."""
    layout = Layout.from_env()
    try:
        if action == "up":
            print(report(layout, up(layout)), flush=True)
        else:
            for name, pid in down(layout).items():
                print(f"{name}: {'stopped pid ' + str(pid) if pid else 'was not running'}")
    except DemoError as error:
        print(f"ebill-portal demo: {error}", file=sys.stderr)
        return 1
    return 0
