"""The key scheme: key order is part-tuple order, prefixes and spans select exactly."""

from __future__ import annotations

import json

import pytest
from fixtures import CODE, FINANCE, SUPERVISOR, World, bill_key, number, standard_world
from hypothesis import given, settings
from hypothesis import strategies as st

from ebill_chaincode.contract import keys
from ebill_chaincode.shim import InvalidArgument

part = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00\U0010ffff"))
parts = st.lists(part, min_size=1, max_size=4)


@settings(max_examples=300, deadline=None)
@given(parts, parts)
def test_key_order_is_tuple_order(a: list[str], b: list[str]) -> None:
    left, right = keys.key("t", *a), keys.key("t", *b)
    # UTF-8 byte order (LevelDB's) equals code point order, which equals tuple order
    assert (left.encode() < right.encode()) == (left < right) == (a < b)
    assert keys.split(left) == a


@settings(max_examples=300, deadline=None)
@given(parts, parts)
def test_prefix_bounds_select_exactly_the_extensions(prefix: list[str], rest: list[str]) -> None:
    start, end = keys.starting_with("t", *prefix)
    inside = keys.key("t", *prefix, *rest)
    assert start <= inside < end
    other = keys.key("t", *rest)
    assert (start <= other < end) == (rest[: len(prefix)] == prefix)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 99), st.integers(0, 99), st.integers(0, 99))
def test_between_is_inclusive(first: int, last: int, value: int) -> None:
    start, end = keys.between("t", ("u",), f"{first:02d}", f"{last:02d}")
    candidate = keys.key("t", "u", f"{value:02d}", "tail")
    assert (start <= candidate < end) == (first <= value <= last)


def test_parts_must_not_contain_the_separator_or_max_rune() -> None:
    for bad in ("a\x00b", "\U0010ffff"):
        with pytest.raises(InvalidArgument, match="key parts must not contain"):
            keys.key("t", bad)


def test_no_key_is_in_the_composite_namespace() -> None:
    world = standard_world()
    world.issue(1)
    assert all(not key.startswith("\x00") for key in world.ledger.state)


def test_a_damaged_record_is_an_internal_error() -> None:
    world: World = standard_world()
    world.issue(1)
    world.ledger.state[bill_key(1)].value = b"not json"
    reply = {"replyKey": bytes(range(32))}
    outcome = world.run(
        SUPERVISOR, "ReadBillPrivate", CODE, number(1), transient=reply, submit=False
    )
    assert outcome.status == 500
    assert outcome.message.startswith("Internal: stored record at ['46010126', '0000000001']")
    world.ledger.state[bill_key(1)].value = json.dumps([1]).encode()
    outcome = world.run(FINANCE, "ArchiveBill", CODE, number(1))
    assert outcome.message.endswith("is not a JSON object")
