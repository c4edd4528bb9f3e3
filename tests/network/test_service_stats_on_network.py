"""The supervision statistics of the service (``/v1/stats``) on the real network.

The audit and finance services keep their own read models, projected from their peers
in a thread of the service. After a life (issue, claim, over-claim, red-letter), once
the model reached the peer's height (``asOf``), every figure equals the chain's own
supervision query (TotalsByUnit, summed over the units of a scope) and the read model
queried directly; series and breakdowns add up to the totals; pages return every
bill once; each answer is free of payer data.
"""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from service_harness import Running, start, start_services

from ebill import consistency, errors
from ebill.finance import FinanceClient
from ebill.models import IssuedBill, Totals
from ebill.payer import PayerClient
from ebill.reimburser import ReimburserClient
from ebill.samples import PAYER1, outpatient_bill, tuition_bill
from ebill.supervisor import SupervisorClient
from ebill.unit import UnitClient
from ebill_index import queries
from ebill_network.network import Network

CLIENTS = {"audit": {"audit-desk": "auditor1"}, "finance": {"fin-desk": "finance1",
           "platform": "platform1"}}  # fmt: skip
HOSPITAL, SCHOOL = "HN0101", "HN0201"


@pytest.fixture(scope="module")
def services(
    network: Network, world: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Running]]:
    folder = tmp_path_factory.mktemp("stats")
    with start_services(network.layout.network_file(), folder, CLIENTS) as running:
        yield running


@pytest.fixture(scope="module")
def http(services: dict[str, Running]) -> Iterator[dict[str, Any]]:
    """client id -> an HTTPS client of its org's service with its key."""
    opened = {}
    for org, clients in CLIENTS.items():
        for client_id, user in clients.items():
            key = services[org].service.clients.register(client_id, client_id, org, user)
            opened[client_id] = services[org].client(key)
    yield opened
    for client in opened.values():
        client.close()


def _life(
    hospital: UnitClient,
    school: UnitClient,
    payer: PayerClient,
    medins: ReimburserClient,
    next_number: Callable[[], str],
) -> tuple[list[IssuedBill], errors.EbillError]:
    """Bills issued at once, one over-claimed (an anomaly) and then claimed, one voided."""
    samples = [outpatient_bill(next_number()) for _ in range(3)]
    with ThreadPoolExecutor(3) as pool:
        issued = list(pool.map(hospital.issue_bill, samples))
    tuition = school.issue_bill(tuition_bill(next_number()))
    claimed = issued[0].bill
    payer.authorise_reimburser(claimed.bill_code, claimed.bill_number, "MEDINS-HN", issued[0].salt)
    with pytest.raises(errors.OverClaim) as over:
        medins.reimburse(claimed.bill_code, claimed.bill_number, 10**9, "V-OVER")
    medins.reimburse(
        claimed.bill_code, claimed.bill_number, claimed.total_amount, f"V-{claimed.bill_number}"
    )
    school.red_letter_bill(
        tuition.bill.bill_code, tuition.bill.bill_number, next_number(), "wrong payer"
    )
    return [*issued, tuition], over.value


_lived: dict[str, Any] = {}


@pytest.fixture
def lived(
    hospital: UnitClient,
    school: UnitClient,
    payer: PayerClient,
    medins: ReimburserClient,
    finance: FinanceClient,
    next_number: Callable[[], str],
    description: dict[str, Any],
    auditor: SupervisorClient,
    services: dict[str, Running],
    http: dict[str, Any],
) -> dict[str, Any]:
    """The life, its anomalies anchored, and the services' models at the ledger's height
    (made once for the module)."""
    if _lived:
        return _lived
    issued, over_claim = _life(hospital, school, payer, medins, next_number)
    finance.anchor_anomalies(Path(description["anomaly_spool"]))
    conn = auditor.connection
    target = max(consistency.height(conn, msp) for msp in consistency.PEER_MSP_IDS)
    consistency.wait_for_block(conn, target - 1, peers=[conn.msp_id])
    for client_id in ("audit-desk", "fin-desk"):
        _until_height(http[client_id], target)
    _lived.update(issued=issued, over_claim=over_claim, height=target)
    return _lived


def _until_height(client: Any, height: int, timeout: float = 180.0) -> dict[str, int]:
    """Poll ``asOf`` until the model holds ``height`` blocks and lags none."""
    deadline = time.monotonic() + timeout
    while True:
        as_of: dict[str, int] = client.get("/v1/stats/totals").json()["asOf"]
        if as_of["height"] >= height and as_of["lagBlocks"] == 0:
            return as_of
        assert time.monotonic() < deadline, f"the model stayed at {as_of}, not {height}"
        time.sleep(0.3)


def _get(client: Any, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _pages(client: Any, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        page = _get(client, path, cursor=cursor, **params)
        items += page["items"]
        cursor = page["cursor"]
        if not cursor:
            return items


def _chain(auditor: SupervisorClient, unit_codes: list[str]) -> Totals:
    total = Totals()
    for code in unit_codes:
        total = total + auditor.unit_totals(code)
    return total


def _figures(body: dict[str, Any]) -> tuple[int, int, int, int]:
    return body["bills"], body["amount"], body["reimbursed"], body["redLettered"]


def test_totals_equal_the_chain_and_the_model(
    lived: dict[str, Any], http: dict[str, Any], auditor: SupervisorClient,
    services: dict[str, Running],
) -> None:  # fmt: skip
    units = list(auditor.iter_units())
    scopes: list[tuple[str, str, list[str]]] = [("all", "*", [u.unit_code for u in units])]
    scopes.append(("unit", HOSPITAL, [HOSPITAL]))
    scopes.append(("unit", SCHOOL, [SCHOOL]))
    for attr in ("sector", "region"):
        for value in sorted({getattr(u, attr) for u in units}):
            codes = [u.unit_code for u in units if getattr(u, attr) == value]
            scopes.append((attr, value, codes))
    assert {s for s, _, _ in scopes} == {"all", "unit", "sector", "region"}
    for client_id, org in (("audit-desk", "audit"), ("fin-desk", "finance")):
        index = services[org].service.index
        assert index is not None
        for scope, key, codes in scopes:
            body = _get(http[client_id], "/v1/stats/totals", scope=scope, key=key)
            ledger = _chain(auditor, codes)
            expected = (ledger.count, ledger.total_amount, ledger.reimbursed, ledger.red_lettered)
            assert _figures(body) == expected, (client_id, scope, key)
            direct = queries.totals(index.store, scope, key)
            assert (direct.bills, direct.amount, direct.reimbursed, direct.red_lettered) == expected
            assert body["asOf"]["height"] >= lived["height"]
            assert (body["scope"], body["key"]) == (scope, key)
    hospital = _get(http["audit-desk"], "/v1/stats/totals", scope="unit", key=HOSPITAL)
    assert hospital["bills"] >= 3 and hospital["reimbursed"] > 0
    assert _get(http["audit-desk"], "/v1/stats/totals", scope="unit", key=SCHOOL)["redLettered"]
    day = lived["issued"][0].bill.issue_date[:10]
    one_day = _get(http["audit-desk"], "/v1/stats/totals", scope="unit", key=HOSPITAL,
                   fromDate=day, toDate=day)  # fmt: skip
    ledger = auditor.unit_totals(HOSPITAL, day, day)
    assert _figures(one_day) == (
        ledger.count, ledger.total_amount, ledger.reimbursed, ledger.red_lettered
    )  # fmt: skip


def test_series_and_breakdowns_add_up_to_the_totals(
    lived: dict[str, Any], http: dict[str, Any]
) -> None:
    client = http["audit-desk"]
    whole = _figures(_get(client, "/v1/stats/totals"))
    for period, width in (("day", 10), ("month", 7)):
        series = _get(client, "/v1/stats/series", scope="all", period=period)
        assert series["rows"] and all(len(r["period"]) == width for r in series["rows"])
        sums = tuple(sum(r[f] for r in series["rows"]) for f in
                     ("bills", "amount", "reimbursed", "redLettered"))  # fmt: skip
        assert sums == whole, period
    hospital = _get(client, "/v1/stats/totals", scope="unit", key=HOSPITAL)
    days = _get(client, "/v1/stats/series", scope="unit", key=HOSPITAL, period="day")["rows"]
    assert sum(r["amount"] for r in days) == hospital["amount"]
    day = lived["issued"][0].bill.issue_date[:10]
    assert day in {r["period"] for r in days}
    for by in ("unit", "sector", "region"):
        rows = _get(client, "/v1/stats/breakdown", by=by)["rows"]
        sums = tuple(sum(r[f] for r in rows) for f in
                     ("bills", "amount", "reimbursed", "redLettered"))  # fmt: skip
        assert sums == whole, by
        amounts = [r["amount"] for r in rows]
        assert amounts == sorted(amounts, reverse=True)
    units = {r["key"]: r for r in _get(client, "/v1/stats/breakdown", by="unit")["rows"]}
    assert _figures(units[HOSPITAL]) == _figures(hospital)


def test_pages_return_every_bill_once_and_figures_name_their_transactions(
    lived: dict[str, Any], http: dict[str, Any]
) -> None:
    client = http["audit-desk"]
    hospital = _get(client, "/v1/stats/totals", scope="unit", key=HOSPITAL)
    bills = _pages(client, "/v1/stats/bills", unitCode=HOSPITAL, pageSize=2)
    keys = [(b["billCode"], b["billNumber"]) for b in bills]
    assert len(keys) == len(set(keys)) == hospital["bills"]
    for issued in lived["issued"][:3]:
        assert (issued.bill.bill_code, issued.bill.bill_number) in keys
    voided = lived["issued"][3].bill
    red = _pages(client, "/v1/stats/bills", unitCode=SCHOOL, status="red_lettered")
    assert (voided.bill_code, voided.bill_number) in {(b["billCode"], b["billNumber"]) for b in red}
    assert all(b["status"] == "red_lettered" for b in red)
    behind = _pages(client, "/v1/stats/transactions", scope="unit", key=HOSPITAL, pageSize=7)
    places = [(t["blockNumber"], t["txIndex"], t["billCode"], t["billNumber"]) for t in behind]
    assert len(places) == len(set(places)) and places == sorted(places)
    tx_ids = {t["txId"] for t in behind}
    for issued in lived["issued"][:3]:
        assert issued.bill.raw["issueTxId"] in tx_ids
    assert {t["function"] for t in behind} >= {"IssueBill", "ClaimBill"}
    assert {t["unitCode"] for t in behind} == {HOSPITAL}
    everything = _pages(client, "/v1/stats/transactions", scope="all", pageSize=500)
    assert tx_ids <= {t["txId"] for t in everything}


def test_anomalies_by_type_equal_the_chain(
    lived: dict[str, Any], http: dict[str, Any], auditor: SupervisorClient
) -> None:
    client = http["audit-desk"]
    counts = _get(client, "/v1/stats/anomalies", period="month")
    on_chain = Counter(a.type for a in auditor.iter_anomalies())
    assert counts["byType"] == dict(on_chain) and on_chain["over-claim"] >= 1
    assert sum(r["count"] for r in counts["rows"]) == sum(on_chain.values())
    over = _pages(client, "/v1/stats/anomalies/list", type="over-claim", pageSize=1)
    assert len(over) == on_chain["over-claim"] and {a["type"] for a in over} == {"over-claim"}
    ours = [a for a in over if a["anomalyId"] == lived["over_claim"].anomaly_id]
    assert len(ours) == 1 and ours[0]["function"] == "ClaimBill"
    assert ours[0]["billNumber"] == lived["issued"][0].bill.bill_number


def test_refusals_name_the_role_or_the_field(lived: dict[str, Any], http: dict[str, Any]) -> None:
    refused = http["platform"].get("/v1/stats/totals")
    assert refused.status_code == 403 and refused.json()["code"] == "not-authorised"
    assert http["platform"].get("/v1/stats/bills").status_code == 403
    client = http["audit-desk"]
    for params, field in (
        ({"fromDate": "2026-02-30"}, "fromDate"),
        ({"toDate": "2026-1-01"}, "toDate"),
        ({"fromDate": "2026-03-01", "toDate": "2026-02-01"}, "fromDate"),
        ({"scope": "planet"}, "scope"),
        ({"scope": "unit"}, "key"),
    ):
        answer = client.get("/v1/stats/totals", params=params)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["detail"].split(":")[0].endswith(field), answer.json()
    bad = client.get("/v1/stats/bills", params={"cursor": base64.b64encode(b"[1]").decode()})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("cursor")
    assert client.get("/v1/stats/bills", params={"pageSize": 501}).status_code == 422
    assert client.get("/v1/stats/series", params={"period": "week"}).status_code == 422


def test_no_payer_data_in_any_answer(
    lived: dict[str, Any], http: dict[str, Any], services: dict[str, Running]
) -> None:
    client = http["audit-desk"]
    texts = [
        client.get(path, params=params).text
        for path, params in (
            ("/v1/stats/totals", {}),
            ("/v1/stats/series", {"period": "month"}),
            ("/v1/stats/breakdown", {"by": "unit"}),
            ("/v1/stats/anomalies", {}),
            ("/v1/stats/anomalies/list", {"pageSize": 500}),
            ("/v1/stats/transactions", {"pageSize": 500}),
            ("/v1/stats/bills", {"pageSize": 500}),
        )
    ]
    secrets = [PAYER1["id"], PAYER1["name"], *(i.bill.payer_hash for i in lived["issued"])]
    assert all(secrets)
    assert all(s not in text for s in secrets for text in texts)
    assert "payer" not in json.dumps(json.loads(texts[-1])).lower()
    # the model holds the private part (audit is a member): the answers leave it out
    index = services["audit"].service.index
    assert index is not None and index.store.dump()["bill_private"]


def test_readiness_metrics_and_openapi_show_the_model(
    lived: dict[str, Any], services: dict[str, Running], http: dict[str, Any]
) -> None:
    with services["audit"].client() as client:
        ready = client.get("/readyz").json()
        metrics = client.get("/metrics").text
        doc = client.get("/openapi.json").json()
    assert ready["status"] == "ready" and ready["index"]["height"] >= lived["height"]
    assert "ebill_index_lag_blocks" in metrics and "ebill_index_height" in metrics
    for path in ("totals", "series", "breakdown", "anomalies", "anomalies/list",
                 "transactions", "bills"):  # fmt: skip
        operation = doc["paths"][f"/v1/stats/{path}"]["get"]
        assert operation["x-ebill-roles"] == ["finance", "supervisor"]
        assert "422" in operation["responses"] and "403" in operation["responses"]
    totals = doc["components"]["schemas"]["StatsTotals"]["properties"]
    assert {"bills", "amount", "reimbursed", "redLettered", "asOf"} <= set(totals)
    state = Path(services["audit"].settings.index_url().removeprefix("sqlite:///"))
    assert state.stat().st_mode & 0o777 == 0o600


def test_fuzz_the_stats_endpoints_from_the_openapi_document(
    lived: dict[str, Any], services: dict[str, Running]
) -> None:
    """Generated requests (schemathesis) to every /v1/stats operation of the audit
    service: no 5xx, every answer as the document declares it."""
    audit = services["audit"]
    key = audit.service.clients.register("fuzz-audit", "fuzz", "audit", "auditor1")
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
    session.verify = str(audit.cert)
    session.headers["Authorization"] = f"Bearer {key}"
    schema = schemathesis.openapi.from_dict(session.get(f"{audit.url}/openapi.json").json())
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    fuzzed: list[str] = []
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/v1/stats/"):
            continue
        fuzzed.append(f"{operation.method.upper()} {operation.path}")

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: Any) -> None:
            response = case.call(
                base_url=audit.url, session=session, timeout=60, verify=str(audit.cert)
            )
            statuses[response.status_code // 100] += 1
            case.validate_response(response, checks=checks)

        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as error:  # report every operation's findings
            failures.append(f"{fuzzed[-1]}: {error}")
    session.close()
    assert len(fuzzed) == 7, fuzzed
    assert not failures, "\n\n".join(failures)
    assert statuses[2] and statuses[4], statuses  # both answered and refused calls


def test_a_restarted_service_resumes_its_model_from_the_checkpoint(
    lived: dict[str, Any],
    services: dict[str, Running],
    http: dict[str, Any],
    hospital: UnitClient,
    auditor: SupervisorClient,
    next_number: Callable[[], str],
) -> None:
    """Stopped, a bill issued meanwhile, started again on the same files: the model goes
    on from its checkpoint and counts every bill once."""
    old = services["audit"]
    old.stop()
    assert old.service.index is not None and not old.service.index._thread.is_alive()
    issued = hospital.issue_bill(outpatient_bill(next_number()))
    services["audit"] = new = start(old.settings)  # the module's fixture stops this one
    key = new.service.clients.register("audit-again", "again", "audit", "auditor1")
    with new.client(key) as client:
        conn = auditor.connection
        target = consistency.height(conn, "UnitsMSP")
        consistency.wait_for_block(conn, target - 1, peers=[conn.msp_id])
        _until_height(client, target)
        body = _get(client, "/v1/stats/totals", scope="unit", key=HOSPITAL)
        ledger = auditor.unit_totals(HOSPITAL)
        assert _figures(body) == (
            ledger.count, ledger.total_amount, ledger.reimbursed, ledger.red_lettered
        )  # fmt: skip
        bills = _pages(client, "/v1/stats/bills", unitCode=HOSPITAL, pageSize=500)
    keys = [(b["billCode"], b["billNumber"]) for b in bills]
    assert len(keys) == len(set(keys)) == ledger.count
    assert (issued.bill.bill_code, issued.bill.bill_number) in keys
