"""``make bench-scale``'s bookkeeping (no network): counts and checkpoints, the batch
plan, the issued ranges, bill numbers across stock batches and the state file."""

from __future__ import annotations

import math
import stat
from pathlib import Path

import pytest

from bench.scale import (
    GO_GET,
    OPERATIONS,
    Args,
    Done,
    State,
    Stock,
    disk_bytes,
    parse_args,
    parse_checkpoints,
    parse_count,
    plan_batches,
    render_summary,
)
from bench.stats import nearest_rank


def test_counts_take_thousands_and_millions() -> None:
    assert [parse_count(t) for t in ("20000", "20_000", "100k", "1M", " 3 ")] == [
        20_000,
        20_000,
        100_000,
        1_000_000,
        3,
    ]
    for bad in ("", "0", "-5", "1.5k", "ten", "1G"):
        with pytest.raises(ValueError):
            parse_count(bad)


def test_checkpoints_are_sorted_below_the_load_which_is_always_last() -> None:
    assert parse_checkpoints("1000,100000,1000000", 1_000_000) == (1_000, 100_000, 1_000_000)
    assert parse_checkpoints("100k,1k,1k", 20_000) == (1_000, 20_000)
    assert parse_checkpoints("1000,20000", 20_000) == (1_000, 20_000)
    assert parse_checkpoints("", 500) == (500,)


def test_the_defaults_load_a_million_with_16_batches_in_flight_and_five_checkpoints() -> None:
    args = parse_args([])
    assert (args.bills, args.in_flight) == (1_000_000, 16)
    assert args.checkpoints == (1_000, 100_000, 300_000, 600_000, 1_000_000)
    assert args == Args()


def test_batches_hold_at_most_100_bills_and_never_straddle_a_stop() -> None:
    plan = plan_batches(1_050, [250, 1_000, 5_000])
    assert plan[:4] == [(0, 100), (100, 200), (200, 250), (250, 300)]
    assert plan[-2:] == [(900, 1_000), (1_000, 1_050)]
    assert all(b - a <= 100 for a, b in plan)
    assert [b for _, b in plan[:-1]] == [a for a, _ in plan[1:]]  # contiguous, no gap
    assert plan_batches(0, [10]) == []
    assert len(plan_batches(1_000_000, [1_000, 100_000])) == 10_000


def test_a_finer_plan_only_splits_the_batches_of_a_coarser_one() -> None:
    """A resumed run with more stops issues subsets of the earlier run's batches, so a
    batch refused ``bill-exists`` lies wholly inside a batch issued before."""
    old = plan_batches(2_000, [1_000])
    new = plan_batches(2_000, [1_000, 1_250, 1_999])
    for a, b in new:
        assert any(x <= a and b <= y for x, y in old)


def test_done_ranges_merge_and_give_the_issued_prefix() -> None:
    done = Done()
    done.add(200, 300)
    assert done.prefix == 0 and done.covers(200, 300) and not done.covers(0, 100)
    done.add(0, 100)
    done.add(100, 200)
    assert done.ranges == [(0, 300)] and done.prefix == 300
    done.add(400, 500)
    assert done.prefix == 300 and done.total == 400
    assert done.covers(250, 300) and not done.covers(250, 450)


def _state() -> State:
    return State(
        pool=[("ABC123", "hash-a"), ("XYZ789", "hash-b")],
        stock_size=1_000,
        stock=[Stock("b1", 0, 1, 1_000), Stock("b2", 1_000, 5_001, 1_000)],
        stops=[1_000],
        disk_base={"peer0-units": 4096},
    )


def test_bill_numbers_run_through_the_stock_batches_and_codes_through_the_pool() -> None:
    state = _state()
    assert state.covered == 2_000
    numbers = [state.number(i) for i in (0, 999, 1_000, 1_999)]
    assert numbers == ["0000000001", "0000001000", "0000005001", "0000006000"]
    with pytest.raises(IndexError):
        state.number(2_000)
    assert state.check_code(0) == ("ABC123", "hash-a")
    assert state.check_code(3) == ("XYZ789", "hash-b")


def test_a_new_stock_batch_numbers_the_bills_after_the_covered_ones() -> None:
    state = State(pool=[("ABC123", "h")], stock_size=1_000)
    assert state.covered == 0
    state.add_stock("b1", 1)
    state.add_stock("b2", 670_001)  # numbers need not follow: other batches in between
    assert state.covered == 2_000
    assert [s.first_index for s in state.stock] == [0, 1_000]
    assert (state.number(999), state.number(1_000)) == ("0000001000", "0000670001")


def test_days_are_noted_where_they_change() -> None:
    state = _state()
    state.note_day(0, "2026-12-07T23:59:58+08:00")
    state.note_day(100, "2026-12-07T23:59:59+08:00")
    state.note_day(300, "2026-12-08T00:00:01+08:00")
    state.note_day(200, "2026-12-07T23:59:59+08:00")  # out of order: already the day
    assert state.days == [(0, "20261207"), (300, "20261208")]
    assert [state.day(i) for i in (0, 299, 300, 999)] == ["20261207"] * 2 + ["20261208"] * 2


def test_the_state_file_round_trips_and_is_private(tmp_path: Path) -> None:
    state = _state()
    state.done.add(0, 1_500)
    state.note_day(0, "2026-12-07T10:00:00+08:00")
    state.load_seconds = 12.5
    state.results.append({"bills": 1_000, "rate": 80.0})
    state.reconciles.append({"bills": 1_000, "seconds": 3.5})
    path = tmp_path / "bench-scale.json"
    state.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert State.load(path) == state
    path.write_text(path.read_text().replace('"version": 1', '"version": 99'))
    with pytest.raises(ValueError, match="version 99"):
        State.load(path)


def test_percentiles_and_disk_bytes(tmp_path: Path) -> None:
    assert nearest_rank([3.0, 1.0, 2.0], 0.5) == 2.0
    assert nearest_rank([float(i) for i in range(1, 101)], 0.95) == 95.0
    assert math.isnan(nearest_rank([], 0.5))
    (tmp_path / "a").write_bytes(b"x" * 10_000)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_bytes(b"y" * 5_000)
    (tmp_path / "sub" / "link").hardlink_to(tmp_path / "a")  # counted once, as du does
    assert 15_000 <= disk_bytes(tmp_path) < 15_000 + 5 * 8192
    assert disk_bytes(tmp_path / "absent") == 0


def test_the_summary_has_a_row_per_checkpoint_with_ratios_to_the_go_get() -> None:
    def result(bills: int, ms: float) -> dict[str, object]:
        ops = {name: {"p50": ms / 1000, "p95": ms / 1000} for name in OPERATIONS}
        ops[GO_GET] = {"p50": 0.002, "p95": 0.003}
        return {
            "bills": bills,
            "loadSeconds": bills / 200,
            "rate": 200.0,
            "operations": ops,
            "disk": {"peer0-units": 2 * 1024 * 1024, "orderer0": 1024 * 1024},
            "diskPerBill": {"peer0-units": 3000.0, "orderer0": 1000.0},
            "rss": {"peer0-units": 120.0, "orderer0": 40.0},
        }

    lines = render_summary([result(20_000, 8.0), result(1_000, 4.0)]).splitlines()
    assert lines[0].split()[:3] == ["bills", "load", "s"]
    assert lines[2].startswith("1,000") and lines[3].startswith("20,000")
    assert "4.0 (2.0)" in lines[2] and "8.0 (4.0)" in lines[3]
    assert lines[3].split()[-4:] == ["2.0", "3.0", "4,000", "120"]
