"""The service bench's pure helpers: percentiles, series, the markdown table, splitting."""

from __future__ import annotations

import pytest

from bench.service_bench import parse_args, split, total_numbers
from bench.service_table import (
    COMPARISON_HEADER,
    HTTP,
    SDK,
    Lag,
    Series,
    comparison_rows,
    difference,
    fmt,
    markdown,
    percentile,
    ratio,
)


def test_percentile_interpolates_between_closest_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0, 5.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 3.0
    assert percentile(values, 100) == 5.0
    assert percentile(values, 95) == pytest.approx(4.8)
    assert percentile([1.0, 2.0], 50) == 1.5
    assert percentile([7.0], 95) == 7.0


def test_percentile_refuses_no_values_and_bad_p() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1.0], 101)


def test_series_figures() -> None:
    s = Series("issue", HTTP, 10, latencies=[0.1, 0.2, 0.3, 0.4], seconds=2.0, errors=1)
    assert s.count == 5
    assert s.p(50) == pytest.approx(250.0)
    assert s.throughput == pytest.approx(2.0)
    s.bench_cpu = 0.5
    assert s.cpu_ms(s.bench_cpu) == pytest.approx(100.0)
    empty = Series("issue", SDK, 1)
    assert empty.p(50) is None and empty.throughput is None and empty.cpu_ms(1.0) is None


def test_ratio_difference_fmt_handle_missing() -> None:
    assert ratio(3.0, 2.0) == 1.5
    assert ratio(None, 2.0) is None and ratio(1.0, 0.0) is None
    assert difference(5.0, 2.0) == 3.0 and difference(None, 1.0) is None
    assert fmt(None) == "-" and fmt(1.234) == "1.2" and fmt(1.236, 2) == "1.24"


def test_comparison_rows_put_added_latency_and_ratio_on_the_http_row() -> None:
    sdk = Series("verify", SDK, 1, latencies=[0.010, 0.020, 0.030], seconds=0.06)
    http = Series("verify", HTTP, 1, latencies=[0.015, 0.025, 0.035], seconds=0.12)
    rows = comparison_rows([(sdk, http)])
    assert len(rows) == 2 and all(len(r) == len(COMPARISON_HEADER) for r in rows)
    col = {name: i for i, name in enumerate(COMPARISON_HEADER)}
    assert rows[0][col["path"]] == SDK and rows[0][col["added p50 ms"]] == ""
    assert rows[1][col["added p50 ms"]] == "5.0"
    assert rows[1][col["added p95 ms"]] == "5.0"
    assert rows[1][col["HTTP/SDK calls/s"]] == "0.50"
    assert rows[0][col["calls/s"]] == "50.0" and rows[1][col["calls/s"]] == "25.0"


def test_markdown_table_and_alignment() -> None:
    text = markdown(("a", "b", "c"), [["x", "1", "2"]], left=2)
    assert text.splitlines() == ["| a | b | c |", "|:---|:---|---:|", "| x | 1 | 2 |"]
    with pytest.raises(ValueError, match="2 cells, the header has 3"):
        markdown(("a", "b", "c"), [["x", "1"]])


def test_lag_max_and_p95() -> None:
    lag = Lag(tuple(range(21)), 0.5)
    assert lag.max == 20 and lag.p95 == pytest.approx(19.0)
    assert Lag((), 0.5).max is None and Lag((), 0.5).p95 is None


def test_split_and_numbers_needed() -> None:
    assert split(5, 2) == [3, 2]
    assert split(1, 2) == [1]
    assert sum(split(101, 4)) == 101
    args = parse_args(["--issues", "3", "--in-flight", "10,50", "--issue-load", "2"])
    assert args.in_flight == (10, 50)
    assert total_numbers(args) == 2 * (2 + 3 + 2 * 60)


def test_parse_args_refuses_bad_levels(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--in-flight", "ten"])
    assert "--in-flight" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args(["--rounds", "0"])
    assert "--rounds: at least 1" in capsys.readouterr().err
