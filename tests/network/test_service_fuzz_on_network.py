"""Property-based fuzzing of the units service from its own OpenAPI document (schemathesis).

Every operation gets a bounded number of generated requests (``EXAMPLES``), sent with a
valid API key of an issuer (the role with the most writes) to the real service on the
real network. Each answer must not be a 5xx and must match the status codes, content
type and schema the document declares. Afterwards nothing must have been written but
what a 2xx answered: the unit's bill count and stock batches are as before plus the
bills and batches that 2xx answers reported.

Not fuzzed: ``GET /v1/events`` (an endless stream; tested in
test_service_events_on_network). The fuzzed service does not follow events, so a
webhook the fuzzer subscribes (to a random URL) is never called.
"""

from __future__ import annotations

from collections.abc import Iterator
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
from service_harness import Running, start

from ebill_network.network import Network
from ebill_service.settings import Settings

EXAMPLES = 12
UNIT = "HN0101"
SKIPPED = {("GET", "/v1/events")}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def units(
    network: Network, world: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    folder = tmp_path_factory.mktemp("fuzz")
    settings = Settings(
        org="units",
        network=network.layout.network_file(),
        state=folder / "state.sqlite",
        events=False,
        client_rate=100_000,
    )
    running = start(settings)
    yield running
    running.stop()


def _chain_state(session: requests.Session, url: str) -> tuple[int, set[str]]:
    """The unit's bill count (all dates) and its stock batch ids, read over the API."""
    totals = session.get(f"{url}/v1/units/{UNIT}/totals")
    assert totals.status_code == 200, totals.text
    batches: set[str] = set()
    bookmark = ""
    while True:
        page = session.get(
            f"{url}/v1/units/{UNIT}/stock", params={"pageSize": 200, "bookmark": bookmark}
        ).json()
        batches |= {b["batchId"] for b in page["records"]}
        bookmark = page["bookmark"]
        if not bookmark or not page["records"]:
            break
    return int(totals.json()["count"]), batches


def test_fuzz_the_units_service_from_its_openapi_document(units: Running) -> None:
    key = units.service.clients.register("fuzz-hospital", "fuzz", "units", "hospital1")
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
    session.verify = str(units.cert)
    session.headers["Authorization"] = f"Bearer {key}"
    document = session.get(f"{units.url}/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    count_before, batches_before = _chain_state(session, units.url)

    written: list[tuple[str, str, Any]] = []
    fuzzed: list[str] = []
    failures: list[str] = []
    statuses: dict[int, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        fuzzed.append(f"{operation.method.upper()} {operation.path}")

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: Any) -> None:
            response = case.call(
                base_url=units.url, session=session, timeout=60, verify=str(units.cert)
            )
            statuses[response.status_code // 100] = statuses.get(response.status_code // 100, 0) + 1
            case.validate_response(response, checks=CHECKS)
            if case.method.upper() in ("POST", "DELETE") and response.status_code < 300:
                written.append((case.method.upper(), case.path, response.json()
                                if response.content else None))  # fmt: skip

        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as error:  # report every operation's findings
            failures.append(f"{fuzzed[-1]}: {error}")

    assert len(fuzzed) >= 20, fuzzed
    assert not failures, "\n\n".join(failures)
    print(f"fuzzed {len(fuzzed)} operations; answers by class: {sorted(statuses.items())}")
    assert statuses.get(2) and statuses.get(4), statuses  # both accepted and refused calls
    count_after, batches_after = _chain_state(session, units.url)
    issued = sum(_bills_of(path, body) for _, path, body in written)
    new_batches = {body["batchId"] for _, path, body in written if path == "/v1/stock"}
    assert count_after == count_before + issued, (count_before, count_after, written)
    assert batches_after == batches_before | new_batches, written
    session.close()


def _bills_of(path: str, body: Any) -> int:
    """How many bills of the unit a 2xx answer of ``path`` says were issued."""
    if path == "/v1/bills" and isinstance(body, dict) and "bill" in body:
        return 1 if body["bill"].get("unitCode") == UNIT else 0
    if path == "/v1/bills:batch" and isinstance(body, dict):
        return sum(
            1
            for r in body.get("results", [])
            if r.get("status") == 201 and r["result"]["bill"].get("unitCode") == UNIT
        )
    if path.endswith("/red-letter") and isinstance(body, dict):
        return 1  # the red bill
    return 0
