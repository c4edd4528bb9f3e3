"""The batching config change (BatchTimeout, MaxMessageCount; SmartBFT's own options)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ebill_network import channel


def _config(kind: str) -> dict[str, Any]:
    """The Orderer group's values as configtxlator decodes them (uint64 as strings)."""
    if kind == "BFT":
        metadata: dict[str, Any] = {
            "request_batch_max_count": "200",
            "request_batch_max_bytes": "10485760",
            "request_batch_max_interval": "250ms",
            "request_complain_timeout": "10s",
        }
    else:
        metadata = {"options": {"snapshot_interval_size": 16777216, "tick_interval": "500ms"}}
    values = {
        "BatchTimeout": {"mod_policy": "Admins", "value": {"timeout": "250ms"}},
        "BatchSize": {
            "mod_policy": "Admins",
            "value": {
                "absolute_max_bytes": 10485760,
                "max_message_count": 200,
                "preferred_max_bytes": 2097152,
            },
        },
        "ConsensusType": {"value": {"type": kind, "metadata": metadata, "state": "STATE_NORMAL"}},
    }
    return {"channel_group": {"groups": {"Orderer": {"values": values}}}}


def test_raft_changes_only_the_batch_timeout_and_the_message_count() -> None:
    config = _config("etcdraft")
    before = copy.deepcopy(config)
    channel.set_batching("50ms", 500)(config)
    values = config["channel_group"]["groups"]["Orderer"]["values"]
    assert values["BatchTimeout"]["value"] == {"timeout": "50ms"}
    assert values["BatchSize"]["value"] == {
        "absolute_max_bytes": 10485760,
        "max_message_count": 500,
        "preferred_max_bytes": 2097152,
    }
    assert (
        values["ConsensusType"]
        == before["channel_group"]["groups"]["Orderer"]["values"]["ConsensusType"]
    )
    assert channel.batching(config) == ("50ms", 500)


def test_bft_also_changes_smartbfts_interval_and_count() -> None:
    config = _config("BFT")
    channel.set_batching("100ms", 100)(config)
    values = config["channel_group"]["groups"]["Orderer"]["values"]
    assert values["BatchTimeout"]["value"] == {"timeout": "100ms"}
    assert values["BatchSize"]["value"]["max_message_count"] == 100
    assert values["ConsensusType"]["value"]["metadata"] == {
        "request_batch_max_count": "100",
        "request_batch_max_bytes": "10485760",
        "request_batch_max_interval": "100ms",
        "request_complain_timeout": "10s",
    }


def test_the_same_setting_changes_nothing() -> None:
    config = _config("etcdraft")
    before = copy.deepcopy(config)
    channel.set_batching("250ms", 200)(config)
    assert config == before  # update_config then sends nothing


@pytest.mark.parametrize(
    ("timeout", "count", "message"),
    [
        ("0ms", 10, "above zero"),
        ("50", 10, "not a duration"),
        ("-5ms", 10, "not a duration"),
        ("50 ms", 10, "not a duration"),
        ("", 10, "not a duration"),
        ("50ms", 0, "max_message_count"),
    ],
)
def test_a_bad_setting_is_refused_before_any_config_is_read(
    timeout: str, count: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        channel.set_batching(timeout, count)


def test_durations_are_read_as_go_writes_them() -> None:
    assert channel.duration_seconds("250ms") == pytest.approx(0.25)
    assert channel.duration_seconds("2s") == 2.0
    assert channel.duration_seconds("1m30s") == 90.0
    assert channel.duration_seconds("1.5s") == 1.5
    assert channel.duration_seconds("500us") == pytest.approx(0.0005)
