"""The portal in headless Chromium, over the services of the session network.

The portal runs in this process over HTTPS and calls the finance and units services
(the service harness) with its users' API keys; Debian's chromium, driven by
Playwright, fills its forms as people would. Each page is checked with axe-core (no
serious or critical violation) and saved as a screenshot.
"""

from __future__ import annotations

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
    screenshots_folder,
    serve_portal,
)
from service_harness import Running, register_clients, start_services

from ebill.samples import OUTPATIENT_CODE, PAYER1, PAYER2, outpatient_bill
from ebill_network.network import Network
from ebill_portal import money, qr
from ebill_portal.users import Store

CLIENTS = {
    "finance": {"platform": "platform1", "fin-console": "finance1"},
    "units": {"his-hospital": "hospital1"},
    "insurance": {"picc-claims": "insurer1"},
}
PASSWORD = "portal-test-password"
STOCK_CODE = "46018826"  # a bill code of region 46 that no other test applies for


@pytest.fixture(scope="module")
def services(
    network: Network, world: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Running]]:
    folder = tmp_path_factory.mktemp("portal-services")
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
        store.add_user("payer1", PASSWORD, "payer", "finance", keys["platform"],
                       payer_type=PAYER1["type"], payer_id=PAYER1["id"])  # fmt: skip
        store.add_user("payer2", PASSWORD, "payer", "finance", keys["platform"],
                       payer_type=PAYER2["type"], payer_id=PAYER2["id"])  # fmt: skip
        store.add_user("clerk", PASSWORD, "unit", "units", keys["his-hospital"], unit_code="HN0101")
        store.add_user("officer", PASSWORD, "finance", "finance", keys["fin-console"])

    # two bills a page, so that the unit's day spans pages in this test too
    with serve_portal(services, tmp_path_factory.mktemp("portal"), users, page_size=2) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium_browser() as chromium:
        yield chromium


SHOTS: list[Path] = []


@pytest.fixture
def page(browser: Browser, portal: RunningPortal) -> Iterator[Page]:
    with portal_page(browser, portal.url) as opened:
        yield opened


def check_page(page: Page, name: str) -> None:
    """Save a screenshot of the page and assert axe-core finds nothing serious on it."""
    portal_harness.check_page(page, name, SHOTS)


def sign_in(page: Page, username: str) -> None:
    fill_sign_in(page, username, PASSWORD)


def _issue(services: dict[str, Running], keys: dict[str, str], number: str, payer: Any) -> Any:
    sample = outpatient_bill(number, payer=payer)
    body = {"bill": sample.bill, "payer": sample.payer, "medical": sample.medical}
    with services["units"].client(keys["his-hospital"]) as client:
        answer = client.post("/v1/bills", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


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


@pytest.fixture(scope="module")
def bill1(services: dict[str, Running], keys: dict[str, str], world: Any) -> Any:
    """A bill of payer 1 (number far from the other modules' counter)."""
    return _issue(services, keys, "0000090001", PAYER1)


def test_pages_without_login_and_the_language_switch(page: Page) -> None:
    page.goto("/")
    expect(page.locator("h1")).to_have_text("财政电子票据平台")
    check_page(page, "home-zh")
    page.click("text=English")
    expect(page.locator("h1")).to_have_text("Fiscal e-bill portal")
    check_page(page, "home-en")
    page.click("text=中文")
    page.goto("/login")
    check_page(page, "login")
    page.fill("#username", "payer1")
    page.fill("#password", "not the password")
    page.click("button[type=submit]:has-text('登录')")
    expect(page.locator("#message")).to_have_text("用户名或密码错误")
    cookie = next(c for c in page.context.cookies() if c["name"] == "ebill_portal_session")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"


def test_a_form_without_its_csrf_token_is_refused(page: Page, portal: RunningPortal) -> None:
    page.goto("/verify")
    answer = page.request.post(
        "/verify", form={"c": OUTPATIENT_CODE, "n": "0000000001", "k": "AAAAAA"}
    )
    assert answer.status == 400 and "表单已过期" in answer.text()


def test_a_payer_verifies_from_the_qr_link_and_authorises_an_insurer(
    page: Page,
    portal: RunningPortal,
    services: dict[str, Running],
    keys: dict[str, str],
    bill1: Any,
) -> None:
    bill, check, salt = bill1["bill"], bill1["checkCode"], bill1["payerSalt"]
    number = bill["billNumber"]
    link = qr.verify_link(portal.url, OUTPATIENT_CODE, number, check)
    page.goto(link)
    expect(page.locator("#result h2")).to_have_text("真票：该票据由财政电子票据链登记")
    expect(page.locator("#status")).to_have_text("已开具")
    assert PAYER1["name"] not in page.content() and PAYER1["id"] not in page.content()
    assert f"¥ {money.yuan(bill['totalAmount'])}" in page.locator("#result").inner_text()
    check_page(page, "verify-genuine")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    check_page(page, "verify-genuine-phone")
    page.goto(qr.verify_link(portal.url, OUTPATIENT_CODE, number, "ZZZZZZ"))
    expect(page.locator("#result h2")).to_have_text("查验不通过：未找到相符的票据")
    check_page(page, "verify-not-genuine")
    page.goto("/verify")
    page.fill("#c", "4601012")  # 7 digits: refused naming the field
    page.fill("#n", number)
    page.fill("#k", check)
    page.evaluate("document.querySelector('#c').removeAttribute('pattern')")
    page.click("button[type=submit]:has-text('查验')")
    expect(page.locator("#message")).to_contain_text("票据代码: 8 digits")
    check_page(page, "verify-form-error")

    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, "payer1")
    expect(page).to_have_url(f"{portal.url}/payer")
    page.fill("#salt", salt)
    page.click("button:has-text('查询')")
    row = page.locator(f"a:has-text('{OUTPATIENT_CODE}-{number}')")
    expect(row).to_have_count(1)
    check_page(page, "payer-my-bills")
    row.click()
    expect(page.locator("#bill-capital")).to_have_text(money.capital(bill["totalAmount"]))
    expect(page.locator("#bill-total")).to_have_text(f"¥ {money.yuan(bill['totalAmount'])}")
    expect(page.locator("#bill-tx")).to_have_text(bill["issueTxId"])
    page.fill("#check", check)
    page.click("button:has-text('确认')")
    expect(page.locator("#bill-check")).to_have_text(check)
    expect(page.locator("figure.qr svg")).to_have_count(1)
    check_page(page, "payer-bill")
    pdf = page.request.get(f"/bills/{OUTPATIENT_CODE}/{number}.pdf")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    (screenshots_folder() / "payer-bill.pdf").write_bytes(pdf.body())

    page.select_option("#reimburser", "PICC-HN")
    page.click("button:has-text('授权')")
    expect(page.locator("#message")).to_have_text("操作成功")
    expect(page.locator("#authorised")).to_contain_text("PICC-HN")
    proof = {"payerType": PAYER1["type"], "payerId": PAYER1["id"], "salt": salt}
    with services["finance"].client(keys["platform"]) as client:
        read = client.post(
            "/v1/payer/bills/read",
            json={**proof, "billCode": OUTPATIENT_CODE, "billNumber": number},
        ).json()
    assert list(read["authorised"]) == ["PICC-HN"]
    # authorising the same insurer twice: the chain's refusal as a message, no trace
    answer = page.request.post(
        f"/bills/{OUTPATIENT_CODE}/{number}/authorise",
        form={"csrf": page.locator("input[name=csrf]").first.get_attribute("value") or "",
              "reimburser": "PICC-HN"},
    )  # fmt: skip
    assert answer.status == 409 and "Traceback" not in answer.text()
    assert "操作被拒绝" in answer.text() and "[" in answer.text()

    # the insurer locks and claims part of the bill: the claim shows on the payer's page
    path = f"/v1/bills/{OUTPATIENT_CODE}/{number}"
    with services["insurance"].client(keys["picc-claims"]) as insurer:

        def locked() -> None:
            response = insurer.post(f"{path}/lock")
            assert response.status_code == 200, response.text

        _until(locked)
        claimed = insurer.post(f"{path}/claim", json={"amount": 10000, "voucherNo": f"P{number}"})
        assert claimed.status_code == 200, claimed.text

    def claim_shown() -> None:
        page.goto(f"/bills/{OUTPATIENT_CODE}/{number}")
        assert "PICC-HN: ¥ 100.00" in page.content()

    _until(claim_shown)
    expect(page.locator("#bill-status")).to_have_text("部分报销")
    check_page(page, "payer-bill-claimed")
    page.goto("/payer")
    expect(page.locator("table.list tbody")).to_contain_text("100.00")


def test_a_payer_cannot_open_another_payers_bill(
    page: Page,
    portal: RunningPortal,
    services: dict[str, Running],
    keys: dict[str, str],
    bill1: Any,
) -> None:
    mine = _issue(services, keys, "0000090002", PAYER2)
    sign_in(page, "payer2")
    page.fill("#salt", mine["payerSalt"])
    page.click("button:has-text('查询')")
    expect(page.locator(f"a:has-text('{mine['bill']['billNumber']}')")).to_have_count(1)
    # even with payer 1's bill key, payer 2 neither lists nor opens payer 1's bill
    page.fill("#salt", bill1["payerSalt"])
    page.click("button:has-text('查询')")
    expect(page.locator(f"a:has-text('{bill1['bill']['billNumber']}')")).to_have_count(0)
    answer = page.goto(f"/bills/{OUTPATIENT_CODE}/{bill1['bill']['billNumber']}")
    assert answer is not None and answer.status == 403
    expect(page.locator("#message")).to_have_text("您无权查看此页面")
    assert bill1["bill"]["issueTxId"] not in page.content()
    check_page(page, "payer-forbidden")
    for other in ("/unit", "/unit/reconciliation", "/finance"):  # other parties' pages
        answer = page.goto(other)
        assert answer is not None and answer.status == 403, other
    assert (
        page.request.get(f"/bills/{OUTPATIENT_CODE}/{bill1['bill']['billNumber']}.pdf").status
        == 403
    )


def test_a_unit_red_letters_a_bill(
    page: Page, portal: RunningPortal, services: dict[str, Running], keys: dict[str, str]
) -> None:
    issued = _issue(services, keys, "0000090003", PAYER1)
    bill = issued["bill"]
    number, day = bill["billNumber"], bill["issueDate"][:10]
    sign_in(page, "clerk")
    page.goto(f"/unit?day={day}")
    expect(page.locator("table.list tbody tr")).to_have_count(2)  # one page of two
    first_page = page.locator("table.list tbody").inner_text()
    check_page(page, "unit-bills")
    page.click("text=下一页")
    expect(page.locator("table.list tbody tr").first).to_be_visible()
    assert page.locator("table.list tbody").inner_text() != first_page
    check_page(page, "unit-bills-page-2")
    page.goto(f"/bills/{OUTPATIENT_CODE}/{number}")
    expect(page.locator("#bill-payer")).to_have_text(PAYER1["name"])
    expect(page.locator("table.items tbody tr")).to_have_count(3)
    expect(page.locator("#bill-capital")).to_have_text(money.capital(bill["totalAmount"]))
    check_page(page, "unit-bill")
    page.goto(f"/unit?day={day}")
    page.fill("#find-code", OUTPATIENT_CODE)
    page.fill("#find-number", number)
    page.click("button:has-text('查找票据')")
    row = page.locator(f"#row-{number}")
    expect(row).to_contain_text("已开具")
    page.fill(f"#red-{number}", "0000090004")
    page.fill(f"#reason-{number}", "收费项目录入错误")
    row.locator("button:has-text('冲红')").click()
    expect(page.locator("#message")).to_contain_text("0000090004")
    expect(page.locator(f"#row-{number}")).to_contain_text("已冲红")
    check_page(page, "unit-red-lettered")
    with services["units"].client(keys["his-hospital"]) as client:
        record = client.get(f"/v1/bills/{OUTPATIENT_CODE}/{number}").json()
    assert record["status"] == "red_lettered"
    assert record["redLetter"]["reason"] == "收费项目录入错误"
    page.goto(f"/unit/reconciliation?fromDate={day}&toDate={day}")
    cells = page.locator("#reconciliation tbody tr td")
    assert int(cells.nth(1).inner_text()) >= 2 and int(cells.nth(4).inner_text()) >= 1
    check_page(page, "unit-reconciliation")


def test_finance_approves_a_stock_application(
    page: Page, portal: RunningPortal, services: dict[str, Running], keys: dict[str, str]
) -> None:
    application = {"billCode": STOCK_CODE, "startNumber": "0000000001", "count": 500}
    with services["units"].client(keys["his-hospital"]) as client:
        applied = client.post("/v1/stock", json={"unitCode": "HN0101", **application})
    assert applied.status_code == 201, applied.text
    batch = applied.json()["batchId"]
    sign_in(page, "officer")
    page.goto("/finance?unit=HN0101")
    expect(page.locator(f"#batch-{batch} .batch-status")).to_have_text("待审批")
    check_page(page, "finance-console")
    page.locator(f"#batch-{batch}").get_by_role("button", name="批准").click()
    expect(page.locator("#message")).to_have_text("操作成功")
    expect(page.locator(f"#batch-{batch} .batch-status")).to_have_text("已批准")
    check_page(page, "finance-approved")

    def approved() -> None:
        with services["units"].client(keys["his-hospital"]) as client:
            page_ = client.get("/v1/units/HN0101/stock", params={"pageSize": 200}).json()
        assert {r["batchId"]: r["status"] for r in page_["records"]}[batch] == "approved"

    _until(approved)
    # registering a unit that exists: the refusal is a clear message with its code
    page.fill("#r-code", "HN0101")
    page.fill("#r-name", "海南省人民医院")
    page.fill("#r-region", "46")
    page.click("button:has-text('登记开票单位')")
    expect(page.locator("#message")).to_contain_text("unit-exists")
    assert "Traceback" not in page.content()
    check_page(page, "finance-refused")


def test_screenshots_of_each_page_were_saved() -> None:
    names = {p.stem for p in SHOTS}
    assert {"home-zh", "verify-genuine", "payer-bill", "unit-red-lettered"} <= names
    assert all(p.stat().st_size > 1000 for p in SHOTS)
    print("\n".join(str(p) for p in SHOTS))
