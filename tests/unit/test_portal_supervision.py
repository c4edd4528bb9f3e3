"""The supervision dashboard's parts without a server: rates from integers, the CSV of a
table (UTF-8 with a BOM, the table's own cells), the filters' refusals naming the field,
actor names in a bill's history, and every message in both languages."""

from __future__ import annotations

import base64
import csv
import io
from types import SimpleNamespace
from typing import Any, cast

import pytest

from ebill_portal import i18n, supervision
from ebill_portal.web import PageError, Visit


def test_rates_are_rounded_from_integers() -> None:
    assert supervision._percent(1, 3) == "33.33%"
    assert supervision._percent(2, 3) == "66.67%"
    assert supervision._percent(1, 8) == "12.50%"
    assert supervision._percent(5, 5) == "100.00%"
    assert supervision._percent(0, 0) == "-"


def test_the_csv_is_the_tables_cells_with_a_bom() -> None:
    rows = [
        {"period": "2026-12-01", "bills": 3, "amount": 123456, "reimbursed": 1000,
         "redLettered": 1},
        {"period": "2026-12-02", "bills": 0, "amount": 0, "reimbursed": 0, "redLettered": 0},
    ]  # fmt: skip
    table = supervision.Table(
        "daily",
        "sup.t.daily",
        (supervision._field("period", "sup.period"), *supervision.FIGURE_COLUMNS),
        rows,
    )
    text = table.csv(lambda key: i18n.translate("zh", key))
    assert text.startswith("\ufeff")
    parsed = list(csv.reader(io.StringIO(text[1:])))
    assert parsed[0] == ["期间", "票据张数", "开票金额（元）", "已报销金额（元）", "冲红张数",
                         "报销率", "冲红率"]  # fmt: skip
    assert parsed[1] == ["2026-12-01", "3", "1234.56", "10.00", "1", "0.81%", "33.33%"]
    assert parsed[2] == ["2026-12-02", "0", "0.00", "0.00", "0", "-", "-"]
    assert parsed[1:] == [table.cells(r, lambda key: i18n.translate("zh", key)) for r in rows]


def _visit() -> Visit:
    return cast(Visit, SimpleNamespace(t=lambda key: i18n.translate("en", key)))


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("2026-12-02", "2026-12-01", "", ""), "fromDate"),
        (("2026-02-30", "", "", ""), "fromDate"),
        (("", "yesterday", "", ""), "toDate"),
        (("", "", "4", ""), "region"),
        (("", "", "", "a sector"), "sector"),
        (("", "", "46", "medical"), "region, sector"),
    ],
)
def test_bad_filters_are_refused_naming_the_field(args: tuple[str, ...], field: str) -> None:
    with pytest.raises(PageError) as raised:
        supervision.filters(_visit(), *args)
    assert raised.value.status == 422 and raised.value.detail.startswith(f"{field}: ")


def test_filters_choose_the_scope_and_default_to_thirty_days() -> None:
    f = supervision.filters(_visit(), "", "2026-12-31")
    assert (f.from_date, f.to_date, f.scope) == ("2026-12-02", "2026-12-31", ("all", "*"))
    assert supervision.filters(_visit(), "", "", "46").scope == ("region", "46")
    assert supervision.filters(_visit(), "", "", "", "medical").scope == ("sector", "medical")


def test_history_rows_name_the_actor_and_nothing_else() -> None:
    actor = base64.b64encode(b"x509::CN=hospital1,OU=client::CN=ca.units").decode()
    entry: dict[str, Any] = {
        "txId": "tx1",
        "timestamp": "2026-12-01T02:00:00Z",
        "status": "issued",
        "lastAction": {"function": "IssueBill", "org": "UnitsMSP", "actorId": actor,
                       "at": "2026-12-01T02:00:00Z"},
    }  # fmt: skip
    assert supervision.history_row(entry) == {
        "at": "2026-12-01T02:00:00Z",
        "function": "IssueBill",
        "org": "UnitsMSP",
        "actor": "hospital1",
        "status": "issued",
        "txId": "tx1",
    }
    assert supervision.actor_name("payer") == "payer"


def test_every_dashboard_message_has_both_languages() -> None:
    keys = [k for k in i18n.MESSAGES if k.startswith("sup.")]
    assert len(keys) > 40
    for key in keys:
        zh, en = i18n.MESSAGES[key]
        assert zh and en and zh != en, key
