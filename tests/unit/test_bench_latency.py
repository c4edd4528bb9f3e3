"""The latency bench's pure parts: options, the nodes' histograms, the table (no network)."""

from __future__ import annotations

import asyncio
import math

import pytest

from bench import latency
from bench.latency import Arrivals, Phases, Result, Setting
from ebill_network import configs


def test_defaults_sweep_four_timeouts_with_the_networks_count() -> None:
    args = latency.parse_args([])
    count = configs.MAX_MESSAGE_COUNT
    assert args.settings() == [Setting(t, count) for t in ("25ms", "50ms", "100ms", "250ms")]
    assert (args.puts, args.issues, args.in_flight, args.seconds, args.rounds) == (
        32,
        12,
        200,
        16.0,
        4,
    )
    assert args.node
    assert not latency.parse_args(["--no-node"]).node
    assert args.bills == 6400


def test_the_bills_load_is_half_batches_half_groupcommit_each_a_full_wave() -> None:
    args = latency.parse_args([])
    # a round's share: 1600 bills, 800 in 8 batches of 100 and 800 through GroupCommit
    assert args.bill_load() == (8, 800)
    # per round: 3 sequential issuances and 1600 bills; 4 rounds of 4 settings
    assert args.bill_numbers() == (3 + 1600) * 4 * 4
    # a small load still fills one wave of each: 4 batches in flight, 200 callers
    assert latency.parse_args(["--bills", "40"]).bill_load() == (4, 200)
    assert latency.parse_args(["--bills", "0"]).bill_load() == (0, 0)
    assert latency.parse_args(["--bills", "0", "--issues", "0"]).bill_numbers() == 0


def test_a_bare_timeout_is_milliseconds_and_go_durations_pass() -> None:
    args = latency.parse_args(["--timeouts", "50, 1s", "--counts", "10"])
    assert args.timeouts == ("50ms", "1s")
    assert [s.seconds for s in args.settings()] == [pytest.approx(0.05), 1.0]


@pytest.mark.parametrize(
    "argv",
    [
        ["--timeouts", "fast"],
        ["--timeouts", "0"],
        ["--counts", "0"],
        ["--counts", "many"],
        ["--rounds", "0"],
        ["--in-flight", "-1"],
        ["--bills", "-1"],
    ],
)
def test_bad_options_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        latency.parse_args(argv)


def test_a_round_takes_its_share_of_each_count() -> None:
    assert latency.share(30, 2) == 15
    assert latency.share(1, 2) == 1
    assert latency.share(0, 2) == 0


METRICS = """\
# HELP consensus_etcdraft_data_persist_duration The time taken...
consensus_etcdraft_data_persist_duration_bucket{channel="ebill",le="0.005"} 3
consensus_etcdraft_data_persist_duration_sum{channel="ebill"} 0.004
consensus_etcdraft_data_persist_duration_count{channel="ebill"} 4
consensus_etcdraft_data_persist_duration_sum{channel="other"} 9
consensus_etcdraft_data_persist_duration_count{channel="other"} 9
etcd_disk_wal_fsync_duration_seconds_sum 0.002
etcd_disk_wal_fsync_duration_seconds_count 2
gossip_privdata_validation_duration_sum{channel="ebill"} 5
gossip_privdata_validation_duration_count{channel="ebill"} 5
"""


def test_stage_sums_take_the_channels_series_of_the_nodes_kind() -> None:
    out: dict[str, list[float]] = {}
    latency.stage_sums(METRICS, "orderer", out)
    assert out == {"raft persist": [0.004, 4.0], "wal fsync": [0.002, 2.0]}
    latency.stage_sums(METRICS, "orderer", out)  # a second orderer adds up
    assert out["raft persist"] == [0.008, 8.0]
    peer: dict[str, list[float]] = {}
    latency.stage_sums(METRICS, "peer", peer)
    assert peer == {"validate": [5.0, 5.0]}


def test_the_commit_wait_splits_into_ordered_peer_and_notify() -> None:
    phases = Phases(endorse=0.004, submit=0.002, commit=0.060, ordered=0.052, peer=0.006)
    assert phases.total == pytest.approx(0.066)
    assert phases.notify == pytest.approx(0.002)
    assert math.isnan(Phases(0.004, 0.002, 0.060).notify)


def test_arrivals_keep_the_first_delivery_and_wake_a_waiter() -> None:
    async def run() -> Arrivals:
        arrivals = Arrivals()
        waiter = asyncio.create_task(arrivals.wait("orderer", 7, timeout=5))
        await asyncio.sleep(0)
        arrivals.record("orderer", 7)
        first = arrivals.orderers[7]
        arrivals.record("orderer", 7)  # another orderer, later
        await waiter
        assert arrivals.orderers[7] == first
        await arrivals.wait("peer", 7, timeout=0.01)  # never delivered: no error
        return arrivals

    arrivals = asyncio.run(run())
    assert 7 not in arrivals.peer


def test_the_table_has_a_row_per_setting_and_names_errors() -> None:
    done = Result(Setting("50ms", 500))
    done.plain = [0.061, 0.064, 0.070]
    done.node = [0.065, 0.066]
    done.puts = [Phases(0.004, 0.002, 0.060, 0.052, 0.006)] * 3
    done.issues = [0.2, 0.3]
    done.load_latencies = [0.5] * 40
    done.load_blocks = {10, 11}
    done.window_calls, done.window_seconds = 30, 1.5
    done.load_cpu = dict.fromkeys(done.load_cpu, 0.06)
    done.batches.count, done.batches.seconds = 8, 2.0  # 800 bills in 2 s
    done.grouped.count, done.grouped.seconds, done.grouped.errors = 800, 4.0, 1
    empty = Result(Setting("25ms", 100))
    empty.failed(TimeoutError("no block"))
    row = dict(zip(latency.HEADER[:13], latency.cells(done)[:13], strict=True))
    assert row == {
        "BatchTimeout/Max": "50ms/500",
        "n": "3",
        "p50 ms": "64",
        "p95 ms": "70",
        "p50-BT": "14.0",
        "node p50-BT": "15.5",
        "split p50-BT": "16.0",
        "endorse": "4.0",
        "submit": "2.0",
        "commit": "60.0",
        "ordered-BT": "2.0",
        "peer": "6.0",
        "notify": "2.0",
    }
    load = latency.cells(done)[13:]
    # issue p50, p95; load tx/s (30 calls in 1.5 s), p50, p95, Puts per block, CPU, peers;
    # bills/s of batches and of GroupCommit (799 done in 4 s); errors of all three
    assert load == ["250", "300", "20", "500", "500", "20.0", "6.0", "1.5", "400", "200", "1"]
    text = latency.render([done, empty])
    assert [line.split()[0] for line in text.splitlines()[2:4]] == ["50ms/500", "25ms/100"]
    assert "errors at 25ms/100: 1, first: TimeoutError: no block" in text
