"""The supervision dashboard: the province's bills and amounts per day and month, by
sector, unit and region, the reimbursement and red-letter rates, anomalies by type over
time; CSV export of each table; drill-down from a unit to its bills, from a figure to its
transactions and from a bill or an anomaly to the bill's full history.

For the audit org's auditors (party ``supervisor``) and the finance department (party
``finance``). Every figure comes from the user's own service (``/v1/stats/...``, the
read model, with its ``asOf`` freshness) and the bill's history from
``/v1/bills/{code}/{number}/history`` (the chain): no second path to the chain.
Tables are rendered on the server; ``static/dashboard.js`` draws the charts with ECharts
from the same rows, so the page works without JavaScript.
"""

from __future__ import annotations

import base64
import binascii
import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response

from . import money
from .api import ServiceAPI
from .i18n import china_today
from .users import User
from .web import PageError, Visit, VisitDep

#: The parties that may open the dashboard (the service refuses the others too).
SUPERVISING = ("supervisor", "finance")
#: The tables of the dashboard, in page order (each one exportable as CSV).
DASHBOARD_TABLES = ("totals", "daily", "monthly", "sectors", "units", "regions", "anomalies")
#: The drill-down lists, exportable as CSV as well.
LIST_TABLES = ("bills", "anomaly-list", "transactions")
DEFAULT_DAYS = 30
BOM = "\ufeff"


def _percent(part: int, whole: int) -> str:
    """``part/whole`` as a percentage with two decimals, from integers (no float drift);
    "-" when ``whole`` is 0."""
    if whole <= 0:
        return "-"
    hundredths = (part * 10000 * 2 + whole) // (whole * 2)  # rounded half up
    return f"{hundredths // 100}.{hundredths % 100:02d}%"


def _yuan(fen: int) -> str:
    """Yuan with two decimals and no separator (the same text in the table and the CSV)."""
    return money.yuan(fen).replace(",", "")


@dataclass(frozen=True)
class Column:
    """One column: the header's message key, how a row's cell reads, and the raw value
    (a data attribute on the cell, e.g. the fen behind a yuan amount)."""

    header: str
    text: Callable[[dict[str, Any]], str]
    raw: Callable[[dict[str, Any]], Any] | None = None
    numeric: bool = False
    #: the text is a code shown through the message catalogue (``prefix + code``)
    prefix: str = ""

    def cell(self, row: dict[str, Any], t: Callable[[str], str]) -> str:
        """The cell as shown and exported (a code translated when ``prefix`` is set)."""
        text = self.text(row)
        return t(self.prefix + text) if self.prefix and text else text


def _count(name: str, header: str) -> Column:
    return Column(header, lambda r: str(int(r.get(name, 0))), lambda r: int(r.get(name, 0)), True)


def _money(name: str, header: str) -> Column:
    return Column(header, lambda r: _yuan(int(r.get(name, 0))), lambda r: int(r.get(name, 0)), True)


def _field(name: str, header: str) -> Column:
    return Column(header, lambda r: str(r.get(name, "") or ""), lambda r: r.get(name, ""))


#: A bill's code and number, the first column of every list that links to its history.
BILL_KEY = Column("bill.code", lambda r: f"{r.get('billCode', '')}-{r.get('billNumber', '')}")


FIGURE_COLUMNS = (
    _count("bills", "sup.bills"),
    _money("amount", "sup.amount"),
    _money("reimbursed", "sup.reimbursed"),
    _count("redLettered", "sup.red"),
    Column(
        "sup.rate.reimbursed",
        lambda r: _percent(int(r.get("reimbursed", 0)), int(r.get("amount", 0))),
        numeric=True,
    ),
    Column(
        "sup.rate.red",
        lambda r: _percent(int(r.get("redLettered", 0)), int(r.get("bills", 0))),
        numeric=True,
    ),
)


@dataclass
class Table:
    """A table as shown and as exported: caption key, columns, rows (the service's
    dicts), and where a row links to (``link``: row -> URL, on the first cell)."""

    name: str
    caption: str
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]
    link: Callable[[dict[str, Any]], str] | None = None

    def cells(self, row: dict[str, Any], t: Callable[[str], str]) -> list[str]:
        return [c.cell(row, t) for c in self.columns]

    def csv(self, t: Callable[[str], str]) -> str:
        """The table as CSV, UTF-8 with a BOM (so Excel reads the Chinese headers)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([t(c.header) for c in self.columns])
        for row in self.rows:
            writer.writerow(self.cells(row, t))
        return BOM + out.getvalue()


@dataclass(frozen=True)
class Filters:
    """The dashboard's filters: the period and one scope (a region or a sector, or all)."""

    from_date: str
    to_date: str
    region: str = ""
    sector: str = ""

    @property
    def scope(self) -> tuple[str, str]:
        if self.sector:
            return "sector", self.sector
        if self.region:
            return "region", self.region
        return "all", "*"

    def span(self) -> dict[str, str]:
        return {"fromDate": self.from_date, "toDate": self.to_date}

    def query(self, **more: str) -> str:
        values = {**self.span(), "region": self.region, "sector": self.sector, **more}
        return urlencode({k: v for k, v in values.items() if v})


def _date(v: Visit, value: str, name: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise PageError(422, "refused", f"{name}: {v.t('sup.rule.date')}") from None


def filters(v: Visit, from_date: str, to_date: str, region: str = "", sector: str = "") -> Filters:
    """The filters of a request; PageError 422 naming the field for a bad one."""
    today = china_today()
    last = _date(v, to_date, "toDate") if to_date else today
    first = (
        _date(v, from_date, "fromDate")
        if from_date
        else (dt.date.fromisoformat(last) - dt.timedelta(days=DEFAULT_DAYS - 1)).isoformat()
    )
    if first > last:
        raise PageError(422, "refused", f"fromDate: {v.t('sup.rule.span')}")
    if region and not re.fullmatch(r"\d{2}", region):
        raise PageError(422, "refused", f"region: {v.t('sup.rule.region')}")
    if sector and not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", sector):
        raise PageError(422, "refused", f"sector: {v.t('sup.rule.sector')}")
    if region and sector:
        raise PageError(422, "refused", f"region, sector: {v.t('sup.rule.one')}")
    return Filters(first, last, region, sector)


def supervising(v: Visit) -> User:
    """The user when it may supervise. Raises PageError 403 otherwise."""
    if v.user is None or v.user.party not in SUPERVISING:
        raise PageError(403, "error.forbidden")
    return v.user


def _history_link(row: dict[str, Any]) -> str:
    """The bill's history page; "" for a row naming no bill (an anomaly without one)."""
    if not (row.get("billCode") and row.get("billNumber")):
        return ""
    return f"/supervision/bills/{row['billCode']}/{row['billNumber']}"


@dataclass
class Dashboard:
    """Everything the dashboard page shows, read from the service in one visit."""

    filters: Filters
    totals: dict[str, Any]
    tables: dict[str, Table]
    anomaly_types: dict[str, int]
    as_of: dict[str, Any]


def _as_of(answers: list[dict[str, Any]]) -> dict[str, Any]:
    """The stalest freshness among the answers (the lowest height, the largest lag)."""
    marks = [a.get("asOf") or {} for a in answers]
    heights = [int(m.get("height", 0)) for m in marks]
    lags = [int(m.get("lagBlocks", 0)) for m in marks]
    return {"height": min(heights, default=0), "lagBlocks": max(lags, default=0)}


def dashboard(api: ServiceAPI, f: Filters, only: str | None = None) -> Dashboard:
    """The dashboard's figures over ``f`` (``only``: read just what that table needs).
    Raises Refused (a problem of the service), Unavailable."""
    scope, key = f.scope
    span = f.span()
    tables: dict[str, Table] = {}
    answers: list[dict[str, Any]] = []
    totals: dict[str, Any] = {}
    types: dict[str, int] = {}

    def wanted(*names: str) -> bool:
        return only is None or only in names

    if wanted("totals"):
        totals = api.get("/v1/stats/totals", scope=scope, key=key, **span)
        answers.append(totals)
        totals_link = "/supervision/transactions?" + urlencode({"scope": scope, "key": key, **span})
        tables["totals"] = Table(
            "totals",
            "sup.t.totals",
            (Column("sup.scope", lambda r: f"{r['scope']} {r['key']}".strip()), *FIGURE_COLUMNS),
            [totals],
            link=lambda r: totals_link,
        )
    for name, period in (("daily", "day"), ("monthly", "month")):
        if wanted(name):
            series = api.get("/v1/stats/series", scope=scope, key=key, period=period, **span)
            answers.append(series)
            tables[name] = Table(
                name,
                f"sup.t.{name}",
                (_field("period", "sup.period"), *FIGURE_COLUMNS),
                list(series["rows"]),
            )
    for name, by in (("sectors", "sector"), ("units", "unit"), ("regions", "region")):
        if wanted(name):
            breakdown = api.get("/v1/stats/breakdown", by=by, **span)
            answers.append(breakdown)
            link = None
            if by == "unit":

                def link(r: dict[str, Any]) -> str:
                    return f"/supervision/units/{r['key']}?" + urlencode(span)

            tables[name] = Table(
                name,
                f"sup.t.{name}",
                (_field("key", f"sup.by.{by}"), *FIGURE_COLUMNS),
                list(breakdown["rows"]),
                link=link,
            )
    if wanted("anomalies"):
        anomalies = api.get("/v1/stats/anomalies", period="day", **span)
        answers.append(anomalies)
        types = {str(k): int(n) for k, n in (anomalies.get("byType") or {}).items()}
        tables["anomalies"] = Table(
            "anomalies",
            "sup.t.anomalies",
            (
                _field("period", "sup.period"),
                _field("type", "sup.type"),
                _count("count", "sup.count"),
            ),
            list(anomalies["rows"]),
            link=lambda r: (
                "/supervision/anomalies?"
                + urlencode({"type": r["type"], "fromDate": r["period"], "toDate": r["period"]})
            ),
        )
    return Dashboard(f, totals, tables, types, _as_of(answers))


def chart_data(d: Dashboard, t: Callable[[str], str]) -> dict[str, Any]:
    """The charts' data for dashboard.js: the same rows as the tables (yuan as numbers)."""

    def figures(name: str, label: str) -> dict[str, Any]:
        rows = d.tables[name].rows
        return {
            "labels": [str(r[label]) for r in rows],
            "bills": [int(r.get("bills", 0)) for r in rows],
            "amount": [int(r.get("amount", 0)) / 100 for r in rows],
            "reimbursedRate": [
                round(int(r.get("reimbursed", 0)) * 100 / int(r["amount"]), 2)
                if int(r.get("amount", 0))
                else 0
                for r in rows
            ],
            "redRate": [
                round(int(r.get("redLettered", 0)) * 100 / int(r["bills"]), 2)
                if int(r.get("bills", 0))
                else 0
                for r in rows
            ],
        }

    periods = sorted({str(r["period"]) for r in d.tables["anomalies"].rows})
    counts: dict[str, dict[str, int]] = {}
    for r in d.tables["anomalies"].rows:
        counts.setdefault(str(r["type"]), {})[str(r["period"])] = int(r["count"])
    return {
        "names": {
            "bills": t("sup.bills"),
            "amount": t("sup.amount.yuan"),
            "reimbursedRate": t("sup.rate.reimbursed"),
            "redRate": t("sup.rate.red"),
        },
        "daily": figures("daily", "period"),
        "monthly": figures("monthly", "period"),
        "sectors": figures("sectors", "key"),
        "units": figures("units", "key"),
        "anomalies": {
            "labels": periods,
            "series": [
                {"name": kind, "data": [by_period.get(p, 0) for p in periods]}
                for kind, by_period in sorted(counts.items())
            ],
        },
    }


def _page_args(cursor: str, page_size: int) -> dict[str, Any]:
    return {"pageSize": page_size, **({"cursor": cursor} if cursor else {})}


def _history_page(
    answer: dict[str, Any], table_id: str, title: str, columns: tuple[Column, ...]
) -> tuple[Table, str, dict[str, Any]]:
    """A page of a /v1/stats list as a table whose rows link to the bill's history, with
    the next cursor and the answer's asOf."""
    table = Table(table_id, title, columns, list(answer["items"]), link=_history_link)
    return table, str(answer.get("cursor") or ""), answer.get("asOf") or {}


def bills_table(
    api: ServiceAPI, unit_code: str, f: Filters, status: str, kind: str, cursor: str, size: int
) -> tuple[Table, str, dict[str, Any]]:
    """One page of a unit's bills (/v1/stats/bills): the table, the next cursor, asOf."""
    args: dict[str, Any] = {"unitCode": unit_code, **f.span(), **_page_args(cursor, size)}
    args.update({k: v for k, v in (("status", status), ("kind", kind)) if v})
    answer = api.get("/v1/stats/bills", **args)
    return _history_page(
        answer,
        "bills",
        "sup.t.bills",
        (
            BILL_KEY,
            _field("issueDate", "bill.date"),
            _money("totalAmount", "sup.amount"),
            Column("bill.status", lambda r: str(r.get("status", "")), prefix="status."),
            _field("kind", "sup.kind"),
        ),
    )


def anomaly_table(
    api: ServiceAPI, kind: str, f: Filters, cursor: str, size: int
) -> tuple[Table, str, dict[str, Any]]:
    """One page of the anomalies (/v1/stats/anomalies/list), each linking to its bill."""
    args: dict[str, Any] = {**f.span(), **_page_args(cursor, size)}
    if kind:
        args["type"] = kind
    answer = api.get("/v1/stats/anomalies/list", **args)
    return _history_page(
        answer,
        "anomaly-list",
        "sup.t.anomaly-list",
        (
            BILL_KEY,
            _field("type", "sup.type"),
            _field("unitCode", "sup.by.unit"),
            _field("day", "sup.day"),
            _field("txId", "bill.tx"),
            _field("anomalyId", "sup.anomaly"),
        ),
    )


def transactions_table(
    api: ServiceAPI, scope: str, key: str, f: Filters, cursor: str, size: int
) -> tuple[Table, str, dict[str, Any]]:
    """One page of the transactions behind a total (/v1/stats/transactions)."""
    args: dict[str, Any] = {"scope": scope, "key": key, **f.span(), **_page_args(cursor, size)}
    answer = api.get("/v1/stats/transactions", **args)
    return _history_page(
        answer,
        "transactions",
        "sup.t.transactions",
        (
            BILL_KEY,
            _field("function", "sup.function"),
            _field("day", "sup.day"),
            _count("blockNumber", "sup.block"),
            _field("txId", "bill.tx"),
        ),
    )


def csv_response(table: Table, v: Visit) -> Response:
    """The table as a CSV download, UTF-8 with a BOM."""
    return Response(
        table.csv(v.t).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{table.name}.csv"'},
    )


def _code(value: str, pattern: str, rule: str) -> str:
    """``value`` when it matches ``pattern``; PageError 422 with ``rule`` (naming the
    field) otherwise."""
    if not re.fullmatch(pattern, value):
        raise PageError(422, "refused", rule)
    return value


def register(app: FastAPI) -> None:
    @app.get("/supervision", response_class=HTMLResponse)
    def dashboard_page(
        v: VisitDep, fromDate: str = "", toDate: str = "", region: str = "", sector: str = ""
    ) -> HTMLResponse:
        """The dashboard over the filters (the last 30 days by default)."""
        supervising(v)
        f = filters(v, fromDate, toDate, region, sector)
        with v.api() as api:
            d = dashboard(api, f)
        return v.render("supervision.html", d=d, f=f, charts=chart_data(d, v.t))

    @app.get("/supervision/export/{name}.csv")
    def export(
        name: str,
        v: VisitDep,
        fromDate: str = "",
        toDate: str = "",
        region: str = "",
        sector: str = "",
        unitCode: str = "",
        status: str = "",
        kind: str = "",
        type: str = "",
        scope: str = "all",
        key: str = "*",
        cursor: str = "",
        pageSize: int = 500,
    ) -> Response:
        """A table of the dashboard (or one page of a drill-down list) as CSV."""
        supervising(v)
        f = filters(v, fromDate, toDate, region, sector)
        size = max(1, min(pageSize, 500))
        with v.api() as api:
            if name in DASHBOARD_TABLES:
                table = dashboard(api, f, only=name).tables[name]
            elif name == "bills":
                unit = _code(
                    unitCode, r"[A-Za-z0-9_-]{1,32}", f"unitCode: {v.t('sup.rule.sector')}"
                )
                table = bills_table(api, unit, f, status, kind, cursor, size)[0]
            elif name == "anomaly-list":
                table = anomaly_table(api, type, f, cursor, size)[0]
            elif name == "transactions":
                table = transactions_table(api, scope, key, f, cursor, size)[0]
            else:
                raise PageError(404, "error.notfound", name)
        return csv_response(table, v)

    @app.get("/supervision/units/{unitCode}", response_class=HTMLResponse)
    def unit_bills(
        unitCode: str,
        v: VisitDep,
        fromDate: str = "",
        toDate: str = "",
        status: str = "",
        kind: str = "",
        cursor: str = "",
    ) -> HTMLResponse:
        """Drill-down: one page of a unit's bills, each linking to its history."""
        supervising(v)
        f = filters(v, fromDate, toDate)
        size = v.portal.settings.page_size
        with v.api() as api:
            table, next_cursor, as_of = bills_table(api, unitCode, f, status, kind, cursor, size)
        base = {**f.span(), "unitCode": unitCode, "status": status, "kind": kind}
        return v.render(
            "supervision_list.html",
            title=f"{v.t('sup.t.bills')} {unitCode}",
            table=table,
            as_of=as_of,
            f=f,
            export="/supervision/export/bills.csv?" + _query({**base, "pageSize": size}, cursor),
            next_page=(f"/supervision/units/{unitCode}?" + _query(base, next_cursor))
            if next_cursor
            else "",
        )

    @app.get("/supervision/anomalies", response_class=HTMLResponse)
    def anomaly_list(
        v: VisitDep, type: str = "", fromDate: str = "", toDate: str = "", cursor: str = ""
    ) -> HTMLResponse:
        """Drill-down: the anomalies of a type and period, each linking to its bill."""
        supervising(v)
        f = filters(v, fromDate, toDate)
        size = v.portal.settings.page_size
        with v.api() as api:
            table, next_cursor, as_of = anomaly_table(api, type, f, cursor, size)
        base = {**f.span(), "type": type}
        return v.render(
            "supervision_list.html",
            title=f"{v.t('sup.t.anomaly-list')} {type}",
            table=table,
            as_of=as_of,
            f=f,
            export="/supervision/export/anomaly-list.csv?"
            + _query({**base, "pageSize": size}, cursor),
            next_page=("/supervision/anomalies?" + _query(base, next_cursor))
            if next_cursor
            else "",
        )

    @app.get("/supervision/transactions", response_class=HTMLResponse)
    def transactions(
        v: VisitDep,
        scope: str = "all",
        key: str = "*",
        fromDate: str = "",
        toDate: str = "",
        cursor: str = "",
    ) -> HTMLResponse:
        """Drill-down: the transactions behind a total, each linking to its bill."""
        supervising(v)
        f = filters(v, fromDate, toDate)
        size = v.portal.settings.page_size
        with v.api() as api:
            table, next_cursor, as_of = transactions_table(api, scope, key, f, cursor, size)
        base = {**f.span(), "scope": scope, "key": key}
        return v.render(
            "supervision_list.html",
            title=f"{v.t('sup.t.transactions')} {scope} {key}",
            table=table,
            as_of=as_of,
            f=f,
            export="/supervision/export/transactions.csv?"
            + _query({**base, "pageSize": size}, cursor),
            next_page=("/supervision/transactions?" + _query(base, next_cursor))
            if next_cursor
            else "",
        )

    @app.get("/supervision/bills/{billCode}/{billNumber}", response_class=HTMLResponse)
    def bill_history(billCode: str, billNumber: str, v: VisitDep) -> HTMLResponse:
        """Drill-down: a bill's full history on the chain (who did what, when, in which
        transaction), oldest first."""
        supervising(v)
        code = _code(billCode, r"\d{8}", f"{v.t('bill.code')}: 8 digits")
        number = _code(billNumber, r"\d{10}", f"{v.t('bill.number')}: 10 digits")
        with v.api() as api:
            bill = api.get(f"/v1/bills/{code}/{number}")
            entries = api.get(f"/v1/bills/{code}/{number}/history")
        return v.render(
            "supervision_history.html", bill=bill, entries=[history_row(e) for e in entries]
        )


def _query(values: dict[str, Any], cursor: str) -> str:
    return urlencode({k: v for k, v in {**values, "cursor": cursor}.items() if v})


def history_row(entry: dict[str, Any]) -> dict[str, str]:
    """One history entry as shown: when, function, org, actor's name, status, tx."""
    action = entry.get("lastAction") or {}
    actor = str(action.get("actorId", ""))
    return {
        "at": str(action.get("at") or entry.get("timestamp") or ""),
        "function": str(action.get("function", "")),
        "org": str(action.get("org", "")),
        "actor": actor_name(actor),
        "status": str(entry.get("status") or ("deleted" if entry.get("isDelete") else "")),
        "txId": str(entry.get("txId", "")),
    }


def actor_name(actor_id: str) -> str:
    """The common name in an actor id (base64 ``x509::<subject>::<issuer>``), else the
    id as written."""
    try:
        text = base64.b64decode(actor_id, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return actor_id
    if not text.startswith("x509::"):
        return actor_id
    subject = text.split("::")[1]
    for part in subject.replace("/", ",").split(","):
        name, _, value = part.strip().partition("=")
        if name == "CN":
            return value
    return subject
