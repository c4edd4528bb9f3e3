"""``make demo`` leaves each org's service and the portal running on the demo's data.

The demo's life cycle reconciles the hospital's and the school's open stock batches,
which the session network's other modules issue from, so this module runs ``make
demo`` on a network of its own (a temporary folder, ports EBILL_TEST_BASE_PORT + 1500;
the services and the portal on + 1800.. and + 1810), removed at the end. Everything
is checked over HTTPS against the background processes the command started: the
services' /readyz, the portal's sign-in, the demo's bills on the payer's and the unit's
pages; then a second ``up`` reuses what runs and restarts what died, and ``make
demo-down`` and ``ebill-network down`` each leave none of the recorded processes.
"""

from __future__ import annotations

import json
import os
import re
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BASE = int(os.environ.get("EBILL_TEST_BASE_PORT", "27050")) + 1500
ORGS = ("finance", "units", "insurance", "audit")
NAMES = ("portal", *(f"service-{org}" for org in ORGS))
PORTAL_URL = f"https://127.0.0.1:{BASE + 310}"


@dataclass
class Demo:
    data: Path
    env: dict[str, str]
    output: str

    def json(self, name: str) -> dict[str, object]:
        return json.loads((self.data / name).read_text())  # type: ignore[no-any-return]

    def recorded(self) -> dict[str, tuple[int, str]]:
        """name -> (pid, start time) of the demo's processes recorded in run/."""
        out = {}
        for name in NAMES:
            path = self.data / "run" / f"{name}.pid"
            if path.exists():
                pid, started = path.read_text().split()
                out[name] = (int(pid), started)
        return out


def alive(pid: int, started: str) -> bool:
    """Whether the process that started at ``started`` still runs as ``pid``."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z" and fields[19] == started


def run(demo_env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv), cwd=ROOT, env=demo_env, capture_output=True, text=True, timeout=1200
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    data = tmp_path_factory.mktemp("demo") / "data"
    env = {**os.environ, "EBILL_DATA_DIR": str(data), "EBILL_BASE_PORT": str(BASE)}
    try:
        made = run(env, "make", "--no-print-directory", "demo")
        assert made.returncode == 0, made.stdout[-4000:] + made.stderr[-4000:]
        yield Demo(data, env, made.stdout)
    finally:
        run(env, str(BIN / "ebill-network"), "clean")


def portal_client(demo: Demo) -> httpx.Client:
    """An HTTPS client of the portal trusting exactly its self-signed certificate."""
    trust = ssl.create_default_context(cafile=str(demo.data / "portal-tls.crt"))
    return httpx.Client(base_url=PORTAL_URL, verify=trust, timeout=60)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the form carries its CSRF token"
    return found.group(1)


def sign_in(client: httpx.Client, username: str, password: str) -> httpx.Response:
    page = client.get("/login")
    assert page.status_code == 200
    form = {"csrf": csrf_of(page.text), "username": username, "password": password}
    return client.post("/login", data=form)


def test_make_demo_prints_the_address_the_users_and_how_to_stop(demo: Demo) -> None:
    out = demo.output
    assert "demo: done in" in out  # the life cycle ran first
    assert f"Open the portal: {PORTAL_URL}/" in out
    users_file = demo.data / "demo-users.json"
    assert f"kept in {users_file}, 0600" in out
    assert "make demo-down" in out and "ebill-network down" in out
    for name in ("demo-users.json", "demo-bills.json"):
        assert (demo.data / name).stat().st_mode & 0o777 == 0o600, name
    users = demo.json("demo-users.json")
    passwords = users["passwords"]
    assert isinstance(passwords, dict) and set(passwords) == {
        "zhangsan",
        "hospital",
        "officer",
        "auditor",
    }
    for name, password in passwords.items():
        assert re.search(rf"^   {name} +\w+ +{re.escape(password)}$", out, re.M), name
    keys = users["apiKeys"]
    assert isinstance(keys, dict) and len(keys) == 5
    assert all(key not in out for key in keys.values())  # keys stay in the file
    bills = demo.json("demo-bills.json")
    payer = bills["payer"]
    assert isinstance(payer, dict) and f"the bill key {payer['billKey']}" in out
    for name in NAMES:
        assert re.search(rf"^   {name} +https://127\.0\.0\.1:\d+  started \(pid \d+\)", out, re.M)
    assert set(demo.recorded()) == set(NAMES)


def test_every_service_is_ready_over_https(demo: Demo) -> None:
    trust = ssl.create_default_context(cafile=str(demo.data / "service-tls.crt"))
    for index, org in enumerate(ORGS):
        url = f"https://127.0.0.1:{BASE + 300 + index}/readyz"
        answer = httpx.get(url, verify=trust, timeout=30)
        assert answer.status_code == 200, org
        ready = answer.json()
        index = ready.pop("index", None)  # the supervising orgs' services keep a read model
        assert ready == {"status": "ready"}, org
        if org in ("finance", "audit"):
            assert isinstance(index, dict) and {"height", "lagBlocks"} <= set(index), org
        else:
            assert index is None, org


def test_the_demo_users_sign_in_and_see_the_demos_bills(demo: Demo) -> None:
    passwords = demo.json("demo-users.json")["passwords"]
    bills = demo.json("demo-bills.json")
    assert isinstance(passwords, dict)
    payer, payer_bills = bills["payer"], bills["payerBills"]
    assert isinstance(payer, dict) and isinstance(payer_bills, list)
    with portal_client(demo) as client:
        login = client.get("/login")
        assert login.status_code == 200 and 'id="password"' in login.text
        assert sign_in(client, "zhangsan", "not the password").status_code == 401
        signed = sign_in(client, "zhangsan", passwords["zhangsan"])
        assert signed.status_code == 303 and signed.headers["location"] == "/payer"
        mine = client.get("/payer")
        assert mine.status_code == 200
        form = {"csrf": csrf_of(mine.text), "salt": payer["billKey"]}
        listed = client.post("/payer/keys", data=form, follow_redirects=True)
        assert listed.status_code == 200
        for bill in payer_bills:
            assert f"{bill['billCode']}-{bill['billNumber']}" in listed.text, bill
        first = payer_bills[0]
        page = client.get(f"/bills/{first['billCode']}/{first['billNumber']}")
        assert page.status_code == 200 and 'id="bill-tx"' in page.text
        pdf = client.get(f"/bills/{first['billCode']}/{first['billNumber']}.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    with portal_client(demo) as client:
        signed = sign_in(client, "hospital", passwords["hospital"])
        assert signed.status_code == 303 and signed.headers["location"] == "/unit"
        day = client.get("/unit", params={"day": payer_bills[0]["day"]})
        assert day.status_code == 200
        for bill in payer_bills:
            assert f'id="row-{bill["billNumber"]}"' in day.text, bill
    with portal_client(demo) as client:  # the auditor's supervision dashboard
        signed = sign_in(client, "auditor", passwords["auditor"])
        assert signed.status_code == 303 and signed.headers["location"] == "/supervision"
        board = client.get("/supervision")
        assert board.status_code == 200 and 'id="kpi-bills"' in board.text
        assert 'id="t-units"' in board.text and "/static/echarts.min.js" in board.text
    with portal_client(demo) as client:
        first = payer_bills[0]
        link = {"c": first["billCode"], "n": first["billNumber"], "k": first["checkCode"]}
        verified = client.get("/verify", params=link)
        assert verified.status_code == 200 and "真票" in verified.text


def test_a_second_up_reuses_what_runs_and_restarts_what_died(demo: Demo) -> None:
    before = demo.recorded()
    pid, started = before["portal"]
    os.killpg(pid, signal.SIGKILL)
    again = run(demo.env, str(BIN / "ebill-portal"), "demo", "up")
    assert again.returncode == 0, again.stderr
    after = demo.recorded()
    for name in NAMES:
        if name == "portal":
            assert after[name] != before[name] and f"started (pid {after[name][0]})" in again.stdout
        else:
            assert after[name] == before[name], name
            assert f"running (pid {before[name][0]})" in again.stdout
    assert "passwords in" in again.stdout and "shown once" not in again.stdout
    passwords = demo.json("demo-users.json")["passwords"]
    assert isinstance(passwords, dict)
    with portal_client(demo) as client:  # the same password still signs in
        assert sign_in(client, "officer", passwords["officer"]).status_code == 303


def test_demo_down_and_network_down_each_leave_no_process(demo: Demo) -> None:
    running = demo.recorded()
    assert all(alive(*p) for p in running.values())
    stopped = run(demo.env, "make", "--no-print-directory", "demo-down")
    assert stopped.returncode == 0, stopped.stderr
    assert [name for name, p in running.items() if alive(*p)] == []
    assert demo.recorded() == {}
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{PORTAL_URL}/login", verify=False, timeout=10)

    started = run(demo.env, str(BIN / "ebill-portal"), "demo", "up")
    assert started.returncode == 0, started.stderr
    running = demo.recorded()
    assert set(running) == set(NAMES) and all(alive(*p) for p in running.values())
    down = run(demo.env, str(BIN / "ebill-network"), "down")
    assert down.returncode == 0, down.stderr
    assert [name for name, p in running.items() if alive(*p)] == []
    assert demo.recorded() == {}
