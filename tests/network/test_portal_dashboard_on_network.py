"""The supervision dashboard in headless Chromium, over the services of the session network.

An auditor signs in; the dashboard's figures (read from its tables' cells and data
attributes) equal the audit service's ``/v1/stats`` answers, the service's read model
queried directly (PostgreSQL) and the chain's own supervision queries
(SupervisorClient at the audit peer); the ECharts charts are drawn from the same rows;
each table's CSV export equals the table; drill-down reaches a bill's history on the
chain; a payer and a unit cannot open the dashboard. axe-core on each page, screenshots.
"""

from __future__ import annotations

import csv
import io
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import portal_harness
import pytest
from chain import BILL_NUMBERS, Open
from playwright.sync_api import Browser, Locator, Page, expect
from portal_harness import (
    RunningPortal,
    chromium_browser,
    fill_sign_in,
    portal_page,
    serve_portal,
)
from service_harness import Running, register_clients, start_services

from ebill import errors
from ebill.clock import today_in_china
from ebill.finance import FinanceClient
from ebill.payer import PayerClient
from ebill.reimburser import ReimburserClient
from ebill.samples import PAYER1, SCHOOL_UNIT, outpatient_bill, tuition_bill
from ebill.supervisor import SupervisorClient
from ebill.unit import UnitClient
from ebill_index import Store, queries
from ebill_network.network import Network
from ebill_network.postgres import Cluster
from ebill_portal.users import Store as Users

pytestmark = pytest.mark.network

CLIENTS = {
    "finance": {"platform": "platform1", "fin-console": "finance1"},
    "units": {"his-hospital": "hospital1"},
    "audit": {"audit-desk": "auditor1"},
}
PASSWORD = "dashboard-test-password"
HOSPITAL = "HN0101"


def number() -> str:
    """A fresh bill number of the session's counter (shared with the other modules)."""
    return f"{next(BILL_NUMBERS):010d}"


@pytest.fixture(scope="module")
def index_url(postgres: Cluster) -> str:
    return postgres.create_database("dashboard_audit_index")


@pytest.fixture(scope="module")
def services(
    network: Network, world: Any, index_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Running]]:
    folder = tmp_path_factory.mktemp("dashboard-services")
    # the audit service keeps its read model on PostgreSQL, read here directly
    index_db = {"audit": index_url}
    with start_services(network.layout.network_file(), folder, CLIENTS, index_db) as running:
        yield running


@pytest.fixture(scope="module")
def keys(services: dict[str, Running]) -> dict[str, str]:
    return register_clients(services, CLIENTS)


@pytest.fixture(scope="module")
def portal(
    services: dict[str, Running], keys: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningPortal]:
    def add_users(users: Users) -> None:
        users.add_user("auditor", PASSWORD, "supervisor", "audit", keys["audit-desk"])
        users.add_user("officer", PASSWORD, "finance", "finance", keys["fin-console"])
        users.add_user("clerk", PASSWORD, "unit", "units", keys["his-hospital"], unit_code=HOSPITAL)
        users.add_user("payer1", PASSWORD, "payer", "finance", keys["platform"],
                       payer_type=PAYER1["type"], payer_id=PAYER1["id"])  # fmt: skip

    folder = tmp_path_factory.mktemp("dashboard-portal")
    with serve_portal(services, folder, add_users, page_size=50) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium_browser() as chromium:
        yield chromium


@pytest.fixture
def page(browser: Browser, portal: RunningPortal) -> Iterator[Page]:
    # the CSP errors of the page's own scripts (ECharts) are checked by csp_page
    with portal_page(browser, portal.url) as opened:
        yield opened


@pytest.fixture
def csp_page(browser: Browser, portal: RunningPortal) -> Iterator[tuple[Page, list[str]]]:
    """A page under the portal's own Content-Security-Policy, with its console errors."""
    context = browser.new_context(ignore_https_errors=True, base_url=portal.url, locale="zh-CN")
    page = context.new_page()
    errors_seen: list[str] = []
    page.on("console", lambda m: errors_seen.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors_seen.append(str(e)))
    yield page, errors_seen
    context.close()


SHOTS: list[Path] = []


def check_page(page: Page, name: str) -> None:
    """Save a screenshot of the page and assert axe-core finds nothing serious on it."""
    portal_harness.check_page(page, name, SHOTS)


def sign_in(page: Page, username: str) -> None:
    fill_sign_in(page, username, PASSWORD)


def until(probe: Callable[[], Any], timeout: float = 60.0) -> Any:
    """The read model and the peers follow the chain a moment after a commit."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return probe()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


_story: dict[str, Any] = {}


@pytest.fixture
def story(party: Open[Any], world: Any, description: dict[str, Any]) -> dict[str, Any]:
    """Bills of two sectors today: one claimed in part after a refused over-claim (an
    anomaly finance anchors), one red-lettered, a tuition bill. Made once per module."""
    if _story:
        return _story
    hospital = party(UnitClient, "units", "hospital1")
    school = party(UnitClient, "units", "school1")
    payer = party(PayerClient, "finance", "platform1").for_payer("person", PAYER1["id"])
    medins = party(ReimburserClient, "insurance", "medins1")
    claimed = hospital.issue_bill(outpatient_bill(number()))
    code, claimed_number = claimed.bill.bill_code, claimed.bill.bill_number
    payer.authorise_reimburser(code, claimed_number, "MEDINS-HN", claimed.salt)
    with pytest.raises(errors.OverClaim):
        medins.reimburse(code, claimed_number, claimed.bill.total_amount + 1, "YB-DASH-OVER")
    medins.reimburse(code, claimed_number, 10000, "YB-DASH-1")
    voided = hospital.issue_bill(outpatient_bill(number()))
    hospital.red_letter_bill(code, voided.bill.bill_number, number(), "录入错误")
    tuition = school.issue_bill(tuition_bill(number()))
    finance = party(FinanceClient, "finance", "finance1")
    finance.anchor_anomalies(Path(description["anomaly_spool"]))
    _story.update(claimed=claimed, voided=voided, tuition=tuition, day=today_in_china().isoformat())
    return _story


@pytest.fixture(scope="module")
def auditor(party: Open[Any]) -> SupervisorClient:
    return party(SupervisorClient, "audit", "auditor1")


def api(services: dict[str, Running], keys: dict[str, str], path: str, **params: Any) -> Any:
    with services["audit"].client(keys["audit-desk"]) as client:
        answer = client.get(path, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def chain_units(auditor: SupervisorClient, units: list[str], day: str) -> dict[str, Any]:
    """The chain's own figures (TotalsByUnit at the audit peer) of each unit on ``day``."""
    figures = {}
    for unit in units:
        t = auditor.unit_totals(unit, day, day)
        figures[unit] = {
            "bills": t.count,
            "amount": t.total_amount,
            "reimbursed": t.reimbursed,
            "redLettered": t.red_lettered,
        }
    return figures


FIGURES = ("bills", "amount", "reimbursed", "redLettered")
CELLS = {"sup.bills": "bills", "sup.amount": "amount", "sup.reimbursed": "reimbursed",
         "sup.red": "redLettered"}  # fmt: skip


def table_rows(page: Page, name: str) -> list[dict[str, Any]]:
    """A dashboard table as rows: column header key -> the cell's raw value (data-value,
    e.g. fen) or its text."""
    rows: list[dict[str, Any]] = page.evaluate(
        """name => [...document.querySelectorAll(`#t-${name} tbody tr`)]
            .filter(tr => !tr.querySelector('td[colspan]'))
            .map(tr => Object.fromEntries([...tr.querySelectorAll('td')].map(td =>
                [td.dataset.col, td.dataset.value !== undefined ? td.dataset.value
                                                               : td.innerText.trim()])))""",
        name,
    )
    return rows


def figures_of(row: dict[str, Any]) -> dict[str, int]:
    return {ours: int(row[col]) for col, ours in CELLS.items()}


def table_text(page: Page, name: str) -> list[list[str]]:
    """The table as a person reads it: the header, then each row's cells."""
    text: list[list[str]] = page.evaluate(
        """name => { const t = document.querySelector(`#t-${name}`);
            const head = [...t.querySelectorAll('thead th')].map(th => th.innerText.trim());
            const body = [...t.querySelectorAll('tbody tr')]
                .filter(tr => !tr.querySelector('td[colspan]'))
                .map(tr => [...tr.querySelectorAll('td')].map(td => td.innerText.trim()));
            return [head, ...body]; }""",
        name,
    )
    return text


def find_on_pages(page: Page, table: str, text: str) -> Locator:
    """The row of ``table`` holding ``text``, following the list's next-page links."""
    while True:
        row = page.locator(f"#t-{table} tbody tr", has_text=text)
        if row.count():
            return row
        following = page.locator("#next-page")
        assert following.count() == 1, f"{text} on no page of {table}"
        following.click()
        page.wait_for_load_state()


def test_the_dashboards_figures_equal_the_service_the_read_model_and_the_chain(
    page: Page,
    portal: RunningPortal,
    services: dict[str, Running],
    keys: dict[str, str],
    story: dict[str, Any],
    auditor: SupervisorClient,
    index_url: str,
) -> None:
    day = story["day"]
    units = [HOSPITAL, SCHOOL_UNIT["unitCode"]]

    def caught_up() -> dict[str, Any]:
        ledger = chain_units(auditor, units, day)
        rows = api(services, keys, "/v1/stats/breakdown", by="unit", fromDate=day, toDate=day)
        model = {r["key"]: {f: r[f] for f in FIGURES} for r in rows["rows"]}
        assert {u: model.get(u) for u in units} == ledger
        listed = api(services, keys, "/v1/stats/anomalies", fromDate=day, toDate=day)
        assert listed["byType"].get("over-claim", 0) >= 1
        return ledger

    until(caught_up)
    sign_in(page, "auditor")
    expect(page).to_have_url(f"{portal.url}/supervision")
    page.goto(f"/supervision?fromDate={day}&toDate={day}")
    expect(page.locator("h1")).to_have_text("财政电子票据监管看板")

    # the service's answers, the read model and the chain, read after the page
    totals = api(services, keys, "/v1/stats/totals", scope="all", fromDate=day, toDate=day)
    by_unit = api(services, keys, "/v1/stats/breakdown", by="unit", fromDate=day, toDate=day)
    by_sector = api(services, keys, "/v1/stats/breakdown", by="sector", fromDate=day, toDate=day)
    series = api(services, keys, "/v1/stats/series", fromDate=day, toDate=day, period="day")
    anomalies = api(services, keys, "/v1/stats/anomalies", fromDate=day, toDate=day)
    store = Store.open(index_url)
    try:
        model_all = queries.totals(store, "all", "*", day, day)
        model_units = {u: queries.totals(store, "unit", u, day, day) for u in units}
        model_types = queries.anomalies_by_type(store, day, day)
    finally:
        store.close()
    every_unit = [r["key"] for r in by_unit["rows"]]
    ledger = chain_units(auditor, every_unit, day)
    sectors: dict[str, dict[str, int]] = {}
    regions: dict[str, dict[str, int]] = {}
    for unit, figures in ledger.items():
        record = auditor.read_unit(unit)
        for group, name in ((sectors, record.sector), (regions, record.region)):
            into = group.setdefault(name, dict.fromkeys(FIGURES, 0))
            for figure in FIGURES:
                into[figure] += figures[figure]
    chain_types = Counter(a.type for a in auditor.iter_anomalies(day, day))

    # totals: the page = the service = the read model = the chain's sum over the units
    shown = figures_of(table_rows(page, "totals")[0])
    assert shown == {f: totals[f] for f in FIGURES}
    assert shown == {
        "bills": model_all.bills,
        "amount": model_all.amount,
        "reimbursed": model_all.reimbursed,
        "redLettered": model_all.red_lettered,
    }
    assert shown == {f: sum(u[f] for u in ledger.values()) for f in FIGURES}
    assert shown["bills"] >= 4 and shown["redLettered"] >= 1 and shown["reimbursed"] >= 10000
    assert int(page.locator("#kpi-bills").get_attribute("data-value") or "") == shown["bills"]
    rate = shown["reimbursed"] * 10000 * 2 // shown["amount"]
    assert page.locator("#kpi-reimbursed-rate").inner_text() == (
        f"{(rate + 1) // 2 // 100}.{(rate + 1) // 2 % 100:02d}%"
    )
    # by unit and by sector: each row = the chain's TotalsByUnit (summed per sector)
    page_units = {r["sup.by.unit"]: figures_of(r) for r in table_rows(page, "units")}
    assert page_units == {r["key"]: {f: r[f] for f in FIGURES} for r in by_unit["rows"]}
    assert page_units == ledger
    for unit in units:
        m = model_units[unit]
        assert page_units[unit] == {
            "bills": m.bills,
            "amount": m.amount,
            "reimbursed": m.reimbursed,
            "redLettered": m.red_lettered,
        }
    page_sectors = {r["sup.by.sector"]: figures_of(r) for r in table_rows(page, "sectors")}
    assert page_sectors == {r["key"]: {f: r[f] for f in FIGURES} for r in by_sector["rows"]}
    assert page_sectors == sectors and {"medical", "education"} <= set(sectors)
    # per day: the one day's row is the totals
    daily = table_rows(page, "daily")
    assert [r["sup.period"] for r in daily] == [r["period"] for r in series["rows"]] == [day]
    assert figures_of(daily[0]) == shown
    # anomalies by type: the page = the service = the read model = the chain's log
    page_types = {
        li.get_attribute("data-type"): int(li.get_attribute("data-value") or "")
        for li in page.locator("#anomaly-types li[data-type]").all()
    }
    assert page_types == anomalies["byType"] == dict(model_types) == dict(chain_types)
    assert page_types["over-claim"] >= 1
    counted = Counter[str]()
    for r in table_rows(page, "anomalies"):
        counted[r["sup.type"]] += int(r["sup.count"])
    assert dict(counted) == page_types
    # freshness shown as the service reports it (no block was written since the page)
    as_of = page.locator("#as-of")
    assert int(as_of.get_attribute("data-height") or "") == totals["asOf"]["height"] > 0
    assert int(as_of.get_attribute("data-lag") or "") == totals["asOf"]["lagBlocks"]
    check_page(page, "supervision-dashboard")

    # the filters: a sector's totals are the chain's sum over its units, a region's too
    page.goto(f"/supervision?fromDate={day}&toDate={day}&sector=medical")
    medical = table_rows(page, "totals")[0]
    assert medical["sup.scope"] == "sector medical" and figures_of(medical) == sectors["medical"]
    assert [figures_of(r) for r in table_rows(page, "daily")] == [sectors["medical"]]
    page.goto(f"/supervision?fromDate={day}&toDate={day}&region=46")
    assert figures_of(table_rows(page, "totals")[0]) == regions["46"]
    page_regions = {r["sup.by.region"]: figures_of(r) for r in table_rows(page, "regions")}
    assert page_regions == regions
    answer = page.goto(f"/supervision?fromDate={day}&toDate={day}&region=46&sector=medical")
    assert answer is not None and answer.status == 422
    expect(page.locator("#message")).to_contain_text("region, sector")
    page.goto(f"/supervision?fromDate={day}&toDate={day}")
    page.click("text=English")
    expect(page.locator("h1")).to_have_text("Fiscal e-bill supervision dashboard")
    check_page(page, "supervision-dashboard-en")


def test_the_charts_are_drawn_from_the_tables_rows(
    csp_page: tuple[Page, list[str]], story: dict[str, Any]
) -> None:
    page, console = csp_page
    day = story["day"]
    sign_in(page, "auditor")
    page.goto(f"/supervision?fromDate={day}&toDate={day}")
    for name in ("daily", "monthly", "sectors", "units", "anomalies"):
        page.wait_for_selector(f"#chart-{name} canvas")
    drawn = page.evaluate(
        """() => Object.fromEntries(['daily', 'monthly', 'sectors', 'units', 'anomalies']
            .map(n => {
                const el = document.getElementById('chart-' + n);
                const o = echarts.getInstanceByDom(el).getOption();
                return [n, {axis: o.xAxis[0].data, series: o.series.map(s => s.data)}];
            }))"""
    )
    daily = table_rows(page, "daily")
    assert drawn["daily"]["axis"] == [r["sup.period"] for r in daily]
    assert drawn["daily"]["series"][0] == [int(r["sup.bills"]) for r in daily]
    assert drawn["daily"]["series"][1] == [int(r["sup.amount"]) / 100 for r in daily]
    units = table_rows(page, "units")
    assert drawn["units"]["axis"] == [r["sup.by.unit"] for r in units]
    assert drawn["units"]["series"][0] == [int(r["sup.amount"]) / 100 for r in units]
    assert len(drawn["anomalies"]["series"]) >= 1 and drawn["anomalies"]["axis"] == [day]
    assert console == [], console  # no CSP refusal, no script error


def test_without_javascript_the_tables_still_show_every_figure(
    browser: Browser, portal: RunningPortal, story: dict[str, Any]
) -> None:
    context = browser.new_context(
        ignore_https_errors=True, base_url=portal.url, java_script_enabled=False
    )
    try:
        page = context.new_page()
        sign_in(page, "auditor")
        page.goto(f"/supervision?fromDate={story['day']}&toDate={story['day']}")
        assert page.locator("canvas").count() == 0
        for name in ("totals", "daily", "monthly", "sectors", "units", "regions", "anomalies"):
            assert table_rows(page, name), name
    finally:
        context.close()


def test_csv_export_equals_each_table(page: Page, story: dict[str, Any]) -> None:
    day = story["day"]
    sign_in(page, "auditor")
    page.goto(f"/supervision?fromDate={day}&toDate={day}")
    for name in ("totals", "daily", "monthly", "sectors", "units", "regions", "anomalies"):
        link = page.locator(f"#t-{name} caption a.export")
        answer = page.request.get(link.get_attribute("href") or "")
        assert answer.status == 200, name
        assert answer.headers["content-type"].startswith("text/csv")
        assert f'filename="{name}.csv"' in answer.headers["content-disposition"]
        body = answer.body()
        assert body.startswith(b"\xef\xbb\xbf"), name  # UTF-8 with a BOM, for Excel
        parsed = list(csv.reader(io.StringIO(body[3:].decode("utf-8"))))
        assert parsed == table_text(page, name), name
        assert len(parsed) >= 2, name
    assert "票据张数" in page.request.get(f"/supervision/export/daily.csv?fromDate={day}").text()
    bad = page.request.get(f"/supervision/export/daily.csv?fromDate={day}&toDate=2000-01-01")
    assert bad.status == 422 and "fromDate" in bad.text()


def test_drill_down_from_a_unit_and_an_anomaly_to_the_bills_history(
    page: Page, story: dict[str, Any], auditor: SupervisorClient
) -> None:
    day = story["day"]
    claimed = story["claimed"].bill
    label = f"{claimed.bill_code}-{claimed.bill_number}"
    sign_in(page, "auditor")
    page.goto(f"/supervision?fromDate={day}&toDate={day}")
    page.locator("#t-units").get_by_role("link", name=HOSPITAL, exact=True).click()
    expect(page.locator("h1")).to_contain_text(HOSPITAL)
    row = find_on_pages(page, "bills", label)
    expect(row).to_have_count(1)
    expect(row.locator("td[data-col='sup.amount']")).to_have_attribute(
        "data-value", str(claimed.total_amount)
    )
    expect(row.locator("td[data-col='bill.status']")).to_have_text("部分报销")
    expect(row.locator("td[data-col='bill.status']")).to_have_attribute(
        "data-value", "partially_reimbursed"
    )
    check_page(page, "supervision-unit-bills")
    exported = page.request.get(page.locator("a.export").get_attribute("href") or "")
    assert list(csv.reader(io.StringIO(exported.text().lstrip("\ufeff")))) == table_text(
        page, "bills"
    )
    row.get_by_role("link", name=label).click()
    history = auditor.bill_history(claimed.bill_code, claimed.bill_number)
    rows = page.locator("#history tbody tr")
    expect(rows).to_have_count(len(history))
    assert [r.get_attribute("data-tx") for r in rows.all()] == [e.tx_id for e in history]
    functions = [r.locator("td").nth(1).inner_text() for r in rows.all()]
    assert functions == [e.last_action.function for e in history if e.last_action]
    assert functions[0] == "IssueBill" and functions[-1] == "ClaimBill"
    assert rows.first.locator("td").nth(3).inner_text() == "hospital1"
    assert PAYER1["name"] not in page.content() and PAYER1["id"] not in page.content()
    check_page(page, "supervision-bill-history")

    # from the anomaly counts to the anomaly and on to its bill's history
    page.goto(f"/supervision?fromDate={day}&toDate={day}")
    page.locator("#anomaly-types").get_by_role("link", name="over-claim").click()
    anomaly = find_on_pages(page, "anomaly-list", label)
    expect(anomaly).to_have_count(1)
    logged = [
        a
        for a in auditor.iter_anomalies(day, day, anomaly_type="over-claim")
        if a.bill_number == claimed.bill_number
    ]
    assert len(logged) == 1
    expect(anomaly.locator("td[data-col='sup.anomaly']")).to_have_text(logged[0].anomaly_id)
    check_page(page, "supervision-anomalies")
    anomaly.get_by_role("link", name=label).click()
    expect(page.locator("#history tbody tr")).to_have_count(len(history))

    # from the totals to the transactions behind them
    page.goto(f"/supervision?fromDate={day}&toDate={day}")
    page.locator("#t-totals tbody a").first.click()
    expect(page.locator("#t-transactions tbody tr").first).to_be_visible()
    claim = find_on_pages(page, "transactions", history[-1].tx_id)
    expect(claim.locator("td[data-col='sup.function']")).to_have_text("ClaimBill")
    check_page(page, "supervision-transactions")


def test_a_payer_and_a_unit_cannot_open_the_dashboard(
    page: Page, services: dict[str, Running], keys: dict[str, str], story: dict[str, Any]
) -> None:
    for username in ("payer1", "clerk"):
        sign_in(page, username)
        for path in (
            "/supervision",
            "/supervision/export/totals.csv",
            f"/supervision/units/{HOSPITAL}",
            "/supervision/anomalies",
            f"/supervision/bills/{story['claimed'].bill.bill_code}/"
            f"{story['claimed'].bill.bill_number}",
        ):
            answer = page.goto(path) if not path.endswith(".csv") else None
            status = answer.status if answer else page.request.get(path).status
            assert status == 403, (username, path)
        assert "监管看板" not in page.locator("nav").inner_text()
        check_page(page, f"supervision-forbidden-{username}")
        page.context.clear_cookies()
    # the services refuse them as well: the units org's service serves no statistics
    # (it has no supervising identity), finance's refuses its payer platform's key
    with services["units"].client(keys["his-hospital"]) as client:
        refused = client.get("/v1/stats/totals")
    assert refused.status_code == 404 and refused.json()["code"] == "no-route", refused.text
    with services["finance"].client(keys["platform"]) as client:
        refused = client.get("/v1/stats/totals")
    assert refused.status_code == 403 and refused.json()["code"] == "not-authorised", refused.text
    # the finance department sees the dashboard
    sign_in(page, "officer")
    answer = page.goto("/supervision")
    assert answer is not None and answer.status == 200
    expect(page.locator("#kpi-bills")).to_have_count(1)


def test_screenshots_of_the_dashboard_were_saved() -> None:
    names = {p.stem for p in SHOTS}
    assert {"supervision-dashboard", "supervision-bill-history"} <= names
    assert all(p.stat().st_size > 1000 for p in SHOTS)
    print("\n".join(str(p) for p in SHOTS))
