"""The service's events on the real network: signed webhooks (redelivered after a failure
and across a restart) and the SSE stream resumed from an event id.

The units and finance services run in this process over HTTPS; a test receiver (an
HTTPS server in this test, its certificate given to the service as ``webhook_ca``)
records what the service POSTs to it.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from service_harness import Running, start

import fabricgw
from ebill.samples import OUTPATIENT_CODE, outpatient_bill
from ebill.unit import new_check_code
from ebill_chaincode.contract.checkcode import hash_check_code
from ebill_network.network import Network
from ebill_service.settings import Settings
from ebill_service.tlscert import self_signed
from ebill_service.webhooks import SIGNATURE_HEADER, verify

CLIENTS = {
    "units": {"his-hospital": "hospital1", "school-fees": "school1"},
    "finance": {"fin-console": "finance1", "platform": "platform1"},
}


@dataclass
class Receiver:
    """An HTTPS server recording every POST; ``fail[path, bill number]`` answers the
    deliveries of that bill's events 500 that many times (a new subscription may also
    be given older events the service records after it, so failures are targeted)."""

    url: str
    cert: Path
    received: list[dict[str, Any]] = field(default_factory=list)
    fail: dict[tuple[str, str], int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def posts(self, path: str, bill_number: str) -> list[dict[str, Any]]:
        with self.lock:
            return [
                r
                for r in self.received
                if r["path"] == path and r["event"].get("billNumber") == bill_number
            ]


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Receiver]:
    folder = tmp_path_factory.mktemp("receiver")
    cert, key = self_signed(folder, "127.0.0.1")
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            me = state["receiver"]
            target = (self.path, str(json.loads(body).get("billNumber")))
            with me.lock:
                failing = me.fail.get(target, 0)
                if failing:
                    me.fail[target] = failing - 1
                status = 500 if failing else 200
                me.received.append(
                    {
                        "path": self.path,
                        "body": body,
                        "event": json.loads(body),
                        "signature": self.headers.get(SIGNATURE_HEADER, ""),
                        "status": status,
                    }
                )
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    state["receiver"] = Receiver(f"https://127.0.0.1:{server.server_address[1]}", cert)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state["receiver"]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def services(
    network: Network,
    world: Any,
    receiver: Receiver,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Running]]:
    running: dict[str, Running] = {}
    try:
        for org in CLIENTS:
            folder = tmp_path_factory.mktemp(f"events-{org}")
            settings = Settings(
                org=org,
                network=network.layout.network_file(),
                state=folder / "state.sqlite",
                webhook_ca=receiver.cert,
                webhook_backoff=0.2,
            )
            running[org] = start(settings)
        yield running
    finally:
        for service in running.values():
            service.stop()


@pytest.fixture(scope="module")
def keys(services: dict[str, Running]) -> dict[str, str]:
    return {
        client_id: services[org].service.clients.register(client_id, client_id, org, user)
        for org, clients in CLIENTS.items()
        for client_id, user in clients.items()
    }


def _until(probe: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    """Poll ``probe`` until it answers something truthy (events arrive after a commit)."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _issue(client: Any, number: str) -> dict[str, Any]:
    sample = outpatient_bill(number)
    body = {"bill": sample.bill, "payer": sample.payer, "medical": sample.medical}
    issued = client.post("/v1/bills", json=body)
    assert issued.status_code == 201, issued.text
    answer: dict[str, Any] = issued.json()
    return answer


def _sse(client: Any, *, max_events: int, last_id: str | None = None, **params: Any) -> list[Any]:
    """Read ``max_events`` events of the stream; [(id, type, data)]."""
    headers = {"Last-Event-ID": last_id} if last_id else {}
    out: list[Any] = []
    current: dict[str, str] = {}
    with client.stream(
        "GET", "/v1/events", params={"maxEvents": max_events, **params}, headers=headers
    ) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if not line:
                if "id" in current:
                    out.append((current["id"], current["event"], json.loads(current["data"])))
                current = {}
                continue
            name, _, value = line.partition(": ")
            current[name] = value
    return out


def test_webhooks_signed_redelivered_after_failure_and_a_restart(
    services: dict[str, Running],
    keys: dict[str, str],
    receiver: Receiver,
    next_number: Callable[[], str],
) -> None:
    units = services["units"]
    secrets: dict[str, str] = {}
    hooks: dict[str, str] = {}
    with (
        units.client(keys["his-hospital"]) as hospital,
        units.client(keys["school-fees"]) as school,
    ):
        for name, client, unit in (
            ("ok", hospital, "HN0101"),
            ("flaky", hospital, None),
            ("school", school, None),
        ):
            created = client.post(
                "/v1/webhooks",
                json={"url": f"{receiver.url}/{name}", "types": ["IssueBill"], "unit": unit},
            )
            assert created.status_code == 201, created.text
            secrets[name], hooks[name] = created.json()["secret"], created.json()["webhookId"]
        listed = hospital.get("/v1/webhooks").json()
        assert {h["webhookId"] for h in listed} == {hooks["ok"], hooks["flaky"]}
        assert all("secret" not in h for h in listed)
        # a unit's client cannot subscribe to another unit's events; bad input is named
        other = hospital.post("/v1/webhooks", json={"url": f"{receiver.url}/x", "unit": "HN0201"})
        assert other.status_code == 403 and "unit" in other.json()["detail"]
        plain = hospital.post("/v1/webhooks", json={"url": "http://127.0.0.1:1/x"})
        assert plain.status_code == 422 and "url" in plain.json()["detail"]
        wrong = hospital.post("/v1/webhooks", json={"url": f"{receiver.url}/x", "types": ["No"]})
        assert wrong.status_code == 422 and "types" in wrong.json()["detail"]
        assert school.get(f"/v1/webhooks/{hooks['ok']}").status_code == 404  # not its own

        number = next_number()
        receiver.fail["/flaky", number] = 1
        _issue(hospital, number)

        ok = _until(lambda: receiver.posts("/ok", number), "the delivery to /ok")
        event = ok[0]["event"]
        assert event["type"] == "IssueBill" and event["unitCode"] == "HN0101"
        assert event["billCode"] == OUTPATIENT_CODE and event["txId"]
        block, tx, index = event["id"].split(":")
        assert int(block) == event["blockNumber"] and tx == event["txId"] and index.isdigit()
        assert verify(secrets["ok"], ok[0]["body"], ok[0]["signature"])
        assert not verify(secrets["flaky"], ok[0]["body"], ok[0]["signature"])
        assert not verify(secrets["ok"], ok[0]["body"] + b" ", ok[0]["signature"])
        assert set(event["data"]) <= {"billCode", "billNumber", "status", "unitCode", "batchId",
                                      "org"}  # fmt: skip

        flaky = _until(lambda: len(receiver.posts("/flaky", number)) >= 2 and
                       receiver.posts("/flaky", number), "the redelivery to /flaky")  # fmt: skip
        assert [p["status"] for p in flaky[:2]] == [500, 200]
        assert flaky[0]["event"]["id"] == flaky[1]["event"]["id"] == event["id"]
        assert all(verify(secrets["flaky"], p["body"], p["signature"]) for p in flaky)
        state = hospital.get(f"/v1/webhooks/{hooks['flaky']}").json()
        assert state["deliveries"]["delivered"] >= 1

    # the school's client (unit HN0201) was never given the hospital's event
    with units.service.store.transaction() as db:
        rows = db.execute(
            "SELECT COUNT(*) FROM deliveries d JOIN events e USING (seq)"
            " WHERE d.webhook_id=? AND e.bill_number=?",
            (hooks["school"], number),
        ).fetchone()[0]
    assert rows == 0
    assert receiver.posts("/school", number) == []

    # a delivery pending when the service stops is delivered after its restart
    second = next_number()
    receiver.fail["/ok", second] = 10**6
    with units.client(keys["his-hospital"]) as hospital:
        _issue(hospital, second)
    _until(lambda: receiver.posts("/ok", second), "the first (failing) attempt")
    units.stop()
    with receiver.lock:
        receiver.fail["/ok", second] = 0
    restarted = start(replace(units.settings))
    services["units"] = restarted
    delivered = _until(
        lambda: [p for p in receiver.posts("/ok", second) if p["status"] == 200], "redelivery"
    )
    assert verify(secrets["ok"], delivered[0]["body"], delivered[0]["signature"])
    with restarted.client(keys["his-hospital"]) as hospital:
        assert hospital.delete(f"/v1/webhooks/{hooks['flaky']}").status_code == 204
        assert hospital.get(f"/v1/webhooks/{hooks['flaky']}").status_code == 404


def test_sse_resumes_from_an_event_id_without_gaps_or_duplicates(
    services: dict[str, Running], keys: dict[str, str], next_number: Callable[[], str]
) -> None:
    numbers = [next_number() for _ in range(3)]
    with services["units"].client(keys["his-hospital"]) as hospital:
        for number in numbers:
            _issue(hospital, number)

    with services["finance"].client(keys["fin-console"]) as finance:
        total = _until(lambda: _count_until(services, numbers[-1]), "the finance follower")
        everything = _sse(finance, max_events=total)
        ids = [e[0] for e in everything]
        assert len(ids) == len(set(ids)) == total
        positions = [(int(i.split(":")[0]), int(i.split(":")[2])) for i in ids]
        assert positions == sorted(positions)
        assert numbers[-1] in {e[2].get("billNumber") for e in everything}

        cut = total // 2
        resumed = _sse(finance, max_events=total - cut - 1, last_id=ids[cut])
        assert [e[0] for e in resumed] == ids[cut + 1 :]
        by_query = _sse(finance, max_events=1, lastEventId=ids[-2])
        assert [e[0] for e in by_query] == [ids[-1]]
        bad = finance.get("/v1/events", headers={"Last-Event-ID": "nonsense"})
        assert bad.status_code == 422 and "Last-Event-ID" in bad.json()["detail"]

    with services["units"].client(keys["school-fees"]) as school:
        mine = _sse(school, max_events=1)  # HN0201 applied for stock; never HN0101's bills
        assert all(e[2]["unitCode"] == "HN0201" for e in mine)
    with services["finance"].client(keys["platform"]) as platform:
        assert platform.get("/v1/events").status_code == 403


def _count_until(services: dict[str, Running], number: str) -> int:
    """The number of events the finance service recorded once it holds bill ``number``."""
    with services["finance"].service.store.transaction() as db:
        found = db.execute(
            "SELECT seq FROM events WHERE bill_number=? AND type='IssueBill'", (number,)
        ).fetchone()
        total = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    return int(total) if found else 0


def _sign(key_file: str, digest_b64: str) -> str:
    """What the business system does with its own key: sign the digest (low-S DER)."""
    signer = fabricgw.new_private_key_signer(fabricgw.load_private_key_file(key_file))
    return base64.b64encode(signer(base64.b64decode(digest_b64))).decode()


def test_offline_signing_prepare_sign_endorse_sign_submit(
    services: dict[str, Running],
    keys: dict[str, str],
    description: dict[str, Any],
    next_number: Callable[[], str],
) -> None:
    users = description["orgs"]["units"]["users"]
    own_key, other_key = users["hospital1"]["key"], users["school1"]["key"]
    units = services["units"]
    number, red_number = next_number(), next_number()
    with units.client(keys["his-hospital"]) as hospital:
        _issue(hospital, number)
        # RedLetterBill takes the red bill's check-code hash as transient data
        call = {
            "function": "RedLetterBill",
            "args": [OUTPATIENT_CODE, number, red_number, "wrong amount"],
            "transient": {"checkCodeHash": hash_check_code(new_check_code())},
        }
        prepared = hospital.post(
            "/v1/offline/proposals",
            json=call,
        )
        assert prepared.status_code == 201, prepared.text
        tx = prepared.json()["transactionId"]
        proposal = prepared.json()["bytes"]
        endorse = f"/v1/offline/proposals/{tx}/endorse"

        # signed with another identity's key: the peer refuses it, nothing is written
        forged = hospital.post(
            endorse,
            json={"bytes": proposal, "signature": _sign(other_key, prepared.json()["digest"])},
        )
        assert forged.status_code == 422 and forged.json()["code"] == "signature-refused", (
            forged.text
        )
        # other bytes than those prepared are refused before reaching the peer
        tampered = base64.b64encode(base64.b64decode(proposal) + b"\x00").decode()
        sent = hospital.post(endorse, json={"bytes": tampered, "signature": tampered})
        assert sent.status_code == 422 and "bytes" in sent.json()["detail"]
        # another client cannot continue this client's transaction
        with units.client(keys["school-fees"]) as school:
            assert (
                school.post(endorse, json={"bytes": proposal, "signature": proposal}).status_code
                == 404
            )

        signature = _sign(own_key, prepared.json()["digest"])
        endorsed = hospital.post(endorse, json={"bytes": proposal, "signature": signature})
        assert endorsed.status_code == 200, endorsed.text
        result = json.loads(base64.b64decode(endorsed.json()["result"]))
        assert result["red"]["billNumber"] == red_number
        unchanged = hospital.get(f"/v1/bills/{OUTPATIENT_CODE}/{number}").json()
        assert unchanged["status"] == "issued"  # endorsed, not submitted yet

        submit = f"/v1/offline/transactions/{tx}/submit"
        signed = {
            "bytes": endorsed.json()["bytes"],
            "signature": _sign(own_key, endorsed.json()["digest"]),
        }
        committed = hospital.post(submit, json=signed)
        assert committed.status_code == 200, committed.text
        assert committed.json()["valid"] is True and committed.json()["code"] == "VALID"
        again = hospital.post(submit, json=signed)  # a retry: the same status, no second tx
        assert again.json() == committed.json()

        after = hospital.get(f"/v1/bills/{OUTPATIENT_CODE}/{number}").json()
        assert after["status"] == "red_lettered" and after["lastAction"]["txId"] == tx
        red = hospital.get(f"/v1/bills/{OUTPATIENT_CODE}/{red_number}").json()
        assert red["lastAction"]["txId"] == tx and red["lastAction"]["actorId"]

        refused = hospital.post("/v1/offline/proposals", json={"function": "Nope"})
        assert refused.status_code == 422 and "function" in refused.json()["detail"]
    # the service never loaded the key: its state holds no key material
    assert b"PRIVATE KEY" not in Path(units.settings.state).read_bytes()
