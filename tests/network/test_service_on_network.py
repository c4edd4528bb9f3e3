"""The ebill service over HTTPS, one per org, on the real network of this test run.

Every call goes through the service's HTTP API as a business system would send it, with
the API key of a registered client; the service reaches its org's peer through the party
clients. Bills use fresh numbers of the session's approved stock (``next_number``).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from service_harness import Running, register_clients, start, start_services

from ebill.samples import OUTPATIENT_CODE, PAYER1, outpatient_bill
from ebill_network.network import Network
from ebill_service.settings import Settings

#: The API clients each org's service registers: client id -> identity.
CLIENTS = {
    "finance": {"fin-console": "finance1", "platform": "platform1"},
    "units": {"his-hospital": "hospital1", "his-clerk": "clerk1", "school-fees": "school1"},
    "insurance": {"medins-claims": "medins1", "picc-claims": "insurer1"},
    "audit": {"audit-desk": "auditor1"},
}


@pytest.fixture(scope="module")
def services(
    network: Network, world: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Running]]:
    folder = tmp_path_factory.mktemp("service")
    with start_services(network.layout.network_file(), folder, CLIENTS) as running:
        yield running


@pytest.fixture(scope="module")
def keys(services: dict[str, Running]) -> dict[str, str]:
    """client id -> API key, registered in each org's service."""
    return register_clients(services, CLIENTS)


@pytest.fixture(scope="module")
def http(services: dict[str, Running], keys: dict[str, str]) -> Iterator[Callable[..., Any]]:
    """``http(client_id)``: an HTTPS client of that client's org's service with its key."""
    opened: dict[tuple[str, str], Any] = {}
    org_of = {cid: org for org, clients in CLIENTS.items() for cid in clients}

    def factory(client_id: str) -> Any:
        running = services[org_of[client_id]]  # a test may have restarted it
        if (client_id, running.url) not in opened:
            opened[client_id, running.url] = running.client(keys[client_id])
        return opened[client_id, running.url]

    yield factory
    for client in opened.values():
        client.close()


def _issue_body(number: str) -> tuple[dict[str, Any], Any]:
    sample = outpatient_bill(number)
    return {"bill": sample.bill, "payer": sample.payer, "medical": sample.medical}, sample


def _until(probe: Callable[[], Any], timeout: float = 15.0) -> Any:
    """A read on another org's peer sees a block a moment after it committed."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return probe()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_openapi_31_lists_the_operations_of_the_orgs_roles(services: dict[str, Running]) -> None:
    with services["units"].client() as client:
        doc = client.get("/openapi.json").json()
        assert client.get("/docs").status_code == 200
    assert doc["openapi"].startswith("3.1")
    paths = doc["paths"]
    assert "/v1/bills" in paths and "/v1/stock" in paths and "/v1/public/verify" in paths
    assert "/v1/units" not in paths  # registering units is finance's, not the units org's
    assert "/v1/payer/authorise" not in paths
    issue = paths["/v1/bills"]["post"]
    assert "422" in issue["responses"] and "409" in issue["responses"]
    # derived from the contract's interface: functions, roles, codes, record schemas
    assert issue["x-ebill-functions"] == ["DepositBillPrivate", "IssueBill"]
    assert issue["x-ebill-roles"] == ["issuer"] and "bill-exists" in issue["x-ebill-errors"]
    read = paths["/v1/bills/{billCode}/{billNumber}"]["get"]["responses"]["200"]
    assert read["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/Bill"
    assert "checkCodeHash" in doc["components"]["schemas"]["Bill"]["properties"]
    assert "bill-not-locked" in doc["x-ebill-errors"]
    with services["finance"].client() as client:
        finance_paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/units" in finance_paths and "/v1/payer/authorise" in finance_paths


def test_health_readiness_metrics(services: dict[str, Running]) -> None:
    with services["audit"].client() as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz").json()
        index = ready.pop("index")  # the audit service keeps the read model: its freshness
        assert ready == {"status": "ready"}
        assert set(index) == {"height", "lagBlocks"} and index["height"] >= 0
        client.get("/v1/bills/46010126/0000000001")  # unauthenticated: counted as 401
        text = client.get("/metrics").text
    assert 'ebill_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'route="/v1/bills/{billCode}/{billNumber}",status="401"' in text


def test_the_bill_life_cycle_over_http(
    http: Callable[..., Any], next_number: Callable[[], str]
) -> None:
    body, _ = _issue_body(next_number())
    number = body["bill"]["billNumber"]
    issued = http("his-hospital").post(
        "/v1/bills", json=body, headers={"Idempotency-Key": f"k-{number}"}
    )
    assert issued.status_code == 201, issued.text
    answer = issued.json()
    bill, check, salt = answer["bill"], answer["checkCode"], answer["payerSalt"]
    assert bill["billNumber"] == number and bill["status"] == "issued"
    assert "payer" not in bill and PAYER1["id"] not in issued.text

    verified = http("fin-console").post(
        "/v1/verify",
        json={"bills": [{"billCode": OUTPATIENT_CODE, "billNumber": number, "checkCode": check}]},
    )
    assert verified.json()["results"][0]["genuine"] is True

    proof = {"payerType": PAYER1["type"], "payerId": PAYER1["id"], "salt": salt}
    ref = {"billCode": OUTPATIENT_CODE, "billNumber": number}
    authorised = http("platform").post(
        "/v1/payer/authorise", json={**proof, **ref, "reimburserId": "MEDINS-HN"}
    )
    assert authorised.status_code == 200, authorised.text
    assert list(authorised.json()["authorised"]) == ["MEDINS-HN"]

    path = f"/v1/bills/{OUTPATIENT_CODE}/{number}"

    def locked() -> Any:
        response = http("medins-claims").post(f"{path}/lock")
        assert response.status_code == 200, response.text
        return response.json()

    assert _until(locked)["status"] == "locked"
    claimed = http("medins-claims").post(
        f"{path}/claim",
        json={"amount": 16110, "voucherNo": f"V{number}"},
        headers={"Idempotency-Key": f"claim-{number}"},
    )
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["reimbursedTotal"] == 16110

    mine = http("platform").post("/v1/payer/bills/read", json={**proof, **ref})
    assert mine.json()["claims"][0]["amount"] == 16110

    def history() -> list[Any]:
        entries = http("audit-desk").get(f"{path}/history").json()
        assert isinstance(entries, list) and len(entries) >= 4, entries
        return entries

    functions = [e["lastAction"]["function"] for e in _until(history)]
    assert {"IssueBill", "AuthoriseReimburser", "LockBill", "ClaimBill"} <= set(functions)
    day = bill["issueDate"][:10]
    totals = http("his-clerk").get(
        "/v1/units/HN0101/reconciliation", params={"fromDate": day, "toDate": day}
    )
    assert totals.status_code == 200, totals.text
    assert totals.json()[0]["count"] >= 1 and totals.json()[0]["reimbursed"] >= 16110


def test_problem_details_name_the_field_and_the_code(
    http: Callable[..., Any], services: dict[str, Running], next_number: Callable[[], str]
) -> None:
    body, _ = _issue_body(next_number())
    body["bill"]["totalAmount"] = -5
    refused = http("his-hospital").post("/v1/bills", json=body)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["code"] == "invalid-argument" and "totalAmount" in problem["detail"]
    assert problem["type"] == "urn:ebill:problem:invalid-argument"

    missing = http("his-clerk").get(f"/v1/bills/{OUTPATIENT_CODE}/0999999999")
    assert missing.status_code == 404 and missing.json()["code"] == "not-found"

    with services["units"].client("ebk_his-hospital_wrong") as anonymous:
        denied = anonymous.get(f"/v1/bills/{OUTPATIENT_CODE}/0000000001")
    assert denied.status_code == 401 and denied.json()["code"] == "unauthenticated"

    bad = http("his-hospital").post("/v1/bills", json={"bill": {}, "payer": {"type": "person"}})
    assert bad.status_code == 422 and "payer.id" in bad.json()["detail"]


def test_forbidden_pairs_are_refused_and_write_nothing(
    http: Callable[..., Any], next_number: Callable[[], str]
) -> None:
    """Each endpoint that acts, called by every registered client not allowed to: 403
    ``not-authorised`` (from the service's own check or the contract's), or no such route
    in that org's service at all; and nothing was written."""
    number = next_number()  # never issued: the issuance endpoints try it
    body, _ = _issue_body(number)
    existing, _ = _issue_body(next_number())  # issued: the endpoints acting on a bill use it
    issued = http("his-hospital").post("/v1/bills", json=existing)
    assert issued.status_code == 201, issued.text
    salt = issued.json()["payerSalt"]
    path = f"/v1/bills/{OUTPATIENT_CODE}/{existing['bill']['billNumber']}"
    proof = {"payerType": "person", "payerId": PAYER1["id"], "salt": salt}
    authorise = {
        **proof,
        "billCode": OUTPATIENT_CODE,
        "billNumber": existing["bill"]["billNumber"],
        "reimburserId": "MEDINS-HN",
    }
    # (the client ids allowed, method, path, body)
    table: list[tuple[set[str], str, str, Any]] = [
        ({"his-hospital"}, "POST", "/v1/bills", body),
        ({"his-hospital"}, "POST", "/v1/bills:batch", {"bills": [body]}),
        ({"his-hospital", "school-fees"}, "POST", "/v1/stock",
         {"billCode": OUTPATIENT_CODE, "startNumber": "0900000001", "count": 10}),
        ({"his-hospital"}, "POST", f"{path}/red-letter",
         {"redBillNumber": next_number(), "reason": "wrong"}),
        ({"fin-console"}, "POST", "/v1/units",
         {"unitCode": "HN0999", "name": "x", "sector": "medical", "region": "46"}),
        ({"fin-console"}, "POST", "/v1/units/HN0101/suspend", {"reason": "x"}),
        ({"fin-console"}, "POST", "/v1/stock/B1/approve", None),
        ({"fin-console"}, "POST", f"{path}/release-lock", None),
        ({"platform"}, "POST", "/v1/payer/authorise", authorise),
        ({"medins-claims", "picc-claims"}, "POST", f"{path}/lock", None),
        ({"medins-claims", "picc-claims"}, "POST", f"{path}/claim",
         {"amount": 100, "voucherNo": "V1"}),
        ({"fin-console", "audit-desk"}, "GET", f"{path}/history", None),
        ({"his-hospital", "his-clerk", "audit-desk"}, "GET", f"{path}/private", None),
        ({"fin-console", "audit-desk"}, "GET", "/v1/anomalies", None),
    ]  # fmt: skip
    everyone = [cid for clients in CLIENTS.values() for cid in clients]
    refused = absent = 0
    for allowed, method, url, payload in table:
        for client_id in everyone:
            if client_id in allowed:
                continue
            response = http(client_id).request(method, url, json=payload)
            if url.endswith(":batch") and response.status_code == 200:
                response_json = response.json()["results"][0]  # per-bill results
                status, code = response_json["status"], response_json["result"]["code"]
                assert (status, code) == (403, "not-authorised"), (client_id, response.text)
                refused += 1
                continue
            code = response.json().get("code")
            if (response.status_code, code) in {(404, "no-route"), (405, "method-not-allowed")}:
                absent += 1  # this org's service has no such endpoint (or not that method)
                continue
            assert (response.status_code, code) == (403, "not-authorised"), (
                client_id,
                url,
                response.text,
            )
            refused += 1
    assert refused >= 10 and absent >= 10, (refused, absent)  # both kinds were seen
    # nothing was written: the bill the refused clients tried to issue does not exist, and
    # the issued one is as it was issued (one history entry, nobody authorised or locking)
    assert http("his-clerk").get(f"/v1/bills/{OUTPATIENT_CODE}/{number}").status_code == 404
    after = http("his-clerk").get(path).json()
    assert after["status"] == "issued" and not after.get("authorised") and not after.get("lock")
    assert len(http("audit-desk").get(f"{path}/history").json()) == 1
    assert http("fin-console").get("/v1/units/HN0999").status_code == 404
    # the bill's own unit reads the private part (opened from the sealed answer)
    private = http("his-clerk").get(f"{path}/private").json()
    assert private["payer"]["id"] == PAYER1["id"] and len(private["items"]) == 3


def test_idempotent_issuance_also_across_a_restart(
    services: dict[str, Running], keys: dict[str, str], next_number: Callable[[], str]
) -> None:
    body, _ = _issue_body(next_number())
    key = f"idem-{body['bill']['billNumber']}"
    units = services["units"]
    with units.client(keys["his-hospital"]) as client:
        first = client.post("/v1/bills", json=body, headers={"Idempotency-Key": key})
        again = client.post("/v1/bills", json=body, headers={"Idempotency-Key": key})
        assert first.status_code == again.status_code == 201
        assert first.json() == again.json()
        other = dict(body, medical=None)
        mismatch = client.post("/v1/bills", json=other, headers={"Idempotency-Key": key})
        assert mismatch.status_code == 422 and mismatch.json()["code"] == "idempotency-mismatch"

    # A first attempt that issued the bill on the chain but never stored its answer (the
    # service died): the retry after a restart issues the very same bill, not a second.
    body2, _ = _issue_body(next_number())
    key2 = f"idem-{body2['bill']['billNumber']}"
    from ebill_service.idempotency import request_hash
    from ebill_service.routes.bills import IssueRequest, _issue

    request = IssueRequest.model_validate(body2)
    salt = secrets.token_hex(16)
    attempt = units.service.idempotency.begin(
        "his-hospital", key2, request_hash("IssueBill", request.model_dump()),
        {"salt": salt, "checkCode": "ABCDEF"},
    )  # fmt: skip
    lost = _issue(units.service.party("hospital1"), request, attempt.secrets)  # type: ignore[arg-type]
    units.stop()
    restarted = start(replace(units.settings))
    services["units"] = restarted
    try:
        with restarted.client(keys["his-hospital"]) as client:
            retried = client.post("/v1/bills", json=body2, headers={"Idempotency-Key": key2})
        assert retried.status_code == 201, retried.text
        assert retried.json()["checkCode"] == "ABCDEF" == lost["checkCode"]
        assert retried.json()["bill"]["billNumber"] == lost["bill"]["billNumber"]
        assert retried.json()["payerSalt"] == salt
    finally:
        pass


def test_async_submit_answers_202_and_a_status(
    http: Callable[..., Any], next_number: Callable[[], str]
) -> None:
    body, _ = _issue_body(next_number())
    accepted = http("school-fees").post("/v1/bills", json=body, headers={"Prefer": "respond-async"})
    assert accepted.status_code == 202
    location = accepted.headers["Location"]
    deadline = time.monotonic() + 60
    while True:
        status = http("school-fees").get(location).json()
        if status["state"] != "running" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    # school1 is unit HN0201: a hospital bill of HN0101 is refused by the contract
    assert status["state"] == "failed" and status["status"] == 403, status
    assert status["result"]["code"] == "not-authorised"
    assert http("his-hospital").get(location).status_code == 404  # another client's operation


def test_keys_rotate_and_revoke(services: dict[str, Running]) -> None:
    registry = services["audit"].service.clients
    key = registry.register("audit-temp", "temp", "audit", "auditor1")
    with services["audit"].client(key) as client:
        assert client.get("/v1/anomalies").status_code == 200
    new = registry.rotate("audit-temp")
    with services["audit"].client(key) as old_client:
        assert old_client.get("/v1/anomalies").status_code == 401
    with services["audit"].client(new) as client:
        assert client.get("/v1/anomalies").status_code == 200
        registry.revoke("audit-temp")
        assert client.get("/v1/anomalies").status_code == 401
    stored = Path(services["audit"].settings.state).read_bytes()
    assert new.encode() not in stored and key.encode() not in stored
    assert Path(services["audit"].settings.state).stat().st_mode & 0o777 == 0o600


def test_public_verification_is_rate_limited(network: Network, world: Any, tmp_path: Path) -> None:
    settings = Settings(
        org="audit", network=network.layout.network_file(), state=tmp_path / "s.sqlite",
        public_rate=3,
    )  # fmt: skip
    running = start(settings)
    try:
        with running.client() as client:
            ask = {"billCode": OUTPATIENT_CODE, "billNumber": "0999999998", "checkCode": "AAAAAA"}
            answers = [client.post("/v1/public/verify", json=ask) for _ in range(4)]
        assert [a.status_code for a in answers[:3]] == [404, 404, 404]
        assert answers[3].status_code == 429 and int(answers[3].headers["Retry-After"]) >= 1
    finally:
        running.stop()


def test_logs_hold_no_personal_data(
    http: Callable[..., Any], next_number: Callable[[], str], caplog: pytest.LogCaptureFixture
) -> None:
    body, sample = _issue_body(next_number())
    body["bill"]["totalAmount"] = 1  # refused by the contract's sum rule: logged as refused
    with caplog.at_level(logging.DEBUG):
        http("his-hospital").post("/v1/bills", json=body)
        good, _ = _issue_body(next_number())
        http("his-hospital").post("/v1/bills", json=good)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "/v1/bills" in text  # the access log is there
    for secret in (PAYER1["id"], PAYER1["name"], sample.medical["patientNumber"]):
        assert secret not in text
