"""The issuing unit's and finance's pages in headless Chromium, over the session network.

A unit issues a bill by the form (read back from the chain), a bad amount is refused
naming the field with nothing issued, the unit applies for stock that finance approves
and later reconciles, and finance releases a stale lock; each new page is checked with
axe-core and saved as a screenshot. The portal runs in this process (``portal_harness``)
over the finance, units and insurance services (``service_harness``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import portal_harness
import pytest
from playwright.sync_api import Browser, Page, expect
from portal_harness import (
    RunningPortal,
    chromium_browser,
    fill_sign_in,
    portal_page,
    serve_portal,
)
from service_harness import Running, register_clients, start_services

from ebill.samples import OUTPATIENT_CODE, PAYER1, outpatient_bill
from ebill_network.network import Network
from ebill_portal import money
from ebill_portal.users import Store

CLIENTS = {
    "finance": {"platform2": "platform1", "fin-officer": "finance1"},
    "units": {"his-clerk": "hospital1"},
    "insurance": {"picc-desk": "insurer1"},
}
PASSWORD = "portal-pages-password"
NEW_CODE = "46018827"  # a bill code of region 46 that no other test applies for
SHOTS: list[Path] = []


@pytest.fixture(scope="module")
def services(
    network: Network, world: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Running]]:
    folder = tmp_path_factory.mktemp("portal-pages-services")
    with start_services(network.layout.network_file(), folder, CLIENTS) as running:
        yield running


@pytest.fixture(scope="module")
def keys(services: dict[str, Running]) -> dict[str, str]:
    return register_clients(services, CLIENTS)


@pytest.fixture(scope="module")
def portal(
    services: dict[str, Running], keys: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningPortal]:
    def users(store: Store) -> None:
        store.add_user("payer1", PASSWORD, "payer", "finance", keys["platform2"],
                       payer_type=PAYER1["type"], payer_id=PAYER1["id"])  # fmt: skip
        store.add_user("clerk", PASSWORD, "unit", "units", keys["his-clerk"], unit_code="HN0101")
        store.add_user("officer", PASSWORD, "finance", "finance", keys["fin-officer"])

    with serve_portal(services, tmp_path_factory.mktemp("portal-pages"), users) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium_browser() as chromium:
        yield chromium


@pytest.fixture
def page(browser: Browser, portal: RunningPortal) -> Iterator[Page]:
    with portal_page(browser, portal.url) as opened:
        yield opened


def check_page(page: Page, name: str) -> None:
    """Save a screenshot of the page and assert axe-core finds nothing serious on it."""
    portal_harness.check_page(page, name, SHOTS)


def sign_in(page: Page, username: str) -> None:
    fill_sign_in(page, username, PASSWORD)
    expect(page.locator("form[action='/logout']")).to_have_count(1)


def _until(probe: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Another org's peer sees a block a moment after it committed."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return probe()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _read(services: dict[str, Running], keys: dict[str, str], code: str, number: str) -> Any:
    with services["units"].client(keys["his-clerk"]) as client:
        return client.get(f"/v1/bills/{code}/{number}")


def fill_bill(page: Page, code: str, number: str, items: list[tuple[str, ...]]) -> None:
    """The issuance form with payer 1 and ``items`` (code, name, qty, unit, yuan), adding
    rows with the form's own button when there are more items than rows."""
    page.goto("/unit/issue")
    while page.locator("#items tbody tr").count() < len(items):
        page.click("#add-row")
    page.fill("#billCode", code)
    page.fill("#billNumber", number)
    page.select_option("#payerType", "person")
    page.fill("#payerName", PAYER1["name"])
    page.fill("#payerId", PAYER1["id"])
    for row, item in enumerate(items, start=1):
        for name, value in zip(("code", "name", "quantity", "unit", "price"), item, strict=True):
            page.fill(f"#item-{name}-{row}", value)


ITEMS = [
    ("310100001", "门诊诊查费", "1", "次", "25.00"),
    ("XY0001", "阿莫西林胶囊", "2", "盒", "102.50"),
    ("250101001", "血常规检查", "3", "项", "0.10"),
    ("XY0002", "布洛芬缓释胶囊", "1.5", "盒", "12.34"),
]
ITEMS_FEN = [2500, 20500, 30, 1851]  # 12.34 x 1.5 = 18.51


def test_a_unit_issues_a_bill_by_the_form(
    page: Page,
    services: dict[str, Running],
    keys: dict[str, str],
    next_number: Callable[[], str],
) -> None:
    number = next_number()
    sign_in(page, "clerk")
    fill_bill(page, OUTPATIENT_CODE, number, ITEMS)
    expect(page.locator("#items tbody tr")).to_have_count(4)  # 3 rows, one added
    expect(page.locator("#ranges-help")).to_contain_text(OUTPATIENT_CODE)
    check_page(page, "unit-issue-form")
    page.click("#issue-submit")
    expect(page.locator("#issued-number")).to_have_text(number)
    total = sum(ITEMS_FEN)
    expect(page.locator("#issued-total")).to_have_text(f"¥ {money.yuan(total)}")
    check = page.locator("#issued-check").inner_text().strip()
    assert check
    check_page(page, "unit-issued")

    answer = _read(services, keys, OUTPATIENT_CODE, number)
    assert answer.status_code == 200, answer.text
    record = answer.json()
    assert record["totalAmount"] == total and record["status"] == "issued"
    with services["units"].client(keys["his-clerk"]) as client:
        private = client.get(f"/v1/bills/{OUTPATIENT_CODE}/{number}/private")
    assert private.status_code == 200, private.text
    items = private.json()["items"]
    assert [i["amount"] for i in items] == ITEMS_FEN
    assert [i["standardPrice"] for i in items] == [2500, 10250, 10, 1234]
    assert [i["quantity"] for i in items] == ["1", "2", "3", "1.5"]
    assert record["issueTxId"] == page.locator("#issued-tx").inner_text()
    with services["finance"].client() as public:
        verified = public.post(
            "/v1/public/verify",
            json={"billCode": OUTPATIENT_CODE, "billNumber": number, "checkCode": check},
        ).json()
    assert verified["genuine"] is True and verified["totalAmount"] == total

    page.click("#printable")
    expect(page.locator("#bill-capital")).to_have_text(money.capital(total))
    expect(page.locator("table.items tbody tr")).to_have_count(4)


def test_a_form_sent_twice_issues_one_bill(
    page: Page, services: dict[str, Running], keys: dict[str, str], next_number: Callable[[], str]
) -> None:
    number = next_number()
    sign_in(page, "clerk")
    fill_bill(page, OUTPATIENT_CODE, number, ITEMS[:1])
    form = page.locator("#issue-form")
    fields = form.evaluate(
        "f => Array.from(new FormData(f).entries()).filter(([k]) => k !== 'add')"
    )
    checks = []
    for _ in range(2):  # the same form (its idempotency key) posted twice
        answer = page.request.post("/unit/issue", form=dict(_pairs(fields)))
        assert answer.status == 200, answer.text()
        assert f'id="issued-number">{number}<' in answer.text()
        found = re.search(r'id="issued-check"><strong>([^<]+)<', answer.text())
        assert found is not None
        checks.append(found.group(1))
    assert checks[0] == checks[1]  # the same bill, not a second one nor a refusal
    assert _read(services, keys, OUTPATIENT_CODE, number).json()["totalAmount"] == 2500


def _pairs(fields: list[list[str]]) -> list[tuple[str, str]]:
    # one row of items: FormData's repeated keys collapse to their only value
    return [(k, v) for k, v in fields if not (k.startswith("item_") and v == "")]


def test_a_bad_amount_is_refused_naming_the_field_and_nothing_is_issued(
    page: Page, services: dict[str, Running], keys: dict[str, str], next_number: Callable[[], str]
) -> None:
    number = next_number()
    sign_in(page, "clerk")
    fill_bill(page, OUTPATIENT_CODE, number, [ITEMS[0], ("X1", "材料费", "1", "个", "12.345")])
    page.click("#issue-submit")
    expect(page.locator("#message")).to_contain_text("items[2].price: yuan with at most two")
    expect(page.locator("#item-price-2")).to_have_value("12.345")  # the form keeps its values
    check_page(page, "unit-issue-invalid")
    assert _read(services, keys, OUTPATIENT_CODE, number).status_code == 404

    # the chain's refusal (a code without stock) is a message with its code, no trace
    fill_bill(page, "46019999", number, [ITEMS[0]])
    page.click("#issue-submit")
    expect(page.locator("#message")).to_contain_text("issuance-outside-stock")
    assert "Traceback" not in page.content()
    check_page(page, "unit-issue-refused")
    assert _read(services, keys, "46019999", number).status_code == 404


def test_stock_applied_approved_used_and_reconciled(
    page: Page, services: dict[str, Running], keys: dict[str, str]
) -> None:
    sign_in(page, "clerk")
    page.goto("/unit/stock")
    page.fill("#s-code", NEW_CODE)
    page.fill("#s-start", "0000000001")
    page.fill("#s-count", "0")
    page.click("button:has-text('申领号段')")
    expect(page.locator("#message")).to_contain_text("(count): 1 to 1000000")
    page.fill("#s-count", "500")
    page.click("button:has-text('申领号段')")
    expect(page.locator("#message")).to_contain_text("已提交申领")
    batch = page.locator("#message code").inner_text()
    row = page.locator(f"#stock-{batch}")
    expect(row.locator(".stock-status")).to_have_text("待审批")
    expect(row.locator(".range")).to_have_text("0000000001 - 0000000500")
    check_page(page, "unit-stock-applied")

    sign_in(page, "officer")
    page.goto("/finance?unit=HN0101")
    page.locator(f"#batch-{batch}").get_by_role("button", name="批准").click()
    expect(page.locator(f"#batch-{batch} .batch-status")).to_have_text("已批准")

    sign_in(page, "clerk")

    def approved_on_the_units_peer() -> None:
        page.goto("/unit/stock")
        expect(page.locator(f"#stock-{batch} .stock-status")).to_have_text("已批准", timeout=1000)

    _until(approved_on_the_units_peer)
    expect(page.locator(f"#stock-{batch} .stock-used")).to_have_text("0")
    expect(page.locator(f"#stock-{batch} .stock-left")).to_have_text("500")
    check_page(page, "unit-stock-approved")

    fill_bill(page, NEW_CODE, "0000000001", ITEMS[:2])
    page.click("#issue-submit")
    expect(page.locator("#issued-number")).to_have_text("0000000001")
    assert _read(services, keys, NEW_CODE, "0000000001").json()["totalAmount"] == 23000
    page.goto("/unit/stock")
    expect(page.locator(f"#stock-{batch} .stock-used")).to_have_text("1")
    expect(page.locator(f"#stock-{batch} .stock-left")).to_have_text("499")

    sign_in(page, "officer")

    def used_on_the_finance_peer() -> None:
        page.goto("/finance/reconciliation?unit=HN0101")
        expect(page.locator(f"#stock-{batch} .stock-used")).to_have_text("1", timeout=1000)

    _until(used_on_the_finance_peer)
    granted = int(page.locator("#granted").inner_text())
    assert granted >= 500 + 100000  # this batch and the session's outpatient stock
    assert int(page.locator("#in-ranges").inner_text()) >= 1
    assert int(page.locator("#unit-bills").inner_text()) >= 1
    check_page(page, "finance-stock-reconciliation")
    page.locator(f"#stock-{batch}").get_by_role("button", name="核销").click()
    expect(page.locator("#message")).to_have_text("操作成功")
    expect(page.locator(f"#stock-{batch} .stock-status")).to_have_text("已核销")
    expect(page.locator(f"#stock-{batch}")).to_contain_text("作废 499")
    check_page(page, "finance-stock-reconciled")
    with services["finance"].client(keys["fin-officer"]) as client:
        stock = client.get("/v1/units/HN0101/stock", params={"pageSize": 200}).json()
    closed = {r["batchId"]: r for r in stock["records"]}[batch]
    assert closed["status"] == "reconciled"
    assert closed["reconciliation"]["issued"] == 1 and closed["reconciliation"]["unused"] == 499


def test_finance_releases_a_stale_lock(
    page: Page, services: dict[str, Running], keys: dict[str, str], next_number: Callable[[], str]
) -> None:
    sample = outpatient_bill(next_number(), payer=PAYER1)
    with services["units"].client(keys["his-clerk"]) as client:
        issued = client.post(
            "/v1/bills",
            json={"bill": sample.bill, "payer": sample.payer, "medical": sample.medical},
        )
    assert issued.status_code == 201, issued.text
    number, salt = issued.json()["bill"]["billNumber"], issued.json()["payerSalt"]
    path = f"/v1/bills/{OUTPATIENT_CODE}/{number}"
    proof = {"payerType": PAYER1["type"], "payerId": PAYER1["id"], "salt": salt}
    with services["finance"].client(keys["platform2"]) as platform:
        answer = platform.post(
            "/v1/payer/authorise",
            json={**proof, "billCode": OUTPATIENT_CODE, "billNumber": number,
                  "reimburserId": "PICC-HN"},
        )  # fmt: skip
    assert answer.status_code == 200, answer.text
    with services["insurance"].client(keys["picc-desk"]) as insurer:

        def locked() -> None:
            response = insurer.post(f"{path}/lock")
            assert response.status_code == 200, response.text

        _until(locked)

    with services["finance"].client(keys["fin-officer"]) as finance:

        def listed() -> None:
            page_ = finance.get("/v1/bills", params={"status": "locked", "pageSize": 200})
            assert page_.status_code == 200, page_.text
            assert number in {r["billNumber"] for r in page_.json()["records"]}

        _until(listed)  # the service's new list of bills by status
        refused = finance.get("/v1/bills", params={"status": "stuck"})
        assert refused.status_code == 422 and "status" in refused.text

    sign_in(page, "officer")
    page.goto("/finance/locks")  # the default: locked for an hour; this lock is fresh
    expect(page.locator(f"#lock-{OUTPATIENT_CODE}-{number}")).to_have_count(0)
    assert int(page.locator("#fresh-locks").inner_text().rsplit(":", 1)[1]) >= 1
    page.fill("#minutes", "0")
    page.click("button:has-text('查询')")
    row = page.locator(f"#lock-{OUTPATIENT_CODE}-{number}")
    expect(row).to_contain_text("PICC-HN")
    check_page(page, "finance-stale-locks")
    row.get_by_role("button", name="解除锁定").click()
    expect(page.locator("#message")).to_contain_text(f"{OUTPATIENT_CODE}-{number}")
    expect(page.locator(f"#lock-{OUTPATIENT_CODE}-{number}")).to_have_count(0)
    check_page(page, "finance-lock-released")

    def unlocked() -> None:
        record = _read(services, keys, OUTPATIENT_CODE, number).json()
        assert record["status"] == "issued" and not record.get("lock"), record

    _until(unlocked)


def test_the_new_pages_are_only_for_their_party(page: Page, next_number: Callable[[], str]) -> None:
    unit_pages, finance_pages = (
        ("/unit/issue", "/unit/stock"),
        (
            "/finance/locks",
            "/finance/reconciliation",
        ),
    )
    for username, refused in (
        ("payer1", unit_pages + finance_pages),
        ("clerk", finance_pages),
        ("officer", unit_pages),
    ):
        sign_in(page, username)
        for path in refused:
            answer = page.goto(path)
            assert answer is not None and answer.status == 403, (username, path)
    # a form without its CSRF token is refused, and issues nothing
    sign_in(page, "clerk")
    answer = page.request.post("/unit/issue", form={"billCode": OUTPATIENT_CODE})
    assert answer.status == 400 and "表单已过期" in answer.text()
    answer = page.request.post("/finance/locks/46010126/0000000001/release", form={})
    assert answer.status in (400, 403)
    # and in English
    page.goto("/unit/issue")
    page.click("text=English")
    expect(page.locator("h1")).to_contain_text("Issue a bill")
    check_page(page, "unit-issue-form-en")
    page.goto("/unit/stock")
    expect(page.locator("h1")).to_contain_text("Bill stock")
    page.click("text=中文")


def test_screenshots_of_each_new_page_were_saved() -> None:
    names = {p.stem for p in SHOTS}
    assert {
        "unit-issue-form",
        "unit-issued",
        "unit-issue-invalid",
        "unit-stock-approved",
        "finance-stock-reconciliation",
        "finance-stale-locks",
    } <= names
    assert all(p.stat().st_size > 1000 for p in SHOTS)
    print("\n".join(str(p) for p in SHOTS))
